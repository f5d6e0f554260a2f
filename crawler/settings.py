"""Settings of the qq.com -> Hugo Markdown crawler: every setting, its default, and why.

Override any of them on the command line (``scrapy crawl qq -s OUTPUT_ROOT=/srv/site``), in a
Scrapyd ``schedule.json`` call (``-d setting=OUTPUT_ROOT=/srv/site``) or in this file.
"""

import os

BOT_NAME = "crawler"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# -- Scrapy itself -------------------------------------------------------------------------------
# qq.com's article pages are public; obey robots.txt like any polite crawler.
ROBOTSTXT_OBEY = True
# No remote control or telnet console: an unattended crawler opens no ports.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False
# Articles need no cookies (and Scrapy's cookie middleware would look up the public-suffix list online).
COOKIES_ENABLED = False
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
# Politeness (Scrapy's own throttling; see also "Throttling" below). Slots are per host: each
# qq.com page host (news.qq.com, new.qq.com, ...) gets at most 4 requests at once and, with a delay,
# one request per delay; AutoThrottle raises the delay when a host answers slowly (up to 60 s).
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
# The image hosts are not the article servers: every image request goes to its own slot (see
# THUMBNAILS_DOWNLOAD_SLOT below), so images never slow page fetches.

ITEM_PIPELINES = {
    "crawler.pipelines.clean.CleanPipeline": 100,
    "crawler.pipelines.thumbnails.ThumbnailsPipeline": 300,
    "crawler.pipelines.write.WritePipeline": 800,
}
# Scrapy's HTTP/1.1 handler, which fetches from the local mirror instead when QQ_MIRROR_URL is set.
DOWNLOAD_HANDLERS = {
    "http": "crawler.mirror.MirrorDownloadHandler",
    "https": "crawler.mirror.MirrorDownloadHandler",
}

# -- The qq spider -------------------------------------------------------------------------------
# Where an article id is fetched from (any qq.com URL form is accepted as input).
QQ_FETCH_URL = "https://news.qq.com/rain/a/{id}"
# The link back to the article written at the end of every file; built from the id alone.
QQ_ARTICLE_URL = "https://new.qq.com/rain/a/{id}"

# -- Discovery (crawler.qq.feeds, the qq spider) ----------------------------------------------------
# Channels read when no articles are named: short names (news_news_<name>) or full channel ids.
QQ_CHANNELS = ["top", "tech", "finance", "world"]
# Feed pages read per channel (the newest first); `-a pages=N` overrides it.
QQ_FEED_PAGES = 5
# The channel feed the qq.com channel pages post to.
QQ_FEED_URL = "https://i.news.qq.com/web_feed/getPCList"
# A {"code":1,"message":"busy"} answer is asked again this many times, waiting
# QQ_FEED_BUSY_DELAY seconds, then twice that, and so on.
QQ_FEED_BUSY_RETRIES = 3
QQ_FEED_BUSY_DELAY = 2.0
# The sitemap index read with `-a sitemap=1`.
QQ_SITEMAP_URL = "https://news.qq.com/sitemap/index.xml"
# Video items: "skip" (counted qq/skipped/video) or "write" (a file whose body is the video link).
QQ_VIDEOS = "skip"

# -- The local mirror (tests and the offline demo) ------------------------------------------------
# When set (e.g. "http://127.0.0.1:8765"), every request goes to this mirror of qq.com instead
# of the network; the crawler still sees the real qq.com URLs. Empty: the real network.
QQ_MIRROR_URL = ""

# -- Cleaning ------------------------------------------------------------------------------------
CLEAN_ENABLED = True

# -- Rendering (crawler.render) ------------------------------------------------------------------
# Front matter keys in order. "{field}" takes the article's value (title, date, summary,
# thumbnail, id, url, media, channel, keywords); anything else is written as given.
MARKDOWN_FRONT_MATTER = {
    "title": "{title}",
    "date": "{date}",
    "summary": "{summary}",
    "categories": ["qq"],
    "lang": ["zh-CN"],
    "translations": ["zh-CN"],
    "tags": ["qq"],
    "menu": "",
    "thumbnail": "{thumbnail}",
    "lead": "",
    "comments": False,
    "authorbox": False,
    "pager": True,
    "toc": False,
    "mathjax": False,
    "sidebar": "right",
    "widgets": ["search", "recent", "taglist"],
}
# strftime format of {date} in Beijing time; "iso" writes 2025-02-07T21:54:12+08:00.
MARKDOWN_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
# {summary}: this many characters of body text, then "...".
MARKDOWN_SUMMARY_LENGTH = 50
# Text of the link back to the article that ends the body.
MARKDOWN_LINK_TEXT = "qq"
# Alt text of body images.
MARKDOWN_IMAGE_ALT = "图片"

# -- Output profiles (crawler.render.profiles) -----------------------------------------------------
# Which site builder the files are for: hugo (the spec), hugo-bundle (<slug>/index.md, images
# beside it), jekyll, zola, hexo or eleventy. MARKDOWN_FRONT_MATTER, MARKDOWN_DATE_FORMAT and
# OUTPUT_PATH, when the user sets them, override the profile's; their values here are hugo's.
OUTPUT_PROFILE = "hugo"
# A JSON Lines feed of the items for tools that are not site builders is Scrapy's FEEDS, e.g.
# -s 'FEEDS={"output/articles.jsonl": {"format": "jsonlines"}}' (off by default: empty).
FEEDS: dict[str, dict[str, str]] = {}

# -- Writing (crawler.pipelines.write) -------------------------------------------------------------
# Root of everything the crawler writes; relative paths are relative to the working directory.
# It must exist and be writable, or the crawl stops at start. The environment variable
# QQ_OUTPUT_ROOT sets it for every job of a server (e.g. in Scrapyd's service environment).
OUTPUT_ROOT = os.environ.get("QQ_OUTPUT_ROOT") or "output"
# File path under OUTPUT_ROOT: {date} (YYYY-MM-DD), {year}, {month}, {day}, {slug}, {id}.
OUTPUT_PATH = "content/posts/{date}-{slug}.md"
# Longest slug (python-slugify, cut at a word boundary); an empty slug falls back to the id.
OUTPUT_SLUG_MAX_LENGTH = 80

# -- Thumbnails and images (crawler.pipelines.thumbnails) ------------------------------------------
# Download each article's thumbnail (share image, else first body image) under OUTPUT_ROOT.
THUMBNAILS_ENABLED = True
# Directory under OUTPUT_ROOT the images go to: what the Hugo site serves as its static dir.
THUMBNAILS_STORE = "static"
# Path of a thumbnail under THUMBNAILS_STORE, without extension (it comes from the image bytes).
THUMBNAILS_PATH = "images/qq/{id}"
# Path of a body image: {n} is its place among the article's distinct body images.
THUMBNAILS_BODY_PATH = "images/qq/{id}-{n}"
# Prefix of the site path of a stored image (e.g. "/blog/" for a site under a sub-path).
THUMBNAILS_URL_PREFIX = "/"
# Front matter {thumbnail}: "remote" (the qq.com URL, as in the spec) or "local" (the site path;
# a thumbnail that failed to download keeps the remote URL).
THUMBNAILS_FRONT_MATTER = "remote"
# Also download body images and link them to their local copies in the Markdown.
THUMBNAILS_BODY_IMAGES = False
# Largest image accepted, in bytes (DOWNLOAD_MAXSIZE for image requests alone).
THUMBNAILS_MAXSIZE = 10 * 1024 * 1024
# Body images smaller than this are icons or spacers: not downloaded, the remote link is kept.
THUMBNAILS_MIN_WIDTH = 100
THUMBNAILS_MIN_HEIGHT = 100
# Image requests share one download slot, throttled apart from the article pages: its own
# concurrency and start delay here (Scrapy's DOWNLOAD_SLOTS), and AutoThrottle adapts its delay to
# the image hosts' latency alone (never below DOWNLOAD_DELAY).
THUMBNAILS_DOWNLOAD_SLOT = "qq-images"
DOWNLOAD_SLOTS = {"qq-images": {"concurrency": 4, "delay": 0.25}}
# Scrapy's: an image on disk younger than this many days is not fetched again.
FILES_EXPIRES = 90

# -- The article store (crawler.store): what was written, across runs and parallel crawls ----------
# "sqlite": one file in the output root (default, no server); "redis": a shared server.
STORE_BACKEND = "sqlite"
# The SQLite file; empty: <OUTPUT_ROOT>/.qq-articles.sqlite3, beside what it describes.
STORE_SQLITE_PATH = ""
# Longest wait, in seconds, for another crawl's lock or write on the store before giving up.
STORE_LOCK_TIMEOUT = 60.0

# -- Dedup across runs (crawler.middlewares.dedup) --------------------------------------------------
# Drop requests for articles the store says were written (their file still on disk); -a refresh=1
# fetches and rewrites them anyway.
DEDUP_ENABLED = True
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.dedup.DedupMiddleware": 700,
}

# -- Throttling (crawler.middlewares.throttle) -------------------------------------------------------
# Scrapy's RetryMiddleware retries Tencent's refusals too: its defaults plus 567 (Tencent's
# rate-limit answer) and 403/501 (its firewall), at most 5 times per request.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429, 567, 403, 501]
RETRY_TIMES = 5
DOWNLOADER_MIDDLEWARES = {
    # After RetryMiddleware (550) on the way in: it slows the host down before the retry is queued.
    "crawler.middlewares.throttle.ThrottleMiddleware": 560,
}
THROTTLE_ENABLED = True
# Answers that mean "too fast" or "blocked": the refused host waits before its next request.
THROTTLE_HTTP_CODES = [567, 429, 503, 403, 501]
# First wait after a refusal, in seconds; doubled on each further refusal in a row, or the
# server's Retry-After when longer.
THROTTLE_BACKOFF_BASE = 5.0
# Longest wait between two requests to a refusing host, whatever Retry-After says (5 minutes).
THROTTLE_MAX_DELAY = 300.0
# A host that refuses everything for this long (15 minutes) ends the crawl with reason "blocked";
# the next hourly run tries again.
THROTTLE_BLOCKED_AFTER = 900.0

# -- Distributed crawling on Redis (crawler.distributed, crawler.store.redis) --------------------
# Empty: one machine, nothing shared. Set (e.g. "redis://127.0.0.1:6379/0"): crawl processes on
# any number of hosts share one request queue, one request dupefilter (scrapy-redis) and the
# article store on this Redis; DistributedAddon switches the components.
REDIS_URL = ""
ADDONS = {"crawler.distributed.DistributedAddon": 0}
# The Redis list idle crawlers read work from: article URLs or ids, one per entry ("%(name)s" is
# the spider's name). Push with: redis-cli lpush qq:start_urls 20250207A090J800
REDIS_START_URLS_KEY = "%(name)s:start_urls"
# A crawler with nothing to do for this many seconds closes (0: waits for work forever).
MAX_IDLE_TIME_BEFORE_CLOSE = 60
# Redis away for this many seconds mid-crawl: the crawler closes (finish reason redis_lost).
REDIS_LOST_TIMEOUT = 60
# The shared request dupefilter is forgotten this many seconds after the last request queued
# (0: never): it knows what was queued, not what was written, so an article in flight when a
# crawler or Redis died is fetched again by a later run; the article store dedups across runs.
REDIS_DUPEFILTER_TTL = 3600
# Retries of one Redis call (exponential backoff, 0.1 s up to 2 s apart) before it counts as failed.
REDIS_RETRIES = 3
# The article store on Redis (STORE_BACKEND = "redis", set by distributed mode): its server
# (empty: REDIS_URL) and key prefix.
STORE_REDIS_URL = ""
STORE_REDIS_PREFIX = "qq:articles"

# -- URL policy for page-derived requests (crawler.urls, crawler.middlewares.urlpolicy) -----------
# Image URLs a page names (and their redirects) are fetched only over http(s) from public
# addresses, the host's resolved addresses checked too; refusals are counted urlpolicy/refused/<why>.
URLPOLICY_ENABLED = True
# How host names are resolved for that check: a dotted path to a `host -> list of addresses`
# function. The system resolver; tests name one of their own, as they name the mirror.
URLPOLICY_RESOLVER = "crawler.urls.resolve_host"
# Before RobotsTxtMiddleware (100), which would fetch /robots.txt from a refused host.
DOWNLOADER_MIDDLEWARES = {**DOWNLOADER_MIDDLEWARES, "crawler.middlewares.urlpolicy.UrlPolicyMiddleware": 40}
