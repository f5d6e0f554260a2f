"""Monitors of every crawl (Spidermon): is qq.com still giving what the crawler expects?

The failure that matters most over months is silent: qq.com changes its page template, extraction
falls back or fails, and the hourly crawl goes on "succeeding" with fewer or worse articles. When
the spider closes, Spidermon runs ``CrawlMonitors`` (``suite.py``) over the crawl's stats:

* template drift: the share of article pages read past ``window.DATA`` (``qq/extraction/dom``,
  ``qq/extraction/meta``) or dropped as ``no_data``/``bad_json``/``empty_body``/``not_article`` is
  above ``MONITORS_DRIFT_MAX``;
* field coverage: the share of written articles missing media, tags, share image or images (the
  validation pipeline's per-field counts) is above its ``MONITORS_COVERAGE_MISSING_MAX`` (judged on
  crawls that wrote at least ``MONITORS_COVERAGE_MIN_ARTICLES``);
* item validation: a written article whose id, url, title, date or body breaks the schema
  (``schema.py``; validated by ``crawler.monitors.validate``);
* nothing written: articles were fetched to be written (not skipped by rule, deleted or already
  written) and none was;
* errors: more than ``MONITORS_MAX_ERRORS`` ERROR lines;
* refusals: qq.com refused the crawl (``throttle/refused_seconds``) more than ``MONITORS_REFUSED_MAX``
  of its time.
* site hook: a site hook (``crawler.extensions.sitehook``) still failed after its retries.

The results (``actions.py``): stats ``monitors/passed``, ``monitors/failed``,
``monitors/failed/<monitor>``; one ERROR line per failure in words (Spidermon's own block says
OK/FAIL per monitor); a JSON report ``<OUTPUT_ROOT>/.crawl-reports/<job>.json`` and ``index.json`` (newest first),
the last ``MONITORS_REPORTS_KEEP`` kept. A failed monitor makes ``scrapy crawl`` exit 6
(``crawler.exitcode``). Notification, off by default: ``MONITORS_WEBHOOK_URL`` (a JSON POST), or any
Spidermon action in ``MONITORS_FAILED_ACTIONS`` (e.g. its e-mail action with its ``SPIDERMON_*``
settings). ``SPIDERMON_ENABLED = False`` turns it all off.
"""
