"""visible_to, can_see and newest_visible against a brute-force reference, on random worlds.

Each example builds a random organization tree, random people, and random bulletins, then
applies a random sequence of changes through the real action functions (joins, transfers,
leaving, affiliations, roles, moves of whole subtrees, deactivated accounts, withdrawn and
republished bulletins). The reference then decides visibility from scratch: it reads the
audience JSON and walks `parent` foreign keys upwards — never the materialized path, never
the audience key tables — and every (viewer, bulletin) pair must agree with it.

Timestamps come from a handful of values, so ties in the feed order are the rule.
"""

from __future__ import annotations

import contextlib
import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from dwgk.accounts import actions as people_actions
from dwgk.accounts.models import Affiliation, Membership, Role, RoleGrant, User
from dwgk.audience.keys import Audience
from dwgk.audience.models import Cursor, can_see
from dwgk.lib.errors import ActionError
from dwgk.orgs.actions import org_move
from dwgk.orgs.models import Organization, OrgType
from tests.testapp.models import Bulletin

MAX_ORGS = 12
MAX_PEOPLE = 6
MAX_BULLETINS = 10
MAX_OPS = 24
PAGE = 3
T0 = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
# Few distinct instants on purpose: the feed must order ties by id, and page across them.
STAMPS = [T0 + datetime.timedelta(seconds=s) for s in (0, 0, 1, 60, 3600)] + [
    T0 + datetime.timedelta(microseconds=1)
]
ROLES = [Role.PRINCIPAL, Role.CLERK]


@dataclass
class World:
    n_orgs: int
    parents: list[int | None]  # index of each org's parent (always an earlier org)
    branches: list[bool]  # OrgType 'branch' (holds_members) or not
    n_people: int
    start: list[tuple[int | None, int | None]]  # each person's first branch and unit, if any
    bulletins: list[tuple[dict[str, Any], datetime.datetime | None]]
    ops: list[tuple[Any, ...]]


def _audience(n_orgs: int, n_people: int) -> st.SearchStrategy[dict[str, Any]]:
    orgs = st.lists(st.integers(0, n_orgs - 1), max_size=3)
    people = st.lists(st.integers(0, n_people - 1), max_size=2) if n_people else st.just([])
    return st.fixed_dictionaries(
        {
            "society": st.sampled_from([False, False, False, True]),
            "party": orgs,
            "units": orgs,
            "orgs": orgs,
            "people": people,
        }
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_orgs = draw(st.integers(1, MAX_ORGS))
    parents: list[int | None] = [None]
    for i in range(1, n_orgs):
        # Mostly one tree; now and then a second root.
        parents.append(draw(st.none() | st.integers(0, i - 1) | st.integers(0, i - 1)))
    branches = [draw(st.booleans()) for _ in range(n_orgs)]
    n_people = draw(st.integers(1, MAX_PEOPLE))
    org = st.integers(0, n_orgs - 1)
    # Mostly a real branch, so that joins and transfers usually go through; sometimes any
    # organization, so that the refusals are exercised too.
    branch_indices = [i for i, is_branch in enumerate(branches) if is_branch]
    branch = st.sampled_from(branch_indices) | org if branch_indices else org
    start = [(draw(st.none() | branch), draw(st.none() | org)) for _ in range(n_people)]
    stamp = st.sampled_from(STAMPS)
    bulletins = draw(
        st.lists(
            st.tuples(_audience(n_orgs, n_people), st.none() | stamp | stamp),
            min_size=1,
            max_size=MAX_BULLETINS,
        )
    )
    op_choices: list[st.SearchStrategy[tuple[Any, ...]]] = [
        st.tuples(st.just("move"), org, org),
    ]
    if bulletins:
        bulletin = st.integers(0, len(bulletins) - 1)
        op_choices.append(st.tuples(st.just("republish"), bulletin, st.none() | stamp))
    if n_people:
        person = st.integers(0, n_people - 1)
        op_choices += [
            st.tuples(st.just("join"), person, branch),
            st.tuples(st.just("transfer"), person, branch),
            st.tuples(st.just("transfer"), person, branch),
            st.tuples(st.just("leave"), person),
            st.tuples(st.just("affiliate"), person, org),
            st.tuples(st.just("affiliation_end"), person, st.integers(0, 2)),
            st.tuples(st.just("grant"), person, org, st.sampled_from(ROLES), st.booleans()),
            st.tuples(st.just("revoke"), person, st.integers(0, 2)),
            st.tuples(st.just("deactivate"), person),
        ]
    ops = draw(st.lists(st.one_of(op_choices), max_size=MAX_OPS))
    return World(n_orgs, parents, branches, n_people, start, bulletins, ops)


def _map_audience(raw: dict[str, Any], orgs: list[Organization], people: list[User]) -> Audience:
    return Audience(
        society=raw["society"],
        party=tuple(orgs[i].pk for i in raw["party"]),
        units=tuple(orgs[i].pk for i in raw["units"]),
        orgs=tuple(orgs[i].pk for i in raw["orgs"]),
        people=tuple(people[i].pk for i in raw["people"]),
    )


def _apply(op: tuple[Any, ...], orgs: list[Organization], people: list[User]) -> None:
    kind = op[0]
    # Fresh rows each time: moves rewrite paths, and the actions lock and re-read anyway.
    if kind == "move":
        org = Organization.objects.get(pk=orgs[op[1]].pk)
        new_parent = Organization.objects.get(pk=orgs[op[2]].pk)
        org_move(org, new_parent, actor=None)
        return
    user = User.objects.get(pk=people[op[1]].pk)
    if kind == "join":
        people_actions.member_join(user, Organization.objects.get(pk=orgs[op[2]].pk), actor=None)
    elif kind == "transfer":
        to = Organization.objects.get(pk=orgs[op[2]].pk)
        people_actions.member_transfer(user, to, actor=None)
    elif kind == "leave":
        people_actions.member_leave(user, actor=None)
    elif kind == "affiliate":
        people_actions.affiliate(user, Organization.objects.get(pk=orgs[op[2]].pk), actor=None)
    elif kind == "affiliation_end":
        current = list(Affiliation.objects.filter(user=user, ended_on__isnull=True).order_by("pk"))
        if current:
            people_actions.affiliation_end(current[op[2] % len(current)], actor=None)
    elif kind == "grant":
        org = Organization.objects.get(pk=orgs[op[2]].pk)
        people_actions.role_grant(user, org, op[3], actor=None, inherit=op[4])
    elif kind == "revoke":
        grants = list(RoleGrant.objects.current().filter(user=user).order_by("pk"))
        if grants:
            people_actions.role_revoke(grants[op[2] % len(grants)], actor=None)
    elif kind == "deactivate":
        user.is_active = False
        user.save(update_fields=["is_active"])
    else:  # pragma: no cover
        raise AssertionError(kind)


# --- the reference: from scratch, by walking parent foreign keys ------------------------


def _reference(viewers: list[Any]) -> dict[int | None, set[int]]:
    """For each viewer (None = anonymous), the ids of the bulletins they may see."""
    parent = dict(Organization.objects.values_list("pk", "parent_id"))

    def up(org_id: int) -> set[int]:
        chain = set()
        node: int | None = org_id
        while node is not None:
            assert node not in chain, "cycle in the organization tree"
            chain.add(node)
            node = parent[node]
        return chain

    bulletins = [
        (b.pk, Audience.from_json(b.audience)) for b in Bulletin.objects.exclude(published_at=None)
    ]
    result: dict[int | None, set[int]] = {}
    for viewer in viewers:
        pk: int | None = None
        branches: set[int] = set()
        affiliated: set[int] = set()
        roles: set[int] = set()
        if viewer is not None and User.objects.get(pk=viewer.pk).is_active:
            pk = viewer.pk
            current = Membership.objects.filter(user_id=pk, ended_on=None)
            branches = set(current.values_list("branch_id", flat=True))
            affiliations = Affiliation.objects.filter(user_id=pk, ended_on=None)
            affiliated = set(affiliations.values_list("org_id", flat=True))
            grants = RoleGrant.objects.filter(user_id=pk, revoked_at=None)
            roles = set(grants.values_list("org_id", flat=True))
        above_branch: set[int] = set().union(*(up(b) for b in branches))
        above_unit = above_branch.union(*(up(a) for a in affiliated))
        direct = branches | affiliated | roles
        seen = set()
        for bulletin_pk, audience in bulletins:
            if (
                audience.society
                or above_branch & set(audience.party)
                or above_unit & set(audience.units)
                or direct & set(audience.orgs)
                or (pk is not None and pk in audience.people)
            ):
                seen.add(bulletin_pk)
        result[None if viewer is None else viewer.pk] = seen
    return result


class AudienceAgainstReferenceTests(TestCase):
    branch_type: OrgType
    committee_type: OrgType

    @classmethod
    def setUpTestData(cls) -> None:
        cls.branch_type = OrgType.objects.get(code="branch")
        cls.committee_type = OrgType.objects.get(code="grassroots_committee")
        assert cls.branch_type.holds_members and not cls.committee_type.holds_members

    @settings(
        max_examples=300,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(world=worlds())
    def test_every_viewer_sees_exactly_what_the_reference_says(self, world: World) -> None:
        orgs: list[Organization] = []
        for i in range(world.n_orgs):
            parent_index = world.parents[i]
            orgs.append(
                Organization.objects.create(
                    name=f"组织{i}",
                    code=f"P{i}",
                    org_type=self.branch_type if world.branches[i] else self.committee_type,
                    parent=None if parent_index is None else orgs[parent_index],
                )
            )
        people = [
            User.objects.create(username=f"p{i}", name=f"人员{i}") for i in range(world.n_people)
        ]
        for i, (first_branch, first_unit) in enumerate(world.start):
            if first_branch is not None:
                with contextlib.suppress(ActionError):
                    _apply(("join", i, first_branch), orgs, people)
            if first_unit is not None:
                _apply(("affiliate", i, first_unit), orgs, people)
        bulletins = []
        for raw, stamp in world.bulletins:
            b = Bulletin(org=orgs[0], title="t", published_at=stamp)
            b.set_audience(_map_audience(raw, orgs, people))
            b.save()
            bulletins.append(b)

        for op in world.ops:
            if op[0] == "republish":
                b = bulletins[op[1]]
                b.published_at = op[2]
                b.save()
                continue
            try:
                _apply(op, orgs, people)
                event(f"{op[0]}: done")
            except ActionError:
                # An invalid move, a second branch, a repeated grant ...: nothing changed.
                event(f"{op[0]}: refused")

        viewers: list[Any] = [None, *User.objects.order_by("pk")]
        expected = _reference(viewers)
        stamps = dict(Bulletin.objects.values_list("pk", "published_at"))
        for viewer in viewers:
            who = AnonymousUser() if viewer is None else viewer
            want = expected[None if viewer is None else viewer.pk]

            if viewer is not None and want - expected[None]:
                event("a signed-in viewer sees a non-public bulletin")
            got = set(Bulletin.objects.visible_to(who).values_list("pk", flat=True))
            assert got == want, (viewer, got, want)

            for b in bulletins:
                assert can_see(who, b) == (b.pk in want), (viewer, b.pk)

            feed: list[int] = []
            cursor: Cursor | None = None
            while True:
                page, cursor = Bulletin.objects.newest_visible(who, PAGE, after=cursor)
                feed += [b.pk for b in page]
                if cursor is None:
                    break
                assert len(page) == PAGE
            assert feed == sorted(want, key=lambda pk: (stamps[pk], pk), reverse=True)
