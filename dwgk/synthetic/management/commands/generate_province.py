"""`manage.py generate_province --preset small|city|province [--scale F] [--seed N] [--yes]`:
build a synthetic province into the database for load tests and benchmarks (bench/README.md)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from dwgk.lib.errors import ActionError
from dwgk.synthetic.actions import DEFAULT_UNTIL, DatabaseNotEmpty, generate_province
from dwgk.synthetic.tree import PRESETS


class Command(BaseCommand):
    help = "生成合成的全省数据（党组织、人员、目录、公开事项等），用于性能测试；只应在专用数据库中运行。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--preset",
            choices=sorted(PRESETS),
            default="small",
            help="规模预设：small 约 1 千个组织；city 约 1 万个组织、20 万人、100 万公开事项；"
            "province 约 10 万个组织、200 万人、1000 万公开事项",
        )
        parser.add_argument("--scale", type=float, default=1.0, help="在预设基础上按比例缩放")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（相同种子生成相同数据）")
        parser.add_argument(
            "--until",
            type=datetime.date.fromisoformat,
            default=DEFAULT_UNTIL,
            metavar="YYYY-MM-DD",
            help=f"生成的五年历史截至哪一天（默认 {DEFAULT_UNTIL.isoformat()}）",
        )
        parser.add_argument("--yes", action="store_true", help="数据库中已有党组织时仍然追加生成")
        parser.add_argument("--password", help="为全部合成账号设置同一个密码（默认账号不能登录）")
        parser.add_argument(
            "--report", type=Path, metavar="FILE", help="把各阶段用时和行数写入 JSON 文件"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out = self.stdout
        preset = PRESETS[options["preset"]].scaled(options["scale"])
        database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
        out.write(
            f"生成合成省份：预设 {preset.name} × {options['scale']:g}（目标约 {preset.orgs:,} 个组织、"
            f"{preset.people:,} 人、{preset.items:,} 项公开事项），种子 {options['seed']}，"
            f"截至 {options['until']:%Y-%m-%d}，数据库 {database}"
        )
        try:
            result = generate_province(
                actor=None,
                preset=options["preset"],
                scale=options["scale"],
                seed=options["seed"],
                until=options["until"],
                allow_existing=options["yes"],
                password=options["password"],
                progress=lambda line: out.write(line),
            )
        except DatabaseNotEmpty as error:
            raise CommandError(error.message, returncode=2) from None
        except ActionError as error:
            raise CommandError(error.message) from None
        out.write("各表行数：")
        for label, n in sorted(result.rows.items()):
            out.write(f"  {label}: {n:,}（写入 {result.write_seconds.get(label, 0):.1f} 秒）")
        out.write(
            self.style.SUCCESS(
                f"完成：共 {sum(result.rows.values()):,} 行，用时 {result.seconds:.1f} 秒。"
            )
        )
        if options["report"]:
            options["report"].write_text(
                json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n",
                encoding="utf-8",
            )
