"""Settings of the qq.com -> Hugo Markdown crawler: every setting, its default, and why.

Override any of them on the command line (``scrapy crawl qq -s OUTPUT_ROOT=/srv/site``), in a
Scrapyd ``schedule.json`` call (``-d setting=OUTPUT_ROOT=/srv/site``) or in this file.
"""

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
# Politeness; the throttling issue tunes these further.
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0

ITEM_PIPELINES = {
    "crawler.pipelines.clean.CleanPipeline": 100,
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

# -- Writing (crawler.pipelines.write) -------------------------------------------------------------
# Root of everything the crawler writes; relative paths are relative to the working directory.
OUTPUT_ROOT = "output"
# File path under OUTPUT_ROOT: {date} (YYYY-MM-DD), {year}, {month}, {day}, {slug}, {id}.
OUTPUT_PATH = "content/posts/{date}-{slug}.md"
# Longest slug (python-slugify, cut at a word boundary); an empty slug falls back to the id.
OUTPUT_SLUG_MAX_LENGTH = 80

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
# Retries of one Redis call (exponential backoff, 0.1 s up to 2 s apart) before it counts as failed.
REDIS_RETRIES = 3
# The article store on Redis (STORE_BACKEND = "redis", set by distributed mode): its server
# (empty: REDIS_URL) and key prefix.
STORE_REDIS_URL = ""
STORE_REDIS_PREFIX = "qq:articles"
