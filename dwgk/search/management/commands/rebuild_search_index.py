"""Rebuild the search index from the disclosure items (after an upgrade or a restore)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from dwgk.search.index import rebuild


class Command(BaseCommand):
    help = "重建全文检索索引"

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        done = rebuild()
        self.stdout.write(f"已索引 {done} 个公开事项，用时 {time.monotonic() - started:.1f} 秒。")
