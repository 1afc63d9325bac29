"""`manage.py load_demo`: a realistic demo that loads once, changes nothing the second time,
covers every role, and whose printed logins work."""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.urls import reverse

from dwgk.accounts import demo
from dwgk.accounts.models import Affiliation, Membership, PlatformRole, Role, RoleGrant, User
from dwgk.audit.models import AuditEntry
from dwgk.orgs.models import Organization


def load(**kw) -> str:
    out = io.StringIO()
    call_command("load_demo", force=True, stdout=out, **kw)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()}


@pytest.fixture
def output(db) -> str:
    return load()


def test_the_demo_loads(output):
    assert "演示数据已载入" in output
    assert Organization.objects.filter(code="MZ", parent__isnull=True).exists()


def test_a_second_run_changes_no_table(output):
    before = table_counts()
    again = load()
    assert table_counts() == before
    assert "未做任何改动" in again


def test_the_tree_has_the_shape_of_a_real_deployment(output):
    def type_of(code):
        return Organization.objects.get(code=code).org_type.code

    city = Organization.objects.get(code="MZ")
    assert city.org_type.code == "city_committee"
    kids = {o.org_type.code for o in city.children.select_related("org_type")}
    assert {
        "discipline_commission",
        "general_office",
        "organization_department",
        "publicity_department",
        "district_committee",
        "university_committee",
        "soe_committee",
    } <= kids
    districts = city.children.filter(org_type__code="district_committee")
    assert districts.count() == 2
    for district in districts:
        below = {o.org_type.code for o in district.children.select_related("org_type")}
        assert {"discipline_commission", "general_office", "street_working_committee"} <= below
    assert type_of("MZ-DH-HB-01") == "community_committee"
    assert type_of("MZ-DH-HB-01-1") == "branch"
    assert type_of("MZYK-JC") == "school_committee"
    assert {type_of("MZYK-JC-T1"), type_of("MZYK-JC-S1")} == {"branch"}
    assert Organization.objects.get(code="MZ-DH-HB-01-1").depth == 5
    # A real tree has history: a dissolved and a merged organization.
    assert Organization.objects.filter(status=Organization.Status.DISSOLVED).exists()
    assert Organization.objects.filter(status=Organization.Status.MERGED).exists()


def test_every_role_is_held_by_someone(output):
    held = set(RoleGrant.objects.current().values_list("role", flat=True))
    assert held == set(Role.values)
    assert RoleGrant.objects.current().filter(role=Role.ORG_ADMIN, inherit=True).exists()


def test_a_branch_secretary_is_among_the_principals(output):
    secretary = User.objects.get(username=demo.BRANCH_SECRETARY)
    grant = RoleGrant.objects.current().get(user=secretary, role=Role.PRINCIPAL)
    assert grant.org.org_type.holds_members
    assert Membership.objects.get(user=secretary, ended_on__isnull=True).branch == grant.org
    principals = RoleGrant.objects.current().filter(role=Role.PRINCIPAL)
    assert principals.values("org").distinct().count() >= 5


def test_the_three_platform_roles_are_on_three_different_accounts(output):
    rows = list(PlatformRole.objects.values_list("kind", "user_id"))
    assert sorted(kind for kind, _ in rows) == sorted(PlatformRole.Kind.values)
    assert len({user for _, user in rows}) == 3
    # None of the three also holds a party-work role.
    assert not RoleGrant.objects.filter(user_id__in=[u for _, u in rows]).exists()


def test_there_are_thirty_or_more_named_people(output):
    people = User.objects.exclude(name="")
    assert people.count() >= 30
    assert all(
        re.fullmatch(r"[\u4e00-\u9fff]{2,4}", name)
        for name in people.values_list("name", flat=True)
    )


def test_there_are_members_probationary_members_and_non_member_affiliates(output):
    current = Membership.objects.filter(ended_on__isnull=True)
    assert current.filter(kind=Membership.Kind.FULL).count() >= 20
    assert current.filter(kind=Membership.Kind.PROBATIONARY).exists()
    members = current.values("user")
    non_members = Affiliation.objects.filter(ended_on__isnull=True).exclude(user__in=members)
    kinds = set(non_members.values_list("kind", flat=True))
    assert {Affiliation.Kind.RESIDENT, Affiliation.Kind.STUDENT} <= kinds


def test_everything_went_through_the_actions_and_is_in_the_audit_log(output):
    def logged(action):
        return AuditEntry.objects.filter(action=action).count()

    assert logged("org.create") == Organization.objects.count()
    assert logged("role.grant") == RoleGrant.objects.count()
    assert logged("user.create") == len(demo.PEOPLE)
    assert logged("membership.join") == len([p for p in demo.PEOPLE if p.branch])
    assert logged("affiliation.add") == Affiliation.objects.count()
    assert logged("platform_role.grant") == 3
    assert logged("org.dissolve") == 1 and logged("org.merge") == 1


def test_all_demo_accounts_share_one_password_hash(output):
    hashes = set(
        User.objects.filter(username__in=[p.username for p in demo.PEOPLE]).values_list(
            "password", flat=True
        )
    )
    assert len(hashes) == 1


def test_the_logins_table_starts_with_the_branch_secretary_and_gives_the_password(output):
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("用户名"))
    assert lines[header].split() == ["用户名", "姓名", "角色", "组织"]
    first = lines[header + 2].split()
    assert first[0] == demo.BRANCH_SECRETARY
    assert first[1] == "罗晓燕"
    assert "主要负责人" in first[2] and "党支部" in first[3]
    for username in ["sysadmin", "secadmin", "auditor"]:
        assert any(line.startswith(username + " ") for line in lines)
    assert f"统一密码：{demo.DEMO_PASSWORD}" in output


def test_the_branch_secretary_can_log_in_with_the_printed_password(client, output):
    printed = re.search(r"统一密码：(\S+)", output)
    assert printed is not None
    password = printed.group(1)
    response = client.post(
        reverse("login"), {"username": demo.BRANCH_SECRETARY, "password": password}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("members:home")
    html = client.get(reverse("members:home")).content.decode()
    assert "罗晓燕" in html and "湖滨社区第一党支部" in html and "东湖区委" in html


def test_the_demo_is_refused_outside_debug_unless_forced(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo", stdout=io.StringIO())
    assert not User.objects.exists()
