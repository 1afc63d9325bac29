"""The Chinese administration site. Access is decided by our roles (platform roles and
organization admins), not by Django's is_staff/is_superuser flags, so that 三员分立 and
"an organization admin manages only their own subtree" hold in the admin too."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest


class DwgkAdminSite(admin.AdminSite):
    site_header = "党务公开平台 · 管理后台"
    site_title = "党务公开平台管理后台"
    index_title = "管理首页"

    def has_permission(self, request: HttpRequest) -> bool:
        from dwgk.accounts.policy import can_use_admin

        return can_use_admin(request.user)


class DwgkAdminConfig(AdminConfig):
    default_site = "dwgk.admin_site.DwgkAdminSite"
