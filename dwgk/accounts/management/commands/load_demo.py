"""`manage.py load_demo`: load the 明州 demo organizations and people, then print the logins.

Safe to run again and again (`make run` does it every time): whatever already exists, keyed by
organization code and username, is left as it is.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dwgk.accounts.demo import (
    BRANCH_SECRETARY,
    DEMO_PASSWORD,
    PEOPLE,
    format_table,
    load_demo,
    login_rows,
)
from dwgk.catalog.demo import load_demo_catalogs
from dwgk.disclosures.demo import load_demo_disclosures
from dwgk.disclosures.demo_history import load_demo_history


class Command(BaseCommand):
    help = "载入演示数据（虚构的明州市党组织与人员），可重复运行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="在 DEBUG 关闭时也载入（演示账号的密码是公开的，切勿用于生产环境）。",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo accounts share a published password: a production database must never
        # get them by accident, so outside DEBUG the operator has to say so explicitly.
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG 已关闭：演示账号使用公开的统一密码，不应载入生产环境。"
                "如确需载入（例如测试或演示环境），请加 --force。"
            )
        result = load_demo()
        # The catalogs need the people: their steps are taken by the demo accounts.
        catalog_versions = load_demo_catalogs()
        # The items need the published catalogs: each fulfils one of their entries.
        items = load_demo_disclosures()
        items += load_demo_history()
        out = self.stdout
        if result.changed:
            out.write(
                self.style.SUCCESS(
                    f"演示数据已载入：新建党组织 {result.orgs} 个、账号 {result.users} 个、"
                    f"党员组织关系 {result.memberships} 条、单位隶属 {result.affiliations} 条、"
                    f"组织角色 {result.role_grants} 个、平台角色 {result.platform_roles} 个。"
                )
            )
        if catalog_versions:
            out.write(
                self.style.SUCCESS(f"演示党务公开目录已载入：目录版本 {catalog_versions} 个。")
            )
        if items:
            out.write(self.style.SUCCESS(f"演示公开事项已载入：{items} 项。"))
        if not result.changed and not catalog_versions and not items:
            out.write(self.style.SUCCESS("演示数据已存在，未做任何改动。"))
        rows = login_rows()
        out.write("")
        out.write(
            f"演示账号（共 {len(PEOPLE)} 个）。建议先用第一个账号——党支部书记"
            f" {BRANCH_SECRETARY}——登录：它能看到本支部的党员名册和本人的组织隶属。"
        )
        out.write(format_table(("用户名", "姓名", "角色", "组织"), rows))
        out.write("")
        out.write(f"所有演示账号的统一密码：{DEMO_PASSWORD}")
        out.write(
            "登录地址：/accounts/login/  （本地运行时为 http://127.0.0.1:8000/accounts/login/）"
        )
        out.write(
            self.style.WARNING(
                "提示：以上账号和密码仅供演示，请勿在生产环境中使用。已存在的账号不会被重设密码。"
            )
        )
