"""The public site (issue 5): the front page, an organization's disclosure column, the
search page, large type and HTTP caching — for the anonymous visitor, a member of an
unrelated branch (charlie), a member of the right branch (dave) and with items that are
not yet published.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from dwgk.disclosures import actions
from tests.cast import make_member
from tests.disclosure_cast import approved, draft, published, through_review

HOME = reverse("public:home")
SEARCH = reverse("public:search")

PARTY = "2026年10月党费收缴使用情况"  # the `monthly` entry: party members of branch1
SOCIETY = "2026年支部工作计划"  # the `open` entry: society


def published_to_society(dw: Any, **fields: Any) -> Any:
    """An item under the `open` entry (society, no approval step): reviewed, then out."""
    item = through_review(dw, draft(dw, entry=dw.open, **fields))
    return actions.disclosure_publish(item, actor=dw.bob)


@pytest.fixture
def items(dw: Any) -> dict[str, Any]:
    return {
        "party": published(dw, title=PARTY),
        "society": published_to_society(dw, title=SOCIETY, body="<p>全年党费工作安排</p>"),
        "draft": draft(dw, title="尚未提出的党费草稿"),
        "approved": approved(dw, title="已批准未发布的党费事项"),
        "dave": make_member("dave", dw.branch1, name="戴夫"),
    }


def html(client: Any, url: str, **params: Any) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def column(dw: Any) -> str:
    return reverse("public:org", args=[dw.branch1.pk])


# --- the front page -------------------------------------------------------------------------


def test_the_front_page_lists_society_items_only_whoever_asks(client, dw, items):
    for who in (None, dw.charlie, items["dave"], dw.bob):
        if who is not None:
            client.force_login(who)
        page = html(client, HOME)
        assert SOCIETY in page
        assert PARTY not in page
        assert "草稿" not in page and "已批准未发布" not in page


def test_the_front_page_links_each_item_and_its_organization(client, dw, items):
    page = html(client, HOME)
    assert reverse("disclosures:detail", args=[items["society"].pk]) in page
    assert column(dw) in page
    assert items["society"].index_no in page


# --- an organization's column ---------------------------------------------------------------


def test_the_public_sees_the_society_items_of_the_column(client, dw, items):
    page = html(client, column(dw))
    assert SOCIETY in page and PARTY not in page
    assert "湖滨社区第一党支部" in page


def test_a_member_of_another_branch_sees_no_more_than_the_public(client, dw, items):
    client.force_login(dw.charlie)
    page = html(client, column(dw))
    assert SOCIETY in page and PARTY not in page


def test_a_member_of_the_branch_also_sees_its_party_items(client, dw, items):
    client.force_login(items["dave"])
    page = html(client, column(dw))
    assert SOCIETY in page and PARTY in page


def test_the_column_never_lists_work_in_progress_even_for_its_clerk(client, dw, items):
    client.force_login(dw.bob)
    page = html(client, column(dw))
    assert "草稿" not in page and "已批准未发布" not in page


def test_the_column_filters_by_category_and_month(client, dw, items):
    client.force_login(items["dave"])
    by_category = html(client, column(dw), category="党费")
    assert PARTY in by_category and SOCIETY not in by_category
    month = items["party"].published_at.astimezone().strftime("%Y-%m")
    by_month = html(client, column(dw), month=month)
    assert PARTY in by_month and SOCIETY in by_month
    assert "没有符合条件" in html(client, column(dw), month="1999-01")


def test_the_column_ignores_a_malformed_month(client, dw, items):
    page = html(client, column(dw), month="二〇二六年")
    assert SOCIETY in page


def test_the_yearly_figures_count_only_what_the_visitor_may_see(client, dw, items):
    year = items["party"].published_at.year
    public = html(client, column(dw))
    assert f'<th scope="row">{year}年</th><td>1</td>' in public
    client.force_login(items["dave"])
    member = html(client, column(dw))
    assert f'<th scope="row">{year}年</th><td>2</td>' in member


def test_a_withdrawn_item_stays_in_the_column_marked_as_withdrawn(client, dw, items):
    actions.disclosure_withdraw(items["society"], actor=dw.alice, notice="计划调整，现予撤回")
    page = html(client, column(dw))
    assert SOCIETY in page and "已撤回" in page


def test_the_published_catalog_is_linked_only_where_it_was_published_to_the_visitor(
    client, dw, items
):
    # The test world's branch catalog is published to the branch's party members.
    assert "暂无向您公开的党务公开目录" in html(client, column(dw))
    client.force_login(items["dave"])
    assert "党务公开目录（第1版）" in html(client, column(dw))


def test_an_unknown_organization_is_404(client, db):
    assert client.get(reverse("public:org", args=[999999])).status_code == 404


# --- search -------------------------------------------------------------------------------


def found(client: Any, **params: Any) -> str:
    """The search page as text: titles carry <mark> around the hits."""
    return strip_tags(html(client, SEARCH, **params))


def test_the_public_finds_society_items_by_a_two_character_word(client, dw, items):
    assert "<mark>党费</mark>" in html(client, SEARCH, q="党费")
    page = found(client, q="党费")
    assert SOCIETY in page
    assert PARTY not in page
    assert "找到 1 项" in page


def test_a_member_finds_the_party_items_of_their_branch_too(client, dw, items):
    client.force_login(items["dave"])
    page = found(client, q="党费")
    assert SOCIETY in page and PARTY in page
    assert "找到 2 项" in page


def test_search_counts_nothing_outside_the_searchers_audience(client, dw, items):
    client.force_login(dw.charlie)
    page = found(client, q="党费")
    assert PARTY not in page and "找到 1 项" in page
    assert "草稿" not in page and "已批准未发布" not in page


def test_search_without_a_query_shows_only_the_box(client, db):
    page = html(client, SEARCH)
    assert 'name="q"' in page and "找到" not in page


def test_search_can_be_limited_to_one_organization(client, dw, items):
    page = found(client, q="工作", org=dw.branch2.pk)
    assert SOCIETY not in page
    page = found(client, q="工作", org=dw.branch1.pk)
    assert SOCIETY in page


# --- caching -------------------------------------------------------------------------------


def test_anonymous_pages_are_publicly_cacheable_and_answer_304(client, dw, items):
    for url in (HOME, column(dw), f"{SEARCH}?q=党费"):
        first = client.get(url)
        assert "public" in first["Cache-Control"], url
        assert "Cookie" in first["Vary"]
        again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304, url


def test_the_front_page_says_when_it_last_changed(client, dw, items):
    response = client.get(HOME)
    assert response.has_header("Last-Modified")
    again = client.get(HOME, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert again.status_code == 304


def test_pages_for_a_signed_in_person_are_never_shared_cache_material(client, dw, items):
    client.force_login(items["dave"])
    for url in (HOME, column(dw), f"{SEARCH}?q=党费", reverse("members:feed")):
        cache = client.get(url)["Cache-Control"]
        assert "private" in cache and "public" not in cache, url


def test_an_item_page_for_a_member_is_private(client, dw, items):
    client.force_login(items["dave"])
    response = client.get(reverse("disclosures:detail", args=[items["party"].pk]))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]


# --- large type ----------------------------------------------------------------------------


def test_large_type_is_switched_on_and_off_and_returns_to_the_page(client, dw, items):
    back = column(dw)
    response = client.get(reverse("public:text_size"), {"large": "1", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert 'class="large-type"' in html(client, back)
    client.get(reverse("public:text_size"), {"large": "0", "next": back})
    assert 'class="large-type"' not in html(client, back)


def test_large_type_never_redirects_off_the_site(client, db):
    response = client.get(
        reverse("public:text_size"), {"large": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_staff_links_on_the_column_are_for_the_organizations_staff_only(client, dw, items):
    assert 'id="staff-links"' not in html(client, column(dw))
    client.force_login(dw.charlie)
    assert 'id="staff-links"' not in html(client, column(dw))
    client.force_login(dw.bob)
    page = html(client, column(dw))
    assert reverse("disclosures:org", args=[dw.branch1.pk]) in page
    assert reverse("feedback:org", args=[dw.branch1.pk]) in page


def test_form_labels_end_with_a_full_width_colon(client, dw, items):
    page = html(client, reverse("disclosures:detail", args=[items["society"].pk]))
    assert "意见内容：</label>" in page
    assert "意见内容:</label>" not in page


def test_a_missing_page_is_answered_in_chinese(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_a_search_count_above_the_cap_says_so(client, dw, items, monkeypatch):
    from django.core.cache import caches

    from dwgk.public import views

    published_to_society(dw, title="2026年支部工作计划（补充）")
    monkeypatch.setattr(views, "COUNT_LIMIT", 1)
    page = html(client, SEARCH, q="工作计划")
    assert "找到 <strong>1</strong> 项以上" in page
    monkeypatch.setattr(views, "COUNT_LIMIT", 2)
    caches["pages"].clear()  # the same address: the first answer is cached
    page = html(client, SEARCH, q="工作计划")
    assert "找到 <strong>2</strong> 项与" in page
