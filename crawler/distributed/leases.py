"""Leases on work taken from Redis: what scrapy-redis pops and forgets, kept until it is done.

Each move (take, acknowledge, renew, return) is one Lua script, so a lost connection never loses
work. Docs: docs/distributed.md ("Leases, not pops").
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass

import redis
from scrapy import Request

logger = logging.getLogger(__name__)

# The lease hash's values: "<kind>|<queue score>|<payload>", kind "r" (a queued request: payload is
# the encoded request, score its priority score) or "e" (a start-URLs entry: payload the entry).
_NOW_MS = "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000)"

# KEYS: queue (zset), lease hash, crawlers (zset), lease counter; ARGV: member, token, lease ms.
# The lease id, or nil when another crawler took the member first.
TAKE_REQUEST = f"""
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
local id = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], id, 'r|' .. score .. '|' .. ARGV[1])
{_NOW_MS}
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
return id
"""

# KEYS: start-URLs list, lease hash, crawlers, lease counter; ARGV: count, token, lease ms.
# {id, entry, id, entry, ...} from the head of the list.
TAKE_ENTRIES = f"""
local out = {{}}
for i = 1, tonumber(ARGV[1]) do
  local entry = redis.call('LPOP', KEYS[1])
  if not entry then break end
  local id = redis.call('INCR', KEYS[4])
  redis.call('HSET', KEYS[2], id, 'e|0|' .. entry)
  out[#out + 1] = id
  out[#out + 1] = entry
end
if #out > 0 then
  {_NOW_MS}
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[3]), ARGV[2])
end
return out
"""

# KEYS: lease hash, dupefilter; ARGV: id, fingerprint ("" for none), id, fingerprint, ...
# A lease already returned to the queue (ours lapsed) keeps its fingerprint: its work is queued.
ACK = """
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
    n = n + 1
    if ARGV[i + 1] ~= '' then redis.call('SREM', KEYS[2], ARGV[i + 1]) end
  end
end
return n
"""

# KEYS: crawlers; ARGV: token, lease ms. 1 when the token was not registered (first time, or lapsed).
RENEW = f"""
{_NOW_MS}
return redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
"""

# Puts a lease's work back: a request into the queue with its score, an entry at the list's head.
_PUT_BACK = """
local function put_back(value, queue, start_urls)
  local sep = string.find(value, '|', 3, true)
  local data = string.sub(value, sep + 1)
  if string.sub(value, 1, 1) == 'r' then
    redis.call('ZADD', queue, string.sub(value, 3, sep - 1), data)
  else
    redis.call('LPUSH', start_urls, data)
  end
end
"""

# KEYS: crawlers, the crawler's lease hash, queue, start-URLs list; ARGV: token, "1" to return the
# leases whatever the deadline (a crawler closing returns its own). The number of leases
# returned, or -1 when the crawler renewed its deadline meanwhile.
RETURN = f"""
{_PUT_BACK}
local deadline = redis.call('ZSCORE', KEYS[1], ARGV[1])
if ARGV[2] ~= '1' and deadline then
  {_NOW_MS}
  if tonumber(deadline) > now then return -1 end
end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do put_back(all[i + 1], KEYS[3], KEYS[4]) end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return #all / 2
"""

# KEYS: lease hash, queue, start-URLs list; ARGV: lease ids. Gives these leases back now.
GIVE_BACK = f"""
{_PUT_BACK}
local n = 0
for i = 1, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  if value then
    put_back(value, KEYS[2], KEYS[3])
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
"""

# KEYS: crawlers. Tokens whose deadline has passed (by Redis's clock).
OVERDUE = f"""
{_NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
"""


@dataclass
class Held:
    """A request this crawler holds a lease on: the id, the fingerprint to forget when it is done."""

    lease: str
    fingerprint: str  # "" for a dont_filter request (never in the dupefilter)
    slot: str  # its downloader slot
    started: bool = False  # reached the downloader (it no longer waits for its slot)
    kept: bool = False  # not to be acknowledged: a request it made may not have been queued


class Leases:
    """This crawler's leases in Redis (the scripts above) and what it holds locally. Keys: ``<name>:crawlers``,
    ``<name>:leased:<token>``, ``<name>:lease_seq`` (``name``: the spider's)."""

    def __init__(
        self, server: redis.Redis, name: str, *, queue: str, start_urls: str, dupefilter: str, seconds: float
    ) -> None:  # fmt: skip
        self.server = server
        self.name = name
        self.queue = queue
        self.start_urls = start_urls
        self.dupefilter = dupefilter
        self.ms = int(seconds * 1000)
        self.token = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.crawlers = f"{name}:crawlers"
        self.hash = self.hash_of(self.token)
        self.seq = f"{name}:lease_seq"
        self.held: dict[Request, Held] = {}
        self.registered = False
        self._take_request = server.register_script(TAKE_REQUEST)
        self._take_entries = server.register_script(TAKE_ENTRIES)
        self._ack = server.register_script(ACK)
        self._renew = server.register_script(RENEW)
        self._return = server.register_script(RETURN)
        self._give_back = server.register_script(GIVE_BACK)
        self._overdue = server.register_script(OVERDUE)

    def hash_of(self, token: str) -> str:
        return f"{self.name}:leased:{token}"

    # -- taking ------------------------------------------------------------------------------------

    def take_request(self, member: bytes, request: Request, fingerprint: str, slot: str) -> bool:
        """Lease the queued ``member`` (decoded: ``request``); False when another crawler took it."""
        lease = self._take_request(keys=[self.queue, self.hash, self.crawlers, self.seq], args=[member, self.token, self.ms])
        if lease is None:
            return False
        self.registered = True
        self.held[request] = Held(str(lease), fingerprint, slot)
        return True

    def take_entries(self, count: int) -> list[tuple[str, bytes]]:
        """Lease up to ``count`` entries from the head of the start-URLs list: (lease id, entry)."""
        flat = self._take_entries(keys=[self.start_urls, self.hash, self.crawlers, self.seq], args=[count, self.token, self.ms])
        if flat:
            self.registered = True
        return [(str(flat[i]), flat[i + 1]) for i in range(0, len(flat), 2)]

    # -- fair sharing ----------------------------------------------------------------------------------

    def waiting(self) -> Counter[str]:
        """Requests taken but not yet started, by downloader slot."""
        return Counter(held.slot for held in self.held.values() if not held.started)

    def started(self, request: Request) -> None:
        held = self.held.get(request)
        if held is not None:
            held.started = True

    # -- done ------------------------------------------------------------------------------------------

    def finished(self, in_progress: set[Request]) -> list[Held]:
        """Forget (and return) the held requests that are no longer in progress."""
        done = [request for request in self.held if request not in in_progress]
        return [self.held.pop(request) for request in done]

    def keep_all(self) -> None:
        """Acknowledge none of the requests now in hand: they are given back when done, to be done again."""
        for held in self.held.values():
            held.kept = True

    def give_back(self, leases: list[str]) -> int:
        """Put these leases' work back in the queue (or the list) now; the number still ours."""
        if not leases:
            return 0
        return int(self._give_back(keys=[self.hash, self.queue, self.start_urls], args=leases))

    def ack(self, leases: list[tuple[str, str]]) -> int:
        """Acknowledge (lease id, fingerprint) pairs; the number that were still ours."""
        if not leases:
            return 0
        return int(self._ack(keys=[self.hash, self.dupefilter], args=[x for pair in leases for x in pair]))

    # -- liveness ----------------------------------------------------------------------------------------

    def renew(self) -> bool:
        """Push this crawler's deadline on; False when its leases had lapsed (returned by another)."""
        added = bool(self._renew(keys=[self.crawlers], args=[self.token, self.ms]))
        lapsed = added and self.registered
        self.registered = True
        return not lapsed

    def return_overdue(self) -> dict[str, int]:
        """Return the leases of every crawler whose deadline has passed: {token: leases returned}."""
        returned = {}
        for raw in self._overdue(keys=[self.crawlers]):
            token = raw.decode()
            count = self._return_of(token, force=False)
            if count >= 0:
                returned[token] = count
        return returned

    def return_own(self) -> int:
        """Return every lease still held (a crawler closing before its work was done), unregister."""
        self.held.clear()
        return self._return_of(self.token, force=True)

    def _return_of(self, token: str, *, force: bool) -> int:
        keys = [self.crawlers, self.hash_of(token), self.queue, self.start_urls]
        return int(self._return(keys=keys, args=[token, "1" if force else "0"]))

    def leased_anywhere(self) -> int:
        """Leases held by every registered crawler (this one included)."""
        tokens = self.server.zrange(self.crawlers, 0, -1)
        if not tokens:
            return 0
        with self.server.pipeline(transaction=False) as pipe:
            for token in tokens:
                pipe.hlen(self.hash_of(token.decode()))
            return sum(pipe.execute())
