"""Feeds and integration (SCOPE-3 reposting, CHAN-2 one platform whose carriers other
platforms share): Atom feeds, a private feed per person, the sitemap and each public item
as JSON, so that 政务公开 and other platforms can carry what was lawfully disclosed.

Who sees what is decided by `Disclosure.objects.disclosed_to` / `newest_visible` only:

* the public surfaces (organization feeds, sitemap, JSON API) read `_public()`, what was
  disclosed to an anonymous visitor, whoever asks: a signed-in clerk gets no more from the
  API than a crawler, because what the API returns is meant to be carried elsewhere;
* the private feed reads `newest_visible(owner, 50)`: what was disclosed to the owner of
  the token as an audience, never the staff's view of work in progress.

A withdrawn item keeps its title (marked 已撤回) and its correction notice everywhere here,
and nothing of its content: no body, interpretation or attachments (MECH-5, MECH-7).

An organization's feed and list hold its *own* items, not its subtree's: a reader of
湖滨社区党委's feed subscribes to what that organization discloses, and a branch's items
have their own feed; a parent's feed that carried every branch would bury its own items.

The item JSON (`/api/disclosures/<pk>.json`) has these keys:
  id, url (the item page), api_url, title, index_no, doc_number,
  org {id, name, code}, category, published_at, expire_at, updated_at (ISO 8601, +08:00),
  status, status_label (Chinese), withdrawn, withdrawn_at, correction_notice,
  body_html (sanitized), body_text, interpretation {background, significance, key_points},
  attachments [{name, size, url}] (withheld and removed ones never).
For a withdrawn item body_html, body_text and interpretation are null, attachments [].
An organization's list (`/api/orgs/<pk>/disclosures.json?after=<cursor>`) has
  org {id, name, code}, items [{id, url, api_url, title, index_no, doc_number, category,
  published_at, status, status_label, withdrawn}], next (URL of the next page or null).
Nothing else of an item is ever exposed: not its opinion analysis (hot spots, response
plan), author, review, approvals, audience details or the feedback it received.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Max, Q
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotFound,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.feedgenerator import Atom1Feed
from django.utils.http import http_date, quote_etag
from django.utils.text import Truncator
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.http import require_GET, require_POST, require_safe

from dwgk.accounts.models import User
from dwgk.audience.models import Cursor
from dwgk.disclosures.actions import sanitize_html
from dwgk.disclosures.models import Disclosure, DisclosureQuerySet
from dwgk.lib.errors import ActionError
from dwgk.members import actions as member_actions
from dwgk.members.models import FeedToken
from dwgk.orgs.models import Organization, OrganizationQuerySet
from dwgk.search.text import readable_text

FEED_SIZE = 50
API_PAGE_SIZE = 20
SUMMARY_CHARS = 200
# Shared caches may keep a public answer this long: new items show within five minutes.
PUBLIC_MAX_AGE = 300
# The sitemap protocol's limit of URLs per file.
SITEMAP_LIMIT = 50_000
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# What an empty feed says it was last updated: a fixed instant keeps its body, like its
# ETag, the same from one request to the next.
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def _public() -> DisclosureQuerySet:
    """What was disclosed to society: the one queryset every public surface here reads."""
    return Disclosure.objects.disclosed_to(AnonymousUser())


def _taken_down(item: Disclosure) -> bool:
    return item.is_taken_down


def _absolute(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri(path)


def _item_url(request: HttpRequest, item: Disclosure) -> str:
    return _absolute(request, reverse("disclosures:detail", args=[item.pk]))


def _iso(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


# --- conditional GET and cache headers -------------------------------------------------------


def _fingerprint(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:32]


def _items_fingerprint(items: Iterable[Disclosure]) -> str:
    # Every change that alters what a feed or list shows saves the item (updated_at).
    return _fingerprint(*(f"{i.pk}:{i.updated_at.isoformat()}" for i in items))


def _public_cache(request: HttpRequest, response: HttpResponseBase) -> None:
    """Shared caches may keep the answer to a reader without a session for five minutes.

    The body is the same for everyone, but a signed-in requester's answer carries their
    refreshed session cookie (SessionRefreshMiddleware), so it is `private, no-cache`
    as every signed-in answer is (dwgk.lib.http); Vary: Cookie keeps the two apart."""
    patch_vary_headers(response, ["Cookie"])
    if request.user.is_authenticated:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, public=True, max_age=PUBLIC_MAX_AGE)


def _not_modified(
    request: HttpRequest, etag: str, last_modified: datetime.datetime | None
) -> HttpResponseBase | None:
    """A 304 when the client's copy is current (If-None-Match / If-Modified-Since)."""
    stamp = int(last_modified.timestamp()) if last_modified is not None else None
    response = get_conditional_response(request, etag=quote_etag(etag), last_modified=stamp)
    if response is not None:
        _validators(response, etag, last_modified)
        _public_cache(request, response)
    return response


def _validators(
    response: HttpResponseBase, etag: str, last_modified: datetime.datetime | None
) -> None:
    response.headers["ETag"] = quote_etag(etag)
    if last_modified is not None:
        response.headers["Last-Modified"] = http_date(last_modified.timestamp())


def _public_answer(
    request: HttpRequest,
    etag: str,
    last_modified: datetime.datetime | None,
    build: Callable[[], HttpResponseBase],
) -> HttpResponseBase:
    """`build()` — or a 304 without building — with validators and public cache headers."""
    not_modified = _not_modified(request, etag, last_modified)
    if not_modified is not None:
        return not_modified
    response = build()
    _validators(response, etag, last_modified)
    _public_cache(request, response)
    return response


# --- Atom -----------------------------------------------------------------------------------


class DisclosureFeed(Atom1Feed):
    """Atom 1.0 (RFC 4287) whose entry summary is plain text, as it is: Django's Atom feed
    marks every summary as HTML, which would make a reader parse `<` in the text."""

    def add_item_elements(self, handler: SimplerXMLGenerator, item: dict[str, Any]) -> None:
        summary = item.get("description")
        super().add_item_elements(handler, {**item, "description": None})
        if summary:
            handler.addQuickElement("summary", summary, {"type": "text"})

    def latest_post_date(self) -> datetime.datetime:
        if not self.items:
            return EPOCH
        return super().latest_post_date()


def _summary(item: Disclosure) -> str:
    if _taken_down(item):
        notice = item.correction_notice.strip()
        text = "该事项已撤回，原公开内容不再提供。"
        return f"{text}更正说明：{notice}" if notice else text
    return Truncator(readable_text(item.body).replace("\n", " ")).chars(SUMMARY_CHARS)


def _entry_title(item: Disclosure) -> str:
    return f"【已撤回】{item.title}" if _taken_down(item) else item.title


def _atom(
    request: HttpRequest,
    *,
    title: str,
    link: str,
    subtitle: str,
    author: str,
    items: list[Disclosure],
    feed_url: str | None,
    feed_id: str | None = None,
) -> HttpResponse:
    feed = DisclosureFeed(
        title=title,
        link=link,
        description=subtitle,
        subtitle=subtitle,
        language="zh-CN",
        author_name=author,
        feed_url=feed_url,
        feed_guid=feed_id,
    )
    for item in items:
        url = _item_url(request, item)
        assert item.published_at is not None  # disclosed items always have one
        feed.add_item(
            title=_entry_title(item),
            link=url,
            description=_summary(item),
            unique_id=url,
            author_name=item.org.name,
            pubdate=item.published_at,
            # A withdrawal is news to a reader who has the entry: it is updated then.
            updateddate=item.withdrawn_at or item.published_at,
            categories=[item.category] if item.category else [],
        )
    response = HttpResponse(content_type=feed.content_type)
    feed.write(response, "utf-8")
    return response


def _org_feed(request: HttpRequest, org_pk: int, category: str | None) -> HttpResponseBase:
    org: Organization = get_object_or_404(Organization, pk=org_pk)
    items = _public().filter(org=org).select_related("org")
    if category is not None:
        items = items.filter(category=category)
    page = list(items.order_by("-published_at", "-pk")[:FEED_SIZE])
    name = f"{org.name} · {category}" if category else org.name
    etag = _fingerprint("org-feed", org.pk, org.name, category, _items_fingerprint(page))
    last_modified = max((i.updated_at for i in page), default=None)
    return _public_answer(
        request,
        etag,
        last_modified,
        lambda: _atom(
            request,
            title=f"{name} · 党务公开",
            link=_absolute(request, reverse("orgs:detail", args=[org.pk])),
            subtitle=f"{name}向社会公开的党务公开事项（最新{FEED_SIZE}条）",
            author=org.name,
            items=page,
            feed_url=request.build_absolute_uri(request.path),
        ),
    )


@require_safe
def org_feed(request: HttpRequest, org_pk: int) -> HttpResponseBase:
    """The newest 50 items an organization disclosed to society, as Atom."""
    return _org_feed(request, org_pk, None)


@require_safe
def org_category_feed(request: HttpRequest, org_pk: int, category: str) -> HttpResponseBase:
    """The newest 50 items of one 内容类别 an organization disclosed to society, as Atom."""
    return _org_feed(request, org_pk, category)


# --- the private feed ------------------------------------------------------------------------


def _no_such_feed() -> HttpResponse:
    response = HttpResponseNotFound(
        "订阅地址无效或已停用。", content_type="text/plain; charset=utf-8"
    )
    # The path is the secret: Django's request logger would write it out with the 404.
    response._has_been_logged = True  # type: ignore[attr-defined]
    add_never_cache_headers(response)
    return response


def _private_headers(response: HttpResponseBase) -> None:
    # Only the owner's reader may keep it: never a shared cache, never a disk copy.
    patch_cache_control(response, private=True, no_store=True)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"


@require_safe
def private_feed(request: HttpRequest, token: str) -> HttpResponseBase:
    """The newest 50 items disclosed to the token's owner, for a feed reader that cannot
    sign in. 404 for an unknown or revoked token and for an inactive account."""
    found = member_actions.feed_token_user(token)
    if found is None:
        return _no_such_feed()
    token_row, owner = found
    items, _ = Disclosure.objects.select_related("org").newest_visible(owner, FEED_SIZE)
    response = _atom(
        request,
        title=f"我的党务公开订阅 · {settings.SITE_NAME}",
        link=_absolute(request, reverse("public:home")),
        subtitle=f"向我公开的党务公开事项（最新{FEED_SIZE}条）",
        author=settings.SITE_NAME,
        items=items,
        # No self link and an id without the secret: a saved or forwarded copy of the
        # feed's body must not hand out the URL that opens it.
        feed_url=None,
        feed_id=_absolute(request, reverse("feeds:me")) + f"#feed-{token_row.pk}",
    )
    _private_headers(response)
    return response


def _my_page(request: HttpRequest, *, feed_url: str = "", status: int = 200) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required
    token = FeedToken.objects.current().filter(user=user).first()
    return render(request, "feeds/me.html", {"token": token, "feed_url": feed_url}, status=status)


@login_required
@require_GET
def my_feed(request: HttpRequest) -> HttpResponse:
    """我的订阅地址: whether I have a private feed URL, and buttons to issue or revoke it."""
    return _my_page(request)


@login_required
@require_POST
def my_feed_issue(request: HttpRequest) -> HttpResponse:
    """Issue a new private feed URL (the old one stops working) and show it, this once."""
    try:
        _, secret = member_actions.feed_token_issue(request.user, request=request)
    except ActionError as error:
        messages.error(request, error.message)
        return redirect("feeds:me")
    url = _absolute(request, reverse("feeds:private", args=[secret]))
    response = _my_page(request, feed_url=url)
    # The page holds the secret: no cache, no back-button copy.
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def my_feed_revoke(request: HttpRequest) -> HttpResponse:
    """Stop my private feed URL at once."""
    try:
        member_actions.feed_token_revoke(request.user, request=request)
    except ActionError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "订阅地址已停用，原地址从现在起无法再访问。")
    return redirect("feeds:me")


# --- sitemap and robots.txt ------------------------------------------------------------------


def _xml(body: str) -> HttpResponse:
    return HttpResponse(
        '<?xml version="1.0" encoding="UTF-8"?>\n' + body,
        content_type="application/xml; charset=utf-8",
    )


def _lastmod(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="seconds")


def _pages(count: int) -> int:
    return max(1, math.ceil(count / SITEMAP_LIMIT))


def _public_orgs() -> OrganizationQuerySet:
    # Every organization page is public (orgs.views.detail); dissolved ones are history
    # that their items' pages still link to, so the sitemap lists the active ones.
    return Organization.objects.active()


@require_safe
def sitemap_index(request: HttpRequest) -> HttpResponseBase:
    """/sitemap.xml: a sitemap index of the organization pages and the public item pages,
    in files of at most 50,000 URLs (the protocol's limit), each at the site root (a
    sitemap may only list URLs below its own folder)."""
    stats = _public().order_by().aggregate(latest=Max("updated_at"), n=Count("pk"))
    item_pages = _pages(stats["n"])
    org_pages = _pages(_public_orgs().count())
    latest = stats["latest"]
    lines = [f'<sitemapindex xmlns="{SITEMAP_NS}">']
    for page in range(1, org_pages + 1):
        loc = _absolute(request, reverse("feeds:sitemap_orgs", args=[page]))
        lines.append(f"<sitemap><loc>{escape(loc)}</loc></sitemap>")
    for page in range(1, item_pages + 1):
        loc = _absolute(request, reverse("feeds:sitemap_disclosures", args=[page]))
        mod = f"<lastmod>{_lastmod(latest)}</lastmod>" if latest else ""
        lines.append(f"<sitemap><loc>{escape(loc)}</loc>{mod}</sitemap>")
    lines.append("</sitemapindex>\n")
    response = _xml("\n".join(lines))
    if latest is not None:
        response.headers["Last-Modified"] = http_date(latest.timestamp())
    _public_cache(request, response)
    return response


def _urlset(request: HttpRequest, rows: Iterable[tuple[str, datetime.datetime | None]]) -> str:
    # The host is checked and the URL built once per file, not once per row.
    base = _absolute(request, "/").removesuffix("/")
    lines = [f'<urlset xmlns="{SITEMAP_NS}">']
    for path, modified in rows:
        mod = f"<lastmod>{_lastmod(modified)}</lastmod>" if modified else ""
        lines.append(f"<url><loc>{escape(base + path)}</loc>{mod}</url>")
    lines.append("</urlset>\n")
    return "\n".join(lines)


@require_safe
def sitemap_disclosures(request: HttpRequest, page: int) -> HttpResponseBase:
    """One file of public item pages, with when each last changed."""
    public = _public().order_by("pk")
    if page < 1 or page > _pages(public.count()):
        return HttpResponseNotFound("没有这一页。", content_type="text/plain; charset=utf-8")
    start = (page - 1) * SITEMAP_LIMIT
    # Two columns and a server-side iterator: the file can hold 50,000 rows.
    rows = public.values_list("pk", "updated_at")[start : start + SITEMAP_LIMIT]
    # One reverse() for the pattern instead of 50,000.
    detail = reverse("disclosures:detail", args=[0]).replace("/0/", "/{}/")
    body = _urlset(
        request, ((detail.format(pk), updated) for pk, updated in rows.iterator(chunk_size=2000))
    )
    response = _xml(body)
    _public_cache(request, response)
    return response


@require_safe
def sitemap_orgs(request: HttpRequest, page: int) -> HttpResponseBase:
    """One file of organization pages."""
    orgs = _public_orgs().order_by("pk")
    if page < 1 or page > _pages(orgs.count()):
        return HttpResponseNotFound("没有这一页。", content_type="text/plain; charset=utf-8")
    start = (page - 1) * SITEMAP_LIMIT
    pks = orgs.values_list("pk", flat=True)[start : start + SITEMAP_LIMIT]
    detail = reverse("orgs:detail", args=[0]).replace("/0/", "/{}/")
    body = _urlset(request, ((detail.format(pk), None) for pk in pks.iterator(chunk_size=2000)))
    response = _xml(body)
    _public_cache(request, response)
    return response


# Staff screens, the portal and the private feeds are nobody's search results.
ROBOTS_DISALLOW = ("/admin/", "/manage/", "/inbox/", "/me/", "/feeds/me/", "/accounts/")


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    """robots.txt: keep crawlers off the signed-in screens, point them to the sitemap."""
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), ""]
    lines.append(f"Sitemap: {_absolute(request, reverse('feeds:sitemap'))}")
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    _public_cache(request, response)
    return response


# --- JSON API --------------------------------------------------------------------------------


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(
        data,
        status=status,
        json_dumps_params={"ensure_ascii": False},
        content_type="application/json; charset=utf-8",
    )


def _json_error(message: str, status: int = 404) -> JsonResponse:
    return _json({"error": message}, status=status)


def _org_json(org: Organization) -> dict[str, Any]:
    return {"id": org.pk, "name": org.name, "code": org.code}


def _api_url(request: HttpRequest, item: Disclosure) -> str:
    return _absolute(request, reverse("feeds:api_disclosure", args=[item.pk]))


def _item_summary(request: HttpRequest, item: Disclosure) -> dict[str, Any]:
    return {
        "id": item.pk,
        "url": _item_url(request, item),
        "api_url": _api_url(request, item),
        "title": item.title,
        "index_no": item.index_no,
        "doc_number": item.doc_number,
        "category": item.category,
        "published_at": _iso(item.published_at),
        "status": item.status,
        "status_label": str(item.get_status_display()),
        "withdrawn": _taken_down(item),
    }


def item_json(request: HttpRequest, item: Disclosure) -> dict[str, Any]:
    """A public item as the API shows it (the keys are listed in the module docstring)."""
    withdrawn = _taken_down(item)
    data: dict[str, Any] = {
        "id": item.pk,
        "url": _item_url(request, item),
        "api_url": _api_url(request, item),
        "title": item.title,
        "index_no": item.index_no,
        "doc_number": item.doc_number,
        "org": _org_json(item.org),
        "category": item.category,
        "published_at": _iso(item.published_at),
        "expire_at": _iso(item.expire_at),
        "updated_at": _iso(item.updated_at),
        "status": item.status,
        "status_label": str(item.get_status_display()),
        "withdrawn": withdrawn,
        "withdrawn_at": _iso(item.withdrawn_at),
        "correction_notice": item.correction_notice,
        "body_html": None,
        "body_text": None,
        "interpretation": None,
        "attachments": [],
    }
    if withdrawn:
        return data
    # Stored sanitized; cleaned again so that the API never depends on how a row was saved.
    body = sanitize_html(item.body) if item.body else ""
    data.update(
        body_html=body,
        body_text=readable_text(body),
        interpretation={
            "background": item.background,
            "significance": item.significance,
            "key_points": item.key_points,
        },
        attachments=[
            {
                "name": a.name,
                "size": a.size,
                "url": _absolute(request, reverse("disclosures:attachment", args=[item.pk, a.pk])),
            }
            for a in item.attachments.filter(withheld=False, removed=False).order_by("id")
        ],
    )
    return data


@require_safe
def api_disclosure(request: HttpRequest, pk: int) -> HttpResponseBase:
    """One item disclosed to society, as JSON; a JSON 404 for anything else, whoever asks."""
    item = _public().select_related("org").filter(pk=pk).first()
    if item is None:
        return _json_error("没有这个公开事项，或它没有向社会公开。")
    etag = _fingerprint("api-item", item.pk, item.updated_at.isoformat(), item.org.name)
    return _public_answer(request, etag, item.updated_at, lambda: _json(item_json(request, item)))


@require_safe
def api_org_disclosures(request: HttpRequest, org_pk: int) -> HttpResponseBase:
    """An organization's items disclosed to society, newest first, 20 a page; `next` is the
    URL of the following page (a keyset cursor, stable while new items arrive)."""
    org = Organization.objects.filter(pk=org_pk).first()
    if org is None:
        return _json_error("没有这个党组织。")
    items = _public().filter(org=org).select_related("org").order_by("-published_at", "-pk")
    after = request.GET.get("after")
    if after:
        cursor = Cursor.decode(after)
        if cursor is None:
            return _json_error("翻页参数 after 无效。", status=400)
        items = items.filter(
            Q(published_at__lt=cursor.sort_at) | Q(published_at=cursor.sort_at, pk__lt=cursor.pk)
        )
    rows = list(items[: API_PAGE_SIZE + 1])
    page, more = rows[:API_PAGE_SIZE], len(rows) > API_PAGE_SIZE
    next_url = None
    if more:
        last = page[-1]
        assert last.published_at is not None
        path = reverse("feeds:api_org", args=[org.pk])
        next_url = _absolute(request, f"{path}?after={Cursor(last.published_at, last.pk).encode()}")
    etag = _fingerprint("api-org", org.pk, org.name, after, _items_fingerprint(rows))
    last_modified = max((i.updated_at for i in page), default=None)
    return _public_answer(
        request,
        etag,
        last_modified,
        lambda: _json(
            {
                "org": _org_json(org),
                "items": [_item_summary(request, i) for i in page],
                "next": next_url,
            }
        ),
    )
