"""Who-sees-what at province scale: generate a big world with set-based SQL, then time the
visibility queries and check that their plans are index-driven.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dwgk_bench \
        .venv/bin/python -m bench.audience_scale

(the database is created when missing).

At --scale 1: ~100k organizations in 5 levels, 200k people (160k party members, 60k
affiliations, 10k role grants), 1M bulletins with ~1M audience key rows over 5 years.
SQLite works too with a smaller --scale (the default database is a file under
bench/results/, never the development database).

It refuses a database that already holds organizations unless --reuse is given, in which
case it measures the data already there. Exit status 1 when any plan reads the bulletin,
audience-key or organization table with a sequential scan (SQLite: a full SCAN).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
EPOCH_2021 = 1609459200  # 2021-01-01T00:00:00Z
FIVE_YEARS = 5 * 365 * 24 * 3600 + 24 * 3600

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{RESULTS / 'audience_scale.sqlite3'}")


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE when the one named in the URL does not exist yet."""
    import dj_database_url
    import psycopg

    cfg = dj_database_url.parse(url)
    if "postgresql" not in cfg["ENGINE"]:
        return
    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres",
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        name = cfg["NAME"]
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


# --- set-based generation ------------------------------------------------------------


class Dialect:
    """The few SQL spellings that differ between PostgreSQL and SQLite."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"

    def series(self, n: int) -> str:
        """A FROM item yielding i = 0 .. n-1."""
        if self.pg:
            return f"generate_series(0, {n - 1}) AS g(i)"
        return (
            f"(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1}) "
            "SELECT i FROM s) AS g"
        )

    def rnd(self) -> str:
        """A uniform random number in [0, 1)."""
        return "random()" if self.pg else "((random() & 1073741823) / 1073741824.0)"

    def ifloor(self, expr: str) -> str:
        return f"floor({expr})::bigint" if self.pg else f"CAST({expr} AS INTEGER)"

    def pad(self, expr: str) -> str:
        return f"lpad(({expr})::text, 8, '0')" if self.pg else f"printf('%08d', {expr})"

    def ts(self, epoch_expr: str) -> str:
        if self.pg:
            return f"to_timestamp({epoch_expr})"
        return f"datetime({epoch_expr}, 'unixepoch')"

    def now(self) -> str:
        return "now()" if self.pg else "datetime('now')"

    def json(self, expr: str) -> str:
        return f"({expr})::jsonb" if self.pg else expr

    def true(self) -> str:
        return "true" if self.pg else "1"

    def false(self) -> str:
        return "false" if self.pg else "0"


@dataclass
class Shape:
    """Sizes of the generated world; level 5 holds the party branches."""

    levels: list[int]
    users: int
    bulletins: int
    base: list[int] = field(default_factory=list)  # first organization id of each level

    @classmethod
    def at(cls, scale: float) -> Shape:
        levels = [1, 16, 192, max(192, round(3840 * scale)), max(192, round(96000 * scale))]
        levels[4] = max(levels[4], levels[3])
        shape = cls(levels, max(100, round(200_000 * scale)), max(1000, round(1_000_000 * scale)))
        first = 1
        for n in levels:
            shape.base.append(first)
            first += n
        return shape

    @property
    def orgs(self) -> int:
        return sum(self.levels)


def audience_json(
    society: bool = False, party: str = "", units: str = "", orgs: str = "", people: str = ""
) -> str:
    """A SQL text expression for an audience JSON value; the arguments are SQL expressions."""

    def ids(expr: str) -> str:
        return f"[' || {expr} || ']" if expr else "[]"

    return (
        f'\'{{"society": {"true" if society else "false"}, "party": {ids(party)}, '
        f'"units": {ids(units)}, "orgs": {ids(orgs)}, "people": {ids(people)}}}\''
    )


def table(model: Any) -> str:
    from django.db import connection

    return str(connection.ops.quote_name(model._meta.db_table))


def cols(model: Any, *names: str) -> str:
    from django.db import connection

    return ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in names)


@contextmanager
def step(label: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    print(f"  {label} …", end="", flush=True)
    yield
    took = time.perf_counter() - start
    timings[label] = round(took, 2)
    print(f" {took:.1f} s", flush=True)


def generate(shape: Shape, seed: float) -> dict[str, float]:
    """Fill the database with set-based INSERT … SELECT statements."""
    from django.core.management.color import no_style
    from django.db import connection

    from dwgk.accounts.models import Affiliation, Membership, RoleGrant, User
    from dwgk.orgs.models import Organization, OrgType
    from tests.testapp.models import Bulletin, BulletinAudience

    d = Dialect(connection.vendor)
    timings: dict[str, float] = {}
    type_codes = [
        "provincial_committee",
        "city_committee",
        "district_committee",
        "township_committee",
        "branch",
    ]
    type_ids = dict(OrgType.objects.filter(code__in=type_codes).values_list("code", "pk"))
    users, lv, base = shape.users, shape.levels, shape.base
    n_branches, branch0 = lv[4], base[4]
    r = d.rnd

    with connection.cursor() as cur:
        if d.pg:
            cur.execute("SELECT setseed(%s)", [seed])
        with step(f"{shape.orgs:,} organizations", timings):
            org_cols = cols(
                Organization,
                "id",
                "name",
                "short_name",
                "code",
                "org_type",
                "parent",
                "path",
                "status",
                "sort_order",
                "created_at",
            )
            for level, n in enumerate(lv):
                oid = f"({base[level]} + g.i)"
                common = f"{oid}, '组织' || {oid}, '', 'B' || {oid}, {type_ids[type_codes[level]]}"
                if level == 0:
                    select = (
                        f"SELECT {common}, NULL, {d.pad(oid)}, 'active', 0, {d.now()} "
                        f"FROM {d.series(n)}"
                    )
                else:
                    # Parents spread evenly over the level above; the path is the parent's
                    # path plus this id, 8 digits zero-padded (orgs.models.path_segment).
                    parent = f"({base[level - 1]} + (g.i * {lv[level - 1]}) / {n})"
                    select = (
                        f"SELECT {common}, p.id, p.path || {d.pad(oid)}, 'active', g.i, {d.now()} "
                        f"FROM {d.series(n)} JOIN {table(Organization)} p ON p.id = {parent}"
                    )
                cur.execute(f"INSERT INTO {table(Organization)} ({org_cols}) {select}")

        with step(f"{users:,} people", timings):
            cur.execute(
                f"INSERT INTO {table(User)} ("
                + cols(
                    User,
                    "id",
                    "password",
                    "is_superuser",
                    "username",
                    "email",
                    "is_staff",
                    "is_active",
                    "date_joined",
                    "name",
                    "phone",
                )
                + f") SELECT g.i + 1, '!', {d.false()}, 'u' || (g.i + 1), '', {d.false()}, "
                f"{d.true()}, {d.now()}, '用户' || (g.i + 1), '' FROM {d.series(users)}"
            )
            # 80 % are party members of a random branch; 10 % of those carry an ended
            # membership from an earlier branch too (history the queries must skip).
            members = users * 8 // 10
            m_cols = cols(
                Membership, "user", "branch", "kind", "started_on", "ended_on", "end_reason"
            )
            branch = f"{branch0} + {d.ifloor(f'{r()} * {n_branches}')}"
            cur.execute(
                f"INSERT INTO {table(Membership)} ({m_cols}) SELECT g.i + 1, {branch}, 'full', "
                f"'2015-01-01', '2020-01-01', 'transfer' FROM {d.series(members // 10)}"
            )
            cur.execute(
                f"INSERT INTO {table(Membership)} ({m_cols}) SELECT g.i + 1, {branch}, 'full', "
                f"'2020-01-01', NULL, '' FROM {d.series(members)}"
            )
            # 60k affiliations with a township or a branch, members and non-members alike.
            aff_first = users // 2
            n_aff = users * 3 // 10
            unit = f"{base[3]} + {d.ifloor(f'{r()} * {lv[3] + lv[4]}')}"
            cur.execute(
                f"INSERT INTO {table(Affiliation)} ("
                + cols(Affiliation, "user", "org", "kind", "started_on", "ended_on")
                + f") SELECT {aff_first} + g.i + 1, {unit}, 'resident', '2020-01-01', NULL "
                f"FROM {d.series(n_aff)}"
            )
            n_roles = max(10, users // 20)
            cur.execute(
                f"INSERT INTO {table(RoleGrant)} ("
                + cols(RoleGrant, "user", "org", "role", "inherit", "granted_at")
                + f") SELECT g.i + 1, {branch}, 'principal', {d.false()}, {d.now()} "
                f"FROM {d.series(n_roles)}"
            )

        with step(f"{shape.bulletins:,} bulletins", timings):
            cur.execute("DROP TABLE IF EXISTS bench_gen")
            kind = r()
            # 2 % from the province, 10 % from the levels between, 88 % from branches.
            org_r = r()
            cur.execute(
                "CREATE TEMPORARY TABLE bench_gen AS SELECT g.i + 1 AS id, "
                f"{kind} AS rk, {org_r} AS ro, {r()} AS rp, {r()} AS rt, {r()} AS r1, {r()} AS r2 "
                f"FROM {d.series(shape.bulletins)}"
            )
            cur.execute("DROP TABLE IF EXISTS bench_b")
            publisher = (
                "CASE WHEN ro < 0.02 THEN 1 "
                f"WHEN ro < 0.12 THEN 2 + {d.ifloor(f'(ro - 0.02) / 0.10 * {base[4] - 2}')} "
                f"ELSE {branch0} + {d.ifloor(f'(ro - 0.12) / 0.88 * {n_branches}')} END"
            )
            cur.execute(
                "CREATE TEMPORARY TABLE bench_b AS SELECT id, "
                "CASE WHEN rk < 0.30 THEN 'public' WHEN rk < 0.85 THEN 'party' "
                "WHEN rk < 0.95 THEN 'unit' WHEN rk < 0.99 THEN 'org' ELSE 'person' END AS kind, "
                f"{publisher} AS org, "
                f"1 + {d.ifloor(f'r2 * {shape.orgs}')} AS target, "
                f"1 + {d.ifloor(f'r1 * {users}')} AS p1, "
                # Half of the named-person items name a second, different person.
                f"CASE WHEN r2 < 0.5 THEN NULL ELSE (1 + {d.ifloor(f'r1 * {users}')}) % {users} "
                "+ 1 END AS p2, "
                # 2 % not yet published: no key rows at all.
                f"CASE WHEN rp < 0.02 THEN NULL ELSE {EPOCH_2021} + "
                f"{d.ifloor(f'rt * {FIVE_YEARS}')} END AS pub FROM bench_gen"
            )
            cur.execute("DROP TABLE bench_gen")
            people = "p1 || COALESCE(', ' || p2, '')"
            audience = (
                "CASE kind "
                f"WHEN 'public' THEN {audience_json(society=True)} "
                f"WHEN 'party' THEN {audience_json(party='org')} "
                f"WHEN 'unit' THEN {audience_json(units='org')} "
                f"WHEN 'org' THEN {audience_json(orgs='target')} "
                f"ELSE {audience_json(people=people)} END"
            )
            cur.execute(
                f"INSERT INTO {table(Bulletin)} ("
                + cols(Bulletin, "id", "audience", "org", "title", "published_at")
                + f") SELECT id, {d.json(audience)}, org, 'B' || id, "
                f"CASE WHEN pub IS NULL THEN NULL ELSE {d.ts('pub')} END FROM bench_b"
            )

        with step("audience keys", timings):
            key = (
                "CASE kind WHEN 'public' THEN 'public' WHEN 'party' THEN 'members:' || org "
                "WHEN 'unit' THEN 'unit:' || org WHEN 'org' THEN 'org:' || target "
                "ELSE 'person:' || p1 END"
            )
            key_cols = cols(BulletinAudience, "obj", "key", "sort_at")
            cur.execute(
                f"INSERT INTO {table(BulletinAudience)} ({key_cols}) "
                f"SELECT id, {key}, {d.ts('pub')} FROM bench_b WHERE pub IS NOT NULL "
                "UNION ALL "
                f"SELECT id, 'person:' || p2, {d.ts('pub')} FROM bench_b "
                "WHERE pub IS NOT NULL AND kind = 'person' AND p2 IS NOT NULL"
            )
            cur.execute("DROP TABLE bench_b")

        with step("sequences", timings):
            models = [Organization, User, Membership, Affiliation, RoleGrant, Bulletin]
            for sql in connection.ops.sequence_reset_sql(no_style(), models):
                cur.execute(sql)

    with step("VACUUM ANALYZE" if d.pg else "ANALYZE", timings), connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if d.pg else "ANALYZE")
    return timings


def check_sample(seed: int) -> list[str]:
    """Spot-check that the generated rows are what the application itself would write."""
    from dwgk.orgs.models import Organization, path_segment
    from tests.testapp.models import Bulletin

    rng = random.Random(seed)
    problems = []
    max_org = Organization.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    orgs = Organization.objects.select_related("parent").in_bulk(
        [rng.randint(1, max_org) for _ in range(300)]
    )
    for org in orgs.values():
        expected = (org.parent.path if org.parent else "") + path_segment(org.pk)
        if org.path != expected:
            problems.append(f"organization {org.pk}: path {org.path!r}, expected {expected!r}")
    max_b = Bulletin.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sample = Bulletin.objects.prefetch_related("audience_keys").in_bulk(
        [rng.randint(1, max_b) for _ in range(300)]
    )
    for b in sample.values():
        keys = {k.key for k in b.audience_keys.all()}
        expected_keys = set(b.get_audience().to_keys()) if b.published_at else set()
        if keys != expected_keys or any(k.sort_at != b.published_at for k in b.audience_keys.all()):
            problems.append(f"bulletin {b.pk}: keys {sorted(keys)}, expected {expected_keys}")
    return problems


# --- measuring ---------------------------------------------------------------------


@dataclass
class Figure:
    name: str
    what: str
    runs: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def p95(self) -> float:
        ordered = sorted(self.runs)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(name: str, what: str, runs: int, call: Callable[[int], object]) -> Figure:
    for i in range(min(20, runs)):  # warm caches and connections
        call(i)
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - start) * 1000)
    figure = Figure(name, what, samples)
    print(f"  {name:<28} median {figure.median:8.3f} ms   p95 {figure.p95:8.3f} ms", flush=True)
    return figure


class Capture:
    """Records the SQL a piece of code runs, so it can be EXPLAINed as-is."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, Any]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.queries.append((sql, params))
        return execute(sql, params, many, context)


def captured(call: Callable[[], object]) -> list[tuple[str, Any]]:
    from django.db import connection

    capture = Capture()
    with connection.execute_wrapper(capture):
        call()
    return capture.queries


BIG_TABLES = ("testapp_bulletin", "testapp_bulletinaudience", "orgs_organization")


def explain(sql: str, params: Any) -> tuple[str, list[str]]:
    """The plan of one query and the big tables it reads sequentially."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cur.fetchall())
            pattern = r"Seq Scan on (\w+)"
        else:
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(str(row[-1]) for row in cur.fetchall())
            pattern = r"\bSCAN (\w+)"
    bad = sorted({t for t in re.findall(pattern, plan) if t in BIG_TABLES})
    return plan, bad


def measure(runs: int, seed: int) -> tuple[list[Figure], list[dict[str, Any]]]:
    from django.db import connection

    from dwgk.accounts.models import Membership, User
    from dwgk.audience.keys import viewer_keys
    from dwgk.audience.models import Cursor, can_see
    from dwgk.orgs.models import Organization
    from tests.testapp.models import Bulletin

    rng = random.Random(seed)
    n_orgs = Organization.objects.count()
    n_users = User.objects.count()
    n_bulletins = Bulletin.objects.count()
    print(
        f"\nData: {n_orgs:,} organizations, {n_users:,} people, {n_bulletins:,} bulletins, "
        f"{Bulletin.audience_key_model()._default_manager.count():,} audience keys; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    max_bulletin = Bulletin.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    members = list(
        Membership.objects.filter(ended_on__isnull=True).values_list("user_id", flat=True)
    )
    viewers = list(User.objects.in_bulk(rng.sample(members, min(200, len(members)))).values())
    rng.shuffle(viewers)
    leaves = list(
        Organization.objects.filter(org_type__holds_members=True)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    branches = list(
        Organization.objects.in_bulk(rng.sample(leaves, min(200, len(leaves)))).values()
    )
    districts = list(Organization.objects.filter(org_type__code="district_committee"))
    province = Organization.objects.order_by("path").first()
    assert province is not None
    picked = [rng.randint(1, max_bulletin) for _ in range(400)]
    sample_bulletins = list(Bulletin.objects.in_bulk(picked).values())

    def pick(seq: list[Any], i: int) -> Any:
        return seq[i % len(seq)]

    # Cursors 50 pages deep, found once (not timed) for a few viewers.
    deep: list[tuple[User, Cursor]] = []
    for viewer in viewers[:10]:
        cursor = None
        for _ in range(49):
            _page, cursor = Bulletin.objects.newest_visible(viewer, 20, after=cursor)
        assert cursor is not None
        deep.append((viewer, cursor))

    def subtree(i: int) -> tuple[int, list[Organization]]:
        qs = Organization.objects.subtree_of(pick(districts, i))
        return qs.count(), list(qs[:50])

    def round_trip(i: int) -> None:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()

    figures = [
        timed(
            "baseline: SELECT 1", "one trivial query through Django: the floor", runs, round_trip
        ),
        timed(
            "ancestors_of",
            "Organization.objects.ancestors_of(branch): 5 rows by primary key",
            runs,
            lambda i: list(Organization.objects.ancestors_of(pick(branches, i))),
        ),
        timed(
            "subtree (count + first 50)",
            "a district's subtree: count and first page in path order",
            runs,
            subtree,
        ),
        timed(
            "viewer_keys",
            "viewer_keys(member): membership, affiliations, role grants",
            runs,
            lambda i: viewer_keys(pick(viewers, i)),
        ),
        timed(
            "newest_visible 20",
            "newest_visible(member, 20): keys + per-key top-21 merged + in_bulk",
            runs,
            lambda i: Bulletin.objects.newest_visible(pick(viewers, i), 20),
        ),
        timed(
            "newest_visible anonymous",
            "newest_visible(anonymous, 20): the public key only",
            runs,
            lambda i: Bulletin.objects.newest_visible(None, 20),
        ),
        timed(
            "keyset page 50",
            "newest_visible(member, 20, after=cursor 49 pages deep)",
            runs,
            lambda i: Bulletin.objects.newest_visible(pick(deep, i)[0], 20, after=pick(deep, i)[1]),
        ),
        timed(
            "can_see",
            "can_see(member, random bulletin): keys + one EXISTS on the key table",
            runs,
            lambda i: can_see(pick(viewers, i), pick(sample_bulletins, i)),
        ),
        timed(
            "visible_to ∩ branch count",
            "visible_to(member).filter(org=branch).count()",
            runs,
            lambda i: (
                Bulletin.objects.visible_to(pick(viewers, i)).filter(org=pick(branches, i)).count()
            ),
        ),
        timed(
            "visible_to ∩ province count",
            "visible_to(member).filter(org=province).count(): ~2 % of all bulletins",
            max(20, runs // 10),
            lambda i: Bulletin.objects.visible_to(pick(viewers, i)).filter(org=province).count(),
        ),
    ]

    # Plans, run on the SQL the code really sends.
    viewer, (deep_viewer, deep_cursor) = viewers[0], deep[0]
    plans: list[dict[str, Any]] = []

    def plan_of(name: str, call: Callable[[], object], pick_sql: Callable[[str], bool]) -> None:
        for sql, params in captured(call):
            if pick_sql(sql):
                text, bad = explain(sql, params)
                plans.append({"name": name, "sql": sql, "plan": text, "seq_scans": bad})
                print(f"\n### EXPLAIN {name}\n{text}")

    def is_feed(sql: str) -> bool:
        return "UNION ALL" in sql

    plan_of("newest_visible 20", lambda: Bulletin.objects.newest_visible(viewer, 20), is_feed)
    plan_of(
        "keyset page 50",
        lambda: Bulletin.objects.newest_visible(deep_viewer, 20, after=deep_cursor),
        is_feed,
    )
    plan_of(
        "newest_visible in_bulk",
        lambda: Bulletin.objects.newest_visible(viewer, 20),
        lambda sql: "UNION ALL" not in sql and "testapp_bulletin" in sql,
    )
    plan_of("subtree count + page", lambda: subtree(0), lambda sql: "orgs_organization" in sql)
    plan_of(
        "ancestors_of",
        lambda: list(Organization.objects.ancestors_of(branches[0])),
        lambda sql: True,
    )
    plan_of("viewer_keys", lambda: viewer_keys(viewer), lambda sql: True)
    plan_of(
        "can_see",
        lambda: can_see(viewer, sample_bulletins[0]),
        lambda sql: "testapp_bulletin" in sql,
    )
    plan_of(
        "visible_to ∩ province count",
        lambda: Bulletin.objects.visible_to(viewer).filter(org=province).count(),
        lambda sql: "testapp_bulletin" in sql,
    )
    return figures, plans


def markdown(figures: list[Figure]) -> str:
    lines = [
        "| query | median ms | p95 ms | what |",
        "|---|---:|---:|---|",
    ]
    for f in figures:
        lines.append(f"| {f.name} | {f.median:.3f} | {f.p95:.3f} | {f.what} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--scale",
        type=float,
        default=None,
        help="1 = province (default on PostgreSQL); 0.02 on SQLite",
    )
    parser.add_argument(
        "--reuse", action="store_true", help="measure the data already in the database"
    )
    parser.add_argument(
        "--runs", type=int, default=200, help="timed runs per query (after 20 warm-up runs)"
    )
    parser.add_argument("--seed", type=int, default=20250301)
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        ensure_postgres_database(url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from dwgk.orgs.models import Organization

    settings.DEBUG = False  # no query log growing in memory during a million-row run
    vendor = connection.vendor
    scale = args.scale if args.scale is not None else (1.0 if vendor == "postgresql" else 0.02)
    print(f"Database: {vendor} {connection.settings_dict['NAME']}, scale {scale}")

    # Look before migrating: a database with organizations in it is somebody's data.
    has_orgs = Organization._meta.db_table in connection.introspection.table_names()
    if has_orgs and Organization.objects.exists() and not args.reuse:
        print(
            "REFUSED: this database already holds organizations. Use an empty database, "
            "or pass --reuse to measure the data that is there.",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    call_command("migrate", run_syncdb=True, verbosity=0)
    generation: dict[str, float] = {}
    if Organization.objects.exists():
        print("Reusing the data already in the database.")
    else:
        print("Generating:")
        generation = generate(Shape.at(scale), seed=(args.seed % 1000) / 1000)
    generated_in = time.perf_counter() - started

    problems = check_sample(args.seed)
    if problems:
        print(
            "\nFAIL: the generated data is not what the application would write:", file=sys.stderr
        )
        print("\n".join(problems[:20]), file=sys.stderr)
        return 1

    print("\nTimings (warm):")
    figures, plans = measure(args.runs, args.seed)
    table_md = markdown(figures)
    print("\n" + table_md)

    bad = [(p["name"], t) for p in plans for t in p["seq_scans"]]
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "database": {"vendor": vendor, "version": _server_version()},
        "command": " ".join(sys.argv),
        "scale": scale,
        "setup_seconds": round(generated_in, 1),
        "generation_steps_seconds": generation,
        "runs": args.runs,
        "figures": [
            {
                "name": f.name,
                "what": f.what,
                "median_ms": round(f.median, 3),
                "p95_ms": round(f.p95, 3),
            }
            for f in figures
        ],
        "plans": plans,
        "sequential_scans": bad,
    }
    out = RESULTS / "audience_scale.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    print(f"\nSetup {generated_in:.0f} s. Results written to {out.relative_to(ROOT)}")
    if bad:
        print("\n" + "!" * 72, file=sys.stderr)
        for name, tbl in bad:
            print(f"FAIL: sequential scan on {tbl} in the plan of {name}", file=sys.stderr)
        print("!" * 72, file=sys.stderr)
        return 1
    print("All plans are index-driven: no sequential scan on the big tables.")
    return 0


def _server_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT version()")
        else:
            cur.execute("SELECT 'SQLite ' || sqlite_version()")
        row = cur.fetchone()
    return str(row[0]) if row else ""


if __name__ == "__main__":
    sys.exit(main())
