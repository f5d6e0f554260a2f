"""Time as qq.com states it: Beijing time (UTC+8, no daylight saving) and the forms its pages
and feeds write it in. Ground floor: imports nothing of the project.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

_TIME_RES = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$"),  # 2025-02-07 21:54:12
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(\d{1,2}):(\d{2})(?::(\d{2}))?$"),  # 2016年10月14日07:17
)


def parse_time(value: str) -> datetime | None:
    """Beijing time from the forms qq.com pages use, or None."""
    value = value.strip()
    for pattern in _TIME_RES:
        match = pattern.match(value)
        if match:
            parts = [int(p) if p else 0 for p in match.groups()]
            try:
                return datetime(*parts, tzinfo=BEIJING)  # type: ignore[misc]
            except ValueError:
                return None
    return None
