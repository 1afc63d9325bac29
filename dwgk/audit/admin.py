"""The audit log in the admin: for the security auditor only, and read-only for them too.

三员分立: the system administrator and the security administrator, whose actions are the
ones being audited, do not see it."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from dwgk.accounts import policy
from dwgk.admin_site import DwgkModelAdmin
from dwgk.audit.models import AuditEntry

ENTRY_FIELDS = (
    "at",
    "actor",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "org_id_at_time",
    "ip",
    "details",
)


@admin.register(AuditEntry)
class AuditEntryAdmin(DwgkModelAdmin[AuditEntry]):
    list_display = ["at", "actor_label", "action", "object_type", "object_label", "ip"]
    list_filter = ["action", ("at", admin.DateFieldListFilter)]
    date_hierarchy = "at"
    search_fields = ["actor_label", "actor__username", "object_label", "object_id"]
    fields = ENTRY_FIELDS
    readonly_fields = ENTRY_FIELDS
    list_per_page = 50

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policy.is_auditor(request.user)

    @admin.display(description="详情")
    def details(self, entry: AuditEntry) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(entry.data, ensure_ascii=False, indent=2, sort_keys=True)
        )
