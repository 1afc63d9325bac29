"""The Chinese administration site. Access is decided by our roles (platform roles and
organization admins), not by Django's is_staff/is_superuser flags or model permissions, so
that 三员分立 and "an organization admin manages only their own subtree" hold in the admin too.

This module is imported while the app registry is still loading (it holds the AdminConfig),
so it imports no models at module level.

Every ModelAdmin of the project derives from `DwgkModelAdmin`, which
- denies everything unless the subclass's policy allows it (view, add, change; never delete);
- looks objects up without the list's scope, so an object outside the user's scope answers
  403 from the per-object permission checks rather than a misleading "does not exist";
- saves through the domain actions (`save_model` of each subclass calls one) and turns an
  action's refusal (ActionError / NotAllowed) into a Chinese error on the same form;
- gives list actions a way to run one domain action per selected object, reporting each
  refusal as an admin error message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from dwgk.lib.errors import ActionError

if TYPE_CHECKING:
    from django.contrib.auth.forms import AuthenticationForm

M = TypeVar("M", bound=models.Model)

# Where changeform_view leaves an action's refusal for the second, validating pass.
_ACTION_ERROR_ATTR = "_dwgk_action_error"


@functools.cache
def admin_login_form() -> type[AuthenticationForm]:
    """The admin login form: lets in whoever our policy lets use the admin (not is_staff)."""
    from django.contrib.admin.forms import AdminAuthenticationForm

    from dwgk.accounts.policy import can_use_admin

    class RoleAdminAuthenticationForm(AdminAuthenticationForm):
        error_messages = {
            **AdminAuthenticationForm.error_messages,
            "invalid_login": (
                "请输入正确的用户名和密码。只有组织管理员和平台管理人员可以进入管理后台。"
            ),
        }

        def confirm_login_allowed(self, user: Any) -> None:
            # AuthenticationForm's own check (inactive accounts), skipping the admin's
            # is_staff check, then ours.
            super(AdminAuthenticationForm, self).confirm_login_allowed(user)
            if not can_use_admin(user):
                raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")

    return RoleAdminAuthenticationForm


class DwgkAdminSite(admin.AdminSite):
    site_header = "党务公开平台 · 管理后台"
    site_title = "党务公开平台管理后台"
    index_title = "管理首页"

    def has_permission(self, request: HttpRequest) -> bool:
        from dwgk.accounts.policy import can_use_admin

        return can_use_admin(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if self.login_form is None:
            self.login_form = admin_login_form()
        return super().login(request, extra_context)


class DwgkAdminConfig(AdminConfig):
    default_site = "dwgk.admin_site.DwgkAdminSite"


class DwgkForm(forms.ModelForm, Generic[M]):  # type: ignore[type-arg]
    """Base form of the admin: knows who is acting (to narrow its choices to what the actor
    may pick) and, on the second pass after a refused action, shows the refusal."""

    actor: ClassVar[Any] = None
    action_error: ClassVar[str | None] = None
    # Uniqueness and conditional constraints are checked by the domain action, which says
    # what is wrong in plain words, and enforced by the database.
    unique_checked_by_action: ClassVar[bool] = True

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.action_error:
            self.add_error(None, self.action_error)
        return cleaned

    def validate_unique(self) -> None:
        if not self.unique_checked_by_action:
            super().validate_unique()


def adopt(obj: models.Model, saved: models.Model) -> None:
    """Make the admin's unsaved form instance the row an action just created, so that the
    admin's own log entry and redirect point at it."""
    for field in obj._meta.concrete_fields:
        setattr(obj, field.attname, getattr(saved, field.attname))
    obj._state.adding = False
    obj._state.db = saved._state.db


class DwgkModelAdmin(admin.ModelAdmin, Generic[M]):  # type: ignore[type-arg]
    """Base of every ModelAdmin here. Subclasses say who may view, add and change, per
    object, from `dwgk.accounts.policy`; nothing is ever hard-deleted from the admin."""

    form = DwgkForm
    # Exact counts of big tables (the audit log, people) are not worth a full scan per page.
    show_full_result_count = False

    # --- permissions: deny unless a subclass's policy allows ---------------------------

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) or self.has_add_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        # Unscoped on purpose: the per-object has_*_permission checks then answer 403 for
        # an object outside the user's scope. The list stays scoped by get_queryset.
        queryset = self.model._default_manager.all()
        field: Any = self.opts.pk if from_field is None else self.opts.get_field(from_field)
        try:
            value = field.to_python(object_id)
            return queryset.get(**{field.name: value})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None

    # --- saving through the domain actions ----------------------------------------------

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = cast("type[DwgkForm[Any]]", super().get_form(request, obj, change, **kwargs))
        # modelform_factory made a fresh class for this request: binding is safe.
        form.actor = request.user
        form.action_error = getattr(request, _ACTION_ERROR_ATTR, None)
        return form

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ActionError as e:
            # The action refused inside save_model and Django's transaction rolled everything
            # back. Show the same form again with the refusal as its error: this second pass
            # fails validation, so it saves nothing.
            setattr(request, _ACTION_ERROR_ATTR, e.message)
            return super().changeform_view(request, object_id, form_url, extra_context)

    # --- list actions ----------------------------------------------------------------------

    def run_each(
        self,
        request: HttpRequest,
        objects: Iterable[M],
        action: Callable[[M], object],
        done: str,
    ) -> int:
        """Run one domain action per object; each refusal becomes an error message, the
        successes one summary (`done` may use {count})."""
        count = 0
        for obj in objects:
            try:
                action(obj)
            except ActionError as e:
                self.message_user(request, e.message, messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, done.format(count=count), messages.SUCCESS)
        return count

    def action_form_page(
        self,
        request: HttpRequest,
        objects: Iterable[M],
        form: forms.Form,
        *,
        action: str,
        title: str,
        intro: str,
        submit: str,
    ) -> TemplateResponse:
        """An intermediate page asking for an action's details (target, date, note) before
        it runs on the selected objects; it posts back to the changelist with `apply`."""
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "submit": submit,
            "objects": list(objects),
            "form": form,
            "action": action,
            "opts": self.opts,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/dwgk/action_form.html", context)


def applied_form(request: HttpRequest, form_class: type[forms.Form]) -> forms.Form:
    """The action's detail form: bound when the intermediate page was submitted."""
    if request.method == "POST" and "apply" in request.POST:
        return form_class(request.POST)
    return form_class()
