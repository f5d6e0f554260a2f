"""A site's build hook for the tests (``SITEHOOK_URL``): a receiver that records each call and
checks its signature with docs/hooks.md's own example."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.crawl import ROOT, by_id

SECRET = "s3cret-for-tests"


def docs_verifier() -> Any:
    """The ``verify`` function of docs/hooks.md's example, run as printed."""
    page = (ROOT / "docs" / "hooks.md").read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", page, re.S)
    assert code, "docs/hooks.md has no python example"
    assert len(code[1].strip().splitlines()) <= 10
    namespace: dict[str, Any] = {}
    exec(code[1], namespace)  # noqa: S102 (our own documentation)
    return namespace["verify"]


class Receiver:
    """A site's build hook: records each call; answers ``status`` (or never, when ``hang``)."""

    def __init__(self, status: int = 204, hang: bool = False) -> None:
        self.status, self.hang = status, hang
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers.items()), body))
                if receiver.hang:
                    time.sleep(3)
                    return
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/build"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def documents(self) -> list[dict[str, Any]]:
        """Every call's body, each checked with the documented verifier first."""
        verify = docs_verifier()
        for headers, body in self.calls:
            assert verify(SECRET.encode(), headers, body), headers
            assert not verify(b"another secret", headers, body)
            assert not verify(SECRET.encode(), headers, body + b" ")
        return [json.loads(body) for _, body in self.calls]


def hook(url: str, *more: str) -> tuple[str, ...]:
    return ("-s", f"SITEHOOK_URL={url}", "-s", f"SITEHOOK_SECRET={SECRET}", *more)


def on_disk(output: Path) -> dict[str, str]:
    """Markdown files under ``output`` by the article id their link back names, relative."""
    return {ident: path.relative_to(output).as_posix() for ident, path in by_id(output).items()}
