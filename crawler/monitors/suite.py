"""The monitors run when the spider closes (Spidermon's ``SPIDERMON_SPIDER_CLOSE_MONITORS``)."""

from __future__ import annotations

from typing import Any

from spidermon import Monitor, MonitorSuite, monitors

from crawler.extensions import sitehook
from crawler.ledger import Ledger
from crawler.monitors import checks
from crawler.monitors.actions import ReportAction, WebhookAction
from crawler.monitors.schema import COVERAGE, STRUCTURE
from crawler.stats import FINISH_REASON, LOG_COUNT, name


@monitors.name("template drift")
class TemplateDriftMonitor(Monitor):
    """Pages that needed a fallback (the DOM instead of window.DATA, the meta tags instead of the
    DOM) or gave no article (no_data, bad_json, empty_body, not_article): qq.com changed its pages."""

    @monitors.name("pages read past window.DATA")
    def test_drift(self) -> None:
        most = self.data.crawler.settings.getfloat("MONITORS_DRIFT_MAX")
        fell, pages = checks.drift(self.data.stats)
        if pages and fell / pages > most:
            self.fail(
                f"{fell} of {pages} article pages ({checks.share(fell, pages)}) fell back from window.DATA "
                f"or gave no article (at most {most:.0%} allowed): has qq.com changed its page template?"
            )


@monitors.name("field coverage")
class FieldCoverageMonitor(Monitor):
    """Written articles missing media, tags, share image or images, field by field."""

    @monitors.name("written articles missing a field")
    def test_coverage(self) -> None:
        limits = self.data.crawler.settings.getdict("MONITORS_COVERAGE_MISSING_MAX")
        total = checks.validated(self.data.stats)
        if total < max(1, self.data.crawler.settings.getint("MONITORS_COVERAGE_MIN_ARTICLES")):
            return
        broken = []
        for field in COVERAGE:
            missing = checks.field_errors(self.data.stats, field)
            if missing / total > float(limits[field]):
                broken.append(
                    f"{field} missing in {missing} of {total} ({checks.share(missing, total)}, "
                    f"at most {float(limits[field]):.0%})"
                )
        if broken:
            self.fail("written articles: " + "; ".join(broken))


@monitors.name("item validation")
class ValidationMonitor(Monitor):
    """Written articles whose id, url, title, date or body break the schema."""

    @monitors.name("written articles that break the schema")
    def test_structure(self) -> None:
        bad = {field: checks.field_errors(self.data.stats, field) for field in STRUCTURE}
        if any(bad.values()):
            self.fail(
                "written articles invalid: " + ", ".join(f"{n} in {field}" for field, n in bad.items() if n)
            )


@monitors.name("nothing written")
class NothingWrittenMonitor(Monitor):
    """Articles were fetched to be written (not skipped, deleted or already written) and none was."""

    @monitors.name("articles asked for were written")
    def test_written(self) -> None:
        if checks.nothing_written(self.data.stats):
            self.fail(f"{checks.attempted(self.data.stats)} articles were fetched to be written and none was written")


@monitors.name("ledger")
class LedgerMonitor(Monitor):
    """Every article the crawl was asked for or found has exactly one outcome (``crawler.ledger``).

    Judged on a crawl that ran to its end on one machine: a crawl closed early leaves articles
    queued, and in distributed mode an article asked for by one crawler may be fetched by another."""

    @monitors.name("every article asked for has one outcome")
    def test_adds_up(self) -> None:
        if self.data.crawler.settings.get("REDIS_URL"):
            return
        if self.data.stats.get(FINISH_REASON, "finished") != "finished":
            return
        book = Ledger.of(self.data.stats)
        if book.open:
            self.fail(
                f"the ledger does not add up: {book.asked} articles asked for, {book.settled} with an outcome "
                f"({book.open:+d} without one)"
            )


@monitors.name("errors")
class ErrorCountMonitor(Monitor):
    """ERROR lines in the log, at most MONITORS_MAX_ERRORS."""

    @monitors.name("error lines in the log")
    def test_errors(self) -> None:
        most = self.data.crawler.settings.getint("MONITORS_MAX_ERRORS")
        errors = int(self.data.stats.get(name(LOG_COUNT, level="ERROR"), 0))
        if errors > most:
            self.fail(f"{errors} ERROR lines in the log (at most {most})")


@monitors.name("refusals")
class RefusalsMonitor(Monitor):
    """qq.com refused the crawl (throttled it) for more than MONITORS_REFUSED_MAX of its time."""

    @monitors.name("time spent refused")
    def test_refused(self) -> None:
        most = self.data.crawler.settings.getfloat("MONITORS_REFUSED_MAX")
        refused = checks.refused_share(self.data.stats)
        if refused > most:
            self.fail(f"refused for {refused:.0%} of the crawl's time (at most {most:.0%}): slow down or try later")


@monitors.name("site hook")
class SiteHookMonitor(Monitor):
    """A site hook (crawler.extensions.sitehook) that still failed after its retries."""

    @monitors.name("the site was told what changed")
    def test_told(self) -> None:
        if failed := sitehook.failures(self.data.stats):
            self.fail("; ".join(failed) + ": the site was not told (the next crawl that calls tells it)")


class CrawlMonitors(MonitorSuite):
    """Every monitor above; the report (stats, log, JSON file) after them; the webhook and any
    action of ``MONITORS_FAILED_ACTIONS`` when one failed."""

    monitors = [
        TemplateDriftMonitor,
        FieldCoverageMonitor,
        ValidationMonitor,
        NothingWrittenMonitor,
        LedgerMonitor,
        ErrorCountMonitor,
        RefusalsMonitor,
        SiteHookMonitor,
    ]
    monitors_finished_actions = [ReportAction]

    def __init__(self, *args: Any, crawler: Any = None, **kwargs: Any) -> None:
        failed: list[Any] = []
        if crawler is not None:
            if crawler.settings.get("MONITORS_WEBHOOK_URL"):
                failed.append(WebhookAction)
            failed += crawler.settings.getlist("MONITORS_FAILED_ACTIONS")
        super().__init__(*args, crawler=crawler, monitors_failed_actions=failed, **kwargs)
