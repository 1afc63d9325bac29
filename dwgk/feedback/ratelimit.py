"""Rate limits for opinions left on the platform, kept in Django's cache.

Anonymous visitors are counted per IP address, members per account with a looser limit.
The IP address is never stored or used as a cache key in the clear: `ip_hash` is an
HMAC-SHA-256 under SECRET_KEY, so the hashes cannot be reversed by trying all addresses
without the key. The counters are fixed windows; the default LocMem cache is per process,
which is good enough for one server — use a shared cache (e.g. Redis, database) when
running several.

Limits can be set in settings: FEEDBACK_ANON_LIMIT / FEEDBACK_MEMBER_LIMIT as
(count, window in seconds).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

# Three anonymous opinions an hour from one address, ten for a member.
DEFAULT_ANON_LIMIT = (3, 3600)
DEFAULT_MEMBER_LIMIT = (10, 3600)


def ip_hash(ip: str) -> str:
    """A salted, irreversible stand-in for an IP address."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"feedback-ip:{ip.strip()}".encode(), hashlib.sha256).hexdigest()


def anon_limit() -> tuple[int, int]:
    limit: tuple[int, int] = getattr(settings, "FEEDBACK_ANON_LIMIT", DEFAULT_ANON_LIMIT)
    return limit


def member_limit() -> tuple[int, int]:
    limit: tuple[int, int] = getattr(settings, "FEEDBACK_MEMBER_LIMIT", DEFAULT_MEMBER_LIMIT)
    return limit


def hit(bucket: str, limit: tuple[int, int]) -> bool:
    """Count one attempt in `bucket`; False when it goes over `limit` in this window.
    Call it last, after every other check, so refused input does not use up the limit."""
    count, window = limit
    start = int(time.time()) // window
    key = f"dwgk:feedback:rl:{bucket}:{window}:{start}"
    # add() is atomic: only the first attempt in a window creates the counter.
    if cache.add(key, 1, timeout=window + 1):
        return count >= 1
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window + 1)
        used = 1
    return used <= count


def allow_anonymous(ip: str) -> bool:
    return hit(f"ip:{ip_hash(ip)}", anon_limit())


def allow_member(user_id: int) -> bool:
    return hit(f"user:{user_id}", member_limit())
