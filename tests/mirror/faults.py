"""Fault injection for the mirror: Tencent's refusals and a bad network, on demand.

A ``Faults`` decides, for each request whose path matches ``paths`` (a regex; empty: every path),
whether to answer it badly. In this order, each with its own share of requests (0 to 1):

* ``refuse``: an HTTP refusal, a status drawn from ``statuses`` (default 567, 429, 503), with
  ``Retry-After: <retry_after>`` when that is set (seconds, an HTTP date, or garbage to test with);
* ``reset``: the connection is reset (TCP RST) before any answer;
* ``truncate``: the real answer's headers, then half its body, then the connection closes;
* ``stall``: the real answer, after ``stall_seconds``.

Draws come from a seeded ``random.Random`` (``seed``), so a run is reproducible up to the order in
which the crawler's concurrent requests arrive. Every decision is logged in ``log`` as
``(monotonic time, path, outcome)``, outcome being the status, ``reset``, ``truncate``, ``stall``
or ``ok``: tests read request rates and retries from it.

From tests: ``mirror.faults = Faults(refuse=0.3, reset=0.05)``. By hand:
``python -m tests.mirror.server --refuse 0.3 --reset 0.05 --stall 0.1 --stall-seconds 2``.
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.mirror.server import Reply

REFUSAL_PAGE = "<html><head><title>567</title></head><body>访问过于频繁</body></html>".encode()


@dataclass
class Faults:
    refuse: float = 0.0
    statuses: tuple[int, ...] = (567, 429, 503)
    retry_after: str = ""
    reset: float = 0.0
    truncate: float = 0.0
    stall: float = 0.0
    stall_seconds: float = 1.0
    paths: str = ""
    seed: int = 0
    log: list[tuple[float, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._paths = re.compile(self.paths) if self.paths else None

    def _decide(self, path: str) -> str:
        with self._lock:
            outcome = "ok"
            if self._paths is None or self._paths.search(path):
                draw = self._random.random()
                shares = (("refuse", self.refuse), ("reset", self.reset), ("truncate", self.truncate), ("stall", self.stall))
                for name, share in shares:
                    if draw < share:
                        outcome = str(self._random.choice(self.statuses)) if name == "refuse" else name
                        break
                    draw -= share
            self.log.append((time.monotonic(), path, outcome))
            return outcome

    def intercept(self, handler: BaseHTTPRequestHandler, reply: Reply) -> bool:
        """Misbehave for this request if drawn to; True when the answer (or its absence) is sent."""
        outcome = self._decide(handler.path)
        if outcome == "ok":
            return False
        if outcome == "stall":
            time.sleep(self.stall_seconds)
            return False
        handler.close_connection = True
        if outcome == "reset":
            # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            return True
        if outcome == "truncate":
            handler.send_response(reply.status)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body[: len(reply.body) // 2])
            return True
        handler.send_response(int(outcome))
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(REFUSAL_PAGE)))
        if self.retry_after:
            handler.send_header("Retry-After", self.retry_after)
        handler.end_headers()
        handler.wfile.write(REFUSAL_PAGE)
        return True

    def outcomes(self) -> list[str]:
        with self._lock:
            return [outcome for _, _, outcome in self.log]

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group("faults", "answer a share of requests badly")
        group.add_argument("--refuse", type=float, default=0.0, help="share refused with --refuse-status")
        group.add_argument("--refuse-status", default="567,429,503", help="statuses to refuse with")
        group.add_argument("--retry-after", default="", help="Retry-After header of refusals")
        group.add_argument("--reset", type=float, default=0.0, help="share of connections reset")
        group.add_argument("--truncate", type=float, default=0.0, help="share of bodies cut in half")
        group.add_argument("--stall", type=float, default=0.0, help="share of answers delayed")
        group.add_argument("--stall-seconds", type=float, default=1.0, help="delay of stalled answers")
        group.add_argument("--fault-paths", default="", help="regex of the paths faults apply to")
        group.add_argument("--fault-seed", type=int, default=0)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Faults | None:
        if not (args.refuse or args.reset or args.truncate or args.stall):
            return None
        return cls(
            refuse=args.refuse, statuses=tuple(int(s) for s in args.refuse_status.split(",")),
            retry_after=args.retry_after, reset=args.reset, truncate=args.truncate, stall=args.stall,
            stall_seconds=args.stall_seconds, paths=args.fault_paths, seed=args.fault_seed,
        )  # fmt: skip
