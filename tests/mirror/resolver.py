"""The name resolver of the tests and the demo (``URLPOLICY_RESOLVER``, set with the mirror): no DNS here.

Every qq.com and gtimg.com host is public (an address of Tencent's); the hostile corpus's hosts
resolve where their names say; anything else does not resolve.
"""

from __future__ import annotations

PUBLIC = "183.3.226.35"  # a real public address (never connected to: the mirror serves everything)
HOSTS = {
    "internal.example": ["10.0.0.5"],
    "rebind.example": ["93.184.215.14", "127.0.0.1"],
    "rebinding.example": ["93.184.215.14"],  # public here; loopback when the crawl connects (tests/support/rebind.py)
    "metadata.example": ["169.254.169.254"],
    "v6local.example": ["::1"],
    "public.example": ["93.184.215.14"],
}


def resolve(host: str) -> list[str]:
    if host in HOSTS:
        return HOSTS[host]
    if host == "qq.com" or host.endswith((".qq.com", ".gtimg.com", ".gtimg.cn", ".qpic.cn")):
        return [PUBLIC]
    return []
