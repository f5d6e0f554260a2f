"""End to end under a real Scrapyd: deploy with scrapyd-deploy, schedule, poll, read the job logs.

One Scrapyd (PyPI ``scrapyd``) runs for the module on a free loopback port with basic auth and a
temporary ``scrapyd.conf``; the project is deployed to it with the real ``scrapyd-deploy`` through
the repository's own ``scrapy.cfg`` target ``server`` (URL and credentials from the environment,
as the README tells users). Jobs fetch from the local mirror in this process. The server is given
``QQ_OUTPUT_ROOT`` in its environment, as a service would be.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import EXPECTED
from tests.mirror.handler import MIRROR_HANDLERS
from tests.support.corpus import WRITTEN
from tests.support.crawl import Crawl, by_id, stat

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
USERNAME, PASSWORD = "qq-deployer", "s3cret-pass"
# Fast crawls against the mirror; every job gets these.
# MONITORS_DRIFT_MAX=1: the jobs crawl tests/test_crawl.py's INPUTS, broken pages included on
# purpose, which the template drift monitor would rightly flag (tests/test_crawl.py checks it does).
FAST = ["QQ_MIRROR_URL={mirror}", "DOWNLOAD_HANDLERS={handlers}", "AUTOTHROTTLE_ENABLED=False", "DOWNLOAD_DELAY=0",
        "MONITORS_DRIFT_MAX=1"]  # fmt: skip
HANDLERS = json.dumps(MIRROR_HANDLERS)


@dataclass
class Scrapyd:
    url: str
    home: Path
    site: Path  # the server's QQ_OUTPUT_ROOT
    env: dict[str, str]  # what a user deploying to it exports
    project: Path  # a copy of the project, deployed from
    stats_files: dict[str, Path] = field(default_factory=dict)  # job -> its STATS_FILE

    def fetch(self, path: str, data: list[tuple[str, str]] | None = None, auth: str | None = "ok") -> bytes:
        """GET (or POST ``data``) a path of the server, with the right password, another or none."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.url + path.lstrip("/"), data=body)
        if auth is not None:
            password = PASSWORD if auth == "ok" else auth
            token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return bytes(response.read())

    def call(self, endpoint: str, data: list[tuple[str, str]] | None = None, auth: str | None = "ok") -> dict:
        return dict(json.loads(self.fetch(endpoint, data, auth)))

    def stats_setting(self) -> tuple[str, Path]:
        """A ``STATS_FILE`` setting of a job's own, and the file it names."""
        path = self.home / "stats" / f"{uuid.uuid4().hex}.json"
        return f"STATS_FILE={path}", path

    def schedule(self, *args: str, settings: list[str] = ()) -> str:  # type: ignore[assignment]
        """schedule.json as curl would post it: ``-d spider=qq -d setting=A=B -d name=value``."""
        stats, path = self.stats_setting()
        data = [("project", "crawler"), ("spider", "qq")]
        data += [("setting", s) for s in [*settings, stats]] + [tuple(a.split("=", 1)) for a in args]  # type: ignore[misc]
        reply = self.call("schedule.json", data)
        assert reply["status"] == "ok", reply
        self.stats_files[str(reply["jobid"])] = path
        return str(reply["jobid"])

    def result(self, job: str) -> Crawl:
        """A finished job's log and final stats (its exit code is not kept by Scrapyd)."""
        stats = json.loads(self.stats_files[job].read_text(encoding="utf-8"))
        return Crawl(0, self.log(job), stats)

    def wait(self, *jobs: str, timeout: float = 60) -> dict[str, dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            finished = {job["id"]: job for job in self.call("listjobs.json?project=crawler")["finished"]}
            if all(job in finished for job in jobs):
                return {job: finished[job] for job in jobs}
            time.sleep(0.3)
        raise AssertionError(f"jobs {jobs} not finished in {timeout}s: {self.call('listjobs.json')}")

    def log(self, job: str) -> str:
        return (self.home / "logs" / "crawler" / "qq" / f"{job}.log").read_text(encoding="utf-8")

    def items(self, job: str) -> list[dict]:
        path = self.home / "items" / "crawler" / "qq" / f"{job}.jl"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def deploy(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "scrapyd-deploy"), "server", "-p", "crawler"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    home = tmp_path_factory.mktemp("scrapyd")
    site = home / "site"
    site.mkdir()
    port = free_port()
    (home / "scrapyd.conf").write_text(
        f"""[scrapyd]
bind_address = 127.0.0.1
http_port = {port}
username = {USERNAME}
password = {PASSWORD}
eggs_dir = {home / "eggs"}
logs_dir = {home / "logs"}
dbs_dir = {home / "dbs"}
items_dir = {home / "items"}
jobs_to_keep = 100
max_proc = 4
poll_interval = 0.2
""",
        encoding="utf-8",
    )
    server_env = {"PATH": str(BIN), "HOME": str(home), "QQ_OUTPUT_ROOT": str(site), "LANG": "C.UTF-8",
                  # The jobs import the mirror handler from the tests (it is not in the egg).
                  "PYTHONPATH": str(ROOT)}  # fmt: skip
    with (home / "scrapyd.out").open("w") as out:
        process = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, env=server_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        project = home / "project"
        # A copy, so that the egg build (build/, *.egg-info) stays out of the work tree.
        shutil.copytree(ROOT / "crawler", project / "crawler", ignore=shutil.ignore_patterns("__pycache__"))
        for name in ("setup.py", "scrapy.cfg"):
            shutil.copy(ROOT / name, project / name)
        env = {"PATH": str(BIN), "HOME": str(home), "SCRAPYD_URL": url.rstrip("/"),
               "SCRAPYD_USERNAME": USERNAME, "SCRAPYD_PASSWORD": PASSWORD}  # fmt: skip
        server = Scrapyd(url, home, site, env, project)
        deadline = time.monotonic() + 30
        while True:
            try:
                assert server.call("daemonstatus.json")["status"] == "ok"
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, (home / "scrapyd.out").read_text()
                assert time.monotonic() < deadline, "Scrapyd did not answer in 30 s"
                time.sleep(0.2)
        result = deploy(project, env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert json.loads(result.stdout)["spiders"] == 1, result.stdout
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def assert_clean(result: Crawl) -> None:
    log = result.log
    assert "Spider closed (finished)" in log
    assert not re.search(r"^\S+ \S+ \[[^\]]+\] (ERROR|CRITICAL):", log, flags=re.M), log
    assert "Traceback" not in log
    # Everything fetched came from the mirror (a job that found every article claimed fetched nothing).
    assert result.stats.get("mirror/requests") == result.stats.get("downloader/request_count")
    # An unattended job opens no port: neither extension is enabled.
    assert "TelnetConsole" not in log and "RemoteControl" not in log


def assert_goldens(root: Path) -> None:
    """Each article exactly once under the root, byte for byte its golden, nothing else beside."""
    posts = sorted((root / "content" / "posts").iterdir())
    assert len(posts) == len(WRITTEN), [p.name for p in posts]
    files = by_id(root)
    assert sorted(files) == sorted(WRITTEN)
    goldens = {p.stem.rsplit("-", 1)[1]: p for p in EXPECTED.glob("*.md")}
    for ident, path in files.items():
        assert path.read_bytes() == goldens[ident].read_bytes(), ident


def test_deploy_schedule_with_scrapyd_client_and_crawl(scrapyd: Scrapyd, mirror, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    site.mkdir()
    stats, stats_file = scrapyd.stats_setting()
    settings = [s.format(mirror=mirror[1], handlers=HANDLERS) for s in FAST] + [f"OUTPUT_ROOT={site}", stats]
    command = [str(BIN / "scrapyd-client"), "schedule", "-t", "server", "-p", "crawler", "qq",
               *[f"--arg=setting={s}" for s in settings], "--arg=ids=" + ",".join(WRITTEN)]  # fmt: skip
    result = subprocess.run(command, cwd=scrapyd.project, env=scrapyd.env, capture_output=True, text=True, timeout=60)
    match = re.search(r"crawler / qq => (\w+)", result.stdout)
    assert result.returncode == 0 and match, result.stdout + result.stderr
    job = match.group(1)
    scrapyd.stats_files[job] = stats_file
    finished = scrapyd.wait(job)[job]
    log = scrapyd.log(job)
    assert scrapyd.fetch(finished["log_url"]).decode() == log  # the log as the README shows to read it
    assert scrapyd.call(f"status.json?job={job}")["currstate"] == "finished"
    assert_clean(scrapyd.result(job))
    assert stat(scrapyd.result(job), "downloader/request_count") > 0
    assert stat(scrapyd.result(job), "write/written") == len(WRITTEN)
    assert f"Writing under {site}" in log
    assert_goldens(site)
    # Scrapyd's items_dir keeps a JSON-lines record of the job's articles.
    assert sorted(item["id"] for item in scrapyd.items(job)) == sorted(WRITTEN)
    # The server's own default root was not touched.
    assert not any(scrapyd.site.iterdir())


def test_two_jobs_at_once_write_each_article_once(scrapyd: Scrapyd, mirror) -> None:  # type: ignore[no-untyped-def]
    # No OUTPUT_ROOT: both jobs write to the server's QQ_OUTPUT_ROOT. A small delay per host keeps
    # each crawl going long enough for the two to write at the same time.
    settings = [s.format(mirror=mirror[1], handlers=HANDLERS) for s in FAST] + ["DOWNLOAD_DELAY=0.3"]
    first = scrapyd.schedule("ids=" + ",".join(WRITTEN), settings=settings)
    second = scrapyd.schedule("ids=" + ",".join(reversed(WRITTEN)), settings=settings)
    jobs = scrapyd.wait(first, second)
    # Scrapyd ran them at the same time: each started before the other ended.
    started = max(datetime.fromisoformat(j["start_time"]) for j in jobs.values())
    assert started < min(datetime.fromisoformat(j["end_time"]) for j in jobs.values()), jobs
    results = [scrapyd.result(job) for job in jobs]
    for result in results:
        assert_clean(result)
        assert "plan/renamed" not in result.stats
    # Between them, each article was written once (the other found it claimed or written).
    assert sum(result.stats.get("write/written", 0) for result in results) == len(WRITTEN)
    assert_goldens(scrapyd.site)
    assert not list(scrapyd.site.rglob(".*.tmp"))


def test_bad_arguments_and_bad_output_root_fail_at_start(scrapyd: Scrapyd, mirror, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fast = [s.format(mirror=mirror[1], handlers=HANDLERS) for s in FAST]
    unknown = scrapyd.schedule("ids=20250207A090J800", "chanels=tech", settings=fast)
    missing = scrapyd.schedule("ids=20250207A090J800", settings=[*fast, f"OUTPUT_ROOT={tmp_path / 'nowhere'}"])
    scrapyd.wait(unknown, missing)
    log = scrapyd.log(unknown)
    assert "ERROR: Bad spider arguments, nothing crawled: unknown argument chanels='tech' (accepted: " in log
    assert "Spider closed (bad_arguments)" in log
    assert stat(scrapyd.result(unknown), "qq/bad_arguments") == 1
    log = scrapyd.log(missing)
    assert f"ERROR: OUTPUT_ROOT {tmp_path / 'nowhere'}" in log and "does not exist: nothing crawled" in log
    assert "Spider closed (bad_output_root)" in log
    assert stat(scrapyd.result(missing), "store/bad_output_root") == 1
    for result in (scrapyd.result(unknown), scrapyd.result(missing)):
        assert "downloader/request_count" not in result.stats  # refused before any request
        assert "Traceback" not in result.log
    assert not (tmp_path / "nowhere").exists()
    # The exit code reaches Scrapyd (its runner uses the project's crawl command): it logs the death.
    scrapyd_log = (scrapyd.home / "scrapyd.out").read_text(encoding="utf-8")
    assert re.search(rf"Process died: exitstatus=3 project='crawler' spider='qq' job='{unknown}'", scrapyd_log)
    assert re.search(rf"Process died: exitstatus=4 project='crawler' spider='qq' job='{missing}'", scrapyd_log)


def test_egg_holds_the_whole_package_and_reads_no_data_through_file(scrapyd: Scrapyd) -> None:
    egg = scrapyd.home / "crawler.egg"
    result = subprocess.run(
        [str(BIN / "scrapyd-deploy"), "--build-egg", str(egg)],
        cwd=scrapyd.project, env=scrapyd.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
        entry_points = archive.read("EGG-INFO/entry_points.txt").decode()
    assert "[scrapy]\nsettings = crawler.settings" in entry_points
    sources = [p for p in (ROOT / "crawler").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    missing = [str(p.relative_to(ROOT)) for p in sources if str(p.relative_to(ROOT)) not in names]
    assert not missing, "not in the egg (add them to setup.py's package_data): " + ", ".join(missing)
    # Inside a zipped egg __file__ names no real directory: data goes through pkgutil.get_data.
    readers = [str(p) for p in sources if p.suffix == ".py" and "__file__" in p.read_text(encoding="utf-8")]
    assert not readers, readers


def test_unauthenticated_calls_are_refused(scrapyd: Scrapyd) -> None:
    for auth in (None, "wrong-password"):
        for endpoint, data in (("daemonstatus.json", None), ("schedule.json", [("project", "crawler"), ("spider", "qq")])):
            with pytest.raises(urllib.error.HTTPError) as refused:
                scrapyd.call(endpoint, data, auth=auth)
            assert refused.value.code == 401
            refused.value.close()
    pending = scrapyd.call("listjobs.json?project=crawler")["pending"]
    assert pending == []
    # scrapyd-deploy without the credentials in the environment is refused too.
    env = {k: v for k, v in scrapyd.env.items() if k != "SCRAPYD_PASSWORD"}
    result = deploy(scrapyd.project, env)
    assert result.returncode == 1
    assert "Deploy failed (401)" in result.stderr
