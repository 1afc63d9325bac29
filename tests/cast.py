"""The shared cast: small make_* helpers and one little world every test can stand on.

明州市委 (city)
  └ 东湖区委 (district)
      ├ 湖滨街道党工委 (street) ─ 湖滨社区党委 (community) ─ 第一党支部 / 第二党支部
      └ 区纪委
明州医科大学党委 ─ 基础医学院党委 ─ 教工党支部

alice   secretary (principal) of 第一党支部, member there
bob     member of 第一党支部
charlie member of 第二党支部 — should have no access to what is only for 第一党支部
dora    not a member; resident affiliated with 湖滨社区党委 (the community)
erin    member of the university's 教工党支部, staff of the university
olga    org admin of 东湖区委 and its subtree
"""

from __future__ import annotations

import datetime
import itertools
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from dwgk.accounts.actions import affiliate, member_join, role_grant
from dwgk.accounts.models import PlatformRole, Role, User
from dwgk.orgs.models import Organization, OrgType

_seq = itertools.count(1)


def org_type(code: str) -> OrgType:
    return OrgType.objects.get(code=code)


def make_org(
    name: str, type_code: str, parent: Organization | None = None, **kw: Any
) -> Organization:
    code = kw.pop("code", None) or f"T{next(_seq):05d}"
    return Organization.objects.create(
        name=name, code=code, org_type=org_type(type_code), parent=parent, **kw
    )


def make_user(username: str, name: str | None = None, **kw: Any) -> User:
    user = User.objects.create_user(
        username=username, password="test-pass-123", name=name or username, **kw
    )
    return user


def make_member(username: str, branch: Organization, **kw: Any) -> User:
    user = make_user(username, **kw)
    member_join(user, branch, actor=None, started_on=datetime.date(2020, 1, 1))
    return user


def make_platform_role(user: User, kind: str) -> PlatformRole:
    return PlatformRole.objects.create(user=user, kind=kind)


def now() -> datetime.datetime:
    return timezone.now()


@dataclass
class Cast:
    city: Organization
    district: Organization
    street: Organization
    community: Organization
    branch1: Organization
    branch2: Organization
    discipline: Organization
    university: Organization
    school: Organization
    uni_branch: Organization
    alice: User
    bob: User
    charlie: User
    dora: User
    erin: User
    olga: User
    paula: User | None = None  # set by the `world` fixture: the community's secretary


def make_cast() -> Cast:
    city = make_org("明州市委", "city_committee", code="MZ")
    district = make_org("东湖区委", "district_committee", city, code="MZ-DH")
    street = make_org("湖滨街道党工委", "street_working_committee", district, code="MZ-DH-HB")
    community = make_org("湖滨社区党委", "community_committee", street, code="MZ-DH-HB-SQ")
    branch1 = make_org("湖滨社区第一党支部", "branch", community, code="MZ-DH-HB-SQ-1")
    branch2 = make_org("湖滨社区第二党支部", "branch", community, code="MZ-DH-HB-SQ-2")
    discipline = make_org("东湖区纪委", "discipline_commission", district, code="MZ-DH-JW")
    university = make_org("明州医科大学党委", "university_committee", city, code="MZYK")
    school = make_org("基础医学院党委", "school_committee", university, code="MZYK-JC")
    uni_branch = make_org("基础医学院教工党支部", "branch", school, code="MZYK-JC-1")

    alice = make_member("alice", branch1, name="艾丽")
    role_grant(alice, branch1, Role.PRINCIPAL, actor=None)
    bob = make_member("bob", branch1, name="鲍勃")
    charlie = make_member("charlie", branch2, name="查理")
    dora = make_user("dora", name="朵拉")
    affiliate(dora, community, actor=None, kind="resident")
    erin = make_member("erin", uni_branch, name="艾琳")
    affiliate(erin, university, actor=None, kind="teacher")
    olga = make_user("olga", name="奥尔加")
    role_grant(olga, district, Role.ORG_ADMIN, actor=None, inherit=True)
    return Cast(
        city,
        district,
        street,
        community,
        branch1,
        branch2,
        discipline,
        university,
        school,
        uni_branch,
        alice,
        bob,
        charlie,
        dora,
        erin,
        olga,
    )
