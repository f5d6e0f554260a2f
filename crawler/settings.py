"""Settings of the qq.com -> Hugo Markdown crawler: every setting, its default, and why.

Override any of them on the command line (``scrapy crawl qq -s OUTPUT_ROOT=/srv/site``), in a
Scrapyd ``schedule.json`` call (``-d setting=OUTPUT_ROOT=/srv/site``) or in this file.
"""

import os

BOT_NAME = "crawler"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# `scrapy crawl` exits non-zero when the crawl did not do its job (crawler.commands.crawl,
# crawler.exitcode; the codes are in docs/monitoring.md), under cron and Scrapyd alike.
COMMANDS_MODULE = "crawler.commands"

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
# One priority order for every host (Scrapy's default queue orders requests per host first): the
# articles already found go before the next feed or sitemap page (crawler.qq.feeds.DISCOVERY_PRIORITY),
# so discovery never runs ahead of the fetching and the queue stays small however long the crawl.
SCHEDULER_PRIORITY_QUEUE = "scrapy.pqueues.ScrapyPriorityQueue"
# Scrapy's dupefilter without the article requests: the spider's ids seen and the article store
# already decide those (crawler/dupefilter.py); distributed mode puts its shared one instead.
DUPEFILTER_CLASS = "crawler.dupefilter.RunDupeFilter"
# Items processed at once per response: an article page gives one item, so Scrapy's 100 only cost
# 100 tasks per page (CPU -9%, crawl -11% in docs/BENCHMARKS.md); pages go on in parallel regardless.
CONCURRENT_ITEMS = 1
# The image hosts are not the article servers: every image request goes to its own slot (see
# THUMBNAILS_DOWNLOAD_SLOT below), so images never slow page fetches.

# The flow of an article: clean its text, plan where its files go, store its images, write it.
ITEM_PIPELINES = {
    "crawler.pipelines.clean.CleanPipeline": 100,
    "crawler.pipelines.plan.PlanPipeline": 200,
    "crawler.pipelines.thumbnails.ThumbnailsPipeline": 300,
    "crawler.pipelines.write.WritePipeline": 800,
    # Spidermon's item validation of what was written (crawler.monitors.validate).
    "crawler.monitors.validate.ValidationPipeline": 900,
}
EXTENSIONS = {
    # The output root and the article store, opened once per crawl (crawler.store.extension).
    "crawler.store.extension.StoreExtension": 100,
    # What a fetch found instead of an article (deleted, paid, ...), into the store (crawler.extensions.outcomes).
    "crawler.extensions.outcomes.OutcomeRecorder": 110,
    # The ledger: what the pipelines dropped settles its article (crawler.ledger).
    "crawler.ledger.LedgerExtension": 120,
    # The output root lost mid-crawl (read-only, removed): the crawl closes, exit 4 (crawler.extensions.output).
    "crawler.extensions.output.OutputGuard": 125,
    # A prompt stop: in-flight downloads cancelled STOP_GRACE seconds into a stop (crawler.extensions.stop).
    "crawler.extensions.stop.PromptStop": 130,
    # Spidermon (its extension, logging without the deprecated Spider.log()): the monitors of
    # crawler.monitors run when the spider closes; their verdict is in the stats StatsFile writes.
    "crawler.monitors.extension.Spidermon": 500,
    # Tells the site what changed: a signed webhook and/or a command (crawler.extensions.sitehook).
    "crawler.extensions.sitehook.SiteHook": 400,
    # The crawl's stats as JSON in STATS_FILE, for tools and tests (after the monitors: their
    # verdict is in the stats).
    "crawler.extensions.StatsFile": 900,
    # What the crawl did, in words: progress every SUMMARY_INTERVAL seconds, a block at the end.
    "crawler.extensions.Summary": 950,
}
# A JSON file the crawl's final stats are written to when it closes (empty: none), e.g.
# -s STATS_FILE=output/.stats.json. Scrapy still logs them (STATS_DUMP).
STATS_FILE = ""
# Seconds between two progress lines (articles written, feed pages read, requests queued); 0: none.
SUMMARY_INTERVAL = 60.0

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

# -- Cleaning ------------------------------------------------------------------------------------
CLEAN_ENABLED = True

# -- Rendering (crawler.render) ------------------------------------------------------------------
# Front matter keys in order (empty: the OUTPUT_PROFILE's; hugo's are the spec's 17 keys, see
# crawler/render/profiles.py). "{field}" takes the article's value (title, date, summary,
# description: the summary as plain text, thumbnail, id, url, media, channel, keywords);
# anything else is written as given.
MARKDOWN_FRONT_MATTER: dict[str, object] = {}
# strftime format of {date} in Beijing time; "iso" writes 2025-02-07T21:54:12+08:00 (empty: the
# profile's; hugo's is "%Y-%m-%d %H:%M:%S").
MARKDOWN_DATE_FORMAT = ""
# {summary}: this many characters of body text, then "...".
MARKDOWN_SUMMARY_LENGTH = 50
# Text of the link back to the article that ends the body.
MARKDOWN_LINK_TEXT = "qq"
# Alt text of body images.
MARKDOWN_IMAGE_ALT = "图片"
# Videos in the body: "link" (a Markdown link to the video's page: every builder shows it) or
# "embed" (the player too, where the profile has a way: hugo and hugo-bundle, through the
# qq-video shortcode of examples/hugo, which the site must then have; the link stays below it).
MARKDOWN_VIDEOS = "link"

# -- Output profiles (crawler.render.profiles) -----------------------------------------------------
# Which site builder the files are for: hugo (the spec), hugo-bundle (<slug>/index.md, images
# beside it), jekyll, zola, hexo or eleventy. MARKDOWN_FRONT_MATTER, MARKDOWN_DATE_FORMAT and
# OUTPUT_PATH, when set (not empty), override the profile's.
OUTPUT_PROFILE = "hugo"
# A JSON Lines feed of the items for tools that are not site builders is Scrapy's FEEDS, e.g.
# -s 'FEEDS={"output/articles.jsonl": {"format": "jsonlines"}}' (off by default: empty).
FEEDS: dict[str, dict[str, str]] = {}

# -- Paths (crawler.paths, crawler.pipelines.plan) and writing (crawler.pipelines.write) -----------
# Root of everything the crawler writes; relative paths are relative to the working directory.
# It must exist and be writable, or the crawl stops at start. The environment variable
# QQ_OUTPUT_ROOT sets it for every job of a server (e.g. in Scrapyd's service environment).
OUTPUT_ROOT = os.environ.get("QQ_OUTPUT_ROOT") or "output"
# File path under OUTPUT_ROOT: {date} (YYYY-MM-DD), {year}, {month}, {day}, {slug}, {id}
# (empty: the profile's; hugo's is "content/posts/{date}-{slug}.md").
OUTPUT_PATH = ""
# Longest slug (python-slugify, cut at a word boundary); an empty slug falls back to the id.
OUTPUT_SLUG_MAX_LENGTH = 80

# -- Thumbnails and images (crawler.pipelines.thumbnails) ------------------------------------------
# Download each article's thumbnail (share image, else first body image) under OUTPUT_ROOT.
THUMBNAILS_ENABLED = True
# Directory under OUTPUT_ROOT the images go to: the folder the site builder publishes at the
# site's root (empty: the OUTPUT_PROFILE's; hugo, zola, eleventy "static", jekyll ".", hexo "source").
THUMBNAILS_STORE = ""
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
DOWNLOAD_SLOTS = {"qq-images": {"concurrency": 4, "delay": 0.25}, "qq-updates": {"concurrency": 1, "delay": 2.0}}
# Scrapy's: an image on disk younger than this many days is not fetched again.
FILES_EXPIRES = 90

# -- The article store (crawler.store): what was written, across runs and parallel crawls ----------
# "sqlite": one file in the output root (default, no server); "redis": a shared server.
STORE_BACKEND = "sqlite"
# The SQLite file; empty: <OUTPUT_ROOT>/.qq-articles.sqlite3, beside what it describes.
STORE_SQLITE_PATH = ""
# Longest wait, in seconds, for another crawl's lock or write on the store before giving up.
STORE_LOCK_TIMEOUT = 60.0
# Seconds between two renewals of this crawl's claims (Redis store; 0: never).
STORE_KEEPALIVE_INTERVAL = 10.0

# -- Dedup across runs and parallel crawls (crawler.middlewares.dedup) -----------------------------
# Drop requests for articles the store says were written (their file still on disk) or that
# another running crawl is fetching.
DEDUP_ENABLED = True
# Fetch and rewrite articles already written (the spider argument -a refresh=1 does the same).
DEDUP_REFRESH = False

# -- Articles that change after publication (docs/updates.md) --------------------------------------
# The store remembers each article's state; deleted and paid articles are never fetched again
# (refresh=1 aside). An article dropped for a reason (a page without an article, HTTP 404) is
# fetched again once this long has passed since it was last tried: a duration such as "30m",
# "12h", "7d", or seconds (0: on every run).
DEDUP_RETRY_DROPPED = "1d"
# Recheck the written articles published within this window on every run, even when no feed lists
# them again (e.g. "48h"; 0: off). Feed and sitemap entries whose update_time is newer than what a
# file was written from are always followed; this catches corrections no source announces.
UPDATE_WINDOW = "0"
# At most this many rechecks per run (the longest unseen first) ...
UPDATE_BUDGET = 50
# ... of articles not seen for at least this long.
UPDATE_RECHECK_AFTER = "6h"
# Rechecks go through their own download slot (DOWNLOAD_SLOTS below: one at a time, 2 s apart),
# so they never crowd out new articles.
UPDATE_DOWNLOAD_SLOT = "qq-updates"
# At most this many articles a run are fetched again because a feed or sitemap says they changed
# (their own stamp moved, or their listing's title, abstract or image changed), the least recently
# seen first; the rest wait for the next run (qq/refetch/held). A bound no wrong signal can break.
UPDATE_REFETCH_BUDGET = 50
# An article fetched again (a source says it changed, or a recheck) is asked with If-None-Match /
# If-Modified-Since when its page answered with an ETag / Last-Modified; a 304 is "unchanged"
# (crawler.middlewares.conditional).
CONDITIONAL_ENABLED = True
# An article whose own feed stamp moved this many times in a row without its text changing (each
# time fetched and found the same) has its stamps taken as no signal from then on; its listing
# (title, abstract, image) and UPDATE_WINDOW rechecks still catch its corrections (0: always trust).
UPDATE_STAMP_MISSES = 2
# A written article found deleted (redirected to the deleted-article page): "keep" its file,
# "draft" (the profile's draft keys, e.g. Hugo's draft: true, so the site stops publishing it), or
# "remove" the file and its images. Logged and counted (outcomes/deleted/...).
DELETED_FILES = "keep"

# -- Throttling (crawler.middlewares.throttle) -------------------------------------------------------
# Scrapy's RetryMiddleware retries Tencent's refusals too: its defaults plus 567 (Tencent's
# rate-limit answer) and 403/501 (its firewall), at most 5 times per request.
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429, 567, 403, 501]
RETRY_TIMES = 5
DOWNLOADER_MIDDLEWARES = {
    # Every request and every redirect hop: public http(s) only (crawler.urls). Before
    # RobotsTxtMiddleware (100), which would fetch /robots.txt from a refused host.
    "crawler.middlewares.urlpolicy.UrlPolicyMiddleware": 40,
    # First of all: an article already written or being fetched elsewhere is never downloaded
    # (not even its robots.txt), whatever path its request came by.
    "crawler.middlewares.dedup.DedupMiddleware": 50,
    # Feed pages and sitemaps get their own size limit (crawler.middlewares.sizes).
    "crawler.middlewares.sizes.SizeLimitMiddleware": 70,
    # Holds a request back by meta["qq_retry_delay"] seconds (busy feed retries) before the rest look at it.
    "crawler.middlewares.delay.DelayMiddleware": 60,
    # After RetryMiddleware (550) on the way in: it slows the host down before the retry is queued.
    "crawler.middlewares.throttle.ThrottleMiddleware": 560,
    # No network (crawler.middlewares.network): after RetryMiddleware on the way in, it sees every
    # failed connection before the retry; the robots.txt one-liner sees what the retries left.
    "crawler.middlewares.network.NetworkMiddleware": 590,
    "crawler.middlewares.network.RobotsErrorMiddleware": 540,
    # Scrapy's robots.txt middleware with every request waiting for robots.txt judged by it
    # (crawler.middlewares.robots: Scrapy 2.19 lets all but the first through).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots.RobotsTxtMiddleware": 100,
    # Next to the downloader: validators on an article fetched again, its 304 read as unchanged,
    # every article page answer counted (redirect hops and retries included).
    "crawler.middlewares.conditional.ConditionalMiddleware": 880,
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

# -- No network (crawler.middlewares.network) ------------------------------------------------------
# This many connections in a row that could not be made (DNS failed, refused, no route), with no
# answer between, close the crawl with reason "network" (0: never; each request then fails alone).
NETWORK_FAILURES = 3

# -- Distributed crawling on Redis (crawler.distributed, crawler.store.redis) --------------------
# Empty: one machine, nothing shared. Set (e.g. "redis://127.0.0.1:6379/0"): crawl processes on
# any number of hosts share one request queue with leases, one request dupefilter (scrapy-redis,
# adapted) and the article store on this Redis; DistributedAddon switches the components.
REDIS_URL = ""
ADDONS = {"crawler.distributed.DistributedAddon": 0}
# The Redis list idle crawlers read work from: article URLs or ids, one per entry ("%(name)s" is
# the spider's name), read from the head. Push with: redis-cli rpush qq:start_urls 20250207A090J800
REDIS_START_URLS_KEY = "%(name)s:start_urls"
# A crawler with nothing to do for this many seconds closes (0: waits for work forever); nothing
# to do: the start-URLs list and the queue are empty and no crawler holds a lease.
MAX_IDLE_TIME_BEFORE_CLOSE = 60
# Redis away for this many seconds mid-crawl: the crawler closes (finish reason redis_lost).
REDIS_LOST_TIMEOUT = 60
# Work taken from Redis (a queued request, a start-URLs entry) is leased to the crawler, not
# popped: it stays recorded until done, and returns to the queue by itself when its crawler stops
# renewing it (renewed every third of this) for this many seconds. Must exceed 1.5 x
# STORE_REDIS_CLAIM_LEASE (a returned article must find the dead crawler's claim lapsed).
REDIS_LEASE_SECONDS = 180.0
# Retries of one Redis call (exponential backoff, 0.1 s up to 2 s apart) before it counts as failed.
REDIS_RETRIES = 3
# The article store on Redis (STORE_BACKEND = "redis", set by distributed mode): its server
# (empty: REDIS_URL) and key prefix.
STORE_REDIS_URL = ""
STORE_REDIS_PREFIX = "qq:articles"
# A Redis-store claim lapses this many seconds after its crawl stopped renewing it (killed).
STORE_REDIS_CLAIM_LEASE = 60.0

# -- Monitors (crawler.monitors, Spidermon) ------------------------------------------------------------
# Run when the spider closes; a failed monitor makes `scrapy crawl` exit 6 (docs/monitoring.md).
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ["crawler.monitors.suite.CrawlMonitors"]
# The JSON Schema written articles are validated against (crawler.monitors.schema).
SPIDERMON_VALIDATION_SCHEMAS = ["crawler.monitors.schema.ARTICLE_SCHEMA"]
# Template drift: at most this share of article pages read past window.DATA (DOM or meta tags) or
# dropped as no_data/bad_json/empty_body/not_article.
MONITORS_DRIFT_MAX = 0.2
# Field coverage: at most this share of written articles missing each field, judged on crawls that
# wrote at least MONITORS_COVERAGE_MIN_ARTICLES (on fewer, one odd article would be a share).
MONITORS_COVERAGE_MIN_ARTICLES = 20
MONITORS_COVERAGE_MISSING_MAX = {"media": 0.2, "keywords": 0.5, "share_image": 0.3, "images": 0.6}
# Errors: at most this many ERROR lines in a crawl's log.
MONITORS_MAX_ERRORS = 10
# Refusals: at most this share of the crawl's time with a host refusing it (THROTTLE_HTTP_CODES).
MONITORS_REFUSED_MAX = 0.25
# Reports: <OUTPUT_ROOT>/<MONITORS_REPORTS_DIR>/<job>.json and index.json, the newest kept.
MONITORS_REPORTS_DIR = ".crawl-reports"
MONITORS_REPORTS_KEEP = 100
# Notification when a monitor failed (off: empty): a JSON POST {"text", "report"} to this URL.
MONITORS_WEBHOOK_URL = ""
MONITORS_WEBHOOK_TIMEOUT = 10.0
# More Spidermon actions run when a monitor failed, e.g.
# ["spidermon.contrib.actions.email.smtp.SendSmtpEmail"] with Spidermon's SPIDERMON_EMAIL_* settings.
MONITORS_FAILED_ACTIONS: list[str] = []

# -- Telling the site it changed (crawler.extensions.sitehook, docs/hooks.md) ----------------------
# After a crawl that wrote, rewrote, drafted or removed files, and only then: POST one JSON document
# of them, signed (HMAC-SHA256 with a timestamp), to this URL, e.g. a hosted build hook or a local
# CI (empty: off). The URL policy does not apply: it is the operator's address, private or not.
SITEHOOK_URL = ""
# The signature's key, required with SITEHOOK_URL; by default from the environment variable
# QQ_SITEHOOK_SECRET, so it is on no command line.
SITEHOOK_SECRET = os.environ.get("QQ_SITEHOOK_SECRET", "")
# And/or run this command, in OUTPUT_ROOT, with the same JSON on its standard input (empty: off):
# argv as a list, or a string split as a shell would (no shell runs), e.g. ["hugo", "--minify"].
SITEHOOK_COMMAND: list[str] = []
# Seconds one POST, or one run of the command, may take (the command is killed then).
SITEHOOK_TIMEOUT = 120.0
# A failed call (refused, timeout, non-2xx, non-zero exit) is tried again this many times, after
# SITEHOOK_RETRY_DELAY seconds, then twice that, and so on; still failing, the next crawl that
# calls sends its changes too (kept in <OUTPUT_ROOT>/.sitehook/).
SITEHOOK_RETRIES = 2
SITEHOOK_RETRY_DELAY = 5.0

# -- URL policy for every request (crawler.urls, crawler.middlewares.urlpolicy, docs/limits.md) ---
# Every request (article pages, feeds, sitemaps, images) and every redirect hop is sent only over
# http(s) to public addresses, the host's resolved addresses checked too (one lookup per host);
# refusals are counted urlpolicy/refused/<why>.
URLPOLICY_ENABLED = True
# How host names are resolved for that check: a dotted path to a `host -> list of addresses`
# function. The system resolver; tests name one of their own, as they name the mirror.
URLPOLICY_RESOLVER = "crawler.urls.resolve_host"
# Scrapy's resolver for the connections themselves, holding a name the check let through to it: a
# name that answers a private address when the crawl connects (DNS rebinding) is refused there.
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"
# (The middleware is in DOWNLOADER_MIDDLEWARES above, before RobotsTxtMiddleware.)

# -- Limits and faults below the page (docs/limits.md) -----------------------------------------------
# Scrapy's HTTP(S) download handler, stoppable (crawler.handlers): a stopping crawl cancels what is
# still downloading after STOP_GRACE, and a download cut for its size says so (…/too_big).
DOWNLOAD_HANDLERS = {"http": "crawler.handlers.StoppableDownloadHandler", "https": "crawler.handlers.StoppableDownloadHandler"}
# Largest body accepted, in bytes, after decompression (Scrapy cuts the download at this size, and
# its HttpCompressionMiddleware stops inflating a gzip/deflate/br/zstd body there): an article page
# is at most ~320 KB (the 2016 template), so 8 MiB is 25 times that. Feeds and sitemaps have their
# own below, images THUMBNAILS_MAXSIZE. Past it: dropped, qq/dropped/too_big (qq/feed/bad/too_big...).
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
# Scrapy logs a WARNING for a body past this size (a page 6 times the largest seen).
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# DOWNLOAD_MAXSIZE of feed pages (an answer of 20 items is ~25 KB) and of sitemaps (a urlset of
# 50,000 qq.com URLs is ~8 MB; its gzip is inflated to this size at most), set on their requests
# by crawler.middlewares.sizes.
SIZES_FEED_MAXSIZE = 2 * 1024 * 1024
SIZES_SITEMAP_MAXSIZE = 16 * 1024 * 1024
# A closing crawl (the first SIGTERM/SIGINT, or any other reason) waits this many seconds for the
# downloads in flight, then cancels them (crawler.extensions.stop): nothing of theirs is recorded,
# the next run fetches them. 0: cancelled at once.
STOP_GRACE = 3.0
