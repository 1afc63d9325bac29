"""`manage.py verify_disclosure_log [--item PK]`: check the hash chain of every item's log
(or of one item) and fail when any is broken, naming the item and the first bad entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dwgk.disclosures.archive import verify_all
from dwgk.disclosures.models import Disclosure


class Command(BaseCommand):
    help = "校验公开事项记录的哈希链：记录被改动、删除或调换时报错退出。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--item", type=int, metavar="PK", help="只校验这一个事项（编号）")

    def handle(self, *args: Any, **options: Any) -> None:
        items = Disclosure.objects.all()
        if options["item"] is not None:
            items = items.filter(pk=options["item"])
            if not items.exists():
                raise CommandError(f"没有编号为 {options['item']} 的公开事项。")
        reports = verify_all(items)
        broken = []
        for report in reports.values():
            if report.ok:
                self.stdout.write(
                    f"事项 {report.item_id}《{report.title}》：{report.entries} 条记录，完整。"
                )
                continue
            broken.append(report)
            self.stdout.write(
                self.style.ERROR(
                    f"事项 {report.item_id}《{report.title}》：{report.entries} 条记录，"
                    f"自第 {report.first_bad_seq} 条起不完整。"
                )
            )
            for message in report.messages:
                self.stdout.write(f"  {message}")
        if broken:
            first = broken[0]
            raise CommandError(
                f"{len(broken)} 个事项的记录哈希链不完整，"
                f"首个为事项 {first.item_id}《{first.title}》第 {first.first_bad_seq} 条。"
            )
        self.stdout.write(self.style.SUCCESS(f"已校验 {len(reports)} 个事项，记录均完整。"))
