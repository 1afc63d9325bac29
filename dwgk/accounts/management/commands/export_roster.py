"""`manage.py export_roster --kind orgs|people --within CODE --format xlsx|csv --out F`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dwgk.accounts.management.commands.import_roster import org_by_code
from dwgk.accounts.rosters import FORMATS, KINDS, export_rows, render
from dwgk.audit.models import record


class Command(BaseCommand):
    help = "导出某组织及其下级组织的组织名册或人员名册，可直接重新导入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", required=True, choices=sorted(KINDS), help="orgs 或 people")
        parser.add_argument("--within", metavar="CODE", required=True, help="组织编码")
        parser.add_argument("--format", choices=FORMATS, default="xlsx", help="xlsx 或 csv")
        parser.add_argument("--out", required=True, help="输出文件路径")

    def handle(self, *args: Any, **options: Any) -> None:
        within = org_by_code(options["within"])
        kind, fmt = options["kind"], options["format"]
        rows = export_rows(kind, within)
        path = Path(options["out"])
        try:
            path.write_bytes(render(kind, fmt, rows))
        except OSError as e:
            raise CommandError(f"无法写入文件 {path}：{e.strerror}") from e
        record(
            None, "roster.export", within, org_id=within.pk, kind=kind, format=fmt, rows=len(rows)
        )
        self.stdout.write(self.style.SUCCESS(f"已导出 {len(rows)} 行到 {path}。"))
