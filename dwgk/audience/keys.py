"""Audiences (SCOPE-1) as keys: the one place that decides who sees what.

An object's audience is stored as a small JSON value and turned into *keys*:

    public          society: everyone, anonymous visitors included
    members:<org>   party members whose branch lies in <org>'s subtree
    unit:<org>      everyone in the unit <org> or below: members of a branch there and
                    people affiliated with an organization there
    org:<org>       the organization itself as a recipient (特定组织): its own members and
                    affiliated people, and whoever holds a role in it
    person:<user>   one named person

A viewer's keys are derived from where they stand today, with subtree semantics resolved
on the viewer's side (the ancestors of their branch and units are read off the
materialized path), so an audience never fans out to one row per recipient and transfers
or organization moves take effect at once. The object is visible when the two key sets
meet. See DESIGN-NOTES "Who-sees-what at scale".
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

PUBLIC = "public"


@dataclass(frozen=True)
class Audience:
    """Who an object is disclosed to. Parts combine as a union."""

    society: bool = False
    party: tuple[int, ...] = ()  # 党内: party members under these organizations
    units: tuple[int, ...] = ()  # 本单位: everyone in these units' subtrees
    orgs: tuple[int, ...] = ()  # 特定组织
    people: tuple[int, ...] = ()  # 特定人员
    note: str = field(default="", compare=False)  # the free-text 公开范围 description

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> Audience:
        value = value or {}
        return cls(
            society=bool(value.get("society", False)),
            party=tuple(sorted({int(x) for x in value.get("party", [])})),
            units=tuple(sorted({int(x) for x in value.get("units", [])})),
            orgs=tuple(sorted({int(x) for x in value.get("orgs", [])})),
            people=tuple(sorted({int(x) for x in value.get("people", [])})),
            note=str(value.get("note", "")),
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "society": self.society,
            "party": list(self.party),
            "units": list(self.units),
            "orgs": list(self.orgs),
            "people": list(self.people),
        }
        if self.note:
            data["note"] = self.note
        return data

    @property
    def is_empty(self) -> bool:
        return not (self.society or self.party or self.units or self.orgs or self.people)

    def to_keys(self) -> list[str]:
        """The keys stored with an object that has this audience."""
        if self.society:
            # Everyone can see it: further keys would add rows and change nothing.
            return [PUBLIC]
        return (
            [f"members:{o}" for o in self.party]
            + [f"unit:{o}" for o in self.units]
            + [f"org:{o}" for o in self.orgs]
            + [f"person:{p}" for p in self.people]
        )

    def describe(self) -> str:
        """The audience in the familiar Chinese wording, for people to read."""
        from dwgk.accounts.models import User
        from dwgk.orgs.models import Organization

        if self.society:
            return "向社会公开"
        names = {
            o.pk: o.display_name
            for o in Organization.objects.filter(pk__in={*self.party, *self.units, *self.orgs})
        }
        parts = []
        if self.party:
            parts.append("、".join(names.get(o, str(o)) for o in self.party) + "党内公开")
        if self.units:
            parts.append("、".join(names.get(o, str(o)) for o in self.units) + "范围内公开")
        if self.orgs:
            parts.append("向" + "、".join(names.get(o, str(o)) for o in self.orgs) + "公开")
        if self.people:
            people = User.objects.filter(pk__in=self.people).order_by("pk")
            parts.append("向" + "、".join(u.name or u.username for u in people) + "本人公开")
        return "；".join(parts) or "未设定公开范围"


# Within one GET request a person's places do not change: their keys are read once
# (ViewerKeysPerRequest), however many lists the page shows.
_request_keys: ContextVar[dict[int, list[str]] | None] = ContextVar("viewer_keys", default=None)


def viewer_keys(user: Any) -> list[str]:
    """The keys of everything this viewer may see, from their current places.

    One indexed query (current branch, units and role grants, UNION ALL) for a signed-in
    person, once per GET request; none for an anonymous one.
    """
    keys = [PUBLIC]
    if user is None or not user.is_authenticated or not user.is_active:
        return keys
    known = _request_keys.get()
    if known is None:
        return _read_keys(user)
    if user.pk not in known:
        known[user.pk] = _read_keys(user)
    return list(known[user.pk])


class ViewerKeysPerRequest:
    """Middleware: during a GET or HEAD request, each person's keys are read once. Other
    requests change things (a transfer, a new role) and always read them afresh."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        token = _request_keys.set({})
        try:
            return self.get_response(request)
        finally:
            _request_keys.reset(token)


def _read_keys(user: Any) -> list[str]:
    keys = [PUBLIC]
    from django.db.models import CharField, Value

    from dwgk.accounts.models import Affiliation, Membership, RoleGrant
    from dwgk.orgs.models import path_ids

    def kind(tag: str) -> Value:
        return Value(tag, output_field=CharField())

    # order_by(): the models' default orderings would only add joins and sorts.
    branch = (
        Membership.objects.filter(user=user, ended_on__isnull=True)
        .order_by()
        .values_list(kind("branch"), "branch_id", "branch__path")
    )
    units = (
        Affiliation.objects.filter(user=user, ended_on__isnull=True)
        .order_by()
        .values_list(kind("unit"), "org_id", "org__path")
    )
    grants = (
        RoleGrant.objects.current()
        .filter(user=user)
        .order_by()
        .values_list(kind("role"), "org_id", "org__path")
    )
    keys.append(f"person:{user.pk}")
    for tag, org_id, org_path in branch.union(units, grants, all=True):
        if tag == "branch":
            for ancestor in path_ids(org_path):
                keys.append(f"members:{ancestor}")
                keys.append(f"unit:{ancestor}")
        elif tag == "unit":
            keys.extend(f"unit:{ancestor}" for ancestor in path_ids(org_path))
        keys.append(f"org:{org_id}")
    return list(dict.fromkeys(keys))
