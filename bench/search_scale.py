"""Chinese search at 20,000 items: index time per item, 2- and 4-character query times.

    .venv/bin/python -m bench.search_scale                       # SQLite (bench/results/)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dwgk_search_bench \
        .venv/bin/python -m bench.search_scale

Items are written with bulk_create (with their audience key rows), then indexed one by one
through dwgk.search.index.index_disclosure, the function the procedure calls. Queries go
through the real backend; each count is checked against LIKE over the visible items.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{RESULTS / 'search_scale.sqlite3'}")

WORDS = [
    "党费",
    "收缴",
    "使用",
    "情况",
    "支部",
    "委员会",
    "换届选举",
    "公示",
    "党员",
    "发展",
    "组织",
    "生活",
    "会议",
    "学习",
    "教育",
    "主题",
    "民主",
    "评议",
    "工作",
    "计划",
    "总结",
    "社区",
    "街道",
    "群众",
    "服务",
    "活动",
    "通知",
    "决定",
    "关于",
    "开展",
    "推进",
    "落实",
    "制度",
    "建设",
    "监督",
    "检查",
    "整改",
    "报告",
    "意见",
    "建议",
    "年度",
    "第一",
    "第二",
    "季度",
    "元",
    "人",
    "次",
    "项",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    _fresh_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Q

    from dwgk.audience.keys import Audience
    from dwgk.disclosures.models import Disclosure, DisclosureAudience
    from dwgk.search.backend import get_backend
    from dwgk.search.index import index_disclosure
    from dwgk.search.models import SearchDoc
    from tests.disclosure_cast import make_disclosure_world, make_world

    call_command("migrate", verbosity=0)
    dw = make_disclosure_world(make_world())
    rng = random.Random(1)
    t0 = datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)
    party = Audience(party=(dw.branch1.pk,)).to_json()
    society = Audience(society=True).to_json()
    items = []
    for n in range(args.items):
        public = n % 2 == 0
        items.append(
            Disclosure(
                org=dw.branch1,
                entry=dw.open if public else dw.monthly,
                title="".join(rng.choices(WORDS, k=6)),
                body="<p>" + "".join(rng.choices(WORDS, k=80)) + "</p>",
                author=dw.bob,
                status=Disclosure.Status.PUBLISHED,
                published_at=t0 + datetime.timedelta(minutes=n),
                audience=society if public else party,
            )
        )
    Disclosure.objects.bulk_create(items, batch_size=1000)
    DisclosureAudience.objects.bulk_create(
        [
            DisclosureAudience(obj=item, key=key, sort_at=t0 + datetime.timedelta(minutes=n))
            for n, item in enumerate(items)
            for key in item.get_audience().to_keys()
        ],
        batch_size=2000,
    )
    started = time.perf_counter()
    for item in Disclosure.objects.prefetch_related("attachments", "audience_keys").iterator(
        chunk_size=500
    ):
        index_disclosure(item)
    per_item = (time.perf_counter() - started) / args.items * 1000
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{connection.vendor}: {SearchDoc.objects.count()} rows, index {per_item:.2f} ms/item")
    backend = get_backend()
    for user, who in ((AnonymousUser(), "anonymous"), (dw.bob, "bob")):
        for q in ("党费", "公示", "换届选举", "民主评议"):
            truth = (
                Disclosure.objects.visible_to(user)
                .filter(Q(title__contains=q) | Q(body__contains=q))
                .count()
            )
            assert backend.count(user, q) == truth, (who, q)
            page_ms = _median(lambda u=user, q=q: backend.search(u, q), args.runs)
            count_ms = _median(lambda u=user, q=q: backend.count(u, q), args.runs)
            print(
                f"  {who:9} {q:6} hits {truth:6}  first page {page_ms:6.2f} ms  "
                f"count {count_ms:6.2f} ms"
            )


def _fresh_database(url: str) -> None:
    """An empty database every run: SQLite file removed, PostgreSQL database recreated."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    if "sqlite" in cfg["ENGINE"]:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{cfg['NAME']}{suffix}").unlink(missing_ok=True)
        return
    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres",
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{cfg["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{cfg["NAME"]}"')


def _median(fn: Any, runs: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main()
