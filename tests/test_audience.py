"""Who sees what (SCOPE-1): every audience kind over the shared cast, changes of place taking
effect at once, and the newest-first feed with its keyset pages.

Every check goes through `seen()`, which asks visible_to, can_see and newest_visible and
insists that the three agree: visibility is decided in one place.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dwgk.accounts.actions import affiliation_end, member_leave, member_transfer, role_revoke
from dwgk.accounts.models import Affiliation, Role, RoleGrant
from dwgk.audience.keys import Audience, viewer_keys
from dwgk.audience.models import Cursor, can_see
from dwgk.orgs.actions import org_move
from tests.cast import Cast, make_member, make_org, make_user
from tests.testapp.models import Bulletin

T0 = datetime.datetime(2025, 3, 1, 9, 0, tzinfo=datetime.UTC)
ANON = AnonymousUser()


def post(
    title: str,
    cast: Cast,
    published_at: datetime.datetime | None = T0,
    **audience: Any,
) -> Bulletin:
    item = Bulletin(org=cast.city, title=title, published_at=published_at)
    item.set_audience(Audience(**audience))
    item.save()
    return item


def all_pages(user: Any, limit: int) -> list[Bulletin]:
    items: list[Bulletin] = []
    cursor: Cursor | None = None
    while True:
        page, cursor = Bulletin.objects.newest_visible(user, limit, after=cursor)
        assert len(page) <= limit
        items += page
        if cursor is None:
            return items
        assert len(page) == limit, "a page with a next cursor must be full"


def seen(user: Any) -> set[str]:
    """Titles this user sees; visible_to, can_see and newest_visible must agree."""
    listed = set(Bulletin.objects.visible_to(user).values_list("title", flat=True))
    checked = {b.title for b in Bulletin.objects.all() if can_see(user, b)}
    fed = [b.title for b in all_pages(user, 2)]
    assert len(fed) == len(set(fed)), "the feed repeats an item"
    assert listed == checked == set(fed)
    return listed


def who_sees(cast: Cast, title: str) -> set[str]:
    people = {
        "anonymous": ANON,
        "alice": cast.alice,
        "bob": cast.bob,
        "charlie": cast.charlie,
        "dora": cast.dora,
        "erin": cast.erin,
        "olga": cast.olga,
    }
    return {name for name, user in people.items() if title in seen(user)}


EVERYONE = {"anonymous", "alice", "bob", "charlie", "dora", "erin", "olga"}


# --- each audience kind -------------------------------------------------------------------


def test_society_items_are_seen_by_everyone_including_anonymous_visitors(cast):
    post("公告", cast, society=True)
    assert who_sees(cast, "公告") == EVERYONE


def test_a_society_item_stores_only_the_public_key_whatever_else_is_ticked(cast):
    item = post("公告", cast, society=True, party=(cast.branch1.pk,), people=(cast.bob.pk,))
    assert list(item.audience_keys.values_list("key", flat=True)) == ["public"]
    assert who_sees(cast, "公告") == EVERYONE


def test_party_items_of_an_org_reach_the_members_of_its_whole_subtree(cast):
    post("社区党委党内通报", cast, party=(cast.community.pk,))
    # dora is a resident of the community but not a party member; erin is a member elsewhere.
    assert who_sees(cast, "社区党委党内通报") == {"alice", "bob", "charlie"}


def test_party_items_of_a_branch_do_not_reach_a_sibling_branch(cast):
    post("第一支部党内通报", cast, party=(cast.branch1.pk,))
    assert who_sees(cast, "第一支部党内通报") == {"alice", "bob"}


def test_party_items_of_the_city_reach_members_everywhere_below_it(cast):
    post("全市党内通报", cast, party=(cast.city.pk,))
    # olga holds a role at the district but is not a party member of any branch.
    assert who_sees(cast, "全市党内通报") == {"alice", "bob", "charlie", "erin"}


def test_unit_items_reach_affiliated_non_members_of_the_subtree_too(cast):
    post("社区范围通知", cast, units=(cast.community.pk,))
    assert who_sees(cast, "社区范围通知") == {"alice", "bob", "charlie", "dora"}


def test_unit_items_reach_members_and_staff_of_a_university(cast):
    post("学院范围通知", cast, units=(cast.school.pk,))
    post("全校通知", cast, units=(cast.university.pk,))
    assert who_sees(cast, "学院范围通知") == {"erin"}
    assert who_sees(cast, "全校通知") == {"erin"}


def test_unit_items_of_a_branch_do_not_reach_people_affiliated_higher_up(cast):
    post("第一支部范围通知", cast, units=(cast.branch1.pk,))
    assert who_sees(cast, "第一支部范围通知") == {"alice", "bob"}


def test_org_items_reach_the_members_of_that_very_branch(cast):
    post("致第一支部", cast, orgs=(cast.branch1.pk,))
    assert who_sees(cast, "致第一支部") == {"alice", "bob"}


def test_org_items_reach_people_affiliated_there_but_not_members_of_branches_below(cast):
    post("致社区党委", cast, orgs=(cast.community.pk,))
    assert who_sees(cast, "致社区党委") == {"dora"}


def test_org_items_reach_whoever_holds_a_role_there(cast):
    post("致区委", cast, orgs=(cast.district.pk,))
    assert who_sees(cast, "致区委") == {"olga"}


def test_an_inherited_role_higher_up_does_not_make_one_a_recipient_below(cast):
    # olga's org_admin grant at the district is inherited down the subtree for managing,
    # but 特定组织 means the organization itself: her own grant is at the district.
    post("致第二支部", cast, orgs=(cast.branch2.pk,))
    assert who_sees(cast, "致第二支部") == {"charlie"}


def test_person_items_reach_only_the_named_people(cast):
    post("致个人", cast, people=(cast.dora.pk, cast.erin.pk))
    assert who_sees(cast, "致个人") == {"dora", "erin"}


def test_a_combined_audience_is_the_union_of_its_parts(cast):
    post(
        "组合范围",
        cast,
        party=(cast.branch2.pk,),
        units=(cast.university.pk,),
        orgs=(cast.district.pk,),
        people=(cast.dora.pk,),
    )
    assert who_sees(cast, "组合范围") == {"charlie", "erin", "olga", "dora"}


def test_an_empty_audience_is_seen_by_nobody(cast):
    post("无范围", cast)
    assert who_sees(cast, "无范围") == set()


def test_an_unpublished_item_is_seen_by_nobody_whatever_its_audience(cast):
    post("草稿", cast, published_at=None, society=True, people=(cast.alice.pk,))
    assert who_sees(cast, "草稿") == set()


def test_withdrawing_an_item_hides_it_and_republishing_shows_it_again(cast):
    item = post("撤回", cast, party=(cast.branch1.pk,))
    item.published_at = None
    item.save()
    assert not item.audience_keys.exists()
    assert who_sees(cast, "撤回") == set()
    item.published_at = T0
    item.save()
    assert who_sees(cast, "撤回") == {"alice", "bob"}


# --- changes of place take effect at once ----------------------------------------------


def test_a_member_transfer_changes_what_they_see_at_once(cast):
    post("第一支部", cast, party=(cast.branch1.pk,))
    post("第二支部", cast, party=(cast.branch2.pk,))
    post("教工支部", cast, units=(cast.uni_branch.pk,))
    assert seen(cast.bob) == {"第一支部"}
    member_transfer(cast.bob, cast.branch2, actor=None)
    assert seen(cast.bob) == {"第二支部"}
    member_transfer(cast.bob, cast.uni_branch, actor=None)
    assert seen(cast.bob) == {"教工支部"}


def test_moving_an_org_changes_who_sees_what_at_once(cast):
    post("街道党内", cast, party=(cast.street.pk,))
    post("区委范围", cast, units=(cast.district.pk,))
    post("大学党内", cast, party=(cast.university.pk,))
    assert who_sees(cast, "街道党内") == {"alice", "bob", "charlie"}
    assert who_sees(cast, "区委范围") == {"alice", "bob", "charlie", "dora"}

    org_move(cast.community, cast.university, actor=None)

    assert who_sees(cast, "街道党内") == set()
    assert who_sees(cast, "区委范围") == set()
    assert who_sees(cast, "大学党内") == {"alice", "bob", "charlie", "erin"}


def test_moving_a_single_branch_takes_only_its_members_along(cast):
    post("社区党内", cast, party=(cast.community.pk,))
    org_move(cast.branch2, cast.discipline, actor=None)
    assert who_sees(cast, "社区党内") == {"alice", "bob"}


def test_a_member_who_leaves_stops_seeing_party_items(cast):
    post("第一支部", cast, party=(cast.branch1.pk,))
    member_leave(cast.bob, actor=None)
    assert who_sees(cast, "第一支部") == {"alice"}


def test_a_revoked_role_stops_org_visibility(cast):
    post("致区委", cast, orgs=(cast.district.pk,))
    grant = RoleGrant.objects.get(user=cast.olga, org=cast.district, role=Role.ORG_ADMIN)
    role_revoke(grant, actor=None)
    assert who_sees(cast, "致区委") == set()


def test_an_ended_affiliation_stops_unit_and_org_visibility(cast):
    post("社区范围", cast, units=(cast.community.pk,))
    post("致社区党委", cast, orgs=(cast.community.pk,))
    assert seen(cast.dora) == {"社区范围", "致社区党委"}
    affiliation_end(Affiliation.objects.get(user=cast.dora), actor=None)
    assert seen(cast.dora) == set()


def test_an_inactive_account_sees_only_public_items(cast):
    post("公告", cast, society=True)
    post("第一支部", cast, party=(cast.branch1.pk,))
    post("致艾丽", cast, people=(cast.alice.pk,))
    post("致第一支部", cast, orgs=(cast.branch1.pk,))
    assert seen(cast.alice) == {"公告", "第一支部", "致艾丽", "致第一支部"}
    cast.alice.is_active = False
    cast.alice.save()
    assert seen(cast.alice) == {"公告"}
    assert viewer_keys(cast.alice) == ["public"]


def test_an_anonymous_visitor_has_only_the_public_key(db):
    assert viewer_keys(ANON) == ["public"]
    assert viewer_keys(None) == ["public"]


def test_a_person_without_any_place_sees_public_and_their_own_items(cast):
    zed = make_user("zed")
    post("公告", cast, society=True)
    post("致zed", cast, people=(zed.pk,))
    post("全市党内", cast, party=(cast.city.pk,))
    assert seen(zed) == {"公告", "致zed"}


# --- the newest-first feed ------------------------------------------------------------


def titles(items: list[Bulletin]) -> list[str]:
    return [b.title for b in items]


def test_newest_visible_lists_newest_first_and_breaks_ties_by_descending_id(cast):
    older = post("旧", cast, published_at=T0 - datetime.timedelta(days=1), society=True)
    tied = [post(f"同时{i}", cast, published_at=T0, society=True) for i in range(3)]
    newer = post("新", cast, published_at=T0 + datetime.timedelta(seconds=1), society=True)
    page, cursor = Bulletin.objects.newest_visible(ANON, 10)
    assert page == [newer, *reversed(tied), older]
    assert cursor is None


def test_an_item_visible_through_several_keys_appears_once(cast):
    post(
        "多重",
        cast,
        party=(cast.city.pk, cast.branch1.pk),
        units=(cast.community.pk,),
        orgs=(cast.branch1.pk,),
        people=(cast.alice.pk,),
    )
    post("另一条", cast, published_at=T0 - datetime.timedelta(hours=1), people=(cast.alice.pk,))
    page, cursor = Bulletin.objects.newest_visible(cast.alice, 2)
    assert titles(page) == ["多重", "另一条"]
    assert cursor is None
    first, cursor = Bulletin.objects.newest_visible(cast.alice, 1)
    assert titles(first) == ["多重"] and cursor is not None
    second, cursor = Bulletin.objects.newest_visible(cast.alice, 1, after=cursor)
    assert titles(second) == ["另一条"] and cursor is None


def test_keyset_pages_join_up_without_gaps_or_repeats_across_tied_timestamps(cast):
    stamps = [T0, T0, T0, T0 - datetime.timedelta(minutes=1), T0, T0 - datetime.timedelta(days=3)]
    audiences: list[dict[str, Any]] = [
        {"society": True},
        {"party": (cast.branch1.pk,)},
        {"units": (cast.community.pk,)},
        {"people": (cast.bob.pk,)},
        {"party": (cast.branch2.pk,)},  # not bob's
        {"orgs": (cast.branch1.pk,), "people": (cast.bob.pk,)},
    ]
    items = [
        post(f"条目{i}", cast, s, **a)
        for i, (s, a) in enumerate(zip(stamps, audiences, strict=True))
    ]
    expected = sorted(
        (b for b in items if b.title != "条目4"),
        key=lambda b: (b.published_at, b.pk),
        reverse=True,
    )
    for size in (1, 2, 3, 5, 6, 20):
        assert all_pages(cast.bob, size) == expected


def test_the_last_item_is_not_lost_when_one_key_holds_exactly_one_more_than_a_page(cast):
    for i in range(3):
        post(f"公告{i}", cast, published_at=T0 - datetime.timedelta(hours=i), society=True)
    page, cursor = Bulletin.objects.newest_visible(ANON, 2)
    assert titles(page) == ["公告0", "公告1"] and cursor is not None
    page, cursor = Bulletin.objects.newest_visible(ANON, 2, after=cursor)
    assert titles(page) == ["公告2"] and cursor is None


def test_the_after_cursor_starts_strictly_after_the_given_position(cast):
    a = post("甲", cast, published_at=T0, society=True)
    b = post("乙", cast, published_at=T0, society=True)
    c = post("丙", cast, published_at=T0 - datetime.timedelta(microseconds=1), society=True)
    page, _ = Bulletin.objects.newest_visible(ANON, 10, after=Cursor(T0, b.pk))
    assert page == [a, c]
    page, _ = Bulletin.objects.newest_visible(ANON, 10, after=Cursor(T0, a.pk))
    assert page == [c]


def test_a_cursor_survives_its_text_form_and_garbage_decodes_to_none(cast):
    stamp = datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=datetime.UTC)
    cursor = Cursor(stamp, 42)
    assert Cursor.decode(cursor.encode()) == cursor
    for garbage in ("", "abc", "1.5", "x_1", "1_y", "nan_1", "inf_1", "1e300_1"):
        assert Cursor.decode(garbage) is None


def test_newest_visible_refuses_a_filtered_queryset(cast):
    with pytest.raises(TypeError):
        Bulletin.objects.filter(org=cast.city).newest_visible(ANON)
    with pytest.raises(TypeError):
        Bulletin.objects.visible_to(ANON).newest_visible(ANON)


def test_visible_to_combines_with_other_filters(cast):
    post("市委公告", cast, society=True)
    other = Bulletin(org=cast.district, title="区委公告", published_at=T0)
    other.set_audience(Audience(society=True))
    other.save()
    qs = Bulletin.objects.visible_to(ANON).filter(org=cast.district)
    assert list(qs.values_list("title", flat=True)) == ["区委公告"]
    assert qs.count() == 1


# --- the wording people read ----------------------------------------------------------


def test_describe_uses_the_familiar_chinese_wording(cast):
    assert Audience(society=True, party=(cast.city.pk,)).describe() == "向社会公开"
    assert Audience(party=(cast.community.pk,)).describe() == "湖滨社区党委党内公开"
    assert Audience(units=(cast.university.pk,)).describe() == "明州医科大学党委范围内公开"
    assert Audience(orgs=(cast.district.pk,)).describe() == "向东湖区委公开"
    assert Audience(people=(cast.bob.pk, cast.alice.pk)).describe() == "向艾丽、鲍勃本人公开"
    assert Audience().describe() == "未设定公开范围"


def test_describe_joins_parts_and_prefers_short_names(cast):
    short = make_org("明州市湖滨社区第三党支部", "branch", cast.community, short_name="第三支部")
    audience = Audience(party=(cast.branch1.pk, short.pk), people=(cast.dora.pk,))
    assert audience.describe() == "湖滨社区第一党支部、第三支部党内公开；向朵拉本人公开"


def test_an_audience_round_trips_through_json_and_ignores_order_and_repeats(db):
    audience = Audience.from_json({"party": [3, 1, 3], "people": ["7"], "note": "说明"})
    assert audience == Audience(party=(1, 3), people=(7,))
    assert Audience.from_json(audience.to_json()) == audience
    assert audience.to_json()["note"] == "说明"
    assert Audience.from_json(None).is_empty


def test_published_times_are_kept_to_the_microsecond_in_feed_order(cast):
    base = timezone.now().replace(microsecond=500000)
    late = post("晚", cast, published_at=base + datetime.timedelta(microseconds=1), society=True)
    early = post("早", cast, published_at=base, society=True)
    page, _ = Bulletin.objects.newest_visible(ANON, 5)
    assert page == [late, early]


# --- the keys are read once per GET request -------------------------------------------------


def _keys_twice(request: Any) -> Any:
    from django.http import HttpResponse

    with CaptureQueriesContext(connection) as queries:
        first, second = viewer_keys(request.user), viewer_keys(request.user)
    assert first == second
    return HttpResponse(str(len(queries)))


@pytest.mark.parametrize(("method", "reads"), [("GET", 1), ("HEAD", 1), ("POST", 2)])
def test_a_get_request_reads_the_viewer_keys_once(cast, rf, method, reads):
    from dwgk.audience.keys import ViewerKeysPerRequest

    request = rf.generic(method, "/")
    request.user = make_member("kai", cast.branch1)
    assert ViewerKeysPerRequest(_keys_twice)(request).content == str(reads).encode()


def test_outside_a_request_the_keys_follow_every_change(cast):
    from dwgk.accounts.actions import member_join

    kai = make_user("kai")
    assert f"members:{cast.branch1.pk}" not in viewer_keys(kai)
    member_join(kai, cast.branch1, actor=None, started_on=datetime.date(2024, 1, 1))
    assert f"members:{cast.branch1.pk}" in viewer_keys(kai)
