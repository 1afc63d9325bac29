"""The hierarchy: paths, ancestors, subtrees, moves, cycles, dissolution, merging."""

from __future__ import annotations

import pytest

from dwgk.accounts.models import Membership, RoleGrant
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.orgs.actions import org_dissolve, org_merge, org_move, org_rename
from dwgk.orgs.models import Organization, OrgEvent, OrgType
from tests.cast import make_org, make_user


def test_every_org_type_from_the_rules_is_loaded_as_data(db):
    codes = set(OrgType.objects.values_list("code", flat=True))
    assert {
        "city_committee",
        "branch",
        "discipline_commission",
        "leading_party_group",
        "dispatched_working_committee",
        "affiliated_institution",
        "school_committee",
    } <= codes
    assert set(OrgType.objects.filter(holds_members=True).values_list("code", flat=True)) == {
        "branch",
        "joint_branch",
    }
    assert all(t.template and t.basis for t in OrgType.objects.all())


def test_ancestors_are_read_off_the_path_root_first(cast):
    assert cast.branch1.ancestor_ids == [
        cast.city.pk,
        cast.district.pk,
        cast.street.pk,
        cast.community.pk,
        cast.branch1.pk,
    ]
    names = [o.name for o in Organization.objects.ancestors_of(cast.branch1, include_self=False)]
    assert names == ["明州市委", "东湖区委", "湖滨街道党工委", "湖滨社区党委"]


def test_subtree_holds_exactly_the_descendants(cast):
    sub = set(Organization.objects.subtree_of(cast.street).values_list("name", flat=True))
    assert sub == {"湖滨街道党工委", "湖滨社区党委", "湖滨社区第一党支部", "湖滨社区第二党支部"}


def test_subtree_does_not_leak_into_a_sibling_whose_id_shares_a_prefix(db):
    root = make_org("根", "city_committee")
    a = make_org("甲", "district_committee", root)
    # ids 1.., paths are fixed width, so "…0002" is never a prefix of "…0020"
    others = [make_org(f"乙{i}", "district_committee", root) for i in range(25)]
    child = make_org("甲下", "branch", a)
    assert set(Organization.objects.subtree_of(a)) == {a, child}
    assert set(Organization.objects.subtree_of(root)) == {root, a, child, *others}


def test_moving_an_org_moves_its_whole_subtree_and_keeps_history(cast):
    org_move(cast.community, cast.district, actor=cast.olga, note="街道撤并")
    for org in Organization.objects.subtree_of(cast.community):
        assert org.path.startswith(cast.district.path)
        assert cast.street.pk not in org.ancestor_ids
    branch1 = Organization.objects.get(pk=cast.branch1.pk)
    assert branch1.ancestor_ids == [cast.city.pk, cast.district.pk, cast.community.pk, branch1.pk]
    event = OrgEvent.objects.get(org=cast.community, kind=OrgEvent.Kind.MOVED)
    assert event.from_parent == cast.street and event.to_parent == cast.district


def test_a_cycle_is_impossible(cast):
    with pytest.raises(ActionError, match="下级组织之下"):
        org_move(cast.street, cast.branch1, actor=None)
    with pytest.raises(ActionError):
        org_move(cast.street, cast.street, actor=None)
    cast.street.refresh_from_db()
    assert cast.street.parent == cast.district


def test_an_org_admin_cannot_move_things_outside_their_subtree(cast):
    with pytest.raises(NotAllowed):
        org_move(cast.school, cast.district, actor=cast.olga)
    with pytest.raises(NotAllowed):
        org_move(cast.branch1, cast.university, actor=cast.olga)


def test_an_org_referred_to_cannot_be_hard_deleted(cast):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        cast.branch1.delete()
    assert Organization.objects.filter(pk=cast.branch1.pk).exists()


def test_dissolving_needs_an_empty_org_and_keeps_the_row(cast):
    with pytest.raises(ActionError, match="仍有党员"):
        org_dissolve(cast.branch2, actor=None)
    empty = make_org("临时党支部", "branch", cast.community)
    org_dissolve(empty, actor=None, note="任务完成")
    empty.refresh_from_db()
    assert empty.status == Organization.Status.DISSOLVED and empty.ended_on is not None
    assert OrgEvent.objects.filter(org=empty, kind=OrgEvent.Kind.DISSOLVED).exists()


def test_merging_moves_members_children_and_ends_roles(cast):
    org_merge(cast.branch1, cast.branch2, actor=cast.olga, note="支部合并")
    cast.branch1.refresh_from_db()
    assert cast.branch1.status == Organization.Status.MERGED
    assert cast.branch1.merged_into == cast.branch2
    assert Membership.objects.get(user=cast.bob, ended_on__isnull=True).branch == cast.branch2
    assert (
        Membership.objects.filter(user=cast.bob, branch=cast.branch1).get().end_reason == "merged"
    )
    assert not RoleGrant.objects.current().filter(org=cast.branch1).exists()


def test_renaming_keeps_the_old_name_in_the_history(cast):
    org_rename(cast.branch1, actor=None, name="湖滨社区党员服务党支部")
    event = OrgEvent.objects.get(org=cast.branch1, kind=OrgEvent.Kind.RENAMED)
    assert event.old_name == "湖滨社区第一党支部"


def test_members_can_only_join_a_branch(cast):
    from dwgk.accounts.actions import member_join

    u = make_user("zed")
    with pytest.raises(ActionError, match="不是党支部"):
        member_join(u, cast.community, actor=None)
