"""The administration site: who gets in, what each role sees, and that every change goes
through the domain actions (with their refusals shown in Chinese, never a server error)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.actions import member_join, role_grant
from dwgk.accounts.models import Affiliation, Membership, PlatformRole, Role, RoleGrant, User
from dwgk.admin_site import DwgkAdminSite, DwgkModelAdmin
from dwgk.audit.models import AuditEntry
from dwgk.orgs.models import Organization, OrgEvent, path_segment
from tests.cast import make_platform_role, make_user, org_type

ORG_LIST = reverse("admin:orgs_organization_changelist")
ORG_ADD = reverse("admin:orgs_organization_add")
AUDIT_LIST = reverse("admin:audit_auditentry_changelist")
GRANT_ADD = reverse("admin:accounts_rolegrant_add")
GRANT_LIST = reverse("admin:accounts_rolegrant_changelist")
USER_ADD = reverse("admin:accounts_user_add")
USER_LIST = reverse("admin:accounts_user_changelist")
MEMBERSHIP_ADD = reverse("admin:accounts_membership_add")
MEMBERSHIP_LIST = reverse("admin:accounts_membership_changelist")
PLATFORM_ADD = reverse("admin:accounts_platformrole_add")


def org_change(org: Organization) -> str:
    return reverse("admin:orgs_organization_change", args=[org.pk])


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def platform_user(username: str, kind: str) -> User:
    user = make_user(username, name=username)
    make_platform_role(user, kind)
    return user


@pytest.fixture
def sysadmin(db: None) -> User:
    return platform_user("sam", PlatformRole.Kind.SYSADMIN)


@pytest.fixture
def secadmin(db: None) -> User:
    return platform_user("sec", PlatformRole.Kind.SECADMIN)


@pytest.fixture
def auditor(db: None) -> User:
    return platform_user("aud", PlatformRole.Kind.AUDITOR)


def org_change_data(org: Organization, **changes: Any) -> dict[str, Any]:
    """What the change form posts, including the (read-only) history inline's management form."""
    data: dict[str, Any] = {
        "name": org.name,
        "short_name": org.short_name,
        "parent": org.parent_id or "",
        "events-TOTAL_FORMS": "0",
        "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def error_text(response: Any) -> str:
    return str(response.content.decode())


# --- who gets in ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_admin_login(db):
    client = Client()
    for url in [reverse("admin:index"), ORG_LIST, AUDIT_LIST]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_plain_member_has_no_access(cast):
    client = as_user(cast.bob)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert client.get(ORG_LIST).status_code == 302
    assert client.post(ORG_ADD, {"name": "x"}).status_code == 302
    assert not Organization.objects.filter(name="x").exists()


def test_a_plain_member_cannot_sign_in_to_the_admin_even_with_the_right_password(cast):
    response = Client().post(
        reverse("admin:login"), {"username": "bob", "password": "test-pass-123"}
    )
    assert response.status_code == 200
    assert "只有组织管理员和平台管理人员可以进入管理后台" in error_text(response)


def test_an_org_admin_signs_in_by_role_not_by_the_staff_flag(cast):
    assert not cast.olga.is_staff and not cast.olga.is_superuser
    client = Client()
    response = client.post(
        reverse("admin:login") + "?next=/admin/",
        {"username": "olga", "password": "test-pass-123", "next": "/admin/"},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/"
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200
    assert "党务公开平台 · 管理后台" in error_text(page)


def test_every_admin_page_uses_our_policy_and_groups_are_not_offered(db):
    from django.contrib import admin

    assert isinstance(admin.site, DwgkAdminSite)
    assert not admin.site.is_registered(Group)
    # Every page of the site decides access by our policy, none by Django's permissions.
    assert all(isinstance(a, DwgkModelAdmin) for a in admin.site._registry.values())


# --- an organization admin's subtree --------------------------------------------------------


def test_an_org_admin_sees_her_subtree_and_nothing_else(cast):
    page = error_text(as_user(cast.olga).get(ORG_LIST))
    for org in [cast.district, cast.street, cast.community, cast.branch1, cast.discipline]:
        assert org.name in page
    assert cast.university.name not in page
    assert cast.uni_branch.name not in page


def test_an_org_admin_cannot_open_an_organization_outside_her_subtree(cast):
    client = as_user(cast.olga)
    assert client.get(org_change(cast.university)).status_code == 403
    history = reverse("admin:orgs_organization_history", args=[cast.university.pk])
    assert client.get(history).status_code == 403
    response = client.post(org_change(cast.university), org_change_data(cast.university, name="x"))
    assert response.status_code == 403
    cast.university.refresh_from_db()
    assert cast.university.name == "明州医科大学党委"


def test_an_org_admin_cannot_pick_a_parent_outside_her_subtree(cast):
    client = as_user(cast.olga)
    response = client.post(
        org_change(cast.community), org_change_data(cast.community, parent=cast.university.pk)
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in error_text(response)
    cast.community.refresh_from_db()
    assert cast.community.parent == cast.street

    # The autocomplete offers her own subtree only.
    found = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "orgs", "model_name": "organization", "field_name": "parent", "term": ""},
    ).json()
    names = {r["text"] for r in found["results"]}
    assert cast.community.name in names and cast.university.name not in names


def test_the_root_of_her_subtree_can_be_saved_with_its_parent_outside_it(cast):
    client = as_user(cast.olga)
    response = client.post(
        org_change(cast.district), org_change_data(cast.district, name="东湖区委员会")
    )
    assert response.status_code == 302
    cast.district.refresh_from_db()
    assert cast.district.name == "东湖区委员会" and cast.district.parent == cast.city


def test_an_org_admin_adds_a_branch_under_a_community_through_the_admin(cast):
    client = as_user(cast.olga)
    response = client.post(
        ORG_ADD,
        {
            "name": "湖滨社区第三党支部",
            "short_name": "",
            "code": "MZ-DH-HB-SQ-3",
            "org_type": org_type("branch").pk,
            "parent": cast.community.pk,
            "sort_order": "0",
        },
    )
    assert response.status_code == 302, error_text(response)
    new = Organization.objects.get(code="MZ-DH-HB-SQ-3")
    assert new.parent == cast.community
    assert new.path == cast.community.path + path_segment(new.pk)
    assert new.ancestor_ids == [*cast.community.ancestor_ids, new.pk]
    entry = AuditEntry.objects.get(action="org.create", object_id=str(new.pk))
    assert entry.actor == cast.olga


def test_an_org_admin_cannot_create_a_top_level_organization(cast):
    response = as_user(cast.olga).post(
        ORG_ADD,
        {
            "name": "新市委",
            "code": "NEW",
            "org_type": org_type("city_committee").pk,
            "sort_order": "0",
        },
    )
    assert response.status_code == 200
    assert "只有系统管理员可以创建顶级组织" in error_text(response)
    assert not Organization.objects.filter(code="NEW").exists()


def test_a_duplicate_code_is_refused_in_chinese(cast):
    response = as_user(cast.olga).post(
        ORG_ADD,
        {
            "name": "重复",
            "code": cast.branch1.code,
            "org_type": org_type("branch").pk,
            "parent": cast.community.pk,
            "sort_order": "0",
        },
    )
    assert response.status_code == 200
    assert "已被使用" in error_text(response)


def test_changing_the_parent_moves_the_whole_subtree(cast):
    response = as_user(cast.olga).post(
        org_change(cast.community), org_change_data(cast.community, parent=cast.district.pk)
    )
    assert response.status_code == 302, error_text(response)
    branch1 = Organization.objects.get(pk=cast.branch1.pk)
    assert branch1.ancestor_ids == [cast.city.pk, cast.district.pk, cast.community.pk, branch1.pk]
    event = OrgEvent.objects.get(org=cast.community, kind=OrgEvent.Kind.MOVED)
    assert event.from_parent == cast.street and event.actor == cast.olga
    assert AuditEntry.objects.filter(action="org.move", actor=cast.olga).exists()


def test_a_cyclic_move_shows_a_chinese_error_and_changes_nothing(cast):
    response = as_user(cast.olga).post(
        org_change(cast.street),
        org_change_data(cast.street, parent=cast.branch1.pk, name="改名不应生效"),
    )
    assert response.status_code == 200
    assert "不能把组织调整到它自己或它的下级组织之下" in error_text(response)
    cast.street.refresh_from_db()
    assert cast.street.parent == cast.district and cast.street.name == "湖滨街道党工委"
    assert not OrgEvent.objects.filter(org=cast.street).exists()


def test_renaming_keeps_the_old_name_in_the_history_shown_on_the_page(cast):
    client = as_user(cast.olga)
    response = client.post(
        org_change(cast.branch1), org_change_data(cast.branch1, name="湖滨社区党员服务党支部")
    )
    assert response.status_code == 302
    event = OrgEvent.objects.get(org=cast.branch1, kind=OrgEvent.Kind.RENAMED)
    assert event.old_name == "湖滨社区第一党支部" and event.actor == cast.olga
    page = error_text(client.get(org_change(cast.branch1)))
    assert "组织沿革" in page and "湖滨社区第一党支部" in page


def test_organizations_are_never_hard_deleted(cast, sysadmin):
    client = as_user(sysadmin)
    delete = reverse("admin:orgs_organization_delete", args=[cast.branch2.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    page = error_text(client.get(ORG_LIST))
    assert "delete_selected" not in page and "dissolve" in page
    assert Organization.objects.filter(pk=cast.branch2.pk).exists()


def dissolve(client: Client, org: Organization, **extra: str) -> Any:
    return client.post(
        ORG_LIST, {"action": "dissolve", "_selected_action": [org.pk], **extra}, follow=True
    )


def test_dissolving_asks_for_a_note_then_runs_org_dissolve(cast):
    client = as_user(cast.olga)
    empty = Organization.objects.create(
        name="临时党支部", code="TMP", org_type=org_type("branch"), parent=cast.community
    )
    confirm = dissolve(client, empty, index="0")
    assert "确认撤销" in error_text(confirm)
    done = dissolve(client, empty, apply="1", note="任务完成")
    assert "已撤销 1 个组织" in error_text(done)
    empty.refresh_from_db()
    assert empty.status == Organization.Status.DISSOLVED
    assert OrgEvent.objects.get(org=empty, kind=OrgEvent.Kind.DISSOLVED).note == "任务完成"


def test_dissolving_an_org_with_members_shows_the_reason(cast):
    response = dissolve(as_user(cast.olga), cast.branch2, apply="1")
    assert response.status_code == 200
    assert "仍有党员" in error_text(response)
    cast.branch2.refresh_from_db()
    assert cast.branch2.is_active


# --- platform roles: 三员分立 ----------------------------------------------------------------


def test_the_system_administrator_sees_every_organization_but_not_the_audit_log(cast, sysadmin):
    client = as_user(sysadmin)
    page = error_text(client.get(ORG_LIST))
    assert cast.university.name in page and cast.district.name in page
    assert client.get(org_change(cast.university)).status_code == 200
    assert client.get(AUDIT_LIST).status_code == 403
    assert client.get(GRANT_LIST).status_code == 403
    index = error_text(client.get(reverse("admin:index")))
    assert "审计日志" not in index and "组织角色" not in index and "用户" in index


def test_the_system_administrator_cannot_grant_roles(cast, sysadmin):
    response = as_user(sysadmin).post(
        GRANT_ADD, {"user": cast.bob.pk, "org": cast.branch1.pk, "role": Role.CLERK}
    )
    assert response.status_code == 403
    assert not RoleGrant.objects.filter(user=cast.bob).exists()


def test_the_auditor_sees_the_audit_log_and_nothing_else(cast, auditor):
    client = as_user(auditor)
    page = client.get(AUDIT_LIST)
    assert page.status_code == 200
    assert "role.grant" in error_text(page)  # the cast's grants
    entry = AuditEntry.objects.filter(action="role.grant").first()
    assert entry is not None
    detail = client.get(reverse("admin:audit_auditentry_change", args=[entry.pk]))
    assert detail.status_code == 200
    for url in [ORG_LIST, USER_LIST, GRANT_LIST, MEMBERSHIP_LIST, org_change(cast.branch1)]:
        assert client.get(url).status_code == 403, url
    index = error_text(client.get(reverse("admin:index")))
    assert "审计日志" in index and "党组织" not in index and "用户" not in index


def test_the_audit_log_is_read_only_even_for_the_auditor(cast, auditor):
    client = as_user(auditor)
    entry = AuditEntry.objects.first()
    assert entry is not None
    change = reverse("admin:audit_auditentry_change", args=[entry.pk])
    assert client.post(change, {"action": "tampered"}).status_code == 403
    assert client.get(reverse("admin:audit_auditentry_add")).status_code == 403
    delete = reverse("admin:audit_auditentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.action != "tampered"


def listed_actions(response: Any) -> set[str]:
    return set(re.findall(r'<td class="field-action">([^<]*)</td>', error_text(response)))


def test_the_audit_log_filters_by_action_and_searches_by_actor(cast, auditor, secadmin):
    as_user(secadmin)
    client = as_user(auditor)
    assert {"role.grant", "auth.login"} <= listed_actions(client.get(AUDIT_LIST))
    assert listed_actions(client.get(AUDIT_LIST, {"action": "role.grant"})) == {"role.grant"}
    # secadmin's only entry is their sign-in.
    assert listed_actions(client.get(AUDIT_LIST, {"q": "sec"})) == {"auth.login"}
    today = timezone.localdate()
    by_day = client.get(
        AUDIT_LIST, {"at__year": today.year, "at__month": today.month, "at__day": today.day}
    )
    assert "role.grant" in listed_actions(by_day)


def test_the_security_administrator_cannot_see_the_audit_log_or_edit_organizations(cast, secadmin):
    client = as_user(secadmin)
    assert client.get(AUDIT_LIST).status_code == 403
    assert client.get(org_change(cast.branch1)).status_code == 200  # reads the tree
    response = client.post(org_change(cast.branch1), org_change_data(cast.branch1, name="x"))
    assert response.status_code == 403
    assert client.get(ORG_ADD).status_code == 403


def test_the_security_administrator_grants_a_role_and_the_audit_log_has_it(cast, secadmin):
    response = as_user(secadmin).post(
        GRANT_ADD,
        {"user": cast.bob.pk, "org": cast.branch1.pk, "role": Role.CLERK, "inherit": ""},
    )
    assert response.status_code == 302, error_text(response)
    grant = RoleGrant.objects.get(user=cast.bob, role=Role.CLERK)
    assert grant.org == cast.branch1 and grant.granted_by == secadmin
    entry = AuditEntry.objects.get(action="role.grant", object_id=str(grant.pk))
    assert entry.actor == secadmin and entry.data["user"] == "bob"


def test_a_role_granted_twice_is_refused_in_chinese(cast, secadmin):
    response = as_user(secadmin).post(
        GRANT_ADD, {"user": cast.alice.pk, "org": cast.branch1.pk, "role": Role.PRINCIPAL}
    )
    assert response.status_code == 200
    assert "已是“湖滨社区第一党支部”的主要负责人" in error_text(response)


def test_revoking_a_role_goes_through_role_revoke(cast, secadmin):
    grant = RoleGrant.objects.get(user=cast.alice, role=Role.PRINCIPAL)
    response = as_user(secadmin).post(
        GRANT_LIST, {"action": "revoke", "_selected_action": [grant.pk], "index": "0"}, follow=True
    )
    assert "已撤销 1 个角色" in error_text(response)
    grant.refresh_from_db()
    assert grant.revoked_by == secadmin
    assert AuditEntry.objects.filter(action="role.revoke", actor=secadmin).exists()
    # No edit and no delete: a grant is revoked, never changed.
    change = reverse("admin:accounts_rolegrant_change", args=[grant.pk])
    assert as_user(secadmin).post(change, {"role": Role.CLERK}).status_code == 403


def test_an_org_admin_grants_roles_only_inside_her_subtree(cast):
    client = as_user(cast.olga)
    response = client.post(
        GRANT_ADD, {"user": cast.bob.pk, "org": cast.university.pk, "role": Role.CLERK}
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in error_text(response)
    response = client.post(
        GRANT_ADD, {"user": cast.bob.pk, "org": cast.branch1.pk, "role": Role.CLERK}
    )
    assert response.status_code == 302
    assert RoleGrant.objects.current().filter(user=cast.bob, org=cast.branch1).exists()
    page = error_text(client.get(GRANT_LIST))
    assert "鲍勃" in page and "艾琳" not in page


def test_a_second_platform_role_for_the_same_account_is_refused_in_chinese(cast, secadmin, auditor):
    response = as_user(secadmin).post(
        PLATFORM_ADD, {"user": auditor.pk, "kind": PlatformRole.Kind.SYSADMIN}
    )
    assert response.status_code == 200
    assert "系统管理员、安全管理员和安全审计员不能由同一账号兼任" in error_text(response)
    assert PlatformRole.objects.get(user=auditor).kind == PlatformRole.Kind.AUDITOR


def test_only_the_security_administrator_manages_platform_roles(cast, secadmin, sysadmin):
    assert as_user(sysadmin).get(PLATFORM_ADD).status_code == 403
    assert as_user(cast.olga).get(PLATFORM_ADD).status_code == 403
    response = as_user(secadmin).post(
        PLATFORM_ADD, {"user": cast.dora.pk, "kind": PlatformRole.Kind.AUDITOR}
    )
    assert response.status_code == 302, error_text(response)
    assert AuditEntry.objects.filter(action="platform_role.grant", actor=secadmin).exists()
    pr = PlatformRole.objects.get(user=cast.dora)
    response = as_user(secadmin).post(
        reverse("admin:accounts_platformrole_changelist"),
        {"action": "revoke", "_selected_action": [pr.pk], "index": "0"},
        follow=True,
    )
    assert "已撤销 1 个平台角色" in error_text(response)
    assert not PlatformRole.objects.filter(user=cast.dora).exists()


# --- people ---------------------------------------------------------------------------------


def new_person(**extra: Any) -> dict[str, Any]:
    return {
        "username": "zhang",
        "name": "张三",
        "phone": "",
        "email": "",
        "password1": "Qiang-Mima-2024!",
        "password2": "Qiang-Mima-2024!",
        "unit_kind": Affiliation.Kind.STAFF,
        **extra,
    }


def test_a_new_account_gets_a_validated_password(cast):
    client = as_user(cast.olga)
    response = client.post(
        USER_ADD, new_person(password1="12345678", password2="12345678", branch=cast.branch1.pk)
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="zhang").exists()
    assert "这个密码太常见了" in error_text(response)
    assert "密码只包含数字" in error_text(response)

    response = client.post(USER_ADD, new_person(branch=cast.branch1.pk))
    assert response.status_code == 302, error_text(response)
    zhang = User.objects.get(username="zhang")
    assert zhang.check_password("Qiang-Mima-2024!")
    assert not zhang.is_staff and not zhang.is_superuser
    assert Membership.objects.get(user=zhang, ended_on__isnull=True).branch == cast.branch1
    assert AuditEntry.objects.filter(action="user.create", actor=cast.olga).exists()


def test_an_org_admin_must_place_a_new_person_in_her_subtree(cast):
    response = as_user(cast.olga).post(USER_ADD, new_person())
    assert response.status_code == 200
    assert "请选择编入的党支部或隶属单位" in error_text(response)
    response = as_user(cast.olga).post(USER_ADD, new_person(unit=cast.university.pk))
    assert response.status_code == 200
    assert not User.objects.filter(username="zhang").exists()


def test_the_user_form_hides_the_unused_django_flags(cast, sysadmin):
    page = error_text(
        as_user(sysadmin).get(reverse("admin:accounts_user_change", args=[cast.bob.pk]))
    )
    for field in ["is_superuser", "is_staff", "groups", "user_permissions"]:
        assert f'name="{field}"' not in page
    for field in ["name", "phone", "email", "is_active"]:
        assert f'name="{field}"' in page


def test_an_org_admin_edits_only_people_placed_in_her_subtree(cast):
    client = as_user(cast.olga)
    page = error_text(client.get(USER_LIST))
    assert "鲍勃" in page and "朵拉" in page and "艾琳" not in page
    erin = reverse("admin:accounts_user_change", args=[cast.erin.pk])
    assert client.get(erin).status_code == 403
    bob = reverse("admin:accounts_user_change", args=[cast.bob.pk])
    response = client.post(
        bob, {"name": "鲍勃", "phone": "13800000000", "email": "", "is_active": "on"}
    )
    assert response.status_code == 302
    cast.bob.refresh_from_db()
    assert cast.bob.phone == "13800000000"
    assert AuditEntry.objects.get(action="user.update").data["new"] == {"phone": "13800000000"}


def test_an_org_admin_cannot_change_a_higher_level_admin_who_is_a_member_here(cast):
    carl = make_user("carl", name="卡尔")
    member_join(carl, cast.branch1, actor=None)
    role_grant(carl, cast.city, Role.ORG_ADMIN, actor=None, inherit=True)
    client = as_user(cast.olga)
    change = reverse("admin:accounts_user_change", args=[carl.pk])
    assert client.get(change).status_code == 200  # she sees her member
    assert client.post(change, {"name": "卡尔", "phone": "", "email": ""}).status_code == 403
    carl.refresh_from_db()
    assert carl.is_active


def test_platform_accounts_are_kept_by_the_security_administrator_alone(
    cast, sysadmin, secadmin, auditor
):
    change = reverse("admin:accounts_user_change", args=[auditor.pk])
    data = {"name": "aud", "phone": "", "email": ""}  # is_active left out: switch it off
    assert as_user(sysadmin).post(change, data).status_code == 403
    auditor.refresh_from_db()
    assert auditor.is_active
    assert as_user(secadmin).post(change, data).status_code == 302
    auditor.refresh_from_db()
    assert not auditor.is_active


# --- memberships and affiliations -----------------------------------------------------------


def test_adding_a_membership_goes_through_member_join(cast):
    client = as_user(cast.olga)
    response = client.post(
        MEMBERSHIP_ADD,
        {
            "user": cast.bob.pk,
            "branch": cast.branch2.pk,
            "kind": "full",
            "started_on": "2024-01-01",
        },
    )
    assert response.status_code == 200
    assert "已在其他党支部，请办理组织关系转接" in error_text(response)
    response = client.post(
        MEMBERSHIP_ADD,
        {
            "user": cast.dora.pk,
            "branch": cast.community.pk,
            "kind": "full",
            "started_on": "2024-01-01",
        },
    )
    assert response.status_code == 200  # not a branch: not even offered
    response = client.post(
        MEMBERSHIP_ADD,
        {
            "user": cast.dora.pk,
            "branch": cast.branch2.pk,
            "kind": "probationary",
            "started_on": "2024-01-01",
        },
    )
    assert response.status_code == 302, error_text(response)
    assert Membership.objects.get(user=cast.dora).kind == "probationary"
    assert AuditEntry.objects.filter(action="membership.join", actor=cast.olga).exists()


def test_a_member_is_transferred_with_the_transfer_action(cast):
    client = as_user(cast.olga)
    current = Membership.objects.get(user=cast.bob, ended_on__isnull=True)
    form = client.post(
        MEMBERSHIP_LIST, {"action": "transfer", "_selected_action": [current.pk], "index": "0"}
    )
    assert "转入党支部编码" in error_text(form)
    wrong = client.post(
        MEMBERSHIP_LIST,
        {"action": "transfer", "_selected_action": [current.pk], "apply": "1", "to_branch": "NOPE"},
    )
    assert "没有找到该编码的党支部" in error_text(wrong)
    done = client.post(
        MEMBERSHIP_LIST,
        {
            "action": "transfer",
            "_selected_action": [current.pk],
            "apply": "1",
            "to_branch": cast.branch2.code,
        },
        follow=True,
    )
    assert "已为 1 名党员办理组织关系转接" in error_text(done)
    assert Membership.objects.get(user=cast.bob, ended_on__isnull=True).branch == cast.branch2
    current.refresh_from_db()
    assert current.end_reason == Membership.EndReason.TRANSFER
    # Memberships are history: neither edited nor deleted.
    change = reverse("admin:accounts_membership_change", args=[current.pk])
    assert client.post(change, {"kind": "probationary"}).status_code == 403
    delete = reverse("admin:accounts_membership_delete", args=[current.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403


def test_an_org_admin_sees_only_memberships_in_her_subtree(cast):
    page = error_text(as_user(cast.olga).get(MEMBERSHIP_LIST))
    assert "鲍勃" in page and "艾琳" not in page
    erin = Membership.objects.get(user=cast.erin)
    assert (
        as_user(cast.olga)
        .get(reverse("admin:accounts_membership_change", args=[erin.pk]))
        .status_code
        == 403
    )


def test_an_affiliation_is_added_and_ended_through_the_actions(cast):
    client = as_user(cast.olga)
    response = client.post(
        reverse("admin:accounts_affiliation_add"),
        {
            "user": cast.bob.pk,
            "org": cast.community.pk,
            "kind": "resident",
            "started_on": "2024-01-01",
        },
    )
    assert response.status_code == 302, error_text(response)
    aff = Affiliation.objects.get(user=cast.bob, org=cast.community)
    response = client.post(
        reverse("admin:accounts_affiliation_changelist"),
        {"action": "end", "_selected_action": [aff.pk], "index": "0"},
        follow=True,
    )
    assert "已结束 1 条隶属关系" in error_text(response)
    aff.refresh_from_db()
    assert aff.ended_on is not None
    again = client.post(
        reverse("admin:accounts_affiliation_changelist"),
        {"action": "end", "_selected_action": [aff.pk], "index": "0"},
        follow=True,
    )
    assert "该隶属关系已经结束" in error_text(again)


# --- every page renders for whoever may open it ---------------------------------------------


@pytest.mark.parametrize("who", ["olga", "sysadmin", "secadmin", "auditor"])
def test_every_page_a_role_may_open_renders(cast, who, request):
    from django.contrib import admin

    user = cast.olga if who == "olga" else request.getfixturevalue(who)
    client = as_user(user)
    fake = client.get(reverse("admin:index")).wsgi_request
    opened = 0
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        if model_admin.has_view_permission(fake):
            listing = client.get(reverse("admin:{}_{}_changelist".format(*info)))
            assert listing.status_code == 200, info
            opened += 1
            first = model_admin.get_queryset(fake).first()
            if first is not None:
                change = client.get(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
                assert change.status_code == 200, info
        if model_admin.has_add_permission(fake):
            assert client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 200, info
    assert opened


def test_the_branch_picker_offers_only_active_branches_she_manages(cast):
    found = (
        as_user(cast.olga)
        .get(
            reverse("admin:autocomplete"),
            {"app_label": "accounts", "model_name": "membership", "field_name": "branch"},
        )
        .json()
    )
    names = {r["text"] for r in found["results"]}
    assert names == {cast.branch1.name, cast.branch2.name}
