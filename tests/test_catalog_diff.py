"""Comparing catalog versions entry by entry (CAT-4): added, removed, changed column by column
in the sheet's own wording, moved only when an entry really changed place, and a count of the
rest."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import timezone

from dwgk.accounts.actions import role_grant
from dwgk.accounts.models import Role
from dwgk.audience.keys import Audience
from dwgk.catalog import actions
from dwgk.catalog.diff import AudienceTexts, ColumnChange, diff_entries, diff_versions
from dwgk.catalog.models import CatalogEntry

LINEAGES = [uuid.UUID(int=i) for i in range(1, 10)]


def entry(n: int, position: int | None = None, **kw: Any) -> CatalogEntry:
    """An unsaved entry with lineage n; every column filled the same way unless told."""
    fields: dict[str, Any] = {
        "content": f"事项{n}",
        "audience": {"party": [1]},
        "audience_note": "本支部党员",
        "approval": [{"kind": "role", "role": "principal", "label": "书记签发"}],
        "channels": ["meeting"],
        "timing": {"kind": "long_term"},
    }
    fields.update(kw)
    return CatalogEntry(lineage=LINEAGES[n], position=position or n, **fields)


def kinds(rows) -> list[tuple[str, str]]:
    return [(r.kind, r.content) for r in rows]


def test_identical_lists_have_nothing_to_show():
    rows = diff_entries([entry(1), entry(2)], [entry(1), entry(2)])
    assert kinds(rows) == [("unchanged", "事项1"), ("unchanged", "事项2")]


def test_an_entry_inserted_at_the_top_is_added_and_moves_nothing():
    old = [entry(1), entry(2), entry(3)]
    new = [entry(4, 1), entry(1, 2), entry(2, 3), entry(3, 4)]
    rows = diff_entries(old, new)
    assert kinds(rows)[0] == ("added", "事项4")
    assert [r.kind for r in rows[1:]] == ["unchanged"] * 3
    assert not any(r.moved for r in rows)


def test_a_removed_entry_stays_where_it_was_in_the_side_by_side_view():
    rows = diff_entries([entry(1), entry(2), entry(3)], [entry(1), entry(3, 2)])
    assert kinds(rows) == [("unchanged", "事项1"), ("removed", "事项2"), ("unchanged", "事项3")]
    removed = rows[1]
    assert removed.new is None and removed.old_position == 2


def test_a_removed_first_entry_comes_first():
    rows = diff_entries([entry(1), entry(2)], [entry(2, 1)])
    assert kinds(rows) == [("removed", "事项1"), ("unchanged", "事项2")]


def test_changes_are_listed_column_by_column_in_the_sheet_wording():
    old = [entry(1)]
    new = [
        entry(
            1,
            channels=["meeting", "board"],
            timing={"kind": "periodic", "period": "monthly", "nth": 1, "weekday": 4},
            remarks="每月党务公开日",
        )
    ]
    (row,) = diff_entries(old, new)
    assert row.kind == "changed"
    assert row.changes == [
        ColumnChange("公开方式", "召开会议", "召开会议、公开栏"),
        ColumnChange("公开起始时点", "长期", "每月第一个星期五"),
        ColumnChange("备注", "", "每月党务公开日"),
    ]


def test_scope_approval_and_duration_changes_read_as_people_write_them():
    new = entry(
        1,
        audience_note="",
        audience={"society": True},
        approval=[{"kind": "body", "body": "支委会"}, {"kind": "parent"}],
        timing={"kind": "long_term", "duration": {"unit": "years", "n": 1}},
    )
    (row,) = diff_entries([entry(1)], [new])
    assert {c.column: (c.old, c.new) for c in row.changes} == {
        "公开范围": ("本支部党员", "向社会公开"),
        "审批程序": ("书记签发", "支委会集体研究决定，报上级党组织审批"),
        "公开时长": ("永久", "1年"),
    }


def test_an_entry_state_change_is_a_change():
    new = entry(1, state="withheld", state_note="待脱敏后公开")
    (row,) = diff_entries([entry(1)], [new])
    assert row.changes == [ColumnChange("条目状态", "正常", "暂缓公开（待脱敏后公开）")]


def test_swapping_two_entries_moves_one_not_everything():
    old = [entry(1), entry(2), entry(3), entry(4)]
    new = [entry(1, 1), entry(3, 2), entry(2, 3), entry(4, 4)]
    rows = diff_entries(old, new)
    moved = [r for r in rows if r.moved]
    assert len(moved) == 1
    assert moved[0].kind == "moved"
    assert (moved[0].old_position, moved[0].new_position) in {(2, 3), (3, 2)}


def test_an_entry_can_be_both_changed_and_moved():
    old = [entry(1), entry(2), entry(3)]
    new = [entry(3, 1, content="事项三（修订）"), entry(1, 2), entry(2, 3)]
    rows = diff_entries(old, new)
    first = rows[0]
    assert first.moved and first.kind == "changed"
    assert first.changes == [ColumnChange("公开内容", "事项3", "事项三（修订）")]


@pytest.mark.django_db
def test_the_scope_of_entries_without_a_note_is_looked_up_once_per_audience(
    cast, django_assert_num_queries
):
    entries = [
        entry(i, audience_note="", audience=Audience(party=(cast.branch1.pk,)).to_json())
        for i in range(1, 6)
    ]
    texts = AudienceTexts()
    with django_assert_num_queries(1):
        assert {texts(e) for e in entries} == {"湖滨社区第一党支部党内公开"}


# --- two real versions ----------------------------------------------------------------------


@pytest.fixture
def versions(cast):
    role_grant(cast.bob, cast.branch1, Role.CLERK, actor=None)
    paula = cast.olga  # any parent staff will do: give olga the community's principal role
    role_grant(paula, cast.community, Role.PRINCIPAL, actor=None)
    v1 = actions.catalog_generate_draft(cast.branch1, actor=cast.bob)
    for e in list(v1.entries.all()):
        actions.entry_delete(e, actor=cast.bob)
    party = Audience(party=(cast.branch1.pk,)).to_json()
    for content in ["支部委员会组成及分工", "发展党员情况", "三会一课执行情况"]:
        actions.entry_add(
            v1,
            actor=cast.bob,
            content=content,
            audience=party,
            channels=["meeting"],
            timing={"kind": "long_term"},
        )
    actions.catalog_adopt(v1, actor=cast.alice, meeting="支委会", decided_on=timezone.localdate())
    actions.catalog_file(v1, actor=cast.bob)
    actions.catalog_acknowledge(v1, actor=paula)
    actions.catalog_publish(v1, actor=cast.bob)

    v2 = actions.catalog_adjust(cast.branch1, actor=cast.bob, note="年度调整")
    first, second, third = v2.entries.order_by("position")
    actions.entry_update(second, actor=cast.bob, channels=["meeting", "board"])
    actions.entry_delete(first, actor=cast.bob)
    actions.entry_duplicate(third, actor=cast.bob)
    actions.entry_add(
        v2,
        actor=cast.bob,
        content="党费收缴使用情况",
        audience=party,
        channels=["board"],
        timing={"kind": "periodic", "period": "quarterly", "day": 10},
    )
    return v1, v2


def test_two_versions_of_a_catalog_compare_by_lineage(versions):
    v1, v2 = versions
    result = diff_versions(v1, v2)
    assert (result.old, result.new) == (v1, v2)
    assert [r.content for r in result.added] == ["三会一课执行情况", "党费收缴使用情况"]
    assert [r.content for r in result.removed] == ["支部委员会组成及分工"]
    assert [r.content for r in result.changed] == ["发展党员情况"]
    assert result.changed[0].changes == [ColumnChange("公开方式", "召开会议", "召开会议、公开栏")]
    assert result.moved == [] and result.unchanged == 1
    # The order of the side-by-side view: the removed entry first, where it stood.
    assert kinds(result.shown) == [
        ("removed", "支部委员会组成及分工"),
        ("changed", "发展党员情况"),
        ("added", "三会一课执行情况"),
        ("added", "党费收缴使用情况"),
    ]


def test_the_older_version_is_the_old_side_whichever_is_passed_first(versions):
    v1, v2 = versions
    assert diff_versions(v2, v1).old == v1


def test_a_version_compared_with_its_copy_is_empty(versions):
    v1, _ = versions
    result = diff_versions(v1, v1)
    assert result.is_empty and result.unchanged == 3
