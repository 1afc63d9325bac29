"""`manage.py import_roster --kind orgs|people --file F [--within CODE]`.

The operator's own import: no actor, so no permission checks; `--within` still confines it
to one subtree. Exits non-zero, with every bad row listed, when anything is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dwgk.accounts.rosters import KINDS, import_roster
from dwgk.orgs.models import Organization


def org_by_code(code: str) -> Organization:
    org = Organization.objects.filter(code=code.strip()).first()
    if org is None:
        raise CommandError(f"找不到编码为 {code} 的组织。")
    return org


class Command(BaseCommand):
    help = "导入组织名册或人员名册（.xlsx 或 .csv）；有任何错误时不做任何修改。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=sorted(KINDS), help="orgs 或 people")
        parser.add_argument("--file", required=True, help="名册文件路径")
        parser.add_argument("--within", metavar="CODE", help="只允许修改该组织及其下级组织")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        within = org_by_code(options["within"]) if options["within"] else None
        path = Path(options["file"])
        try:
            with path.open("rb") as f:
                # One byte over the limit is enough for the import to report the size.
                data = f.read(settings.ROSTER_MAX_BYTES + 1)
        except OSError as e:
            raise CommandError(f"无法读取文件 {path}：{e.strerror}") from e
        result = import_roster(
            data,
            kind=options["kind"],
            actor=None,
            within=within,
            filename=path.name,
            dry_run=options["dry_run"],
        )
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(result.summary())
        self.stdout.write(self.style.SUCCESS(result.summary()))
