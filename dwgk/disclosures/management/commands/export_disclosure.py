"""`manage.py export_disclosure PK --out FILE`: write an archived item's archive package
(record PDF, attachments, revisions, log and manifest) to a zip file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dwgk.audit.models import record
from dwgk.disclosures.archive import export_package
from dwgk.disclosures.models import Disclosure


class Command(BaseCommand):
    help = "导出已归档公开事项的归档材料（记录 PDF、附件、内容版本、事项记录和清单）为 zip 文件。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("pk", type=int, help="公开事项编号")
        parser.add_argument("--out", required=True, help="输出文件路径（.zip）")

    def handle(self, *args: Any, **options: Any) -> None:
        item = Disclosure.objects.filter(pk=options["pk"]).first()
        if item is None:
            raise CommandError(f"没有编号为 {options['pk']} 的公开事项。")
        if item.status != Disclosure.Status.ARCHIVED:
            raise CommandError(
                f"事项 {item.pk}《{item.title}》当前状态为“{item.get_status_display()}”，"
                "尚未归档：归档后才能导出归档材料。"
            )
        data = export_package(item)
        path = Path(options["out"])
        try:
            path.write_bytes(data)
        except OSError as e:
            raise CommandError(f"无法写入文件 {path}：{e.strerror}") from e
        digest = hashlib.sha256(data).hexdigest()
        record(None, "disclosure.export", item, org_id=item.org_id, size=len(data), sha256=digest)
        self.stdout.write(
            self.style.SUCCESS(
                f"已导出事项 {item.pk}《{item.title}》的归档材料到 {path}"
                f"（{len(data):,} 字节，SHA-256 {digest}）。"
            )
        )
