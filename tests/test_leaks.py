"""Leak tests over every reader surface (issue 5 item 8): lists, item pages, revisions,
search results and counts, feeds, the sitemap, JSON, attachments fetched by their URL,
posters and feedback — each for the anonymous visitor, a member of an unrelated branch, a
person affiliated with another unit only, the staff, and the right person for each audience.

The scene (on top of tests/disclosure_cast.py) holds one item of 第一党支部 per audience —
society, the party members of branch1, the unit branch1, one named person — and items in
work (draft, submitted, approved, scheduled) and withdrawn ones (one of them archived after
its withdrawal). Every part of every item carries its own marker word:

    zt<key>  title         zb<key>  body          za<key>  attachment (name and text)
    zw<key>  a withheld attachment (name and text)  zc<key>  correction notice

and every title carries `zqall`, so that one search counts everything a viewer may find.
A surface is a small function `(client, scene, viewer) -> str` returning everything the
viewer received; one table below says which parts of a visible item the surface must show,
and the visibility matrix says which parts each viewer may receive at all: a marker found
where it is not allowed is a leak, one missing where it must be is a broken surface. An
item in work is disclosed to nobody, so its markers may appear only on the staff's screens
(WORK and STAFF_ONLY surfaces) and only to branch1's staff, bob and paula.

Viewers: anon (no session); charlie (member of 第二党支部); cathy (clerk of 第二党支部: staff,
of another branch); dora (affiliated with the community above branch1 only: not in the unit
branch1, not a party member); paula (principal of the community: staff of branch1's parent,
no member anywhere); dave (member of branch1); ursula (affiliated with branch1, not a party
member: the unit's right person); nina (the named person, nowhere else); bob (branch1's
clerk and a member of it).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

import pypdf
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.actions import affiliate
from dwgk.accounts.models import User
from dwgk.audience.keys import Audience
from dwgk.disclosures import actions
from dwgk.disclosures.models import Attachment, Disclosure
from dwgk.feedback import actions as feedback_actions
from dwgk.feedback.models import Opinion
from dwgk.members.actions import feed_token_issue
from dwgk.search.backend import get_backend
from tests.cast import make_member, make_user
from tests.disclosure_cast import OPINIONS, DisclosureWorld, draft, later

# --- the parts of an item and who may receive them -------------------------------------------

TITLE, BODY, ATTACHMENT, WITHHELD, NOTICE = "t", "b", "a", "w", "c"
PART_NAMES = {
    TITLE: "title",
    BODY: "body",
    ATTACHMENT: "attachment",
    WITHHELD: "withheld attachment",
    NOTICE: "correction notice",
}
EVERY_TITLE = "zqall"  # in every item's title
BOARD = ["platform", "board"]  # every item goes on the 公开栏 too (CHAN-1)


class Level(IntEnum):
    """How much of an item one viewer may receive on one surface."""

    NONE = 0  # nothing: not disclosed to them, or not disclosed at all
    WITHDRAWN = 1  # a withdrawn item to its audience: the title and the correction notice
    FULL = 2  # a disclosed item to its audience: everything but withheld files
    STAFF = 3  # the working record, on the staff's screens: everything


ALLOWED = {
    Level.NONE: frozenset(),
    Level.WITHDRAWN: frozenset({TITLE, NOTICE}),
    Level.FULL: frozenset({TITLE, BODY, ATTACHMENT, NOTICE}),
    Level.STAFF: frozenset(PART_NAMES),
}

VIEWERS = ("anon", "charlie", "cathy", "dora", "paula", "dave", "ursula", "nina", "bob")
# Who is in each audience (reads the item once it is disclosed).
READERS = {
    "society": frozenset(VIEWERS),
    "party": frozenset({"dave", "bob"}),
    "unit": frozenset({"dave", "bob", "ursula"}),
    "person": frozenset({"nina"}),
}
# Who sees branch1's items in every state (visible_to): its own staff and its parent's.
STAFF = frozenset({"bob", "paula"})
# The people whose own organizations include branch1 (/me/published/ lists its items).
OF_BRANCH1 = frozenset({"dave", "bob", "ursula"})

DISCLOSED_STAGES = ("published", "withdrawn", "archived")
WITHDRAWN_STAGES = ("withdrawn", "archived")


@dataclass(frozen=True)
class Spec:
    key: str
    stage: str  # draft, submitted, approved, scheduled, published, withdrawn, archived
    audience: str  # a key of READERS
    withheld: bool = False  # also carries an attachment the reviewer withheld


SPECS = (
    Spec("soc", "published", "society", withheld=True),
    Spec("party", "published", "party", withheld=True),
    Spec("unit", "published", "unit"),
    Spec("person", "published", "person"),
    Spec("draft", "draft", "society"),
    Spec("subm", "submitted", "party"),
    Spec("appr", "approved", "society"),
    Spec("sched", "scheduled", "unit"),
    Spec("wdsoc", "withdrawn", "society"),
    Spec("wdparty", "withdrawn", "party"),
    # Withdrawn, then archived: its content stays taken down (MECH-7, PROC-6).
    Spec("arch", "archived", "society"),
)


@dataclass
class Item:
    spec: Spec
    obj: Disclosure
    attachment: Attachment
    withheld: Attachment | None

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def pk(self) -> int:
        return self.obj.pk

    def marker(self, part: str) -> str:
        return f"z{part}{self.spec.key}"

    @property
    def parts(self) -> tuple[str, ...]:
        parts = [TITLE, BODY, ATTACHMENT]
        if self.withheld is not None:
            parts.append(WITHHELD)
        if self.withdrawn:
            parts.append(NOTICE)
        return tuple(parts)

    @property
    def disclosed(self) -> bool:
        return self.spec.stage in DISCLOSED_STAGES

    @property
    def withdrawn(self) -> bool:
        return self.spec.stage in WITHDRAWN_STAGES

    def reader_level(self, viewer: str) -> Level:
        """What `viewer` may receive of the item as its audience (never the staff's view)."""
        if not self.disclosed or viewer not in READERS[self.spec.audience]:
            return Level.NONE
        return Level.WITHDRAWN if self.withdrawn else Level.FULL


@dataclass
class Scene:
    dw: DisclosureWorld
    users: dict[str, User]
    items: list[Item]
    month: str  # YYYY-MM of the publications
    feed_secrets: dict[str, str]

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)

    def user(self, viewer: str) -> Any:
        return self.users[viewer] if viewer != "anon" else AnonymousUser()

    def client(self, viewer: str) -> Client:
        client = Client()
        if viewer != "anon":
            client.force_login(self.users[viewer])
        return client

    @property
    def branch1(self) -> Any:
        return self.dw.branch1


# --- building the scene -----------------------------------------------------------------------


def _audience(dw: DisclosureWorld, name: str, nina: User) -> tuple[Any, dict[str, Any]]:
    """(catalog entry, extra fields) for an item disclosed to the named audience."""
    if name == "society":
        return dw.open, {}
    if name == "party":
        return dw.monthly, {}
    if name == "unit":
        return dw.open, {"audience": Audience(units=(dw.branch1.pk,)).to_json()}
    return dw.open, {"audience": Audience(people=(nina.pk,)).to_json()}


def _make_item(dw: DisclosureWorld, spec: Spec, nina: User) -> Item:
    """One item through the procedure up to its stage, every part with its marker."""
    k = spec.key
    entry, extra = _audience(dw, spec.audience, nina)
    obj = draft(
        dw,
        entry=entry,
        title=f"{EVERY_TITLE} zt{k} 党务公开事项",
        body=f"<p>zb{k} 正文：本事项的具体内容和办理情况。</p>",
        channels=BOARD,
        **extra,
    )
    attachment = actions.attachment_add(
        obj, actor=dw.bob, name=f"za{k}.txt", data=f"附件 za{k} 收支说明\n".encode()
    )
    withheld = None
    if spec.withheld:
        withheld = actions.attachment_add(
            obj, actor=dw.bob, name=f"zw{k}.txt", data=f"附件 zw{k} 名单\n".encode()
        )
    obj = Disclosure.objects.get(pk=obj.pk)
    if spec.stage != "draft":
        obj = actions.disclosure_submit(obj, actor=dw.bob)
    if spec.stage not in ("draft", "submitted"):
        obj = actions.disclosure_start_review(obj, actor=dw.rita)
        if withheld is not None:
            actions.attachment_withhold(withheld, actor=dw.rita, reason="含个人信息")
            obj = Disclosure.objects.get(pk=obj.pk)
        obj = actions.disclosure_pass_review(obj, actor=dw.rita, **OPINIONS)
        while obj.status == Disclosure.Status.APPROVING:
            obj = actions.disclosure_approve(obj, actor=dw.alice, comment="同意")
        assert obj.status == Disclosure.Status.APPROVED, (k, obj.status)
    if spec.stage == "scheduled":
        obj = actions.disclosure_schedule(obj, actor=dw.bob, publish_at=later())
    if spec.stage in DISCLOSED_STAGES:
        obj = actions.disclosure_publish(obj, actor=dw.bob)
    if spec.stage in WITHDRAWN_STAGES:
        obj = actions.disclosure_withdraw(
            obj, actor=dw.alice, notice=f"zc{k} 数据有误，已撤回，核对后重新公开。"
        )
    if spec.stage == "archived":
        obj = actions.disclosure_archive(obj, actor=dw.bob)
    return Item(spec, Disclosure.objects.get(pk=obj.pk), attachment, withheld)


@pytest.fixture
def scene(dw: DisclosureWorld) -> Iterator[Scene]:
    cache.clear()  # the feedback rate limits live in the cache
    users: dict[str, User] = {
        name: getattr(dw, name) for name in ("charlie", "cathy", "dora", "paula", "bob")
    }
    users["dave"] = make_member("dave", dw.branch1, name="戴夫")
    users["ursula"] = make_user("ursula", name="乌苏拉")
    affiliate(users["ursula"], dw.branch1, actor=None, kind="staff")
    users["nina"] = make_user("nina", name="妮娜")
    items = [_make_item(dw, spec, users["nina"]) for spec in SPECS]
    published_at = items[0].obj.published_at
    assert published_at is not None
    month = timezone.localtime(published_at).strftime("%Y-%m")
    secrets = {name: feed_token_issue(user)[1] for name, user in users.items()}
    yield Scene(dw, users, items, month, secrets)
    cache.clear()


# --- reading a surface -----------------------------------------------------------------------


def body_of(response: HttpResponseBase) -> str:
    """Whatever the response carried, as text (streamed downloads included)."""
    assert response.status_code < 500, response.status_code
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        data = response.content  # type: ignore[attr-defined]
    return bytes(data).decode("utf-8", errors="replace")


def fetch(client: Client, url: str, params: dict[str, Any] | None = None) -> str:
    return body_of(client.get(url, params or {}))


def path_of(url: str) -> str:
    return urlsplit(url).path


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def home(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("public:home"))


def org_column(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("public:org", args=[w.branch1.pk]))


def org_column_by_month(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("public:org", args=[w.branch1.pk]), {"month": w.month})


def org_column_by_category(c: Client, w: Scene, viewer: str) -> str:
    url = reverse("public:org", args=[w.branch1.pk])
    return "".join(fetch(c, url, {"category": cat}) for cat in categories(w))


def org_page(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("orgs:detail", args=[w.branch1.pk]))


def member_home(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("members:home"))


def member_feed(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("members:feed"))


def member_feed_filtered(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("members:feed"), {"org": w.branch1.pk})


def member_published(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("members:published"))


def inbox(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("inbox:tasks")) + fetch(c, reverse("inbox:notifications"))


def staff_org_list(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("disclosures:org", args=[w.branch1.pk]))


def item_pages(c: Client, w: Scene, viewer: str) -> str:
    return "".join(fetch(c, reverse("disclosures:detail", args=[i.pk])) for i in w.items)


def revision_pages(c: Client, w: Scene, viewer: str) -> str:
    return "".join(
        fetch(c, reverse("disclosures:revision", args=[i.pk, n]))
        for i in w.items
        for n in range(1, i.obj.revision + 1)
    )


def attachment_urls(c: Client, w: Scene, viewer: str) -> str:
    return "".join(
        fetch(c, reverse("disclosures:attachment", args=[i.pk, a.pk]))
        for i in w.items
        for a in (i.attachment, i.withheld)
        if a is not None
    )


SEARCH_RESULT = re.compile(r'<a class="item-title" href="/disclosures/(\d+)/">')
SEARCH_TOTAL = re.compile(r"找到 <strong>(\d+)</strong> 项")


def search_page_hits(c: Client, q: str, **params: Any) -> tuple[int, list[int]]:
    """(the count shown, the items listed) of the search page for `q`."""
    html = fetch(c, reverse("public:search"), {"q": q, **params})
    results = html.split('id="results"', 1)[1] if 'id="results"' in html else ""
    total = SEARCH_TOTAL.search(html)
    assert total is not None, html
    return int(total.group(1)), [int(pk) for pk in SEARCH_RESULT.findall(results)]


def search_page(c: Client, w: Scene, viewer: str) -> str:
    # The page repeats the query, so what counts is which item each marker finds.
    found = []
    for item in w.items:
        for part in item.parts:
            total, pks = search_page_hits(c, item.marker(part))
            assert total == len(pks), (viewer, item.marker(part), total, pks)
            if item.pk in pks:
                found.append(item.marker(part))
    return " ".join(found)


def search_backend(c: Client, w: Scene, viewer: str) -> str:
    backend = get_backend()
    user = w.user(viewer)
    found = []
    for item in w.items:
        for part in item.parts:
            q = item.marker(part)
            pks = [r.disclosure_id for r in backend.search(user, q).results]
            assert backend.count(user, q) == len(pks), (viewer, q, pks)
            if item.pk in pks:
                found.append(q)
    return " ".join(found)


def categories(w: Scene) -> list[str]:
    return sorted({i.obj.category for i in w.items if i.obj.category})


def org_feeds(c: Client, w: Scene, viewer: str) -> str:
    feeds = [reverse("feeds:org", args=[w.branch1.pk])] + [
        reverse("feeds:category", args=[w.branch1.pk, cat]) for cat in categories(w)
    ]
    return "".join(fetch(c, url) for url in feeds)


def private_feed(c: Client, w: Scene, viewer: str) -> str:
    if viewer == "anon":
        return ""
    return fetch(c, reverse("feeds:private", args=[w.feed_secrets[viewer]]))


LOC = re.compile(r"<loc>([^<]+)</loc>")


def sitemap(c: Client, w: Scene, viewer: str) -> str:
    index = fetch(c, reverse("feeds:sitemap"))
    pages = "".join(fetch(c, path_of(loc)) for loc in LOC.findall(index))
    listed = {path_of(loc) for loc in LOC.findall(pages)}
    # A sitemap names pages, not titles: an item is "shown" when its page is listed.
    shown = [
        i.marker(TITLE) for i in w.items if reverse("disclosures:detail", args=[i.pk]) in listed
    ]
    return index + pages + " ".join(shown)


def api_items(c: Client, w: Scene, viewer: str) -> str:
    return "".join(fetch(c, reverse("feeds:api_disclosure", args=[i.pk])) for i in w.items)


def api_org(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("feeds:api_org", args=[w.branch1.pk]))


def posters_page(c: Client, w: Scene, viewer: str) -> str:
    return fetch(c, reverse("posters:org", args=[w.branch1.pk]), {"month": w.month})


def poster_pdf(c: Client, w: Scene, viewer: str) -> str:
    # One size: A3 lays the same items out larger (test_posters.py), it selects nothing.
    response = c.get(reverse("posters:pdf", args=[w.branch1.pk, w.month]))
    assert response.status_code == 200, response.status_code
    return pdf_text(response.content)


def poster_screen(c: Client, w: Scene, viewer: str) -> str:
    url = reverse("posters:screen", args=[w.branch1.pk, w.month])
    rotating = "".join(fetch(c, url, {"rotate": 10, "n": n}) for n in range(1, len(w.items) + 1))
    return fetch(c, url) + rotating


# --- the table of surfaces ---------------------------------------------------------------------

PUBLIC = "public"  # the same for everyone: what was disclosed to society
READER = "reader"  # what was disclosed to the viewer as an audience
WORK = "work"  # the staff's view of their items in every state; everyone else as READER
STAFF_ONLY = "staff"  # the staff's screens: nothing at all for anyone else


@dataclass(frozen=True)
class Surface:
    name: str
    read: Callable[[Client, Scene, str], str]
    kind: str
    shows: frozenset[str]  # the parts of a visible item the surface must show
    login: bool = False  # anonymous visitors are sent to log in
    lists_for: frozenset[str] | None = None  # whom it lists branch1's items to (None: all)

    def level(self, viewer: str, item: Item) -> Level:
        if self.login and viewer == "anon":
            return Level.NONE
        if self.kind in (WORK, STAFF_ONLY) and viewer in STAFF:
            return Level.STAFF
        if self.kind == STAFF_ONLY:
            return Level.NONE
        return item.reader_level("anon" if self.kind == PUBLIC else viewer)

    def must_show(self, viewer: str, item: Item) -> frozenset[str]:
        if self.lists_for is not None and viewer not in self.lists_for:
            return frozenset()
        return self.shows & ALLOWED[self.level(viewer, item)]


def shows(*parts: str) -> frozenset[str]:
    return frozenset(parts)


SURFACES = [
    Surface("home", home, PUBLIC, shows(TITLE)),
    Surface("org column", org_column, READER, shows(TITLE)),
    Surface("org column by month", org_column_by_month, READER, shows(TITLE)),
    Surface("org column by category", org_column_by_category, READER, shows(TITLE)),
    Surface("org page", org_page, READER, shows()),
    Surface("me", member_home, READER, shows(TITLE), login=True),
    Surface("me/feed", member_feed, READER, shows(TITLE), login=True),
    Surface("me/feed by org", member_feed_filtered, READER, shows(TITLE), login=True),
    Surface(
        "me/published", member_published, READER, shows(TITLE), login=True, lists_for=OF_BRANCH1
    ),
    Surface("inbox", inbox, WORK, shows(), login=True),
    Surface("staff org list", staff_org_list, STAFF_ONLY, shows(TITLE), login=True),
    Surface("item pages", item_pages, WORK, shows(TITLE, BODY, ATTACHMENT, WITHHELD, NOTICE)),
    Surface("revisions", revision_pages, STAFF_ONLY, shows(TITLE, BODY)),
    Surface("attachments by URL", attachment_urls, WORK, shows(ATTACHMENT, WITHHELD)),
    Surface("search page", search_page, READER, shows(TITLE, BODY, ATTACHMENT, NOTICE)),
    Surface("search backend", search_backend, READER, shows(TITLE, BODY, ATTACHMENT, NOTICE)),
    Surface("org feeds", org_feeds, PUBLIC, shows(TITLE, BODY, NOTICE)),
    Surface("private feed", private_feed, READER, shows(TITLE, BODY, NOTICE), login=True),
    Surface("sitemap", sitemap, PUBLIC, shows(TITLE)),
    Surface("api item", api_items, PUBLIC, shows(TITLE, BODY, ATTACHMENT, NOTICE)),
    Surface("api org list", api_org, PUBLIC, shows(TITLE)),
    Surface("posters page", posters_page, READER, shows(TITLE)),
    Surface("poster pdf", poster_pdf, READER, shows(TITLE, BODY, NOTICE)),
    Surface("poster screen", poster_screen, READER, shows(TITLE, BODY, NOTICE)),
]


def problems_on(surface: Surface, w: Scene, viewer: str, text: str) -> list[str]:
    """Every marker the viewer received and may not have, and every one they were owed."""
    problems = []
    for item in w.items:
        level = surface.level(viewer, item)
        allowed = ALLOWED[level]
        owed = surface.must_show(viewer, item)
        for part in item.parts:
            marker = item.marker(part)
            where = (
                f"{surface.name} / {viewer} / {item.key} ({item.spec.stage}, {item.spec.audience})"
            )
            if marker in text and part not in allowed:
                problems.append(f"LEAK {where}: {PART_NAMES[part]} {marker} (level {level.name})")
            elif marker not in text and part in owed:
                problems.append(f"MISSING {where}: {PART_NAMES[part]} {marker}")
    return problems


@pytest.mark.parametrize("surface", SURFACES, ids=[s.name for s in SURFACES])
def test_every_surface_gives_every_viewer_exactly_what_was_disclosed_to_them(scene, surface):
    problems = []
    for viewer in VIEWERS:
        problems += problems_on(
            surface, scene, viewer, surface.read(scene.client(viewer), scene, viewer)
        )
    assert not problems, "\n".join(problems)


def test_the_checker_reports_a_leak_and_a_missing_part(scene):
    # The staff's view of every item page, handed to charlie, must read as leaks; nothing
    # at all, handed to dave, as parts he was owed.
    surface = next(s for s in SURFACES if s.name == "item pages")
    bob_saw = item_pages(scene.client("bob"), scene, "bob")
    leaks = problems_on(surface, scene, "charlie", bob_saw)
    assert any(p.startswith("LEAK") and "zbdraft" in p for p in leaks)
    assert any(p.startswith("LEAK") and "zwsoc" in p for p in leaks)
    gaps = problems_on(surface, scene, "dave", "")
    assert any(p.startswith("MISSING") and "ztparty" in p for p in gaps)


def test_an_item_archived_after_its_withdrawal_keeps_its_content_out_of_search(scene):
    # Archiving freezes a withdrawn item; its content stays taken down (MECH-7), so only
    # its title and correction notice may be found, as on its page and in the feeds.
    item = scene.item("arch")
    client = scene.client("anon")
    for part in (BODY, ATTACHMENT):
        total, pks = search_page_hits(client, item.marker(part))
        assert (total, pks) == (0, []), f"{item.marker(part)} finds the withdrawn item"
    html = fetch(client, reverse("public:search"), {"q": item.marker(TITLE)})
    results = html.split('id="results"', 1)[1]
    assert item.marker(NOTICE) in results
    assert "zbarch" not in results and "正文" not in results, "the snippet shows the body"


# --- answers: 404 for what is not visible, never a hint ----------------------------------------


def status(client: Client, url: str) -> int:
    return client.get(url).status_code


def test_an_item_page_is_a_404_for_everyone_it_was_not_disclosed_to(scene):
    for viewer in VIEWERS:
        client = scene.client(viewer)
        for item in scene.items:
            visible = item.reader_level(viewer) > Level.NONE or viewer in STAFF
            got = status(client, reverse("disclosures:detail", args=[item.pk]))
            assert got == (200 if visible else 404), (viewer, item.key, got)


def test_an_attachment_by_its_url_is_a_404_unless_its_item_shows_it_to_that_viewer(scene):
    for viewer in VIEWERS:
        client = scene.client(viewer)
        for item in scene.items:
            level = Level.STAFF if viewer in STAFF else item.reader_level(viewer)
            for attachment, part in ((item.attachment, ATTACHMENT), (item.withheld, WITHHELD)):
                if attachment is None:
                    continue
                got = status(
                    client, reverse("disclosures:attachment", args=[item.pk, attachment.pk])
                )
                expected = 200 if part in ALLOWED[level] else 404
                assert got == expected, (viewer, item.key, attachment.name, got)


def test_revisions_are_for_the_staff_only(scene):
    for viewer in VIEWERS:
        client = scene.client(viewer)
        for item in scene.items:
            got = status(client, reverse("disclosures:revision", args=[item.pk, 1]))
            if viewer in STAFF:
                assert got == 200, (viewer, item.key, got)
            elif item.reader_level(viewer) > Level.NONE:
                assert got == 403, (viewer, item.key, got)  # sees the item, not its record
            else:
                assert got == 404, (viewer, item.key, got)


def test_the_staff_list_of_an_org_is_refused_to_everyone_but_its_staff(scene):
    url = reverse("disclosures:org", args=[scene.branch1.pk])
    for viewer in VIEWERS:
        got = status(scene.client(viewer), url)
        expected = 302 if viewer == "anon" else 200 if viewer in STAFF else 403
        assert got == expected, (viewer, got)


def test_the_item_json_is_a_json_404_for_everything_not_disclosed_to_society(scene):
    for viewer in VIEWERS:
        client = scene.client(viewer)
        for item in scene.items:
            response = client.get(reverse("feeds:api_disclosure", args=[item.pk]))
            public = item.reader_level("anon") > Level.NONE
            assert response.status_code == (200 if public else 404), (viewer, item.key)
            assert response["Content-Type"].startswith("application/json")
            data = response.json()
            if public and item.withdrawn:
                assert data["body_html"] is None and data["attachments"] == [], item.key
                assert data["withdrawn"] is True


def test_the_member_portal_and_a_wrong_feed_address_give_anonymous_visitors_nothing(scene):
    client = scene.client("anon")
    for name in ("members:home", "members:feed", "members:published", "inbox:tasks"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    bogus = reverse("feeds:private", args=["not-a-secret"])
    assert status(client, bogus) == 404


def test_robots_txt_lists_no_item(scene):
    text = fetch(scene.client("anon"), reverse("feeds:robots"))
    assert "/disclosures/" not in text
    for item in scene.items:
        for part in item.parts:
            assert item.marker(part) not in text


# --- counts --------------------------------------------------------------------------------


def expected_count(w: Scene, viewer: str, category: str | None = None) -> int:
    """How many of branch1's items were disclosed to `viewer` (withdrawn ones included)."""
    return sum(
        1
        for i in w.items
        if i.reader_level(viewer) > Level.NONE and category in (None, i.obj.category)
    )


def test_search_counts_only_what_was_disclosed_to_the_searcher(scene):
    backend = get_backend()
    counts = {}
    for viewer in VIEWERS:
        client = scene.client(viewer)
        expected = expected_count(scene, viewer)
        shown, pks = search_page_hits(client, EVERY_TITLE)
        visible = {i.pk for i in scene.items if i.reader_level(viewer) > Level.NONE}
        assert shown == expected and set(pks) == visible, (viewer, shown, pks)
        in_org, _ = search_page_hits(client, EVERY_TITLE, org=scene.branch1.pk)
        assert in_org == expected, (viewer, in_org)
        elsewhere, _ = search_page_hits(client, EVERY_TITLE, org=scene.dw.branch2.pk)
        assert elsewhere == 0, (viewer, elsewhere)
        user = scene.user(viewer)
        assert backend.count(user, EVERY_TITLE) == expected, viewer
        found = {r.disclosure_id for r in backend.search(user, EVERY_TITLE, limit=50).results}
        assert found == visible, viewer
        counts[viewer] = shown
    # charlie (another branch) counts no more than a visitor; dave also the party and unit
    # items and the withdrawn party item, nothing in work.
    assert counts["charlie"] == counts["anon"] == counts["cathy"] == counts["dora"] == 3
    assert counts["dave"] - counts["charlie"] == 3
    assert counts["ursula"] == counts["nina"] == 4
    assert counts["bob"] == counts["dave"] and counts["paula"] == counts["anon"]


FACET = re.compile(
    r'<a href="\?category=[^"]*"[^>]*>([^<]+)</a> <span class="muted small">(\d+)</span>'
)
YEAR_ROW = re.compile(r'<th scope="row">\d+年</th><td>(\d+)</td>')


def test_the_org_columns_figures_count_only_what_was_disclosed_to_the_viewer(scene):
    url = reverse("public:org", args=[scene.branch1.pk])
    totals = {}
    for viewer in VIEWERS:
        html = fetch(scene.client(viewer), url)
        expected = expected_count(scene, viewer)
        total = re.search(r"共 (\d+) 项", html)
        assert total is not None and int(total.group(1)) == expected, (viewer, html)
        years = [int(n) for n in YEAR_ROW.findall(html)]
        assert sum(years) == expected, (viewer, years)
        facets = {name: int(n) for name, n in FACET.findall(html)}
        wanted = {c: expected_count(scene, viewer, c) for c in categories(scene)}
        assert facets == {c: n for c, n in wanted.items() if n}, (viewer, facets)
        totals[viewer] = expected
    assert totals["charlie"] < totals["dave"]


# --- caches: a personal answer never lands in a shared cache -----------------------------------


def test_every_answer_to_a_signed_in_viewer_is_private(scene):
    slug = scene.month
    b1 = scene.branch1.pk
    urls = [
        reverse("public:home"),
        reverse("public:org", args=[b1]),
        reverse("public:search") + f"?q={EVERY_TITLE}",
        reverse("posters:org", args=[b1]) + f"?month={slug}",
        reverse("posters:pdf", args=[b1, slug]),
        reverse("posters:screen", args=[b1, slug]),
        reverse("feeds:org", args=[b1]),
        reverse("feeds:api_org", args=[b1]),
        *(reverse("disclosures:detail", args=[i.pk]) for i in scene.items),
    ]
    for viewer in VIEWERS:
        if viewer == "anon":
            continue
        client = scene.client(viewer)
        for url in [*urls, reverse("feeds:private", args=[scene.feed_secrets[viewer]])]:
            response = client.get(url)
            if response.status_code != 200:
                continue
            control = response.get("Cache-Control", "")
            assert "public" not in control and ("private" in control or "no-store" in control), (
                viewer,
                url,
                control,
            )


# --- feedback: an opinion goes no further than its item, its author no further than the staff -


SUBMITTER = "戴夫"  # dave's name, as a named opinion carries it


def opinion(w: Scene, item: Disclosure, key: str, *, publish: bool) -> Opinion:
    """dave's named opinion `zo<key>` on the item, answered `zr<key>`, published if asked."""
    op = feedback_actions.opinion_submit(
        item, user_or_anonymous=w.users["dave"], text=f"意见 zo{key} 请公布明细", named=True, ip=""
    )
    if publish:
        op = feedback_actions.opinion_reply(op, actor=w.dw.bob, reply=f"答复 zr{key} 下月公布")
        op = feedback_actions.opinion_publish(op, actor=w.dw.bob, published=True)
    return op


def test_an_opinion_reaches_only_who_sees_its_item_and_its_author_only_the_handling_staff(scene):
    soc, party = scene.item("soc").obj, scene.item("party").obj
    gone = _make_item(scene.dw, Spec("fbwd", "published", "society"), scene.users["nina"]).obj
    ops = [
        opinion(scene, soc, "soc", publish=True),
        opinion(scene, party, "party", publish=True),
        opinion(scene, party, "hide", publish=False),
        opinion(scene, gone, "fbwd", publish=True),
    ]
    actions.disclosure_withdraw(
        gone, actor=scene.dw.alice, notice="数据有误，已撤回，核对后重新公开。"
    )
    # Who may receive each marker, and who must (on the item page, the handling inbox or
    # 我的意见); the submitter's name: dave himself and branch1's handling staff (bob).
    sees_party = READERS["party"] | STAFF
    own_and_handling = frozenset({"dave", "bob"})
    rules = {
        "zosoc": (frozenset(VIEWERS), frozenset(VIEWERS)),
        "zrsoc": (frozenset(VIEWERS), frozenset(VIEWERS)),
        "zoparty": (sees_party, sees_party),
        "zrparty": (sees_party, sees_party),
        "zohide": (own_and_handling, own_and_handling),
        "zofbwd": (own_and_handling, frozenset()),
        "zrfbwd": (own_and_handling, frozenset()),
        SUBMITTER: (own_and_handling, frozenset({"bob"})),
    }
    pages = [
        *(reverse("disclosures:detail", args=[i.pk]) for i in (soc, party, gone)),
        *(reverse("feedback:detail", args=[op.pk]) for op in ops),
        reverse("feedback:mine"),
        reverse("feedback:org", args=[scene.branch1.pk]),
        reverse("feedback:submit", args=[party.pk]),
    ]
    problems = []
    for viewer in VIEWERS:
        client = scene.client(viewer)
        text = "".join(fetch(client, url) for url in pages)
        for marker, (may, must) in rules.items():
            if marker in text and viewer not in may:
                problems.append(f"LEAK feedback / {viewer}: {marker}")
            if marker not in text and viewer in must:
                problems.append(f"MISSING feedback / {viewer}: {marker}")
    assert not problems, "\n".join(problems)


def test_an_opinion_page_opens_only_for_its_author_and_the_handling_staff(scene):
    op = opinion(scene, scene.item("party").obj, "party", publish=True)
    url = reverse("feedback:detail", args=[op.pk])
    for viewer in VIEWERS:
        got = status(scene.client(viewer), url)
        expected = 302 if viewer == "anon" else 200 if viewer in ("dave", "bob") else 404
        assert got == expected, (viewer, got)


def test_nobody_leaves_an_opinion_on_an_item_they_cannot_see(scene):
    for item in scene.items:
        url = reverse("feedback:submit", args=[item.pk])
        for viewer in VIEWERS:
            client = scene.client(viewer)
            if item.reader_level(viewer) == Level.FULL or (viewer in STAFF and item.disclosed):
                continue
            assert status(client, url) == 404, (viewer, item.key)
            response = client.post(url, {"text": "这是一条不该被接受的意见。"})
            assert response.status_code == 404, (viewer, item.key, response.status_code)
    assert not Opinion.objects.exists()
