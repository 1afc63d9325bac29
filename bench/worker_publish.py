"""How fast the worker publishes: N approved and scheduled items (default 1,000), each built
through the real actions (draft, submit, review, approve, schedule), then published by one
call of `actions.publish_due`, timed. Not part of the test suite.

    .venv/bin/python -m bench.worker_publish            # SQLite: bench/results/worker_publish.sqlite3
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dwgk_bench_worker \\
        .venv/bin/python -m bench.worker_publish        # PostgreSQL (created when missing)

The SQLite file is recreated on every run; a PostgreSQL database that already holds
organizations is refused (exit 2): drop it first (`dropdb dwgk_bench_worker`).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SQLITE = RESULTS / "worker_publish.sqlite3"

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SQLITE}")


def prepare_database(url: str) -> None:
    """A fresh SQLite file, or the PostgreSQL database created when missing."""
    import dj_database_url

    cfg = dj_database_url.parse(url)
    if "sqlite" in cfg["ENGINE"]:
        RESULTS.mkdir(parents=True, exist_ok=True)
        if Path(cfg["NAME"]) == SQLITE:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{SQLITE}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres",
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        name = cfg["NAME"]
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            print(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000, help="items to publish (1000)")
    args = parser.parse_args()
    prepare_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # no query log kept on the side: measure what production runs
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dwgk.accounts.actions import role_grant
    from dwgk.accounts.models import Role
    from dwgk.disclosures import actions
    from dwgk.disclosures.models import Disclosure
    from dwgk.orgs.models import Organization
    from tests.cast import make_cast, make_user
    from tests.disclosure_cast import approved, make_disclosure_world

    call_command("migrate", verbosity=0)
    if Organization.objects.exists():
        print("the database already holds organizations: use an empty one", file=sys.stderr)
        return 2

    # The test world: the shared cast plus the disclosure staff (tests/conftest.py `dw`).
    cast = make_cast()
    role_grant(cast.bob, cast.branch1, Role.CLERK, actor=None)
    cast.paula = make_user("paula", name="宝拉")
    role_grant(cast.paula, cast.community, Role.PRINCIPAL, actor=None)
    dw = make_disclosure_world(cast)

    warm = 10
    total = args.items + warm
    started = time.perf_counter()
    for n in range(total):
        item = approved(dw, title=f"第{n + 1}期党费收缴使用情况")
        actions.disclosure_schedule(item, actor=dw.bob, publish_at=timezone.now())
        if (n + 1) % 250 == 0:
            print(f"  built {n + 1}/{total}")
    built = time.perf_counter() - started

    # The first few items, with the queries counted (counting itself costs a little).
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        first = actions.publish_due(timezone.now(), limit=warm)
    per_item = len(queries) / max(1, len(first))

    # The timed run counts its statements too (a counter costs next to nothing): the worker
    # publishes in batches, so the first few items alone would overstate the per-item cost.
    statements = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    started, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        done = actions.publish_due(timezone.now(), limit=args.items)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu

    published = Disclosure.objects.filter(status=Disclosure.Status.PUBLISHED).count()
    assert len(done) == args.items and published == total, (len(done), published)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = f"PostgreSQL {cursor.fetchone()[0]}"
    else:
        import sqlite3

        server = f"SQLite {sqlite3.sqlite_version}"
    print(f"database: {server}")
    print(f"python {platform.python_version()}, {os.cpu_count()} cpu(s)")
    print(f"built {total} approved + scheduled items in {built:.1f} s (through the actions)")
    print(f"queries per published item: {per_item:.1f} (first {warm} items)")
    print(f"  in the timed run: {statements / len(done):.2f} ({statements} for {len(done)} items)")
    print(
        f"publish_due: {len(done)} items in {seconds:.2f} s = "
        f"{len(done) / seconds:.0f} items/s ({seconds / len(done) * 1000:.2f} ms per item)"
    )
    # On a shared machine the wall time swings with the load; this process's CPU time less so.
    print(
        f"  of which CPU time in this process: {cpu:.2f} s ({cpu / len(done) * 1000:.2f} ms per item)"
    )
    if hasattr(os, "getloadavg"):
        print(f"load average after the run: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
