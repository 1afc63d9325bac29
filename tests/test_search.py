"""Chinese full-text search (issue 5): tokens, visibility, highlighting, counts against LIKE.

Runs on SQLite and on PostgreSQL (DATABASE_URL=postgres://…); both must give the same rows.
"""

from __future__ import annotations

import datetime
import random
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db.models import Q

from dwgk.audience.keys import Audience
from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure
from dwgk.search.backend import DatabaseSearchBackend, get_backend, highlight
from dwgk.search.index import index_disclosure, rebuild
from dwgk.search.models import SearchDoc
from dwgk.search.text import QueryError, query_terms, query_tokens, tokens
from tests.disclosure_cast import approved, draft, published, through_review

ANON = AnonymousUser()
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def find(user: Any, q: str, **kw: Any) -> list[str]:
    """Titles found, newest first."""
    return [r.title for r in get_backend().search(user, q, **kw).results]


def count(user: Any, q: str) -> int:
    return get_backend().count(user, q)


def indexed(item: Disclosure) -> Disclosure:
    index_disclosure(item)
    return item


def make_item(dw: Any, title: str, body: str, *, society: bool = False, n: int = 0) -> Disclosure:
    """A published item written straight to the table (the procedure is tested elsewhere;
    hundreds of items through it would take minutes), then indexed."""
    audience = Audience(society=True) if society else Audience(party=(dw.branch1.pk,))
    item = Disclosure.objects.create(
        org=dw.branch1,
        entry=dw.open if society else dw.monthly,
        title=title,
        body=body,
        author=dw.bob,
        status=Disclosure.Status.PUBLISHED,
        published_at=T0 + datetime.timedelta(minutes=n),
        audience=audience.to_json(),
    )
    return indexed(item)


# --- tokens ------------------------------------------------------------------------------


def test_it_cuts_chinese_into_overlapping_bigrams():
    assert tokens("换届选举") == " 换届 届选 选举 "


def test_it_keeps_a_lone_chinese_character_and_lowercases_words():
    assert tokens("2026年10月 PDF版") == " 2026 年 10 月 | pdf 版 "


def test_it_folds_full_width_forms():
    assert tokens("ＡＢＣ１２３，党费") == tokens("abc123,党费") == " abc123 | 党费 "


def test_it_strips_html_and_decodes_entities():
    from dwgk.search.text import plain_text

    assert plain_text("<p>换<strong>届</strong>选举</p><p>a &amp; b</p>") == "换届选举\na & b"


def test_it_marks_gaps_so_a_phrase_never_runs_across_punctuation():
    assert tokens("换届。届选举") == " 换届 | 届选 选举 "


def test_a_query_term_becomes_a_phrase_of_bigrams():
    assert query_tokens("换届选举  党费") == ["换届 届选 选举", "党费"]


def test_a_lone_character_alone_is_refused_with_a_chinese_message():
    with pytest.raises(QueryError, match="单个汉字"):
        query_terms("党")


def test_an_empty_query_finds_nothing(dw):
    assert find(dw.bob, "  ") == []
    assert count(dw.bob, "。，") == 0


# --- finding -----------------------------------------------------------------------------


@pytest.fixture
def items(dw):
    return [
        make_item(dw, "2026年10月党费收缴使用情况", "<p>支部共收缴党费1,280元。</p>", n=1),
        make_item(dw, "关于支部换届选举的公示", "<p>经支部委员会研究，现予公示。</p>", n=2),
        make_item(dw, "换届工作安排", "<p>选举办法另行通知。</p>", n=3),
        make_item(dw, "Annual report 2025", "<p>The PDF version of the report.</p>", n=4),
    ]


@pytest.mark.parametrize(
    ("q", "titles"),
    [
        ("党费", ["2026年10月党费收缴使用情况"]),
        ("换届", ["换届工作安排", "关于支部换届选举的公示"]),
        ("公示", ["关于支部换届选举的公示"]),
        ("换届选举", ["关于支部换届选举的公示"]),  # 换届工作安排 has 换届 and 选举, not the phrase
        ("支部 公示", ["关于支部换届选举的公示"]),
        ("report", ["Annual report 2025"]),
        ("PDF", ["Annual report 2025"]),
        ("2025", ["Annual report 2025"]),
        ("rep", []),  # Latin words match whole
        ("1,280", ["2026年10月党费收缴使用情况"]),
        ("１，２８０元", ["2026年10月党费收缴使用情况"]),  # full-width input
        ("ＰＤＦ", ["Annual report 2025"]),
        ("10月党费", ["2026年10月党费收缴使用情况"]),
        ("月党", ["2026年10月党费收缴使用情况"]),
        ("换届 党费", []),
        ("收 党费", ["2026年10月党费收缴使用情况"]),  # a lone character inside a narrowed set
        ("示 换届", ["关于支部换届选举的公示"]),
    ],
)
def test_it_finds_what_contains_the_terms(dw, items, q, titles):
    assert find(dw.bob, q) == titles
    assert count(dw.bob, q) == len(titles)


def test_it_finds_attachment_text_but_not_withheld_attachments(dw):
    item = make_item(dw, "支部活动", "<p>正文</p>")
    item.attachments.create(
        name="a.txt",
        kind="txt",
        size=1,
        sha256="0",
        file="a",
        text="民主评议结果",
        uploaded_by=dw.bob,
    )
    item.attachments.create(
        name="b.txt",
        kind="txt",
        size=1,
        sha256="0",
        file="b",
        text="秘密名单",
        uploaded_by=dw.bob,
        withheld=True,
    )
    indexed(item)
    assert find(dw.bob, "民主评议") == ["支部活动"]
    assert find(dw.bob, "秘密名单") == []


# --- who sees what -----------------------------------------------------------------------


def test_party_items_are_found_only_by_the_branch(dw):
    indexed(published(dw, title="2026年10月党费收缴使用情况"))
    for user, expected in [(dw.bob, 1), (dw.alice, 1), (dw.charlie, 0), (dw.dora, 0), (ANON, 0)]:
        assert count(user, "党费") == expected, user
        assert len(find(user, "党费")) == expected, user


def test_society_items_are_found_by_everyone(dw):
    item = through_review(dw, draft(dw, entry=dw.open, title="支部工作计划"))  # no approval step
    indexed(actions.disclosure_publish(item, actor=dw.bob))
    for user in (dw.bob, dw.charlie, dw.dora, ANON):
        assert find(user, "工作计划") == ["支部工作计划"]


def test_drafts_are_not_found_even_by_their_clerk(dw):
    indexed(draft(dw, title="党费收缴草稿"))
    assert count(dw.bob, "党费") == 0
    assert not SearchDoc.objects.exists()


def test_a_withdrawn_body_is_not_found_but_its_title_and_notice_are(dw):
    item = published(dw, title="党费收缴使用情况", body="<p>收缴明细见附表</p>")
    assert indexed(item) and find(dw.bob, "收缴明细") == ["党费收缴使用情况"]
    item = indexed(
        actions.disclosure_withdraw(item, actor=dw.alice, notice="数据有误，现予撤回更正")
    )
    assert find(dw.bob, "收缴明细") == []
    assert find(dw.bob, "党费收缴") == ["党费收缴使用情况"]
    assert find(dw.bob, "撤回更正") == ["党费收缴使用情况"]


def test_widening_to_society_makes_it_findable_by_anonymous(dw):
    item = indexed(published(dw, title="党费收缴使用情况"))
    assert count(ANON, "党费") == 0
    change = actions.scope_widen_propose(
        item, actor=dw.bob, audience=Audience(society=True), reason="向社会公开"
    )
    actions.scope_widen_decide(change, actor=dw.alice, approve=True)
    indexed(Disclosure.objects.get(pk=item.pk))
    assert find(ANON, "党费") == ["党费收缴使用情况"]
    assert count(dw.charlie, "党费") == 1


def test_the_procedure_keeps_the_index_in_step_without_being_asked(dw):
    item = approved(dw, title="党费收缴使用情况", body="<p>收缴明细见附表</p>")
    assert count(dw.bob, "党费") == 0  # approved is not yet disclosed
    item = actions.disclosure_publish(item, actor=dw.bob)
    assert find(dw.bob, "收缴明细") == ["党费收缴使用情况"]
    assert count(ANON, "党费") == 0
    change = actions.scope_widen_propose(
        item, actor=dw.bob, audience=Audience(society=True), reason="向社会公开"
    )
    actions.scope_widen_decide(change, actor=dw.alice, approve=True)
    assert find(ANON, "收缴明细") == ["党费收缴使用情况"]
    actions.disclosure_withdraw(
        Disclosure.objects.get(pk=item.pk), actor=dw.alice, notice="数据有误，现予撤回更正"
    )
    assert find(ANON, "收缴明细") == []
    assert find(ANON, "撤回更正") == ["党费收缴使用情况"]


# --- highlighting, paging, org, rebuild ----------------------------------------------------


def test_highlight_escapes_the_source_and_marks_the_hit(dw):
    make_item(dw, "通知", "<p>&lt;script&gt;alert(1)&lt;/script&gt; 党费 &amp; 会费</p>")
    (result,) = get_backend().search(dw.bob, "党费").results
    assert result.snippet == ("&lt;script&gt;alert(1)&lt;/script&gt; <mark>党费</mark> &amp; 会费")


def test_snippets_keep_the_text_as_written(dw):
    make_item(dw, "通知", "<p>会议决定：收缴党费（第四季度），按时上缴。</p>")
    (result,) = get_backend().search(dw.bob, "党费").results
    assert result.snippet == "会议决定：收缴<mark>党费</mark>（第四季度），按时上缴。"


def test_the_title_is_marked_whole_and_the_index_number_stays_out_of_the_snippet(dw):
    item = make_item(dw, "关于" + "做好" * 20 + "党费工作的通知", "<p>正文</p>")
    Disclosure.objects.filter(pk=item.pk).update(index_no="MZ/2026-00042")
    indexed(Disclosure.objects.get(pk=item.pk))
    (result,) = get_backend().search(dw.bob, "党费").results
    assert result.title_marked.startswith("关于做好")
    assert "<mark>党费</mark>工作的通知" in result.title_marked
    assert "MZ" not in result.snippet
    assert find(dw.bob, "00042") == [item.title]  # still found by its index number


def test_a_half_width_query_marks_the_full_width_text_it_matched():
    assert highlight("金额１，２８０元", ["1,280"]) == "金额<mark>１，２８０</mark>元"


def test_a_character_that_folds_to_two_keeps_the_marks_on_the_text_as_written():
    # ㈱ folds to "(株)" and ﬁ to "fi": the positions after them shift, the marks must not.
    assert highlight("㈱公司ﬁle党费收缴", ["党费"]) == "㈱公司ﬁle<mark>党费</mark>收缴"
    assert highlight("ﬁle党费", ["file"]) == "<mark>ﬁle</mark>党费"


def test_highlight_cuts_a_window_around_the_first_hit():
    text = "甲" * 100 + "换届选举" + "乙" * 200
    snippet = highlight(text, ["换届选举"])
    assert snippet.startswith("…" + "甲" * 30 + "<mark>换届选举</mark>")
    assert snippet.endswith("…")


def test_pages_follow_the_cursor_newest_first(dw):
    for n in range(7):
        make_item(dw, f"第{n}期党费公示", "<p>党费</p>", n=n % 3)  # ties on purpose
    seen: list[str] = []
    page = get_backend().search(dw.bob, "党费", limit=3)
    while True:
        seen += [r.title for r in page.results]
        if page.next_cursor is None:
            break
        page = get_backend().search(dw.bob, "党费", limit=3, after=page.next_cursor)
    assert seen == find(dw.bob, "党费", limit=100)
    assert sorted(seen) == sorted(f"第{n}期党费公示" for n in range(7))


def test_it_filters_by_organization(dw):
    make_item(dw, "党费公示", "")
    assert find(dw.bob, "党费", org=dw.branch1) == ["党费公示"]
    assert find(dw.bob, "党费", org=dw.branch2.pk) == []


def test_rebuild_indexes_published_items_and_drops_the_rest(dw):
    item = published(dw, title="党费收缴使用情况")
    stale = draft(dw, title="草稿党费")
    SearchDoc.objects.create(
        disclosure=stale,
        org=stale.org,
        published_at=T0,
        title="x",
        search_text=" 党费 ",
        keys="public",
    )
    call_command("rebuild_search_index", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert list(SearchDoc.objects.values_list("disclosure_id", flat=True)) == [item.pk]
    assert rebuild() == 1


def test_the_backend_is_chosen_by_the_setting(settings):
    assert isinstance(get_backend(), DatabaseSearchBackend)
    settings.SEARCH_BACKEND = "tests.test_search.NullBackend"
    assert isinstance(get_backend(), NullBackend)


class NullBackend(DatabaseSearchBackend):
    pass


# --- counts against LIKE -------------------------------------------------------------------

WORDS = ["党费", "换届", "选举", "公示", "支部", "党员", "发展", "会议", "学习", "组织", "生活"]
QUERIES = [
    "党费",
    "换届",
    "公示",
    "换届选举",
    "党员发展",
    "支部会议",
    "组织生活",
    "费换",
    "选举公示",
]


def test_counts_equal_like_on_two_hundred_generated_items(dw):
    rng = random.Random(5)
    for n in range(200):
        words = rng.choices([*WORDS, "，", "。", "的", "2026"], k=rng.randint(3, 30))
        make_item(
            dw, "".join(words[:3]), "<p>" + "".join(words[3:]) + "</p>", n=n, society=n % 3 == 0
        )
    for user in (dw.bob, dw.charlie, ANON):
        for q in QUERIES:
            truth = (
                Disclosure.objects.visible_to(user)
                .filter(Q(title__contains=q) | Q(body__contains=q))
                .count()
            )
            assert count(user, q) == truth, (user, q)
            assert len(find(user, q, limit=500)) == truth, (user, q)
            # a capped count is exact below the cap and stops one above it
            for cap in (0, 5, truth, truth + 1):
                assert get_backend().count(user, q, limit=cap) == min(truth, cap + 1), (q, cap)
