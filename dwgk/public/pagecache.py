"""The server-side cache of anonymous public pages.

DESIGN-NOTES: the framework is the limit — a rendered home page costs ~15 ms of CPU, a bare
response under 1 ms. An anonymous page is the same for every anonymous visitor, so it is
rendered once and kept in each server process (the `pages` cache), filed under

    the page stamp · the path with its query · the large-type switch · the language

The page stamp (`PageStamp`, one row) goes up after every change that may alter a public
page: every step of a disclosure item, sent as `disclosure_changed` by the procedure and
the worker alike, and every successful POST (a catalog published, an organization renamed,
an opinion answered, ...). A withdrawn item therefore disappears from the cached pages of
the process that withdrew it the moment its step commits, and from every other process's
within `PAGE_STAMP_MS` (1 s): each process reads the stamp (one primary-key query) at most
once in that time, so that cached answers cost the database nothing — at 2,600 answers a
second on two workers they were 2,600 queries a second. Browsers and proxies may keep a
public page `PUBLIC_MAX_AGE` (60 s) anyway; entries also expire after that minute, which
bounds what a change made outside the platform's code (SQL by hand) can leave.

Only an anonymous GET or HEAD without a session or messages cookie is served from or stored
in the cache, only for a view decorated with `public_page`, and only a 200 answer is stored.
`PageCacheMiddleware` does both, early in the middleware list: a hit is answered before the
session, locale, CSRF, authentication and later middleware run (DESIGN-NOTES: answered
there, a cached page costs little more than a bare "ok"); a miss goes through them all, and
the answer is stored as they left it, headers included, so that a hit carries the same ones.

A page with a form keeps its form: the value of every hidden field that belongs to one
answer — the CSRF token, and whatever an app registers with `renew_field` (the opinion
form's signed timestamp) — is marked before the page is stored and made anew for this
visitor on every hit. The CSRF token is made from the visitor's own CSRF cookie (a new one
is set when they have none), exactly as Django's CSRF middleware does on a rendered page,
and such an answer is `private`: a shared cache must not keep one visitor's tokens.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.urls import Resolver404, get_urlconf, resolve
from django.utils import translation
from django.utils.cache import patch_cache_control, set_response_etag

from dwgk.lib.context_processors import LARGE_TYPE_COOKIE
from dwgk.lib.http import PUBLIC_MAX_AGE, mark_cacheable
from dwgk.public.models import PageStamp

CACHE_ALIAS = "pages"
STAMP_PK = 1
HIDDEN_VALUE = re.compile(rb'name="([a-z_]+)" value="([^"\x00]*)"')
FRESH_MARK = re.compile(rb"\x00([a-z_]+)\x00([^\x00]*)\x00")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Headers that belong to one answer, not to the page.
NOT_KEPT = {"set-cookie", "content-length"}

View = Callable[..., HttpResponseBase]
Renew = Callable[[HttpRequest, str], str]

# Hidden form fields whose value is made for one answer: name -> (request, stored value) ->
# the value for this answer.
RENEWED: dict[str, Renew] = {"csrfmiddlewaretoken": lambda request, _: get_token(request)}


def renew_field(name: str, renew: Renew) -> None:
    """Have the hidden field `name` of cached pages made anew on every hit."""
    RENEWED[name] = renew


# (when it was read, by _clock(); the value) — this process's last read of the stamp
_last_read: tuple[float, int] | None = None
_clock = time.monotonic


def current_stamp() -> int:
    """The stamp as read at most PAGE_STAMP_MS ago."""
    global _last_read
    now = _clock()
    if _last_read is not None and (now - _last_read[0]) * 1000 < settings.PAGE_STAMP_MS:
        return _last_read[1]
    value = _read_stamp()
    _last_read = (now, value)
    return value


def _forget_stamp() -> None:
    global _last_read
    _last_read = None


def _read_stamp() -> int:
    """Plain SQL: building the ORM query cost more than running it (0.25 of a cached
    answer's 0.7 ms of CPU)."""
    meta = PageStamp._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(meta.get_field('value').column)} FROM {quote(meta.db_table)} "  # noqa: S608 — names quoted
            f"WHERE {quote(meta.pk.column)} = %s",
            [STAMP_PK],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def bump() -> None:
    """Make every cached public page stale: this process's at once, every process's once
    the current transaction commits (at once outside one). The stamp is not raised inside
    the transaction: its row would then be locked until the commit, one step at a time
    across all workers."""
    caches[CACHE_ALIAS].clear()
    _forget_stamp()
    if connection.in_atomic_block and _bump_waits(connection):
        return  # a batch of steps raises it once (the worker publishes 100 per commit)
    transaction.on_commit(_bump_now)


def _bump_waits(connection: Any) -> bool:
    """Whether a raise of the stamp already waits for this transaction's commit, and would
    be dropped only with one of the savepoints open now (so exactly when ours would)."""
    open_now = set(connection.savepoint_ids)
    return any(
        func is _bump_now and sids <= open_now for sids, func, _robust in connection.run_on_commit
    )


def _bump_now() -> None:
    if not PageStamp.objects.filter(pk=STAMP_PK).update(value=F("value") + 1):
        PageStamp.objects.get_or_create(pk=STAMP_PK, defaults={"value": 1})
    # Pages rendered between the clear and the commit were filed under the old stamp.
    _forget_stamp()


def _cacheable(request: HttpRequest) -> bool:
    """Whether the request may be answered from the cache: anonymous (no session, so no
    signed-in person) with nothing waiting for them (messages)."""
    if request.method not in ("GET", "HEAD"):
        return False
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and "messages" not in cookies


def _for_public_page(request: HttpRequest) -> bool:
    """Whether the path is a `public_page` view's: any other request (a sign-in page, a
    file, an API call) never reads the stamp or the cache."""
    urlconf = getattr(request, "urlconf", None) or get_urlconf() or settings.ROOT_URLCONF
    return _public_path(str(urlconf), request.path_info)


@functools.lru_cache(maxsize=4096)
def _public_path(urlconf: str, path: str) -> bool:
    # Resolving a path costs ~80 µs, as much as the rest of a hit but the stamp read.
    try:
        match = resolve(path, urlconf)
    except Resolver404:
        return False
    return getattr(match.func, "public_page", False)


def _key(request: HttpRequest, stamp: int) -> str:
    large = request.COOKIES.get(LARGE_TYPE_COOKIE) == "1"
    language = translation.get_language_from_request(request)
    where = f"{request.get_host()}{request.get_full_path()}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:32]
    return f"page:{stamp}:{int(large)}:{language}:{digest}"


Kept = tuple[bytes, list[tuple[str, str]]]


def _store(response: HttpResponseBase) -> Kept | None:
    if response.status_code != 200 or not isinstance(response, HttpResponse):
        return None
    if any(name != settings.CSRF_COOKIE_NAME for name in response.cookies):
        return None  # a cookie of this visitor's: the page is theirs

    def mark(match: re.Match[bytes]) -> bytes:
        name, value = match.groups()
        if name.decode() not in RENEWED:
            return match.group(0)
        return b'name="%s" value="\x00%s\x00%s\x00"' % (name, name, value)

    content = HIDDEN_VALUE.sub(mark, response.content)
    if b"\x00" not in content:
        # The same for every visitor: hashed once and kept with the page (the ETag of a
        # page with fields made per answer is made from each answer, by Django).
        set_response_etag(response)
    headers = [(k, v) for k, v in response.items() if k.lower() not in NOT_KEPT]
    return content, headers


class PageCacheMiddleware:
    """Answer anonymous visitors from the cache, store the pages rendered for them, and
    make every cached page stale after a successful POST (PUT, PATCH, DELETE)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        # Django's own CSRF handling, for a hit that is answered before it runs.
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method in UNSAFE_METHODS:
            response = self.get_response(request)
            if response.status_code < 400:
                bump()
            return response
        if not _cacheable(request) or not _for_public_page(request):
            return self.get_response(request)
        key = _key(request, current_stamp())
        cache = caches[CACHE_ALIAS]
        kept = cache.get(key)
        if kept is not None:
            return self._restore(request, kept)
        response = self.get_response(request)
        if getattr(request, "public_page", False) and not request.user.is_authenticated:
            stored = _store(response)
            if stored is not None:
                cache.set(key, stored, PUBLIC_MAX_AGE)
        return response

    def _restore(self, request: HttpRequest, kept: Kept) -> HttpResponse:
        content, headers = kept
        response = HttpResponse()
        for name, value in headers:
            response[name] = value
        if b"\x00" in content:
            self.csrf.process_request(request)  # the visitor's CSRF cookie, if any

            def renew(match: re.Match[bytes]) -> bytes:
                name, value = match.group(1).decode(), match.group(2).decode()
                return RENEWED[name](request, value).encode()

            content = FRESH_MARK.sub(renew, content)
            response.headers.pop("Cache-Control", None)
            patch_cache_control(response, private=True, no_cache=True)
            self.csrf.process_response(request, response)  # a new visitor's CSRF cookie
        response.content = content
        response["Content-Length"] = str(len(content))
        return response


def public_page(view: View) -> View:
    """Decorate a view whose anonymous answer is the same for every anonymous visitor: its
    answers to them are cached (`PageCacheMiddleware`) and marked for browsers and proxies
    by `mark_cacheable`."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        request.public_page = True  # type: ignore[attr-defined]
        return mark_cacheable(request, view(request, *args, **kwargs))

    wrapped.public_page = True  # type: ignore[attr-defined]
    return wrapped


def on_disclosure_changed(sender: Any, **kwargs: Any) -> None:
    bump()
