"""The one entry point that writes a synthetic province (see dwgk/synthetic/generator.py)."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from dwgk.audit.models import record
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.orgs.models import Organization, OrgType
from dwgk.synthetic import policy
from dwgk.synthetic.generator import Generator, PhaseReport
from dwgk.synthetic.tree import PRESETS

# The day the generated history ends unless told otherwise: fixed, so that the same seed
# gives the same rows whatever the day of the run.
DEFAULT_UNTIL = datetime.date(2026, 12, 1)


class DatabaseNotEmpty(ActionError):
    """The database already holds organizations and the operator did not say --yes."""


@dataclass
class Result:
    preset: str
    scale: float
    seed: int
    until: datetime.date
    vendor: str
    phases: list[PhaseReport]
    rows: dict[str, int]
    write_seconds: dict[str, float]  # per table: the inserts (and streamed row building)
    seconds: float
    fast_load: bool  # PostgreSQL: foreign keys checked by construction, not row by row

    def as_json(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "scale": self.scale,
            "seed": self.seed,
            "until": self.until.isoformat(),
            "database": self.vendor,
            "seconds": round(self.seconds, 2),
            "phases": [
                {"name": p.name, "rows": p.rows, "seconds": round(p.seconds, 2)}
                for p in self.phases
            ],
            "rows": self.rows,
            "write_seconds": {k: round(v, 2) for k, v in self.write_seconds.items()},
            "fast_load": self.fast_load,
        }


def _superuser() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser')")
        row = cursor.fetchone()
    return bool(row and row[0] == "on")


def generate_province(
    *,
    actor: Any,
    preset: str,
    scale: float = 1.0,
    seed: int = 1,
    until: datetime.date = DEFAULT_UNTIL,
    allow_existing: bool = False,
    password: str | None = None,
    progress: Callable[[str], None] = print,
) -> Result:
    """Build a synthetic province of the `preset` size times `scale` into the database, in
    one transaction, then refresh the planner's statistics.

    Refuses (DatabaseNotEmpty) when organizations exist, unless `allow_existing`: the rows
    then get the ids after the existing ones, and only an empty database gives the same ids
    for the same seed. `password`: every generated account gets it (one hash, for load
    tests); by default the accounts cannot log in (forced logins still work)."""
    if not policy.can_generate(actor):
        raise NotAllowed("只有运维人员可以在命令行生成合成数据。")
    if preset not in PRESETS:
        raise ActionError(f"未知的规模预设：{preset}（可选 {'、'.join(PRESETS)}）")
    if not scale > 0:
        raise ActionError("--scale 须为正数。")
    if not OrgType.objects.exists():
        raise ActionError("数据库中没有组织类型，请先运行 manage.py migrate。")
    if Organization.objects.exists() and not allow_existing:
        raise DatabaseNotEmpty(
            "数据库中已有党组织：合成数据会写入真实数据表，只应生成在专用的数据库中。"
            "如确需在现有数据之后追加，请加 --yes。"
        )
    target = PRESETS[preset].scaled(scale)
    vendor = connection.vendor
    outer = connection.in_atomic_block  # inside a test's transaction: no session tuning
    fast = False
    began = time.perf_counter()
    # A fixed salt: the same seed and password give the same rows.
    password_hash = make_password(password, salt=f"synthetic{seed}") if password else "!"
    if vendor == "sqlite" and not outer:
        with connection.cursor() as cursor:
            # One big transaction; nothing is lost but the load itself if the machine fails.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")
    try:
        with transaction.atomic():
            if vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
                    if not outer and _superuser():
                        # Every reference is drawn from rows written before it, so checking
                        # each of ~10 million foreign keys one by one would only repeat that
                        # (the tests check them the ordinary way, row by row).
                        cursor.execute("SET LOCAL session_replication_role = replica")
                        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                        fast = True
            generator = Generator(
                target,
                seed=seed,
                until=until,
                password_hash=password_hash,
                progress=progress,
                defer_indexes=fast,
            )
            phases = generator.run()
            record(
                actor,
                "synthetic.generate",
                None,
                preset=preset,
                scale=scale,
                seed=seed,
                until=until.isoformat(),
                rows=generator.writer.counts,
            )
    finally:
        if vendor == "sqlite" and not outer:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA synchronous=NORMAL")
    began_stats = time.perf_counter()
    with connection.cursor() as cursor:
        # The planner needs to know the new tables' sizes before anyone measures anything.
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" and not outer else "ANALYZE")
    stats = time.perf_counter() - began_stats
    label = "VACUUM ANALYZE" if vendor == "postgresql" and not outer else "ANALYZE"
    progress(f"  {label}：{stats:.1f} 秒")
    phases.append(PhaseReport(label, 0, stats))
    return Result(
        preset=preset,
        scale=scale,
        seed=seed,
        until=until,
        vendor=vendor,
        phases=phases,
        rows=dict(generator.writer.counts),
        write_seconds=dict(generator.writer.seconds),
        seconds=time.perf_counter() - began,
        fast_load=fast,
    )
