"""The catalog's life (CAT-3 … CAT-7): every transition for the right and the wrong roles,
and that a refused step leaves the catalog as it was."""

from __future__ import annotations

import datetime

import pytest

from dwgk.accounts.actions import role_grant
from dwgk.accounts.models import Role
from dwgk.audience.keys import Audience
from dwgk.audit.models import AuditEntry
from dwgk.catalog import actions
from dwgk.catalog.models import CatalogEntry, CatalogEvent, CatalogVersion
from dwgk.catalog.timing import parse_start
from dwgk.lib.errors import ActionError, NotAllowed
from tests.cast import make_org, make_user

S = CatalogVersion.Status
TODAY = datetime.date.today()


def draft(world):
    return actions.catalog_generate_draft(world.branch1, actor=world.bob)


def filed(world):
    version = draft(world)
    actions.catalog_adopt(version, actor=world.alice, meeting="支委会", decided_on=TODAY)
    return actions.catalog_file(version, actor=world.bob)


def test_a_clerk_generates_the_first_draft_from_the_template_of_the_branch(world):
    version = draft(world)
    assert version.status == S.DRAFT and version.number == 1
    entries = list(version.entries.all())
    assert entries, "the bj template has branch entries"
    assert entries[0].basis.startswith("BJ ")
    assert entries[0].get_audience().to_keys()  # an audience relative to the branch
    assert AuditEntry.objects.filter(action="catalog.generate").count() == 1


def test_a_plain_member_cannot_generate_or_edit(world):
    with pytest.raises(NotAllowed):
        actions.catalog_generate_draft(world.branch1, actor=world.charlie)
    version = draft(world)
    with pytest.raises(NotAllowed):
        actions.entry_add(version, actor=world.charlie, content="x", channels=["board"])
    assert version.entries.filter(content="x").count() == 0


def test_entries_are_added_duplicated_moved_and_deleted_in_order(world):
    version = draft(world)
    n = version.entries.count()
    added = actions.entry_add(
        version,
        actor=world.bob,
        content="党费收缴使用情况",
        channels=["board", "platform"],
        audience=Audience(party=(world.branch1.pk,)).to_json(),
        timing=parse_start("每季度10日前").to_json(),
    )
    assert added.position == n + 1
    copy = actions.entry_duplicate(added, actor=world.bob)
    assert copy.position == n + 2 and copy.lineage != added.lineage
    actions.entry_move(copy, actor=world.bob, to_position=1)
    positions = list(version.entries.order_by("position").values_list("pk", "position"))
    assert positions[0][0] == copy.pk
    assert [p for _, p in positions] == list(range(1, n + 3))
    actions.entry_delete(copy, actor=world.bob)
    assert [p for _, p in version.entries.order_by("position").values_list("pk", "position")] == (
        list(range(1, n + 2))
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"content": "  "}, "公开内容不能为空"),
        ({"content": "a", "channels": []}, "至少选择一种"),
        ({"content": "a", "channels": ["pigeon"]}, "未知的公开方式"),
        ({"content": "a", "timing": {"kind": "periodic"}}, "周期"),
        ({"content": "a", "approval": [{"kind": "role", "role": "king"}]}, "未知的审批角色"),
        ({"content": "a", "audience": {}}, "公开范围"),
        ({"colour": "red"}, "未知的目录字段"),
    ],
)
def test_bad_entry_fields_are_refused_in_chinese_and_nothing_is_saved(world, fields, message):
    version = draft(world)
    before = version.entries.count()
    with pytest.raises(ActionError, match=message):
        actions.entry_add(version, actor=world.bob, **fields)
    assert version.entries.count() == before


def test_only_the_principal_adopts_and_the_meeting_is_recorded(world):
    version = draft(world)
    with pytest.raises(NotAllowed):
        actions.catalog_adopt(version, actor=world.bob, meeting="支委会", decided_on=TODAY)
    with pytest.raises(ActionError, match="会议"):
        actions.catalog_adopt(version, actor=world.alice, meeting=" ", decided_on=TODAY)
    version.refresh_from_db()
    assert version.status == S.DRAFT
    actions.catalog_adopt(version, actor=world.alice, meeting="支委会", decided_on=TODAY)
    version.refresh_from_db()
    assert (version.status, version.adopted_meeting, version.leader_name) == (
        S.ADOPTED,
        "支委会",
        "艾丽",
    )


def test_an_adopted_catalog_is_frozen(world):
    version = draft(world)
    actions.catalog_adopt(version, actor=world.alice, meeting="支委会", decided_on=TODAY)
    entry = version.entries.first()
    with pytest.raises(ActionError, match="不能修改"):
        actions.entry_update(entry, actor=world.bob, content="改")
    entry.refresh_from_db()
    assert entry.content != "改"


def test_filing_goes_to_the_parent_which_alone_acknowledges_or_returns(world):
    version = filed(world)
    assert version.status == S.FILED
    for outsider in (world.alice, world.bob, world.charlie, world.olga):
        with pytest.raises(NotAllowed):
            actions.catalog_acknowledge(version, actor=outsider)
    actions.catalog_acknowledge(version, actor=world.paula, comment="同意备案")
    version.refresh_from_db()
    assert version.status == S.ACKNOWLEDGED
    ack = version.events.get(kind=CatalogEvent.Kind.ACKNOWLEDGED)
    assert ack.actor == world.paula and ack.actor_org == world.community


def test_a_return_needs_a_comment_and_a_fixed_catalog_is_adopted_again_before_refiling(world):
    version = filed(world)
    with pytest.raises(ActionError, match="意见"):
        actions.catalog_return(version, actor=world.paula, comment="")
    actions.catalog_return(version, actor=world.paula, comment="请补充党费收缴使用情况")
    version.refresh_from_db()
    assert version.status == S.RETURNED
    with pytest.raises(ActionError):
        actions.catalog_file(version, actor=world.bob)  # returned: not adopted any more
    actions.entry_add(version, actor=world.bob, content="党费收缴使用情况", channels=["board"])
    version.refresh_from_db()
    assert version.status == S.DRAFT
    actions.catalog_adopt(version, actor=world.alice, meeting="支委会", decided_on=TODAY)
    actions.catalog_file(version, actor=world.bob)
    actions.catalog_acknowledge(version, actor=world.paula)
    kinds = list(version.events.values_list("kind", flat=True))
    assert kinds == ["created", "adopted", "filed", "returned", "adopted", "filed", "acknowledged"]


def test_steps_out_of_order_are_refused_and_leave_the_state(world):
    version = draft(world)
    with pytest.raises(ActionError, match="当前状态"):
        actions.catalog_file(version, actor=world.bob)
    with pytest.raises(ActionError, match="当前状态"):
        actions.catalog_acknowledge(version, actor=world.paula)
    with pytest.raises(ActionError):
        actions.catalog_publish(version, actor=world.bob)
    version.refresh_from_db()
    assert version.status == S.DRAFT


def test_a_non_root_catalog_is_published_only_after_the_parent_acknowledged(world):
    version = draft(world)
    actions.catalog_adopt(version, actor=world.alice, meeting="支委会", decided_on=TODAY)
    with pytest.raises(ActionError, match="备案"):
        actions.catalog_publish(version, actor=world.bob)


def test_a_root_organization_publishes_right_after_adoption(db):
    city = make_org("示范市委", "city_committee")
    boss = make_user("boss", name="书记")
    role_grant(boss, city, Role.PRINCIPAL, actor=None)
    version = actions.catalog_generate_draft(city, actor=boss)
    actions.entry_add(version, actor=boss, content="市委全会决议", channels=["website"])
    actions.catalog_adopt(version, actor=boss, meeting="常委会", decided_on=TODAY)
    with pytest.raises(ActionError, match="顶级组织"):
        actions.catalog_file(version, actor=boss)
    actions.catalog_publish(version, actor=boss, audience=Audience(society=True))
    version.refresh_from_db()
    assert version.status == S.PUBLISHED and version.published_at is not None


def published(world, audience):
    version = filed(world)
    actions.catalog_acknowledge(version, actor=world.paula)
    return actions.catalog_publish(version, actor=world.bob, audience=audience)


def test_adjusting_copies_the_published_version_and_publishing_supersedes_it(world):
    v1 = published(world, Audience(party=(world.branch1.pk,)))
    v2 = actions.catalog_adjust(world.branch1, actor=world.bob, note="增加党费条目")
    assert v2.number == 2 and v2.based_on == v1
    assert list(v2.entries.values_list("lineage", flat=True)) == list(
        v1.entries.values_list("lineage", flat=True)
    )
    with pytest.raises(ActionError, match="正在办理"):
        actions.catalog_adjust(world.branch1, actor=world.bob)
    actions.catalog_adopt(v2, actor=world.alice, meeting="支委会", decided_on=TODAY)
    actions.catalog_file(v2, actor=world.bob)
    actions.catalog_acknowledge(v2, actor=world.paula)
    actions.catalog_publish(v2, actor=world.bob)
    v1.refresh_from_db()
    assert v1.status == S.SUPERSEDED and v1.superseded_at is not None
    assert v1.entries.count() == v2.entries.count()  # old versions stay readable


def test_an_entry_is_withheld_only_with_the_parents_approval_and_a_public_explanation(world):
    version = published(world, Audience(party=(world.branch1.pk,)))
    entry = version.entries.first()
    with pytest.raises(NotAllowed):
        actions.entry_set_state(entry, actor=world.alice, state="withheld", explanation="涉及…")
    with pytest.raises(ActionError, match="理由"):
        actions.entry_set_state(entry, actor=world.paula, state="withheld", explanation="")
    actions.entry_set_state(entry, actor=world.paula, state="withheld", explanation="换届期间暂缓")
    entry.refresh_from_db()
    assert entry.state == CatalogEntry.State.WITHHELD and entry.state_note == "换届期间暂缓"
    assert version.events.filter(kind=CatalogEvent.Kind.ENTRY_STATE).exists()


def test_where_the_rules_say_so_the_parent_sets_the_subordinates_catalog(world, settings):
    from dwgk.catalog.rulesets import Ruleset, all_rulesets

    with pytest.raises(NotAllowed):
        actions.catalog_generate_draft(world.branch1, actor=world.paula)
    bj = all_rulesets()["bj"]
    all_rulesets()["bj"] = Ruleset(**{**bj.__dict__, "parent_sets_catalog": True})
    try:
        version = actions.catalog_generate_draft(world.branch1, actor=world.paula)
        assert version.created_by == world.paula
    finally:
        all_rulesets.cache_clear()
