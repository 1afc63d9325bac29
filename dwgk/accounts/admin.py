"""People, their places and roles in the admin. Every change to a place or a role goes
through `dwgk.accounts.actions`: member_join / member_transfer, affiliate /
affiliation_end, role_grant / role_revoke, platform_role_grant / platform_role_revoke.
Nothing here is edited in place or deleted: history rows end, grants are revoked.

Who (三员分立):
- the system administrator manages every account, membership and affiliation, but grants
  no roles and reads no audit log;
- the security administrator grants and revokes roles and platform roles, and looks
  people up to do so, but manages neither organizations nor ordinary accounts;
- an organization admin manages the people with a current place (membership, affiliation
  or role) in their own subtree, and grants roles there;
- the auditor sees none of this.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dwgk.accounts import policy
from dwgk.accounts.actions import (
    affiliate,
    affiliation_end,
    member_join,
    member_transfer,
    platform_role_grant,
    platform_role_revoke,
    role_grant,
    role_revoke,
    user_create,
    user_update,
)
from dwgk.accounts.models import Affiliation, Membership, PlatformRole, RoleGrant, User
from dwgk.admin_site import DwgkForm, DwgkModelAdmin, adopt, applied_form
from dwgk.lib.errors import ActionError
from dwgk.orgs.models import Organization

# Groups and Django permissions are not used: access comes from our roles.
if admin.site.is_registered(Group):
    admin.site.unregister(Group)


# --- scopes ---------------------------------------------------------------------------------


def branch_choices(user: Any) -> QuerySet[Organization]:
    return policy.managed_orgs(user).active().filter(org_type__holds_members=True)


# --- people ---------------------------------------------------------------------------------


class PersonCreationForm(UserCreationForm, DwgkForm[User]):  # type: ignore[type-arg]
    """A new account. The password goes through AUTH_PASSWORD_VALIDATORS; an organization
    admin places the person in their subtree at once (a branch or a unit), or the new
    account would fall outside what they may see."""

    unique_checked_by_action = False

    branch = forms.ModelChoiceField(
        label="编入党支部",
        queryset=Organization.objects.none(),
        required=False,
        widget=AutocompleteSelect(Membership._meta.get_field("branch"), admin.site),
        help_text="党员填写所在党支部。",
    )
    unit = forms.ModelChoiceField(
        label="隶属单位",
        queryset=Organization.objects.none(),
        required=False,
        widget=AutocompleteSelect(Affiliation._meta.get_field("org"), admin.site),
        help_text="职工、学生、居民等填写所在单位的党组织。",
    )
    unit_kind = forms.ChoiceField(
        label="身份", choices=Affiliation.Kind.choices, initial=Affiliation.Kind.STAFF
    )

    class Meta:
        model = User
        fields = ["username", "name", "phone", "email"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].required = True
        branch, unit = self.fields["branch"], self.fields["unit"]
        assert isinstance(branch, forms.ModelChoiceField)
        assert isinstance(unit, forms.ModelChoiceField)
        branch.queryset = branch_choices(self.actor)
        unit.queryset = policy.managed_orgs(self.actor).active()

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        placed = self.cleaned_data.get("branch") or self.cleaned_data.get("unit")
        if not placed and not policy.is_sysadmin(self.actor) and not self.errors:
            self.add_error(None, "请选择编入的党支部或隶属单位：新建的人员须在您管理的组织范围内。")
        return cleaned


class PersonChangeForm(DwgkForm[User]):
    unique_checked_by_action = False

    class Meta:
        model = User
        fields = ["name", "phone", "email", "is_active"]


@admin.register(User)
class UserAdmin(DwgkModelAdmin[User]):
    list_display = ["username", "name", "phone", "email", "is_active", "last_login"]
    list_filter = ["is_active"]
    search_fields = ["username", "name", "phone"]
    ordering = ["username"]
    add_fieldsets = [
        (None, {"fields": ["username", "name", "phone", "email", "password1", "password2"]}),
        ("所在组织", {"fields": ["branch", "unit", "unit_kind"]}),
    ]
    change_fieldsets = [
        (None, {"fields": ["username", "name", "phone", "email", "is_active"]}),
        ("登录记录", {"fields": ["last_login", "date_joined"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request) & policy.visible_people(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        user = request.user
        if obj is None:
            return policy.is_secadmin(user) or policy.manages_people(user)
        return policy.visible_people(user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.manages_people(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.manages_people(request.user) or policy.is_secadmin(request.user)
        return policy.can_change_person(request.user, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["username", "last_login", "date_joined"]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = PersonCreationForm if obj is None else PersonChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor = request.user
        if change:
            changes = {field: form.cleaned_data[field] for field in form.changed_data}
            user_update(User.objects.get(pk=obj.pk), actor=actor, via="admin", **changes)
            return
        # New account: the form has validated the password and set its hash.
        created = user_create(
            actor=actor,
            username=obj.username,
            name=obj.name,
            phone=obj.phone,
            email=obj.email,
            password_hash=obj.password,
            via="admin",
        )
        obj.pk = created.pk
        data = form.cleaned_data
        if data.get("branch"):
            member_join(obj, data["branch"], actor=actor)
        if data.get("unit"):
            affiliate(obj, data["unit"], actor=actor, kind=data["unit_kind"])


# --- memberships ----------------------------------------------------------------------------


class CurrentFilter(admin.SimpleListFilter):
    """Current rows (not ended / not revoked) or history only."""

    title = "状态"
    parameter_name = "current"
    end_field = "ended_on"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "当前有效"), ("no", "已结束")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(**{f"{self.end_field}__isnull": True})
        if self.value() == "no":
            return queryset.filter(**{f"{self.end_field}__isnull": False})
        return queryset


class RevokedFilter(CurrentFilter):
    end_field = "revoked_at"


class MembershipForm(DwgkForm[Membership]):
    class Meta:
        model = Membership
        fields = ["user", "branch", "kind", "started_on"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            user, branch = self.fields["user"], self.fields["branch"]
            assert isinstance(user, forms.ModelChoiceField)
            assert isinstance(branch, forms.ModelChoiceField)
            user.queryset = policy.managed_people(self.actor)
            branch.queryset = branch_choices(self.actor)


class TransferForm(forms.Form):
    to_branch = forms.ModelChoiceField(
        label="转入党支部编码",
        queryset=Organization.objects.active().filter(org_type__holds_members=True),
        to_field_name="code",
        widget=forms.TextInput(attrs={"size": 30}),
        help_text="填写转入党支部的组织编码（可在组织机构目录中查到）；可以是其他单位的党支部。",
        error_messages={"invalid_choice": "没有找到该编码的党支部，或它已撤销、合并。"},
    )
    on = forms.DateField(
        label="转接日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="不填则为今天。",
    )


class PlaceAdmin(DwgkModelAdmin[Any]):
    """Memberships and affiliations: rows that place a person in an organization, kept by
    whoever manages that organization."""

    org_field = ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if policy.is_sysadmin(request.user):
            return qs
        return qs.filter(**{f"{self.org_field}__in": policy.managed_orgs(request.user)})

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.manages_people(request.user)
        return policy.can_manage_org(request.user, getattr(obj, self.org_field))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.manages_people(request.user)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"started_on": timezone.localdate(), **super().get_changeform_initial_data(request)}


@admin.register(Membership)
class MembershipAdmin(PlaceAdmin):
    org_field = "branch"
    form = MembershipForm
    list_display = ["user", "branch", "kind", "started_on", "ended_on", "end_reason"]
    list_filter = [CurrentFilter, "kind", "end_reason"]
    search_fields = ["user__name", "user__username", "branch__name", "branch__code"]
    list_select_related = ["user", "branch"]
    autocomplete_fields = ["user", "branch"]
    actions = ["transfer"]

    def has_transfer_permission(self, request: HttpRequest) -> bool:
        return policy.manages_people(request.user)

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        data = form.cleaned_data
        membership = member_join(
            data["user"],
            data["branch"],
            actor=request.user,
            started_on=data["started_on"],
            kind=data["kind"],
        )
        adopt(obj, membership)

    @admin.action(description="办理组织关系转接", permissions=["transfer"])
    def transfer(self, request: HttpRequest, queryset: QuerySet[Membership]) -> HttpResponse | None:
        form = applied_form(request, TransferForm)
        if form.is_bound and form.is_valid():
            to_branch, on = form.cleaned_data["to_branch"], form.cleaned_data["on"]

            def move(m: Membership) -> None:
                if not m.is_current:
                    raise ActionError(f"{m.user.name}在“{m.branch.name}”的组织关系已经结束。")
                member_transfer(m.user, to_branch, actor=request.user, on=on)

            self.run_each(
                request,
                queryset.select_related("user", "branch"),
                move,
                "已为 {count} 名党员办理组织关系转接。",
            )
            return None
        return self.action_form_page(
            request,
            queryset.select_related("user", "branch"),
            form,
            action="transfer",
            title="组织关系转接",
            intro="原组织关系将结束并保留记录，在转入党支部开始新的组织关系。办理以下党员的转接：",
            submit="确认转接",
        )


# --- affiliations ---------------------------------------------------------------------------


class AffiliationForm(DwgkForm[Affiliation]):
    class Meta:
        model = Affiliation
        fields = ["user", "org", "kind", "started_on"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            user, org = self.fields["user"], self.fields["org"]
            assert isinstance(user, forms.ModelChoiceField)
            assert isinstance(org, forms.ModelChoiceField)
            user.queryset = policy.managed_people(self.actor)
            org.queryset = policy.managed_orgs(self.actor).active()


@admin.register(Affiliation)
class AffiliationAdmin(PlaceAdmin):
    org_field = "org"
    form = AffiliationForm
    list_display = ["user", "org", "kind", "started_on", "ended_on"]
    list_filter = [CurrentFilter, "kind"]
    search_fields = ["user__name", "user__username", "org__name", "org__code"]
    list_select_related = ["user", "org"]
    autocomplete_fields = ["user", "org"]
    actions = ["end"]

    def has_end_permission(self, request: HttpRequest) -> bool:
        return policy.manages_people(request.user)

    def save_model(self, request: HttpRequest, obj: Affiliation, form: Any, change: bool) -> None:
        data = form.cleaned_data
        aff = affiliate(
            data["user"],
            data["org"],
            actor=request.user,
            kind=data["kind"],
            started_on=data["started_on"],
        )
        adopt(obj, aff)

    @admin.action(description="结束所选隶属关系", permissions=["end"])
    def end(self, request: HttpRequest, queryset: QuerySet[Affiliation]) -> None:
        self.run_each(
            request,
            queryset.select_related("org"),
            lambda aff: affiliation_end(aff, actor=request.user),
            "已结束 {count} 条隶属关系。",
        )


# --- roles ----------------------------------------------------------------------------------


def grants_roles(user: Any) -> bool:
    return policy.is_secadmin(user) or policy.role_grantable_orgs(user).exists()


class RoleGrantForm(DwgkForm[RoleGrant]):
    class Meta:
        model = RoleGrant
        fields = ["user", "org", "role", "inherit"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            user, org = self.fields["user"], self.fields["org"]
            assert isinstance(user, forms.ModelChoiceField)
            assert isinstance(org, forms.ModelChoiceField)
            user.queryset = policy.visible_people(self.actor).filter(is_active=True)
            org.queryset = policy.role_grantable_orgs(self.actor).active()


@admin.register(RoleGrant)
class RoleGrantAdmin(DwgkModelAdmin[RoleGrant]):
    form = RoleGrantForm
    list_display = ["user", "org", "role", "inherit", "granted_at", "granted_by", "revoked_at"]
    list_filter = [RevokedFilter, "role", "inherit"]
    search_fields = ["user__name", "user__username", "org__name", "org__code"]
    list_select_related = ["user", "org", "granted_by"]
    autocomplete_fields = ["user", "org"]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoleGrant]:
        qs = super().get_queryset(request)
        if policy.is_secadmin(request.user):
            return qs
        return qs.filter(org__in=policy.role_grantable_orgs(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return grants_roles(request.user)
        return policy.can_grant_roles(request.user, obj.org)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return grants_roles(request.user)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return grants_roles(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["granted_at", "granted_by", "revoked_at", "revoked_by"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        fields = ["user", "org", "role", "inherit"]
        return fields if obj is None else [*fields, *self.get_readonly_fields(request, obj)]

    def save_model(self, request: HttpRequest, obj: RoleGrant, form: Any, change: bool) -> None:
        data = form.cleaned_data
        grant = role_grant(
            data["user"], data["org"], data["role"], actor=request.user, inherit=data["inherit"]
        )
        adopt(obj, grant)

    @admin.action(description="撤销所选角色", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[RoleGrant]) -> None:
        self.run_each(
            request,
            queryset,
            lambda grant: role_revoke(grant, actor=request.user),
            "已撤销 {count} 个角色。",
        )


class PlatformRoleForm(DwgkForm[PlatformRole]):
    class Meta:
        model = PlatformRole
        fields = ["user", "kind"]


@admin.register(PlatformRole)
class PlatformRoleAdmin(DwgkModelAdmin[PlatformRole]):
    """三员: only the security administrator sees and changes who holds them."""

    form = PlatformRoleForm
    list_display = ["user", "kind", "granted_at", "granted_by"]
    list_filter = ["kind"]
    search_fields = ["user__name", "user__username"]
    list_select_related = ["user", "granted_by"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.is_secadmin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.is_secadmin(request.user)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return policy.is_secadmin(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [] if obj is None else ["granted_at", "granted_by"]

    def save_model(self, request: HttpRequest, obj: PlatformRole, form: Any, change: bool) -> None:
        data = form.cleaned_data
        adopt(obj, platform_role_grant(data["user"], data["kind"], actor=request.user))

    @admin.action(description="撤销所选平台角色", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PlatformRole]) -> None:
        # The row itself goes (one per account); the audit entry keeps the history.
        self.run_each(
            request,
            list(queryset.select_related("user")),
            lambda pr: platform_role_revoke(pr.user, actor=request.user),
            "已撤销 {count} 个平台角色。",
        )
