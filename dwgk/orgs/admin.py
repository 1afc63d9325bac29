"""Organizations in the admin. Every change goes through `dwgk.orgs.actions`: creating
(org_create), renaming (org_rename), moving (org_move, when the parent changes) and
dissolving (org_dissolve, the "撤销" list action). Nothing is hard-deleted.

Who: the system administrator manages every organization; an organization admin only
their own subtree; the security administrator reads the tree (to grant roles) but changes
nothing; the auditor does not see it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from dwgk.accounts import policy
from dwgk.admin_site import DwgkForm, DwgkModelAdmin, adopt, applied_form
from dwgk.orgs.actions import org_create, org_dissolve, org_move, org_rename
from dwgk.orgs.models import Organization, OrgEvent, OrgType

# Autocomplete sources (app_label, model_name, field_name) that must offer branches only.
BRANCH_FIELDS = {("accounts", "membership", "branch")}


def can_view_org(user: Any, org: Organization) -> bool:
    return policy.is_secadmin(user) or policy.can_manage_org(user, org)


def views_orgs(user: Any) -> bool:
    """Whether the user sees the organization list at all."""
    return (
        policy.is_sysadmin(user) or policy.is_secadmin(user) or policy.managed_orgs(user).exists()
    )


EVENT_FIELDS = ("at", "kind", "moved_from", "moved_to", "old_name", "new_name", "actor", "note")


class OrgEventInline(admin.TabularInline):  # type: ignore[type-arg]
    """The organization's history (moves, renames, dissolution, merging), read-only."""

    model = OrgEvent
    fk_name = "org"
    extra = 0
    can_delete = False
    fields = EVENT_FIELDS
    readonly_fields = EVENT_FIELDS
    ordering = ["-at", "-id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrgEvent]:
        return super().get_queryset(request).select_related("from_parent", "to_parent", "actor")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return views_orgs(request.user)
        return can_view_org(request.user, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="原上级组织")
    def moved_from(self, event: OrgEvent) -> str:
        return str(event.from_parent or "-")

    @admin.display(description="新上级组织（或并入组织）")
    def moved_to(self, event: OrgEvent) -> str:
        return str(event.to_parent or "-")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrganizationForm(DwgkForm[Organization]):
    class Meta:
        model = Organization
        fields = ["name", "short_name", "code", "org_type", "parent", "sort_order"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.fields.get("parent")
        if isinstance(parent, forms.ModelChoiceField):
            # Only organizations the actor manages may become a parent; the current parent
            # stays selectable so that an admin of a subtree's root can still save it.
            choices = policy.managed_orgs(self.actor).active()
            if self.instance.parent_id is not None:
                choices = choices | Organization.objects.filter(pk=self.instance.parent_id)
            parent.queryset = choices
            if self.instance.pk is not None:
                parent.required = True


@admin.register(Organization)
class OrganizationAdmin(DwgkModelAdmin[Organization]):
    form = OrganizationForm
    list_display = ["name", "code", "org_type", "parent", "status"]
    list_filter = ["org_type", "status"]
    search_fields = ["name", "code"]
    list_select_related = ["org_type", "parent"]
    autocomplete_fields = ["parent"]
    inlines = [OrgEventInline]
    actions = ["dissolve"]

    # --- scope and permissions ----------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        qs = super().get_queryset(request)
        if policy.is_secadmin(request.user):
            return qs
        return qs & policy.managed_orgs(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return views_orgs(request.user)
        return can_view_org(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policy.managed_orgs(request.user).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policy.managed_orgs(request.user).exists()
        return policy.can_manage_org(request.user, obj)

    def has_dissolve_permission(self, request: HttpRequest) -> bool:
        return self.has_change_permission(request)

    # --- the form -----------------------------------------------------------------------

    def get_inlines(self, request: HttpRequest, obj: Any) -> list[Any]:
        return [] if obj is None else list(self.inlines)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        if obj is None:
            return ["name", "short_name", "code", "org_type", "parent", "sort_order"]
        return [
            "name",
            "short_name",
            "parent",
            "code",
            "org_type",
            "status",
            "merged_into",
            "ended_on",
            "sort_order",
            "created_at",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        # The code is part of index numbers and roster imports; the type decides the catalog
        # template; status changes are the 撤销 action's. None of them is edited here.
        readonly = ["code", "org_type", "status", "merged_into", "ended_on"]
        readonly += ["sort_order", "created_at"]
        if obj.parent_id is None:
            readonly.append("parent")  # a root stays a root
        return readonly

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Organization], search_term: str
    ) -> tuple[QuerySet[Organization], bool]:
        qs, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        match = request.resolver_match
        if match is not None and match.url_name == "autocomplete":
            # Choices offered while filling in another form: only active organizations,
            # and only branches where the field takes a branch.
            qs = qs.filter(status=Organization.Status.ACTIVE)
            keys = ("app_label", "model_name", "field_name")
            source = tuple(request.GET.get(k, "") for k in keys)
            if source in BRANCH_FIELDS:
                qs = qs.filter(org_type__holds_members=True)
        return qs, may_have_duplicates

    def save_model(self, request: HttpRequest, obj: Organization, form: Any, change: bool) -> None:
        data = form.cleaned_data
        actor = request.user
        if not change:
            created = org_create(
                actor=actor,
                name=data["name"],
                short_name=data.get("short_name", ""),
                code=data["code"],
                org_type=data["org_type"],
                parent=data.get("parent"),
                sort_order=data.get("sort_order") or 0,
            )
            adopt(obj, created)
            return
        changed = set(form.changed_data)
        if "parent" in changed:
            org_move(Organization.objects.get(pk=obj.pk), data["parent"], actor=actor)
        if changed & {"name", "short_name"}:
            # A fresh copy: the form already wrote the new name onto `obj`, and the action
            # keeps the old name in the history.
            org_rename(
                Organization.objects.get(pk=obj.pk),
                actor=actor,
                name=data["name"],
                short_name=data.get("short_name", ""),
            )
        obj.refresh_from_db()

    # --- 撤销 ---------------------------------------------------------------------------

    @admin.action(description="撤销所选组织", permissions=["dissolve"])
    def dissolve(
        self, request: HttpRequest, queryset: QuerySet[Organization]
    ) -> HttpResponse | None:
        form = applied_form(request, DissolveForm)
        if form.is_bound and form.is_valid():
            note, on = form.cleaned_data["note"], form.cleaned_data["on"]
            self.run_each(
                request,
                queryset,
                lambda org: org_dissolve(org, actor=request.user, note=note, on=on),
                "已撤销 {count} 个组织。",
            )
            return None
        return self.action_form_page(
            request,
            queryset,
            form,
            action="dissolve",
            title="撤销组织",
            intro="撤销后组织不再接收党员和隶属人员，历史记录保留。将撤销以下组织：",
            submit="确认撤销",
        )


class DissolveForm(forms.Form):
    on = forms.DateField(
        label="撤销日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="不填则为今天。",
    )
    note = forms.CharField(
        label="说明", required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=500
    )


@admin.register(OrgType)
class OrgTypeAdmin(DwgkModelAdmin[OrgType]):
    """Organization types are data from the rules (data/org_types.toml): read-only."""

    list_display = ["name", "code", "category", "level", "holds_members", "template", "basis"]
    list_filter = ["category", "level"]
    search_fields = ["name", "code"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return views_orgs(request.user)
