"""Feeds and integration (SCOPE-3, CHAN-2): the organizations' Atom feeds, the private feed
per person, the sitemap and robots.txt, and the public JSON API — each for the anonymous
visitor, signed-in people who must get no more from a public surface (bob the clerk,
alice the principal, dave a member of 第一党支部), charlie of 第二党支部, and items that are
not yet published (draft, approved, scheduled) or were withdrawn.

The cast (tests/disclosure_cast.py): `monthly` items go to the party members of 第一党支部,
`open` items to society.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dwgk.audit.models import AuditEntry
from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.members import actions as member_actions
from dwgk.members.models import FeedToken
from tests.cast import make_member
from tests.disclosure_cast import (
    OPINIONS,
    approved,
    draft,
    later,
    published,
    through_review,
)

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

PARTY = "2026年10月党费收缴使用情况"  # `monthly`: party members of branch1
SOCIETY = "2027年支部工作计划"  # `open`: society
SOCIETY_BODY = "<p>全年安排：每月第一个星期五开展主题党日。</p>"
WITHDRAWN = "2026年支部学习安排"
NOTICE = "学习安排日期有误，已撤回，核对后重新公开。"
DRAFT = "尚未提出的党费草稿"
APPROVED = "已批准未发布的党费事项"
SCHEDULED = "已定时待发布的党费事项"
NEVER_PUBLIC = (PARTY, DRAFT, APPROVED, SCHEDULED)


def to_society(dw: Any, **fields: Any) -> Disclosure:
    """An item under the `open` entry (society, no approval step): reviewed, then out."""
    item = through_review(dw, draft(dw, entry=dw.open, **fields))
    return actions.disclosure_publish(item, actor=dw.bob)


@pytest.fixture
def items(dw: Any) -> dict[str, Any]:
    scheduled = actions.disclosure_schedule(
        approved(dw, title=SCHEDULED), actor=dw.bob, publish_at=later()
    )
    withdrawn = to_society(dw, title=WITHDRAWN, body="<p>原定学习安排的全文</p>")
    withdrawn = actions.disclosure_withdraw(withdrawn, actor=dw.alice, notice=NOTICE)
    return {
        "party": published(dw, title=PARTY),
        "society": to_society(
            dw,
            title=SOCIETY,
            body=SOCIETY_BODY,
            doc_number="湖一支〔2027〕1号",
            background="上级党委部署",
            significance="规范组织生活",
            key_points="每月一次主题党日",
            hot_spots="群众关心活动时间",
            response_plan="由支部书记统一答复",
        ),
        "withdrawn": withdrawn,
        "draft": draft(dw, title=DRAFT),
        "approved": approved(dw, title=APPROVED),
        "scheduled": scheduled,
        "dave": make_member("dave", dw.branch1, name="戴夫"),
    }


def org_feed(dw: Any) -> str:
    return reverse("feeds:org", args=[dw.branch1.pk])


def parse_atom(response: Any) -> ET.Element:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    return root


def entries(root: ET.Element) -> dict[str, ET.Element]:
    return {e.findtext(f"{ATOM}title") or "": e for e in root.iter(f"{ATOM}entry")}


def as_who(client: Client, who: Any) -> None:
    client.logout()
    if who is not None:
        client.force_login(who)


def make_public_rows(dw: Any, n: int) -> list[Disclosure]:
    """n published society items written straight to the table, one minute apart (the
    procedure is tested elsewhere; dozens of items through it would take long)."""
    t0 = timezone.now() - datetime.timedelta(days=1)
    return [
        Disclosure.objects.create(
            org=dw.branch1,
            entry=dw.open,
            title=f"公开事项第{i}号",
            body=f"<p>第{i}号的正文</p>",
            author=dw.bob,
            status=Disclosure.Status.PUBLISHED,
            published_at=t0 + datetime.timedelta(minutes=i),
            audience={"society": True},
        )
        for i in range(n)
    ]


# --- an organization's Atom feed --------------------------------------------------------------


def test_the_org_feed_is_atom_1_0_with_the_society_items_only(client, dw, items):
    root = parse_atom(client.get(org_feed(dw)))
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "zh-CN"
    assert dw.branch1.name in (root.findtext(f"{ATOM}title") or "")
    shown = entries(root)
    assert SOCIETY in shown
    assert not any(title in key for key in shown for title in NEVER_PUBLIC)

    entry = shown[SOCIETY]
    item = items["society"]
    link = entry.find(f"{ATOM}link")
    assert link is not None
    assert urlsplit(link.get("href")).path == f"/disclosures/{item.pk}/"
    summary = entry.find(f"{ATOM}summary")
    assert summary is not None and summary.get("type") == "text"
    assert summary.text == "全年安排：每月第一个星期五开展主题党日。"
    updated = datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
    assert updated == item.published_at


@pytest.mark.parametrize("who", ["bob", "alice", "dave", "charlie"])
def test_the_org_feed_hides_party_items_even_from_signed_in_people(client, dw, items, who):
    as_who(client, items["dave"] if who == "dave" else getattr(dw, who))
    shown = entries(parse_atom(client.get(org_feed(dw))))
    assert SOCIETY in shown
    assert not any(title in key for key in shown for title in NEVER_PUBLIC)


def test_a_withdrawn_item_is_in_the_feed_with_its_notice_instead_of_its_content(client, dw, items):
    shown = entries(parse_atom(client.get(org_feed(dw))))
    entry = shown[f"【已撤回】{WITHDRAWN}"]
    summary = entry.findtext(f"{ATOM}summary") or ""
    assert NOTICE in summary and "已撤回" in summary
    assert "原定学习安排的全文" not in client.get(org_feed(dw)).content.decode()
    updated = datetime.datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")
    withdrawn_at = items["withdrawn"].withdrawn_at
    assert updated == withdrawn_at  # news to readers who have it


def test_the_category_feed_takes_the_category_url_quoted_and_holds_only_it(client, dw, items):
    url = reverse("feeds:category", args=[dw.branch1.pk, "工作计划"])
    assert quote("工作计划") in url
    shown = entries(parse_atom(client.get(url)))
    assert SOCIETY in shown and f"【已撤回】{WITHDRAWN}" in shown
    other = reverse("feeds:category", args=[dw.branch1.pk, "党费"])
    assert entries(parse_atom(client.get(other))) == {}  # 党费 items are party-only


def test_an_org_feed_holds_the_orgs_own_items_not_its_subtrees(client, dw, items):
    url = reverse("feeds:org", args=[dw.community.pk])
    assert entries(parse_atom(client.get(url))) == {}


def test_a_feed_of_an_unknown_org_is_404(client, dw):
    assert client.get(reverse("feeds:org", args=[999999])).status_code == 404


def test_the_org_feed_holds_the_newest_50(client, dw):
    rows = make_public_rows(dw, 55)
    shown = entries(parse_atom(client.get(org_feed(dw))))
    assert len(shown) == 50
    assert rows[-1].title in shown and rows[4].title not in shown


def test_the_org_feed_is_cacheable_and_answers_a_matching_if_none_match_with_304(client, dw, items):
    first = client.get(org_feed(dw))
    assert first.status_code == 200
    cache_control = {part.strip() for part in first["Cache-Control"].split(",")}
    assert {"public", "max-age=300"} <= cache_control
    assert first["ETag"] and first["Last-Modified"]
    assert "Cookie" in first["Vary"]
    assert client.head(org_feed(dw)).status_code == 200  # feed readers probe with HEAD

    again = client.get(org_feed(dw), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    since = client.get(org_feed(dw), HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304

    to_society(dw, title="新公开的事项")
    changed = client.get(org_feed(dw), HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_a_signed_in_requesters_answer_is_never_kept_by_a_shared_cache(client, dw, items):
    client.force_login(dw.bob)  # the answer refreshes his session cookie
    for url in (
        org_feed(dw),
        reverse("feeds:sitemap"),
        reverse("feeds:api_disclosure", args=[items["society"].pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
        assert "private" in cache_control and "public" not in cache_control
        assert "Cookie" in response["Vary"]


def test_a_correction_changes_the_feeds_etag(client, dw, items):
    first = client.get(org_feed(dw))
    actions.disclosure_correct(
        items["society"], actor=dw.bob, notice="活动时间调整为每月第一个星期六。"
    )
    assert client.get(org_feed(dw), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200


# --- the private feed --------------------------------------------------------------------------


def issue(client: Client, who: Any) -> str:
    """Sign in as `who`, issue a feed URL on 我的订阅地址 and return it as shown there."""
    as_who(client, who)
    response = client.post(reverse("feeds:me_issue"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = re.search(r'id="feed-url"[^>]*value="([^"]+)"', response.content.decode())
    assert match, "the new URL is shown"
    return match.group(1)


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_my_feed_page_sends_anonymous_visitors_to_log_in(client, dw):
    for response in (
        client.get(reverse("feeds:me")),
        client.post(reverse("feeds:me_issue")),
        client.post(reverse("feeds:me_revoke")),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert not FeedToken.objects.exists()


def test_issuing_shows_the_url_once_and_stores_only_its_hash(client, dw, items):
    url = issue(client, items["dave"])
    secret = re.fullmatch(r"/feeds/me/([^/]+)\.atom", path_of(url))
    assert secret, url
    token = secret.group(1)
    assert len(token) >= 22  # ≥ 128 bits, URL-safe base64

    stored = FeedToken.objects.get(user=items["dave"])
    assert stored.digest != token and token not in stored.digest
    assert stored.digest == hashlib.sha256(token.encode()).hexdigest()
    page = client.get(reverse("feeds:me")).content.decode()
    assert token not in page and "有效" in page and "不能再次查看" in page

    entry = AuditEntry.objects.get(action="feed_token.issue")
    assert entry.actor == items["dave"]
    assert token not in json.dumps(entry.data) + entry.object_label
    assert stored.digest not in json.dumps(entry.data) + entry.object_label


def test_the_private_feed_shows_branch1_party_items_to_a_branch1_member(client, dw, items):
    url = issue(client, items["dave"])
    client.logout()  # a feed reader has no session
    response = client.get(path_of(url))
    shown = entries(parse_atom(response))
    assert PARTY in shown and SOCIETY in shown and f"【已撤回】{WITHDRAWN}" in shown
    assert not any(title in key for key in shown for title in (DRAFT, APPROVED, SCHEDULED))
    assert FeedToken.objects.get(user=items["dave"]).last_used_at is not None


def test_the_private_feed_does_not_show_branch1_party_items_to_charlie(client, dw, items):
    url = issue(client, dw.charlie)
    client.logout()
    shown = entries(parse_atom(client.get(path_of(url))))
    assert SOCIETY in shown and PARTY not in shown


def test_the_private_feed_is_the_audience_view_not_the_staffs(client, dw, items):
    url = issue(client, dw.bob)  # bob drafted everything: he sees it on staff screens only
    client.logout()
    shown = entries(parse_atom(client.get(path_of(url))))
    assert PARTY in shown  # bob is a member of branch1
    assert not any(title in key for key in shown for title in (DRAFT, APPROVED, SCHEDULED))


def test_the_private_feed_is_never_kept_by_a_shared_cache_and_never_names_its_url(
    client, dw, items
):
    url = issue(client, items["dave"])
    client.logout()
    response = client.get(path_of(url))
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-store"} <= cache_control
    assert "public" not in cache_control and not response.has_header("ETag")
    token = path_of(url).rsplit("/", 1)[1].removesuffix(".atom")
    assert token not in response.content.decode()


def test_revoking_kills_the_url(client, dw, items):
    url = issue(client, items["dave"])
    response = client.post(reverse("feeds:me_revoke"), follow=True)
    assert "订阅地址已停用" in response.content.decode()
    assert "没有有效的订阅地址" in response.content.decode()
    client.logout()
    assert client.get(path_of(url)).status_code == 404
    assert AuditEntry.objects.filter(action="feed_token.revoke").count() == 1


def test_a_new_url_kills_the_old_one(client, dw, items):
    old = issue(client, items["dave"])
    new = issue(client, items["dave"])
    assert old != new
    client.logout()
    assert client.get(path_of(old)).status_code == 404
    assert client.get(path_of(new)).status_code == 200
    assert FeedToken.objects.filter(user=items["dave"]).count() == 2
    assert FeedToken.objects.current().filter(user=items["dave"]).count() == 1


def test_an_unknown_token_and_an_inactive_account_get_404(client, dw, items):
    assert client.get("/feeds/me/not-a-real-token.atom").status_code == 404
    url = issue(client, items["dave"])
    items["dave"].is_active = False
    items["dave"].save()
    client.logout()
    assert client.get(path_of(url)).status_code == 404


def test_a_refused_token_is_not_written_to_the_request_log(client, dw, caplog):
    with caplog.at_level(logging.DEBUG):
        assert client.get("/feeds/me/secret-looking-token.atom").status_code == 404
    assert "secret-looking-token" not in caplog.text


def test_revoking_without_a_url_says_so(client, dw, items):
    as_who(client, items["dave"])
    response = client.post(reverse("feeds:me_revoke"), follow=True)
    assert "您当前没有有效的订阅地址" in response.content.decode()
    assert not AuditEntry.objects.filter(action="feed_token.revoke").exists()


def test_only_an_active_signed_in_account_gets_a_token(dw):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAllowed):
        member_actions.feed_token_issue(AnonymousUser())
    dw.charlie.is_active = False
    with pytest.raises(NotAllowed):
        member_actions.feed_token_issue(dw.charlie)
    with pytest.raises(ActionError):
        member_actions.feed_token_revoke(dw.bob)  # nothing to revoke
    assert not FeedToken.objects.exists()


# --- sitemap and robots.txt ---------------------------------------------------------------------


def sitemap_urls(client: Client) -> dict[str, str | None]:
    """Every <loc> of every sitemap file the index lists, with its <lastmod>."""
    index = client.get(reverse("feeds:sitemap"))
    assert index.status_code == 200 and index["Content-Type"].startswith("application/xml")
    root = ET.fromstring(index.content)
    assert root.tag == f"{SITEMAP}sitemapindex"
    urls: dict[str, str | None] = {}
    for loc in root.iter(f"{SITEMAP}loc"):
        part = client.get(path_of(loc.text or ""))
        assert part.status_code == 200
        urlset = ET.fromstring(part.content)
        assert urlset.tag == f"{SITEMAP}urlset"
        for url in urlset.iter(f"{SITEMAP}url"):
            urls[path_of(url.findtext(f"{SITEMAP}loc") or "")] = url.findtext(f"{SITEMAP}lastmod")
    return urls


@pytest.mark.parametrize("who", [None, "bob", "alice"])
def test_the_sitemap_lists_public_item_pages_with_lastmod_and_the_org_pages(client, dw, items, who):
    as_who(client, who and getattr(dw, who))
    urls = sitemap_urls(client)
    society = f"/disclosures/{items['society'].pk}/"
    assert urls[society] is not None
    lastmod = datetime.datetime.fromisoformat(urls[society] or "")
    assert lastmod == items["society"].updated_at.replace(microsecond=0)
    assert f"/disclosures/{items['withdrawn'].pk}/" in urls  # its page shows the notice
    for key in ("party", "draft", "approved", "scheduled"):
        assert f"/disclosures/{items[key].pk}/" not in urls
    assert f"/orgs/{dw.branch1.pk}/" in urls and f"/orgs/{dw.city.pk}/" in urls


def test_a_sitemap_page_past_the_last_is_404(client, dw):
    assert client.get(reverse("feeds:sitemap_disclosures", args=[2])).status_code == 404
    assert client.get(reverse("feeds:sitemap_orgs", args=[0])).status_code == 404


def test_robots_txt_points_to_the_sitemap_and_keeps_crawlers_off_private_feeds(client, dw):
    response = client.get(reverse("feeds:robots"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /feeds/me/" in text


# --- the JSON API ----------------------------------------------------------------------------------

ITEM_KEYS = {
    "id",
    "url",
    "api_url",
    "title",
    "index_no",
    "doc_number",
    "org",
    "category",
    "published_at",
    "expire_at",
    "updated_at",
    "status",
    "status_label",
    "withdrawn",
    "withdrawn_at",
    "correction_notice",
    "body_html",
    "body_text",
    "interpretation",
    "attachments",
}


def api(client: Client, item: Disclosure) -> Any:
    return client.get(reverse("feeds:api_disclosure", args=[item.pk]))


def test_a_public_item_as_json_has_the_documented_keys(client, dw, items):
    response = api(client, items["society"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert SOCIETY.encode() in response.content  # ensure_ascii=False: Chinese as it is
    data = response.json()
    assert set(data) == ITEM_KEYS
    item = items["society"]
    assert data["title"] == SOCIETY and data["index_no"] == item.index_no
    assert data["doc_number"] == "湖一支〔2027〕1号"
    assert data["org"] == {"id": dw.branch1.pk, "name": dw.branch1.name, "code": dw.branch1.code}
    assert data["category"] == "工作计划"
    assert datetime.datetime.fromisoformat(data["published_at"]) == item.published_at
    assert data["expire_at"] is None
    assert data["status"] == "published" and data["status_label"] == "已公开"
    assert data["body_html"] == SOCIETY_BODY
    assert data["body_text"] == "全年安排：每月第一个星期五开展主题党日。"
    assert data["interpretation"] == {
        "background": "上级党委部署",
        "significance": "规范组织生活",
        "key_points": "每月一次主题党日",
    }
    assert data["withdrawn"] is False and data["correction_notice"] == ""
    assert path_of(data["url"]) == f"/disclosures/{item.pk}/"


def test_the_json_never_carries_the_opinion_analysis_author_or_review(client, dw, items):
    text = api(client, items["society"]).content.decode()
    for secret in ("群众关心活动时间", "由支部书记统一答复", "鲍勃", "bob", "丽塔"):
        assert secret not in text
    for opinion in OPINIONS.values():
        if isinstance(opinion, str):
            assert opinion not in text


@pytest.mark.parametrize("who", [None, "bob", "alice", "charlie", "dave"])
@pytest.mark.parametrize("key", ["party", "draft", "approved", "scheduled"])
def test_anything_not_disclosed_to_the_public_is_a_json_404_whoever_asks(
    client, dw, items, who, key
):
    as_who(client, items["dave"] if who == "dave" else who and getattr(dw, who))
    response = api(client, items[key])
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"error": "没有这个公开事项，或它没有向社会公开。"}


def test_a_withdrawn_item_as_json_keeps_its_title_and_notice_only(client, dw, items):
    data = api(client, items["withdrawn"]).json()
    assert set(data) == ITEM_KEYS
    assert data["title"] == WITHDRAWN and NOTICE in data["correction_notice"]
    assert data["withdrawn"] is True and data["status"] == "withdrawn"
    assert data["status_label"] == "已撤回" and data["withdrawn_at"]
    assert data["body_html"] is None and data["body_text"] is None
    assert data["interpretation"] is None and data["attachments"] == []


def test_the_json_lists_attachments_except_withheld_and_removed_ones(client, dw):
    item = draft(dw, entry=dw.open, title=SOCIETY)
    kept = actions.attachment_add(item, actor=dw.bob, name="计划.txt", data="全年计划\n".encode())
    gone = actions.attachment_add(item, actor=dw.bob, name="旧稿.txt", data="旧稿\n".encode())
    secret = actions.attachment_add(
        item, actor=dw.bob, name="名单.txt", data="张三 11010519491231002X\n".encode()
    )
    actions.attachment_remove(gone, actor=dw.bob)
    item = actions.disclosure_start_review(
        actions.disclosure_submit(item, actor=dw.bob), actor=dw.rita
    )
    actions.attachment_withhold(secret, actor=dw.rita, reason="含身份证号")
    item = Disclosure.objects.get(pk=item.pk)
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    item = actions.disclosure_publish(item, actor=dw.bob)

    attachments = api(client, item).json()["attachments"]
    assert [a["name"] for a in attachments] == ["计划.txt"]
    assert attachments[0]["size"] == len("全年计划\n".encode())
    download = client.get(path_of(attachments[0]["url"]))
    assert download.status_code == 200
    assert path_of(attachments[0]["url"]) == f"/disclosures/{item.pk}/attachments/{kept.pk}/"


def test_the_item_json_answers_a_matching_if_none_match_with_304(client, dw, items):
    first = api(client, items["society"])
    assert "public" in first["Cache-Control"] and "max-age=300" in first["Cache-Control"]
    again = client.get(
        reverse("feeds:api_disclosure", args=[items["society"].pk]),
        HTTP_IF_NONE_MATCH=first["ETag"],
    )
    assert again.status_code == 304


def org_api(dw: Any) -> str:
    return reverse("feeds:api_org", args=[dw.branch1.pk])


def test_an_orgs_public_items_come_newest_first_20_a_page_with_a_next_url(client, dw):
    rows = make_public_rows(dw, 45)
    seen: list[int] = []
    url: str | None = org_api(dw)
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        data = response.json()
        assert data["org"]["name"] == dw.branch1.name
        assert len(data["items"]) <= 20
        seen += [i["id"] for i in data["items"]]
        url = data["next"] and data["next"].removeprefix("http://testserver")
        pages += 1
    assert pages == 3
    assert seen == [r.pk for r in reversed(rows)]
    assert set(data["items"][0]) == {
        "id",
        "url",
        "api_url",
        "title",
        "index_no",
        "doc_number",
        "category",
        "published_at",
        "status",
        "status_label",
        "withdrawn",
    }


def test_an_orgs_json_list_holds_society_items_only_for_everyone(client, dw, items):
    for who in (None, dw.bob, dw.alice):
        as_who(client, who)
        titles = [i["title"] for i in client.get(org_api(dw)).json()["items"]]
        assert SOCIETY in titles and WITHDRAWN in titles
        assert not set(titles) & set(NEVER_PUBLIC)


def test_an_orgs_json_list_refuses_a_bad_cursor_and_an_unknown_org(client, dw):
    response = client.get(org_api(dw), {"after": "nonsense"})
    assert response.status_code == 400 and "after" in response.json()["error"]
    response = client.get(reverse("feeds:api_org", args=[999999]))
    assert response.status_code == 404 and response.json() == {"error": "没有这个党组织。"}
