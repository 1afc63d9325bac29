"""公开给我的 and 本组织发布 (issue 5, member portal): anonymous → login; each member sees
exactly what was disclosed to them, newest first, with unread marks, filters and keyset
pages; work in progress never appears, not even for its clerk."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.urls import reverse

from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure, DisclosureAudience
from tests.cast import make_member
from tests.disclosure_cast import approved, draft, published, through_review

FEED = reverse("members:feed")
PUBLISHED = reverse("members:published")
ME = reverse("members:home")


def society(dw: Any, **fields: Any) -> Disclosure:
    item = through_review(dw, draft(dw, entry=dw.open, **fields))
    return actions.disclosure_publish(item, actor=dw.bob)


@pytest.fixture
def dave(dw: Any) -> Any:
    return make_member("dave", dw.branch1, name="戴夫")


@pytest.fixture
def items(dw: Any) -> dict[str, Disclosure]:
    return {
        "party": published(dw, title="十月党费收缴使用情况"),
        "society": society(dw, title="支部年度工作计划"),
        "draft": draft(dw, title="还在起草的事项"),
        "approved": approved(dw, title="批准了还没发布的事项"),
    }


def page(client: Any, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return str(response.content.decode())


def backdate(item: Disclosure, days: int) -> None:
    when = item.published_at - datetime.timedelta(days=days)  # type: ignore[operator]
    Disclosure.objects.filter(pk=item.pk).update(published_at=when)
    DisclosureAudience.objects.filter(obj=item).update(sort_at=when)


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    for url in (FEED, PUBLISHED):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_branch_member_gets_party_and_society_items(client, dw, items, dave):
    client.force_login(dave)
    html = page(client, FEED)
    assert "十月党费收缴使用情况" in html and "支部年度工作计划" in html


def test_a_member_of_another_branch_gets_only_the_society_item(client, dw, items):
    client.force_login(dw.charlie)
    html = page(client, FEED)
    assert "支部年度工作计划" in html
    assert "十月党费收缴使用情况" not in html


def test_work_in_progress_never_appears_even_for_its_clerk(client, dw, items):
    client.force_login(dw.bob)
    for url in (FEED, PUBLISHED, ME):
        html = page(client, url)
        assert "还在起草的事项" not in html and "批准了还没发布的事项" not in html, url


def test_items_are_newest_first(client, dw, items, dave):
    backdate(items["party"], 3)
    client.force_login(dave)
    html = page(client, FEED)
    assert html.index("支部年度工作计划") < html.index("十月党费收缴使用情况")


def test_an_unread_item_is_marked_until_it_is_opened(client, dw, items, dave):
    client.force_login(dave)
    html = page(client, FEED)
    assert html.count("未读") == 2
    assert client.get(reverse("disclosures:detail", args=[items["party"].pk])).status_code == 200
    html = page(client, FEED)
    assert html.count("未读") == 1


def test_opening_an_item_one_cannot_see_marks_nothing(client, dw, items):
    client.force_login(dw.charlie)
    url = reverse("disclosures:detail", args=[items["party"].pk])
    assert client.get(url).status_code == 404
    from dwgk.disclosures.models import Reading

    assert not Reading.objects.filter(user=dw.charlie).exists()


def test_the_feed_filters_by_organization_category_and_date(client, dw, items, dave):
    backdate(items["party"], 40)
    client.force_login(dave)
    by_org = page(client, FEED, org=dw.branch2.pk)
    assert "十月党费收缴使用情况" not in by_org and "支部年度工作计划" not in by_org
    by_category = page(client, FEED, category="党费")
    assert "十月党费收缴使用情况" in by_category and "支部年度工作计划" not in by_category
    since = (datetime.date.today() - datetime.timedelta(days=10)).isoformat()
    recent = page(client, FEED, since=since)
    assert "支部年度工作计划" in recent and "十月党费收缴使用情况" not in recent
    until = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    older = page(client, FEED, until=until)
    assert "十月党费收缴使用情况" in older and "支部年度工作计划" not in older


def test_a_filter_never_widens_what_one_sees(client, dw, items):
    client.force_login(dw.charlie)
    html = page(client, FEED, org=dw.branch1.pk)
    assert "十月党费收缴使用情况" not in html
    assert "支部年度工作计划" in html


def test_bad_filter_values_are_ignored(client, dw, items, dave):
    client.force_login(dave)
    html = page(client, FEED, since="昨天", org="abc", after="garbage")
    assert "十月党费收缴使用情况" in html


@pytest.mark.parametrize("filtered", [False, True])
def test_pages_follow_the_cursor_without_gaps_or_repeats(client, dw, dave, filtered):
    titles = [f"第{n}号党费公示" for n in range(45)]
    for n, title in enumerate(titles):
        item = Disclosure.objects.create(
            org=dw.branch1,
            entry=dw.monthly,
            title=title,
            author=dw.bob,
            category="党费",
            status=Disclosure.Status.PUBLISHED,
            published_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
            + datetime.timedelta(hours=n // 2),  # pairs share a time: ties on purpose
            audience=dw.monthly.audience,
        )
        assert item.audience_keys.exists()
    client.force_login(dave)
    seen: list[str] = []
    params: dict[str, Any] = {"category": "党费"} if filtered else {}
    for _ in range(10):
        response = client.get(FEED, params)
        rows = [t for t in titles if f">{t}</a>" in response.content.decode()]
        seen += sorted(rows, key=titles.index, reverse=True)
        cursor = response.context["next_cursor"]
        if not cursor:
            break
        params["after"] = cursor
    assert seen == list(reversed(titles))


def test_the_portal_home_previews_the_newest_items(client, dw, items, dave):
    client.force_login(dave)
    html = page(client, ME)
    assert "公开给我的" in html and "十月党费收缴使用情况" in html


def test_my_organizations_published_lists_my_branchs_items_i_may_see(client, dw, items, dave):
    client.force_login(dave)
    html = page(client, PUBLISHED)
    assert "十月党费收缴使用情况" in html and "支部年度工作计划" in html
    client.force_login(dw.charlie)
    html = page(client, PUBLISHED)
    assert "十月党费收缴使用情况" not in html and "支部年度工作计划" not in html
