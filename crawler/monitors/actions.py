"""What is done with the monitors' results: the report (always) and the webhook (when one failed)."""

from __future__ import annotations

import json
import logging
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from spidermon.core.actions import Action

from crawler.exitcode import REFUSED_AT_START, exit_code
from crawler.files import job_name, output_root, write_atomic
from crawler.stats import (
    FINISH_REASON,
    MONITORS_FAILED,
    MONITORS_FAILED_ONE,
    MONITORS_PASSED,
    set_value,
)

logger = logging.getLogger(__name__)

INDEX = "index.json"


def reason_of(error: Any) -> str:
    """The words of a failed monitor: the last line of unittest's traceback, without the class."""
    last = str(error or "").strip().splitlines()[-1:] or [""]
    return re.sub(r"^\w*(Error|Exception): ", "", last[0])


def keep_newest(folder: Path, keep: int) -> None:
    """Delete all but the ``keep`` newest reports of ``folder``."""
    reports = sorted((p for p in folder.glob("*.json") if p.name != INDEX), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in reports[keep:]:
        old.unlink(missing_ok=True)


class ReportAction(Action):
    """Sets ``monitors/passed``, ``monitors/failed``, ``monitors/failed/<monitor>`` in the stats, says
    each failure in one ERROR line, and writes ``<OUTPUT_ROOT>/<MONITORS_REPORTS_DIR>/<job>.json``
    plus ``index.json`` (the newest first), keeping the last ``MONITORS_REPORTS_KEEP``. A crawl closed
    at start (bad input or output root) writes no report: nothing is written for it."""

    def __init__(self, folder: Path, keep: int) -> None:
        super().__init__()
        self.folder = folder
        self.keep = keep
        self.report: dict[str, Any] = {}

    @classmethod
    def from_crawler_kwargs(cls, crawler: Any) -> dict[str, Any]:
        settings = crawler.settings
        return {
            "folder": output_root(settings) / settings["MONITORS_REPORTS_DIR"],
            "keep": settings.getint("MONITORS_REPORTS_KEEP"),
        }

    def run_action(self) -> None:
        crawler = self.data.crawler
        results = [
            {"monitor": r.item.name, "status": r.status, "reason": reason_of(r.error) if r.error else ""}
            for r in self.result.monitor_results
        ]
        failed = [r for r in results if r["reason"]]
        set_value(crawler, MONITORS_PASSED, len(results) - len(failed))
        set_value(crawler, MONITORS_FAILED, len(failed))
        for result in failed:
            set_value(crawler, MONITORS_FAILED_ONE, 1, monitor=result["monitor"].split("/")[0])
            logger.error("Monitor failed: %s: %s", result["monitor"], result["reason"])
        if not failed:
            logger.info("Monitors: all %d passed", len(results))
        final = crawler.stats.get_stats()
        code, why = exit_code(final)
        job = job_name(self.data.spider)
        self.report = {
            "job": job,
            "spider": self.data.spider.name,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "finish_reason": final.get(FINISH_REASON, ""),
            "exit_code": code,
            "exit_reason": why,
            "monitors": results,
            "stats": final,
        }
        if str(final.get(FINISH_REASON)) in REFUSED_AT_START:
            return
        self.write(job)

    def write(self, job: str) -> None:
        try:
            self.folder.mkdir(exist_ok=True)
            path = self.folder / f"{job}.json"
            write_atomic(path, json.dumps(self.report, ensure_ascii=False, indent=1, default=str) + "\n")
            index_path = self.folder / INDEX
            try:
                index = json.loads(index_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                index = []
            entry = {k: self.report[k] for k in ("job", "finished", "finish_reason", "exit_code")}
            entry["failed"] = [r["monitor"] for r in self.report["monitors"] if r["reason"]]
            index = [entry, *(e for e in index if isinstance(e, dict) and e.get("job") != job)][: self.keep]
            write_atomic(index_path, json.dumps(index, ensure_ascii=False, indent=1) + "\n")
            keep_newest(self.folder, self.keep)
        except OSError as exc:
            logger.error("Crawl report not written to %s: %s", self.folder, exc)
            return
        logger.info("Crawl report: %s", path)

    def get_meta(self) -> dict[str, Any]:
        return {"qq_report": self.report}


class WebhookAction(Action):
    """POSTs ``{"text": ..., "report": ...}`` (JSON; "text" is what Slack-style hooks show) to
    ``MONITORS_WEBHOOK_URL`` when a monitor failed; a hook that fails is logged, never raised."""

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout

    @classmethod
    def from_crawler_kwargs(cls, crawler: Any) -> dict[str, Any]:
        return {"url": crawler.settings["MONITORS_WEBHOOK_URL"], "timeout": crawler.settings.getfloat("MONITORS_WEBHOOK_TIMEOUT")}

    def run_action(self) -> None:
        report = self.data.meta.get("qq_report", {})
        failed = [f"{r['monitor']}: {r['reason']}" for r in report.get("monitors", []) if r["reason"]]
        text = f"qq crawl {report.get('job', '')} ({report.get('finish_reason', '')}): " + "; ".join(failed)
        body = json.dumps({"text": text, "report": report}, ensure_ascii=False, default=str).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (the user's URL)
                response.read()
        except OSError as exc:
            logger.error("Monitors webhook %s failed: %s", self.url, exc)
