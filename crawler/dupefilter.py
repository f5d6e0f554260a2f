"""The in-run dupefilter of a single crawl: Scrapy's, without the article requests.

An article is asked for once per run by the spider's record of the ids it has seen (every URL form
of an id is one article, which no URL fingerprint can tell), and fetched once across runs and
crawls by the article store (``crawler.middlewares.dedup``). Scrapy's dupefilter remembering each
article request's fingerprint too was a second record of the same thing, growing by ~0.2 KB per
article for the whole run (docs/BENCHMARKS.md); requests that carry ``meta["qq_id"]`` (article
pages, their redirects and retries) are left to those two. Anything else (robots.txt, sitemaps
named twice) is filtered as Scrapy filters it. A redirect of an article to a page another article
redirected to (every deleted article goes to the same page) is fetched again, and its callback
counts the article as deleted.

Distributed mode replaces this with its shared "already queued" set (``crawler.distributed``).
"""

from __future__ import annotations

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter


class RunDupeFilter(RFPDupeFilter):
    def request_seen(self, request: Request) -> bool:
        if request.meta.get("qq_id"):
            return False
        return super().request_seen(request)
