"""Flags in qq.com's data (``window.DATA``, feed items): parsed, never truth-tested (pure).

Tencent writes a flag as ``1``/``0``, ``"1"``/``"0"``, ``true``/``false``, ``"true"``/``"false"`` or
``null`` depending on the page generation and the endpoint; Python's ``bool("0")`` is True, so a
free article flagged ``"0"`` would be taken for a paid one and never written. ``flag`` reads what
the value says: True for ``true``, a non-zero number, or a string naming one (``"1"``, ``"true"``,
``"yes"``, ``"on"``, case and spaces ignored); False for everything else, including strings it
does not know (a flag it cannot read must not drop an article).
"""

from __future__ import annotations

from typing import Any

_TRUE_WORDS = frozenset(["true", "yes", "y", "on"])


def flag(value: Any) -> bool:
    """What a flag value says: see the module docstring."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == value and value != 0  # NaN is no answer
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_WORDS:
            return True
        try:
            number = float(text)
        except ValueError:
            return False
        return number == number and number != 0
    return False
