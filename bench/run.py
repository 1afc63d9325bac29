"""The benchmark runner (issue 6, item 2): the platform under gunicorn, driven by wrk and
locust on loopback, against the targets of item 3. Not part of the test suite.

    .venv/bin/python -m bench.run --database-url postgres://postgres@127.0.0.1:5432/dwgk_city \\
        --duration 15 --out bench/results/city.json [--compare bench/results/old.json]
    make bench DATABASE_URL=… BENCH_ARGS="--duration 15"

What it does, in order (bench/README.md "The benchmark runner" has the details):

1. Picks real subjects from the database: the organization with the most public items, one
   of its items, a member with a long 公开给我的, a parent with a ~1,000-organization subtree
   and one of its catalog staff, and the search words.
2. Renders every measured page once in this process and EXPLAIN (ANALYZE, BUFFERS)es each
   SELECT it sends that reads the items, their audience keys or the search rows; a Seq Scan
   on `disclosures_disclosure` or `disclosures_disclosureaudience` makes the run fail loudly
   (exit 1, after the results are written).
3. Starts gunicorn (2 sync workers, bench.settings, DEBUG off) on a free loopback port and
   runs `wrk -t1 -c16 -d<duration>s --latency` per fixed URL (signed-in pages with the
   session cookie of one real login), then locust headless for the signed-in journey
   (bench/locustfile.py), then reads each worker's memory from /proc.
4. Times the worker publishing 1,000 scheduled items (bench/worker_publish.py on a scratch
   database) and the creation of 10,000 items through the model path.
5. Writes JSON and Markdown to bench/results/, prints the table and, with --compare, the
   change against an earlier JSON.

Exit status: 0 when it ran (targets missed or not), 1 on a sequential scan of the items
tables or on load errors, 2 when a tool or the data it needs is missing.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime
import functools
import http.cookiejar
import itertools
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VENV_BIN = Path(sys.executable).parent
BENCH_PASSWORD = "bench-pass-2026-dwgk"  # set on the accounts the benchmark signs in as
# The signed-in rows measured again at --latency-connections.
LATENCY_ROWS = ("feed_first", "feed_deep", "search2_member")
CREATE_MARK = "（基准测试创建）"  # in the titles of the items the creation figure writes
FAIL_TABLES = ("disclosures_disclosure", "disclosures_disclosureaudience")
WATCH_TABLES = (*FAIL_TABLES, "search_searchdoc", "orgs_organization")
TWO_CHAR_WORDS = ("党费", "公示", "党员", "换届")
FOUR_CHAR_WORDS = ("换届选举", "民主评议", "主题党日", "组织生活")
FEED_PAGE = 20  # rows per page of 公开给我的 (dwgk.members.views.FEED_PAGE)

# wrk's own summary has no p95; this script adds it, and counts every answer that is not a
# 200 (wrk itself only counts >= 400, so a redirect to the login page would look fast).
WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) not200 = 0 end
function response(status, headers, body) if status ~= 200 then not200 = not200 + 1 end end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("not200") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"not200":%d,"p50":%d,"p90":%d,"p95":%d,' ..
    '"p99":%d,"p999":%d,"max":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, bad, latency:percentile(50), latency:percentile(90),
    latency:percentile(95), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


def log(message: str) -> None:
    """Progress on stderr, so that stdout is the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def loud(lines: list[str]) -> None:
    bar = "!" * 78
    print(f"\n{bar}", file=sys.stderr)
    for line in lines:
        print(f"!! {line}", file=sys.stderr)
    print(f"{bar}\n", file=sys.stderr)


# --- the environment -----------------------------------------------------------------------


def server_environment(database_url: str, secret: str) -> dict[str, str]:
    """Production settings from the environment, as a deployment sets them; only transport
    security is off, since the load runs over plain HTTP on loopback."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secret,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }


def require_tools() -> dict[str, str]:
    """The programs the run needs, or exit 2 with a message saying how to get them."""
    found: dict[str, str] = {}
    missing = []
    for tool, how in (
        ("wrk", "apt-get install -y wrk"),
        ("gunicorn", "make bench (pip install -c constraints.txt -e '.[dev,bench]')"),
        ("locust", "make bench (pip install -c constraints.txt -e '.[dev,bench]')"),
    ):
        path = shutil.which(tool, path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        if path is None:
            missing.append(f"找不到 {tool}，请先安装：{how}  /  {tool} is missing: {how}")
        else:
            found[tool] = path
    if missing:
        loud(missing)
        sys.exit(2)
    return found


def database_label(url: str) -> str:
    """The URL without its password, for the report."""
    parts = urllib.parse.urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        parts = parts._replace(netloc=netloc)
    return urllib.parse.urlunsplit(parts)


# --- subjects: real ids from the database ----------------------------------------------------


@dataclass
class Subjects:
    """What the run measures, picked from the data."""

    org_id: int = 0
    org_name: str = ""
    org_public_items: int = 0
    item_id: int = 0
    member: str = ""
    member_id: int = 0
    member_keys: int = 0
    member_feed_items: int = 0
    parent_id: int = 0
    parent_name: str = ""
    parent_subtree: int = 0
    parent_children: int = 0
    staff: str = ""
    staff_id: int = 0
    word2: str = ""
    word4: str = ""
    hits: dict[str, int] = field(default_factory=dict)
    deep_pages: int = 0
    deep_path: str = ""
    counts: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def busiest_public_item() -> tuple[int, int, int] | None:
    """(organization id, public item count, newest published item id) of the organization
    that discloses the most to the public; None when nothing is public."""
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Count

    from dwgk.disclosures.models import Disclosure

    public = Disclosure.objects.disclosed_to(AnonymousUser())
    busiest = public.order_by().values_list("org").annotate(n=Count("id")).order_by("-n").first()
    if busiest is None:
        return None
    item = (
        public.filter(org_id=busiest[0], status=Disclosure.Status.PUBLISHED)
        .order_by("-published_at", "-id")
        .first()
    )
    assert item is not None
    return busiest[0], busiest[1], item.pk


def pick_subjects(password: str | None) -> Subjects:
    """Real ids: the busiest public organization, a member with a long feed, a parent with
    a subtree near 1,000 organizations and its catalog staff, frequent search words."""
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Count

    from dwgk.accounts.models import Membership, Role, RoleGrant, User
    from dwgk.audience.keys import viewer_keys
    from dwgk.catalog.overview import can_view_overview
    from dwgk.disclosures.models import Disclosure, DisclosureAudience
    from dwgk.orgs.models import Organization, path_upper_bound
    from dwgk.search.backend import get_backend

    s = Subjects()
    s.counts = {
        "organizations": Organization.objects.count(),
        "people": User.objects.count(),
        "items": Disclosure.objects.count(),
        "audience_keys": DisclosureAudience.objects.count(),
    }
    if s.counts["items"] == 0:
        loud(["数据库中没有公开事项 / the database holds no items: generate_province first"])
        sys.exit(2)
    busiest = busiest_public_item()
    if busiest is None:
        loud(["没有向社会公开的事项 / nothing is disclosed to the public"])
        sys.exit(2)
    org = Organization.objects.get(pk=busiest[0])
    s.org_id, s.org_name, s.org_public_items, s.item_id = org.pk, org.name, busiest[1], busiest[2]

    # A member whose feed is long: people in branches under the organizations that disclosed
    # the most to their members, the one with the most visible items kept.
    top_keys = list(
        DisclosureAudience.objects.filter(key__startswith="members:")
        .order_by()
        .values_list("key")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    best: tuple[int, User] | None = None
    for key, _n in top_keys:
        holder = Organization.objects.filter(pk=int(key.split(":", 1)[1])).first()
        if holder is None:
            continue
        membership = (
            Membership.objects.filter(
                ended_on__isnull=True,
                user__is_active=True,
                branch__path__gte=holder.path,
                branch__path__lt=path_upper_bound(holder.path),
            )
            .select_related("user")
            .order_by("pk")
            .first()
        )
        if membership is None:
            continue
        size = (
            DisclosureAudience.objects.filter(key__in=viewer_keys(membership.user))
            .values("obj")
            .distinct()
            .count()
        )
        if best is None or size > best[0]:
            best = (size, membership.user)
    if best is None:
        loud(["找不到有党员的党支部 / no current party member found"])
        sys.exit(2)
    member = best[1]
    s.member, s.member_id, s.member_feed_items = member.username, member.pk, best[0]
    s.member_keys = len(viewer_keys(member))

    # The parent: the organization whose subtree is nearest 1,000 organizations, among
    # those with catalog staff who may open the overview.
    rows = list(Organization.objects.active().order_by("path").values_list("path", "pk"))
    paths = [p for p, _ in rows]
    sizes = []
    for path, pk in rows:
        n = bisect.bisect_left(paths, path_upper_bound(path)) - bisect.bisect_left(paths, path)
        if n > 1:
            sizes.append((abs(n - 1000), len(path), pk, n))
    sizes.sort()
    for _distance, _depth, pk, n in sizes[:40]:
        parent = Organization.objects.get(pk=pk)
        grants = (
            RoleGrant.objects.covering(parent)
            .filter(role__in=[Role.CLERK, Role.PRINCIPAL], user__is_active=True)
            .select_related("user")
            .order_by("-role", "pk")  # clerk first: the overview is the clerk's page
        )
        staff = next((g.user for g in grants if can_view_overview(g.user, parent)), None)
        if staff is not None:
            s.parent_id, s.parent_name, s.parent_subtree = parent.pk, parent.name, n
            s.parent_children = Organization.objects.active().filter(parent=parent).count()
            s.staff, s.staff_id = staff.username, staff.pk
            break
    if not s.staff:
        log("no parent with catalog staff found: the overview row is left out")

    backend, anonymous = get_backend(), AnonymousUser()
    for words, attr in ((TWO_CHAR_WORDS, "word2"), (FOUR_CHAR_WORDS, "word4")):
        counted = {w: backend.count(anonymous, w) for w in words}
        word = max(words, key=lambda w: counted[w])
        setattr(s, attr, word)
        s.hits[f"{word} public"] = counted[word]
        s.hits[f"{word} member"] = backend.count(member, word)

    for user in [member] + ([User.objects.get(pk=s.staff_id)] if s.staff_id else []):
        ensure_password(user, password or BENCH_PASSWORD)
    return s


def ensure_password(user: Any, password: str) -> None:
    """Give a benchmark account the password the load generators sign in with.

    Synthetic accounts have no usable password unless generate_province was given
    --password; this is what `manage.py changepassword` does, on the benchmark's database."""
    if not user.check_password(password):
        user.set_password(password)
        user.save(update_fields=["password"])
        log(f"set the benchmark password on {user.username}")


# --- database-level timings ------------------------------------------------------------------


class Capture:
    """Records every statement a page sends, with its time, to EXPLAIN it as-is."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, Any, float]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, (time.perf_counter() - started) * 1000))


def _aliases(sql: str) -> dict[str, str]:
    """alias → table for `FROM "t" d` / `JOIN t d` (SQLite's plans name the alias)."""
    found = {}
    for table, alias in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)"?\s+(?:AS\s+)?"?(\w+)"?', sql, re.I):
        if alias.upper() not in {"WHERE", "ON", "JOIN", "INNER", "LEFT", "GROUP", "ORDER"}:
            found[alias] = table
    return found


def explain(sql: str, params: Any) -> dict[str, Any]:
    """The plan of one SELECT, its planning and execution time, and the watched tables it
    reads sequentially (PostgreSQL: Seq Scan; SQLite: a full SCAN)."""
    from django.db import connection

    result: dict[str, Any] = {"sql": sql[:4000]}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            scanned = re.findall(r"Seq Scan on (\w+)", plan)
            for label, key in (
                ("Planning Time", "planning_ms"),
                ("Execution Time", "execution_ms"),
            ):
                found = re.search(rf"{label}: ([\d.]+) ms", plan)
                result[key] = float(found.group(1)) if found else None
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            aliases = _aliases(sql)
            scanned = [aliases.get(t, t) for t in re.findall(r"\bSCAN (\w+)", plan)]
            started = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            result["execution_ms"] = (time.perf_counter() - started) * 1000
    result["plan"] = plan
    result["top"] = plan.splitlines()[0].strip() if plan else ""
    result["seq_scans"] = sorted({t for t in scanned if t in WATCH_TABLES})
    return result


KEY_QUERIES: dict[str, Callable[[str], bool]] = {
    # newest_visible: one top-N per viewer key, merged
    "feed_first": lambda sql: "UNION ALL" in sql,
    "feed_deep": lambda sql: "UNION ALL" in sql,
    # the column's item list: the org's items disclosed to the visitor, newest first
    "org": lambda sql: (
        '"disclosures_disclosure"."org_id" =' in sql and "LIMIT" in sql and "ORDER BY" in sql
    ),
    # the search and its count
    "search2_member": lambda sql: "search_searchdoc" in sql and ("tsv" in sql or "MATCH" in sql),
}


def measured_plans(
    subjects: Subjects, rows: dict[str, tuple[str, str, str]]
) -> tuple[dict[str, Any], list[str]]:
    """database_plans of every measured page but the baselines, and the sequential scans of
    the items tables among them (said loudly at once; the run exits 1 at its end)."""
    log("database plans (EXPLAIN) of every measured page")
    plans = database_plans(
        subjects, {n: (p, w) for n, (_l, p, w) in rows.items() if not n.startswith("baseline")}
    )
    seq_scans = sorted(
        {
            f"{name}: {t}"
            for name, page in plans.items()
            for t in page["seq_scans"]
            if t in FAIL_TABLES
        }
    )
    if seq_scans:
        loud(["SEQUENTIAL SCAN OF THE ITEMS TABLES / 全表扫描：", *seq_scans])
    return plans, seq_scans


def in_process_fetch(user_id: int) -> Callable[[str], str]:
    """GET a path in this process, signed in as the user: the page's text (for
    follow_next_pages without a server)."""
    from django.test import Client

    from dwgk.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(pk=user_id))
    return lambda path: client.get(path).content.decode()


def database_plans(subjects: Subjects, pages: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """Render each page once through Django's test client (the same views, in this process)
    and EXPLAIN every SELECT that reads a watched table. Pages: name → (path, who)."""
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client

    from dwgk.accounts.models import User
    from dwgk.public.pagecache import CACHE_ALIAS as PAGE_CACHE

    out: dict[str, Any] = {}
    clients: dict[str, Client] = {"public": Client(HTTP_HOST="127.0.0.1")}
    for who, pk in (("member", subjects.member_id), ("staff", subjects.staff_id)):
        if pk:
            clients[who] = Client(HTTP_HOST="127.0.0.1")
            clients[who].force_login(User.objects.get(pk=pk))
    for name, (path, who) in pages.items():
        client = clients[who]
        client.get(path)  # warm: templates, caches
        # What a page costs when it is rendered: an anonymous page is otherwise answered
        # from the page cache with one query (the page stamp), which the load rows measure.
        caches[PAGE_CACHE].clear()
        capture = Capture()
        with connection.execute_wrapper(capture):
            response = client.get(path)
        plans = []
        for sql, params, ms in capture.queries:
            head = sql.lstrip().upper()
            if not (head.startswith("SELECT") or head.startswith("WITH")):
                continue  # never EXPLAIN ANALYZE a write: it would run it
            if not any(t in sql for t in WATCH_TABLES):
                continue
            plan = explain(sql, params)
            plan["page_ms"] = round(ms, 3)
            plan["key"] = KEY_QUERIES.get(name, lambda _sql: False)(sql)
            plans.append(plan)
        out[name] = {
            "path": path,
            "who": who,
            "status": response.status_code,
            "queries": len(capture.queries),
            "sql_ms": round(sum(ms for _s, _p, ms in capture.queries), 3),
            "plans": plans,
            "seq_scans": sorted({t for p in plans for t in p["seq_scans"]}),
        }
    return out


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The worker processes (the arbiter's children)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return sorted(int(p) for p in children.read_text().split()) if children.exists() else []


def start_server(
    gunicorn: str, env: dict[str, str], workers: int, worker_class: str, threads: int
) -> Server:
    """gunicorn on a free loopback port, waited for until the baseline answers."""
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / "gunicorn.log"
    command = [
        gunicorn,
        "dwgk.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        f"--worker-class={worker_class}",
        "--timeout=60",
        f"--error-logfile={log_path}",
        "--log-level=warning",
    ]
    if worker_class == "gthread":
        command.append(f"--threads={threads}")
    log(" ".join(command))
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    server = Server(process, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}: see {log_path}")
        try:
            with urllib.request.urlopen(f"{server.base}/bench/ok/", timeout=2) as answer:
                if answer.status == 200 and len(server.workers()) == workers:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not answer within 60 s: see {log_path}")


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


def drain(server: Server) -> float:
    """Wait until the requests a load generator left behind are answered.

    wrk and locust stop with requests still queued in the listen backlog; sync workers
    answer them to closed sockets, and a slow page would make the next row wait behind
    them. A baseline request queues behind whatever is left, so its answer means the
    server is idle again. Returns the seconds it took."""
    started = time.perf_counter()
    for _ in range(2):  # one per worker could still be busy with the last slow one
        with urllib.request.urlopen(f"{server.base}/bench/ok/", timeout=300) as answer:
            answer.read()
    return time.perf_counter() - started


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


# --- signing in over HTTP --------------------------------------------------------------------


CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def http_login(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    """A real sign-in through the login form (CSRF token, axes, argon2): an opener that
    carries the session cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=30) as answer:
        token = CSRF_FIELD.search(answer.read().decode())
    if token is None:
        raise SystemExit("no CSRF token on the login page")
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=30) as answer:
        landed = answer.geturl()
    if not any(c.name == "sessionid" for c in jar) or "/accounts/login/" in landed:
        loud([f"登录失败 / sign-in failed for {username}"])
        raise SystemExit(2)
    opener.jar = jar  # type: ignore[attr-defined]
    return opener


def cookie_header(opener: urllib.request.OpenerDirector) -> str:
    jar: http.cookiejar.CookieJar = opener.jar  # type: ignore[attr-defined]
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def follow_next_pages(fetch: Callable[[str], str], start: str, pages: int) -> tuple[str, int]:
    """Follow 公开给我的's 下一页 link (id="next-page") `pages` times, `fetch` giving a
    path's page: (path, depth)."""
    path, depth = start, 0
    link = re.compile(r'<a href="([^"]+)" id="next-page"')
    while depth < pages:
        found = link.search(fetch(path))
        if found is None:
            break
        href = found.group(1).replace("&amp;", "&")
        path = urllib.parse.urljoin(start, href)
        depth += 1
    return path, depth


def check_page(base: str, path: str, cookie: str) -> int:
    """The status of one GET (redirects not followed: a 302 to the login page is a failure)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(base + path, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# --- load generators -------------------------------------------------------------------------


@dataclass
class Load:
    """One load measurement."""

    name: str
    label: str
    tool: str
    path: str
    who: str
    rps: float = 0.0
    requests: int = 0
    errors: int = 0
    error_detail: dict[str, int] = field(default_factory=dict)
    p50: float = 0.0
    p90: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    server_cpu_ms: float = 0.0  # gunicorn workers' CPU per request
    generator_cpu: float = 0.0  # cores the load generator used
    load_average: float = 0.0
    worker_peak_mb: float = 0.0  # the largest worker's VmHWM after this row
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@contextmanager
def measured(load: Load, server: Server) -> Iterator[None]:
    """Server CPU per request and the generator's CPU around one measurement."""
    workers = server.workers()
    before_server = cpu_seconds(workers)
    before_children = os.times()
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    after_children = os.times()
    used = (after_children.children_user - before_children.children_user) + (
        after_children.children_system - before_children.children_system
    )
    load.generator_cpu = round(used / seconds, 2)
    if load.requests:
        load.server_cpu_ms = round((cpu_seconds(workers) - before_server) * 1000 / load.requests, 3)
    load.load_average = round(os.getloadavg()[0], 2)
    peaks = [proc_status(pid).get("VmHWM", 0.0) for pid in workers if Path(f"/proc/{pid}").exists()]
    load.worker_peak_mb = round(max(peaks, default=0.0), 1)


def run_wrk(
    wrk: str,
    server: Server,
    load: Load,
    *,
    duration: int,
    connections: int,
    cookie: str,
    warmup: int,
) -> Load:
    """`wrk -t1 -c<connections> -d<duration>s --latency` on one URL, parsed."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    # A response slower than wrk's default 2 s would be dropped as a "timeout"; 10 s keeps
    # it in the latency figures (and still counts anything slower as an error).
    command = [wrk, "-t1", f"-c{connections}", "--timeout", "10s", "--latency", "-s", script.name]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    url = server.base + load.path
    try:
        if warmup:
            subprocess.run(
                [*command, f"-d{warmup}s", url], capture_output=True, check=True, timeout=120
            )
            drain(server)
        with measured(load, server):
            done = subprocess.run(
                [*command, f"-d{duration}s", url],
                capture_output=True,
                text=True,
                check=True,
                timeout=duration + 120,
            )
            figures = _wrk_figures(done.stdout)
            load.requests = figures["requests"]
    finally:
        os.unlink(script.name)
        drain(server)
    seconds = figures["duration_us"] / 1e6
    load.rps = round(figures["requests"] / seconds, 1)
    for name in ("p50", "p90", "p95", "p99", "max"):
        setattr(load, name, round(figures[name] / 1000, 2))
    detail = {k: figures[k] for k in ("connect", "read", "write", "timeout", "status", "not200")}
    # `status` (>= 400) is part of `not200`; count each failed request once.
    load.error_detail = {k: v for k, v in detail.items() if v}
    load.errors = (
        figures["connect"] + figures["read"] + figures["write"] + figures["timeout"]
    ) + figures["not200"]
    return load


def _wrk_figures(output: str) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            figures: dict[str, Any] = json.loads(line[len("BENCH_JSON ") :])
            return figures
    raise SystemExit(f"wrk printed no figures:\n{output}")


def run_locust(
    locust: str,
    server: Server,
    *,
    duration: int,
    users: int,
    username: str,
    password: str,
    journey: list[tuple[str, str, str]],
) -> list[Load]:
    """The signed-in journey under locust headless; one Load per request name."""
    prefix = RESULTS / "locust"
    command = [
        locust,
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(users),
        "-t",
        f"{duration + 300}s",  # a cap: the locustfile stops `duration` s after the last sign-in
        "--host",
        server.base,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    env = {
        **os.environ,
        "BENCH_USERNAME": username,
        "BENCH_PASSWORD": password,
        "BENCH_DURATION": str(duration),
        "BENCH_JOURNEY": json.dumps([[label, path] for _n, label, path in journey]),
    }
    probe = Load("locust", "locust", "locust", "", "member")
    for stale in prefix.parent.glob(f"{prefix.name}_*.csv"):
        stale.unlink()
    with measured(probe, server):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=duration + 180, cwd=ROOT
        )
        (RESULTS / "locust.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        if not Path(f"{prefix}_stats.csv").exists():
            raise SystemExit(f"locust wrote no statistics (exit {done.returncode}):\n{done.stderr}")
        rows = {r["Name"]: r for r in _csv_rows(Path(f"{prefix}_stats.csv"))}
        probe.requests = sum(int(r["Request Count"]) for n, r in rows.items() if n != "Aggregated")
    drain(server)
    saturated = "CPU usage" in done.stderr
    loads = []
    for name, label, path in [("login", "login", "/accounts/login/"), *journey]:
        row = rows.get(label)
        if row is None:
            continue
        load = Load(name=f"locust_{name}", label=label, tool="locust", path=path, who="member")
        load.requests = int(row["Request Count"])
        load.errors = int(row["Failure Count"])
        if name == "login" and "login (form)" in rows:
            load.errors += int(rows["login (form)"]["Failure Count"])
        load.rps = round(float(row["Requests/s"]), 1)
        for attr, column in (("p50", "50%"), ("p90", "90%"), ("p95", "95%"), ("p99", "99%")):
            value = row.get(column, "N/A")
            setattr(load, attr, float(value) if value not in ("N/A", "") else 0.0)
        load.max = round(float(row["Max Response Time"]), 2)
        # The workers' CPU over the locust run includes the sign-ins (argon2): not per row.
        load.generator_cpu = probe.generator_cpu
        load.load_average = probe.load_average
        if saturated:
            load.note = "locust warned about its own CPU use: the generator may be the limit"
        loads.append(load)
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        for row in _csv_rows(failures):
            log(f"locust failure: {row.get('Name')} {row.get('Error')} × {row.get('Occurrences')}")
    return loads


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- py-spy: where a page spends its time ----------------------------------------------------


# Where a sample's innermost frame is, coarsely: the first pattern that matches wins.
PROFILE_BUCKETS = (
    ("database round trips (psycopg / sqlite3: send, wait, read rows)", ("psycopg", "sqlite3")),
    ("ORM: building and compiling queries, making model instances", ("django/db/",)),
    ("templates", ("django/template/", "django/templatetags/")),
    (
        "translation, dates and number formatting",
        ("django/utils/translation", "django/utils/dateformat", "django/utils/formats"),
    ),
    ("URL reversing and resolving", ("django/urls/",)),
    ("dwgk code itself", ("dwgk/",)),
    ("gunicorn: accept, parse, write", ("gunicorn/",)),
    ("rest of Django (middleware, sessions, auth, http)", ("django/",)),
)


def profile_summary(raw: Path, top: int = 15) -> dict[str, Any]:
    """From py-spy's collapsed stacks: the share of samples per coarse bucket (by the
    innermost frame), the dwgk functions with their inclusive share, and the innermost
    functions with the most samples."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        frames = [re.sub(r":\d+\)$", ")", f) for f in frames]
        if not frames:
            continue
        total += n
        for frame in set(frames):
            if "dwgk/" in frame:
                inclusive[frame] += n
        own[frames[-1]] += n
        where = next(
            (label for label, needles in PROFILE_BUCKETS if any(x in frames[-1] for x in needles)),
            "other (Python, libraries)",
        )
        buckets[where] += n

    def share(counter: Counter[str], limit: int | None = top) -> list[tuple[str, float]]:
        return [(f, round(100 * c / max(1, total), 1)) for f, c in counter.most_common(limit)]

    return {
        "samples": total,
        "buckets": share(buckets, None),
        "dwgk_inclusive": share(inclusive),
        "self": share(own),
    }


def run_profile(
    server: Server, rerun: Callable[[], object], seconds: int, name: str
) -> dict[str, Any] | None:
    """Sample both workers with py-spy while the measurement runs again."""
    py_spy = shutil.which("py-spy", path=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if py_spy is None:
        log("py-spy is missing (make bench installs it): no profile")
        return None
    raw = RESULTS / f"profile-{name}.txt"
    spy = subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(server.process.pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "250",
            "--duration",
            str(seconds),
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rerun()
    spy.wait(timeout=seconds + 60)
    if not raw.exists():
        log(f"py-spy wrote no profile for {name} (ptrace not permitted?)")
        return None
    summary = profile_summary(raw)
    summary["raw"] = str(raw.relative_to(ROOT))
    return summary


# --- the worker and the creation figures -----------------------------------------------------


def worker_figure(database_url: str, items: int) -> dict[str, Any]:
    """bench/worker_publish.py on a scratch database next to the measured one: N approved
    and scheduled items built through the actions, then one timed `publish_due`."""
    import dj_database_url

    cfg = dj_database_url.parse(database_url)
    if "sqlite" in cfg["ENGINE"]:
        scratch_path = RESULTS / "run_worker.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{scratch_path}{suffix}").unlink(missing_ok=True)
        scratch = f"sqlite:///{scratch_path}"
    else:
        import psycopg

        name = "dwgk_benchrun_worker"  # this runner's own scratch database
        conninfo = psycopg.conninfo.make_conninfo(
            dbname="postgres",
            host=cfg.get("HOST") or None,
            port=cfg.get("PORT") or None,
            user=cfg.get("USER") or None,
            password=cfg.get("PASSWORD") or None,
        )
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        parts = urllib.parse.urlsplit(database_url)
        scratch = urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))
    log(f"worker figure: {items} items through the actions on {database_label(scratch)}")
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["DATABASE_URL"] = scratch
    done = subprocess.run(
        [sys.executable, "-m", "bench.worker_publish", "--items", str(items)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if done.returncode != 0:
        raise SystemExit(f"bench.worker_publish failed:\n{done.stdout}\n{done.stderr}")
    out = done.stdout
    rate = re.search(r"publish_due: (\d+) items in ([\d.]+) s = (\d+) items/s", out)
    queries = re.search(r"queries per published item: ([\d.]+)", out)
    cpu = re.search(r"CPU time in this process: ([\d.]+) s \(([\d.]+) ms per item\)", out)
    assert rate is not None, out
    n, seconds = int(rate.group(1)), float(rate.group(2))
    return {
        "items": n,
        "seconds": seconds,
        "items_per_s": round(n / seconds, 1),
        "ms_per_item": round(seconds / n * 1000, 2),
        "cpu_ms_per_item": float(cpu.group(2)) if cpu else None,
        "queries_per_item": float(queries.group(1)) if queries else None,
        "database": database_label(scratch),
        "output": out,
    }


CREATE_PHASES = ("sanitize", "full_clean", "save", "index", "commit")


def _create(template: Any, numbers: range, phases: dict[str, float] | None = None) -> list[int]:
    """Create one published item per number from the template, each in its own transaction
    (as one save of a real item commits), through the model path; their ids. `phases`
    adds up the time of each step."""
    from django.db import transaction
    from django.utils import timezone

    from dwgk.disclosures.actions import sanitize_html
    from dwgk.disclosures.models import Disclosure
    from dwgk.search.index import index_disclosure

    created = []
    for n in numbers:
        marks = [time.perf_counter()]
        with transaction.atomic():
            body = sanitize_html(template.body)
            marks.append(time.perf_counter())
            item = Disclosure(
                org_id=template.org_id,
                entry_id=template.entry_id,
                out_of_catalog=template.out_of_catalog,
                out_of_catalog_reason=template.out_of_catalog_reason,
                title=f"{template.title[:150]}{CREATE_MARK}{n}",
                doc_number=template.doc_number,
                category=template.category,
                body=body,
                channels=template.channels,
                timing_kind=template.timing_kind,
                audience=template.audience,
                background=template.background,
                significance=template.significance,
                key_points=template.key_points,
                author_id=template.author_id,
                status=Disclosure.Status.PUBLISHED,
                published_at=timezone.now(),
                published_revision=1,
            )
            item.full_clean()
            marks.append(time.perf_counter())
            item.save(force_insert=True)
            marks.append(time.perf_counter())
            index_disclosure(item)
            marks.append(time.perf_counter())
        marks.append(time.perf_counter())
        created.append(item.pk)
        if phases is not None:
            for phase, (a, b) in zip(CREATE_PHASES, itertools.pairwise(marks), strict=True):
                phases[phase] += b - a
    return created


def _creator(template: Any, numbers: range, start: Any, results: Any) -> None:
    """One of the concurrent creators (a forked process with its own connection)."""
    start.wait()
    began = time.monotonic()
    from django.db import connections

    created = _create(template, numbers)
    ended = time.monotonic()
    connections.close_all()
    results.put((began, ended, created))


def _create_concurrently(template: Any, items: int, creators: int) -> tuple[float, list[int]]:
    """`items` items by `creators` processes at once, as that many server workers would
    save them: (the seconds from the first start to the last end, the ids created)."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each child opens its own connection; none shares this one
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(creators), context.Queue()
    share = -(-items // creators)
    children = [
        context.Process(
            target=_creator,
            args=(
                template,
                range(items + k * share, items + min(items, (k + 1) * share)),
                start,
                results,
            ),
        )
        for k in range(creators)
    ]
    for child in children:
        child.start()
    done = [results.get(timeout=3600) for _ in children]
    for child in children:
        child.join(timeout=60)
    if any(child.exitcode != 0 for child in children):
        raise SystemExit("a concurrent creator failed: see its traceback above")
    seconds = max(end for _, end, _ in done) - min(began for began, _, _ in done)
    return seconds, [pk for _, _, created in done for pk in created]


def creation_figure(subjects: Subjects, items: int, creators: int = 2) -> dict[str, Any]:
    """Create `items` published items one by one through the model path, then `items` more
    by `creators` processes at once, and remove them all.

    Per item, in one transaction (as one save of a real item commits): the body through
    the sanitizer, `full_clean()` (field, foreign-key and constraint validation),
    `save(force_insert=True)` — what `Disclosure.objects.create` runs — which writes the
    row and, as every AudiencedModel save does, its audience key rows; then
    `index_disclosure(item)`, the search row the procedure writes on publication.
    Not the action (no revision, log, audit or tasks), not the bulk path.

    One creator alone gives the cost of an item (its phases, queries, CPU); the concurrent
    run gives the platform's rate, items saved by as many processes as the server has
    workers: one process waits for the database most of the time (its CPU per item is about
    half its time per item)."""
    from django.db import connection

    from dwgk.disclosures.models import Disclosure

    template = Disclosure.objects.get(pk=subjects.item_id)
    leftovers = Disclosure.objects.filter(title__contains=CREATE_MARK)
    if leftovers.exists():
        log(f"removing {leftovers.count()} items left by an earlier interrupted run")
        leftovers.delete()
    phases = dict.fromkeys(CREATE_PHASES, 0.0)
    created: list[int] = []
    capture_first = min(20, items)

    log(f"creation figure: {items} items through the model path, one creator")
    try:
        capture = Capture()  # warm, and count the queries
        with connection.execute_wrapper(capture):
            created += _create(template, range(capture_first))
        measured_n = max(1, items - capture_first)
        started, cpu = time.perf_counter(), time.process_time()
        created += _create(template, range(capture_first, items), phases)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        together: dict[str, Any] = {}
        if creators > 1:
            log(f"creation figure: {items} more items by {creators} creators at once")
            wall, made = _create_concurrently(template, items, creators)
            created += made
            together = {
                "creators": creators,
                "items": len(made),
                "seconds": round(wall, 2),
                "items_per_s": round(len(made) / wall, 1),
            }
    finally:
        log(f"removing the {len(created)} created items")
        for start in range(0, len(created), 1000):
            Disclosure.objects.filter(pk__in=created[start : start + 1000]).delete()
        if connection.vendor == "postgresql" and created:
            # The removed rows were the newest of every feed key: left as dead index entries
            # (1 % of the table never triggers autovacuum) they would slow every later
            # newest-first scan of this database, other people's measurements included.
            with connection.cursor() as cursor:
                cursor.execute(
                    "VACUUM (ANALYZE) disclosures_disclosure, disclosures_disclosureaudience, "
                    "search_searchdoc"
                )
    return {
        "items": items,
        "timed_items": measured_n,
        "seconds": round(seconds, 2),
        "one_creator_items_per_s": round(measured_n / seconds, 1),
        # The platform's rate: the concurrent run's when there was one.
        "items_per_s": together.get("items_per_s", round(measured_n / seconds, 1)),
        "concurrent": together,
        "ms_per_item": round(seconds / measured_n * 1000, 3),
        "cpu_ms_per_item": round(cpu / measured_n * 1000, 3),
        "queries_per_item": round(len(capture.queries) / max(1, capture_first), 1),
        "phase_ms_per_item": {k: round(v / measured_n * 1000, 3) for k, v in phases.items()},
        "template_item": subjects.item_id,
        "path": "sanitize_html(body); Disclosure(...).full_clean(); save(force_insert=True) "
        "(row + audience keys); index_disclosure(item); one transaction per item",
    }


# --- targets, tables, comparison -------------------------------------------------------------


@dataclass
class Target:
    label: str
    target: str
    measured: str
    met: bool | None  # None: reported, no target


def _creation_measured(create: dict[str, Any]) -> str:
    alone = f"{create.get('one_creator_items_per_s', create['items_per_s']):.0f}/s alone"
    together = create.get("concurrent") or {}
    if not together:
        return f"{alone} ({create['queries_per_item']} queries/item)"
    return (
        f"{together['items_per_s']:.0f}/s by {together['creators']} creators at once, "
        f"{alone} ({create['queries_per_item']} queries/item)"
    )


def evaluate(results: dict[str, Any]) -> list[Target]:
    """Issue 6 item 3, row by row. Ratios are against the wrk baseline of the same run."""
    loads = {row["name"]: row for row in results["http"]}
    base = loads.get("baseline", {}).get("rps") or 0.0
    out: list[Target] = []

    def ratio(row: dict[str, Any]) -> float:
        return row["rps"] / base if base else 0.0

    for name in ("home", "org", "item"):
        if name in loads:
            row = loads[name]
            out.append(
                Target(
                    f"{row['label']}: rps vs baseline",
                    "≥ 70 %",
                    f"{ratio(row):.0%} ({row['rps']:.0f} / {base:.0f})",
                    ratio(row) >= 0.70,
                )
            )
            sized = loads.get("baseline_sized", {}).get("rps") or 0.0
            if sized:
                out.append(
                    Target(
                        f"{row['label']}: rps vs the baseline of the home page's size",
                        "(reported)",
                        f"{row['rps'] / sized:.0%} ({row['rps']:.0f} / {sized:.0f})",
                        None,
                    )
                )
            out.append(
                Target(f"{row['label']}: p99", "< 25 ms", f"{row['p99']:.1f} ms", row["p99"] < 25)
            )
    member_base = loads.get("baseline_member", {}).get("rps") or 0.0
    for name in ("feed_first", "feed_deep"):
        if name in loads:
            row = loads[name]
            floor = (
                f"; the signed-in baseline itself: {member_base / base:.0%} of it, the page "
                f"{row['rps'] / member_base:.0%} of the signed-in baseline"
                if member_base and base
                else ""
            )
            out.append(
                Target(
                    f"{row['label']}: rps vs baseline",
                    "≥ 40 %",
                    f"{ratio(row):.0%} ({row['rps']:.0f} / {base:.0f}){floor}",
                    ratio(row) >= 0.40,
                )
            )
            out.append(
                Target(f"{row['label']}: p99", "< 50 ms", f"{row['p99']:.1f} ms", row["p99"] < 50)
            )
    for name in [n for n in loads if n.startswith(("feed_first_c", "feed_deep_c"))]:
        row = loads[name]
        out.append(
            Target(f"{row['label']}: p99", "< 50 ms", f"{row['p99']:.1f} ms", row["p99"] < 50)
        )
    for name in ("locust_feed_first", "locust_feed_deep"):
        if name in loads:
            row = loads[name]
            out.append(
                Target(
                    f"{row['label']} (locust journey): p99",
                    "< 50 ms",
                    f"{row['p99']:.0f} ms",
                    row["p99"] < 50,
                )
            )
    searches = [n for n in loads if n.startswith("search2_member_c")]
    for name in ("search2_member", *searches, "locust_search2_member"):
        if name in loads:
            row = loads[name]
            tool = " (locust journey)" if row["tool"] == "locust" else ""
            out.append(
                Target(
                    f"{row['label']}{tool}: p95",
                    "< 100 ms",
                    f"{row['p95']:.1f} ms",
                    row["p95"] < 100,
                )
            )
    worker = results.get("worker")
    if worker:
        out.append(
            Target(
                "worker: items published per second",
                "≥ 200/s",
                f"{worker['items_per_s']:.0f}/s ({worker['queries_per_item']} queries/item)",
                worker["items_per_s"] >= 200,
            )
        )
    create = results.get("create")
    if create:
        out.append(
            Target(
                "creating items through the model path",
                "≥ 500/s",
                _creation_measured(create),
                create["items_per_s"] >= 500,
            )
        )
    errors = sum(row["errors"] for row in results["http"])
    out.append(Target("errors under load (all rows)", "0", str(errors), errors == 0))
    memory = results.get("memory", {})
    if memory:
        peak = max(m["VmHWM"] for m in memory.values())
        now = max(m["VmRSS"] for m in memory.values())
        out.append(
            Target(
                "memory of each gunicorn worker",
                "< 250 MB",
                f"RSS {now:.0f} MB, peak {peak:.0f} MB",
                peak < 250,
            )
        )
    scans = results.get("seq_scans", [])
    out.append(
        Target(
            "EXPLAIN: no sequential scan of the items tables",
            "none",
            ", ".join(scans) or "none",
            not scans,
        )
    )
    return out


def markdown(results: dict[str, Any]) -> str:
    """The short report: the load rows, the targets, the key queries."""
    server = (
        f"gunicorn {results['server']['workers']} × {results['server']['worker_class']}"
        if results["http"]
        else "plans only, no load"
    )
    lines = [
        f"dwgk benchmark {results['date']} — {results['database']['vendor']} "
        f"({results['database']['counts']['organizations']:,} organizations, "
        f"{results['database']['counts']['items']:,} items), {server}, "
        f"{results['machine']['cpus']} cores, load {results['machine']['load_before']} → "
        f"{results['machine']['load_after']}",
        "",
        "| measurement | tool | rps | % base | p50 ms | p95 ms | p99 ms | errors | server CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    base = next((r["rps"] for r in results["http"] if r["name"] == "baseline"), 0.0)
    for row in results["http"]:
        share = f"{row['rps'] / base:.0%}" if base and row["tool"] == "wrk" else "—"
        lines.append(
            f"| {row['label']} | {row['tool']} | {row['rps']:,.0f} | {share} | {row['p50']:.1f} | "
            f"{row['p95']:.1f} | {row['p99']:.1f} | {row['errors']} | "
            f"{_ms(row['server_cpu_ms'] or None)} |"
        )
    lines += ["", "| target | required | measured | met? |", "|---|---|---|---|"]
    for t in results["targets"]:
        met = "—" if t["met"] is None else ("yes" if t["met"] else "**NO**")
        lines.append(f"| {t['label']} | {t['target']} | {t['measured']} | {met} |")
    lines += [
        "",
        "| page | queries | SQL ms (in page) | key query: plan | planning ms | execution ms |",
        "|---|---:|---:|---|---:|---:|",
    ]
    for name, page in results["plans"].items():
        keys = [p for p in page["plans"] if p["key"]] or sorted(
            page["plans"], key=lambda p: -(p.get("execution_ms") or 0)
        )[:1]
        for n, plan in enumerate(keys or [{}]):
            lines.append(
                f"| {name if n == 0 else ''} | {page['queries'] if n == 0 else ''} | "
                f"{page['sql_ms'] if n == 0 else ''} | {plan.get('top', '')[:70]} | "
                f"{_ms(plan.get('planning_ms'))} | {_ms(plan.get('execution_ms'))} |"
            )
    create = results.get("create")
    if create:
        phases = ", ".join(f"{k} {v:.2f}" for k, v in create["phase_ms_per_item"].items())
        lines += ["", f"Creation, ms per item: {phases} (path: {create['path']})."]
    return "\n".join(lines) + "\n"


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """The change per row against an earlier run's JSON."""
    lines = [
        f"Change against {old.get('date', '?')} ({old.get('database', {}).get('label', '?')})",
        "",
        "| row | rps before | rps now | Δ rps | p99 before | p99 now | Δ p99 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    before = {r["name"]: r for r in old.get("http", [])}
    for row in new["http"]:
        was = before.get(row["name"])
        if was is None:
            lines.append(
                f"| {row['label']} | — | {row['rps']:,.0f} | new | — | {row['p99']:.1f} | |"
            )
            continue
        lines.append(
            f"| {row['label']} | {was['rps']:,.0f} | {row['rps']:,.0f} | "
            f"{_delta(was['rps'], row['rps'])} | {was['p99']:.1f} | {row['p99']:.1f} | "
            f"{_delta(was['p99'], row['p99'])} |"
        )
    for key, label in (("worker", "worker items/s"), ("create", "creation items/s")):
        if old.get(key) and new.get(key):
            a, b = old[key]["items_per_s"], new[key]["items_per_s"]
            lines.append(f"| {label} | {a:,.0f} | {b:,.0f} | {_delta(a, b)} | | | |")
    return "\n".join(lines) + "\n"


def _delta(a: float, b: float) -> str:
    return f"{(b - a) / a:+.0%}" if a else "—"


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'dwgk.sqlite3'}"),
        help="the database to measure (default $DATABASE_URL, else dwgk.sqlite3)",
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds per load run (15)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per URL (2)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument(
        "--latency-connections",
        type=int,
        default=2,
        help="connections for the signed-in latency rows (2: one per worker; 0 skips them)",
    )
    parser.add_argument("--users", type=int, default=16, help="locust users (16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--deep-pages", type=int, default=50, help="公开给我的 pages deep (50)")
    parser.add_argument("--worker-items", type=int, default=1000, help="0 skips the worker")
    parser.add_argument("--create-items", type=int, default=10_000, help="0 skips creation")
    parser.add_argument(
        "--creators", type=int, default=2, help="processes creating items at once (2)"
    )
    parser.add_argument("--password", help="the synthetic accounts' password, if one was set")
    parser.add_argument(
        "--profile",
        default="",
        help="comma-separated rows to run again under py-spy (e.g. feed_first,org)",
    )
    parser.add_argument("--only", default="", help="comma-separated rows to run (default all)")
    parser.add_argument(
        "--plans-only",
        action="store_true",
        help="only the database plans (EXPLAIN ANALYZE) of every page: no server, no load",
    )
    parser.add_argument(
        "--out", type=Path, help="JSON file (default bench/results/bench-<date>.json)"
    )
    parser.add_argument("--compare", type=Path, help="an earlier JSON to compare with")
    args = parser.parse_args(argv)
    if args.compare and not args.compare.is_file():
        parser.error(f"--compare {args.compare}: no such file")  # before the run, not after
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tools = require_tools()
    secret = secrets.token_urlsafe(50)
    env = server_environment(args.database_url, secret)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now().astimezone()
    out_path = args.out or RESULTS / f"bench-{stamp:%Y%m%d-%H%M%S}.json"
    only = {n for n in args.only.split(",") if n}
    load_before = round(os.getloadavg()[0], 2)

    log(f"picking subjects from {database_label(args.database_url)}")
    subjects = pick_subjects(args.password)
    password = args.password or BENCH_PASSWORD
    log(
        f"org {subjects.org_id} ({subjects.org_public_items} public items), item "
        f"{subjects.item_id}, member {subjects.member} ({subjects.member_feed_items} items, "
        f"{subjects.member_keys} keys), parent {subjects.parent_id} "
        f"({subjects.parent_subtree} orgs) staff {subjects.staff}, words "
        f"{subjects.word2}/{subjects.word4}"
    )
    q2 = urllib.parse.quote(subjects.word2)
    q4 = urllib.parse.quote(subjects.word4)
    # name → (label, path, who); the deep page's path is found by following its links.
    rows: dict[str, tuple[str, str, str]] = {
        "baseline": ('baseline: HttpResponse("ok")', "/bench/ok/", "public"),
        # The floor of every signed-in page: the same view with the member's session cookie
        # (session row and user row read, as on any page a signed-in person opens).
        "baseline_member": (
            'baseline signed in: HttpResponse("ok") with a session',
            "/bench/ok/",
            "member",
        ),
        "home": ("home page /", "/", "public"),
        "org": (
            f"organization column /open/{subjects.org_id}/",
            f"/open/{subjects.org_id}/",
            "public",
        ),
        "item": (
            f"item page /disclosures/{subjects.item_id}/",
            f"/disclosures/{subjects.item_id}/",
            "public",
        ),
        "search2_public": (f"search {subjects.word2} (public)", f"/search/?q={q2}", "public"),
        "search4_public": (f"search {subjects.word4} (public)", f"/search/?q={q4}", "public"),
        "feed_first": ("公开给我的 first page", "/me/feed/", "member"),
        "feed_deep": ("公开给我的 deep page", "", "member"),
        "search2_member": (f"search {subjects.word2} (member)", f"/search/?q={q2}", "member"),
        "search4_member": (f"search {subjects.word4} (member)", f"/search/?q={q4}", "member"),
    }
    if subjects.staff:
        path = f"/catalog/org/{subjects.parent_id}/subtree/"
        rows["overview"] = (
            f"catalog overview of a {subjects.parent_subtree}-org subtree",
            path,
            "staff",
        )

    loads: list[Load] = []
    profiles: dict[str, Any] = {}
    memory: dict[str, dict[str, float]] = {}
    worker: dict[str, Any] | None = None
    create: dict[str, Any] | None = None
    if args.plans_only:
        # The database-level figures alone (a province too big to load-test here): the deep
        # page found by following its links in this process, no server, no load.
        deep, depth = follow_next_pages(
            in_process_fetch(subjects.member_id), "/me/feed/", args.deep_pages
        )
        subjects.deep_path, subjects.deep_pages = deep, depth
        rows["feed_deep"] = (f"公开给我的 {depth + 1} pages deep", deep, "member")
        plans, seq_scans = measured_plans(subjects, rows)
    else:
        server = start_server(tools["gunicorn"], env, args.workers, args.worker_class, args.threads)
        try:
            cookies = {"public": ""}
            member_http = http_login(server.base, subjects.member, password)
            cookies["member"] = cookie_header(member_http)
            if subjects.staff:
                cookies["staff"] = cookie_header(http_login(server.base, subjects.staff, password))
            with urllib.request.urlopen(server.base + "/", timeout=30) as answer:
                home_size = len(answer.read())
            rows = {
                "baseline": rows["baseline"],
                "baseline_sized": (
                    f"baseline of the home page's size: {home_size:,} fixed bytes",
                    f"/bench/ok/{home_size}/",
                    "public",
                ),
                **rows,
            }

            def fetch(path: str) -> str:
                with member_http.open(server.base + path, timeout=30) as answer:
                    return str(answer.read().decode())

            deep, depth = follow_next_pages(fetch, "/me/feed/", args.deep_pages)
            subjects.deep_path, subjects.deep_pages = deep, depth
            who = rows["feed_deep"][2]
            rows["feed_deep"] = (f"公开给我的 {depth + 1} pages deep", deep, who)
            log(f"deep page after {depth} 下一页 links: {deep}")
            for name, (_label, path, who) in rows.items():
                status = check_page(server.base, path, cookies[who])
                if status != 200:
                    loud([f"{name}: GET {path} as {who} answered {status}, not 200"])
                    return 2

            plans, seq_scans = measured_plans(subjects, rows)

            def wrk_row(name: str) -> Load:
                label, path, who = rows[name]
                return run_wrk(
                    tools["wrk"],
                    server,
                    Load(name, label, "wrk", path, who),
                    duration=args.duration,
                    connections=args.connections,
                    cookie=cookies[who],
                    warmup=args.warmup,
                )

            for name in rows:
                if only and name not in only and not name.startswith("baseline"):
                    continue
                log(f"wrk {name}: {rows[name][1]}")
                load = wrk_row(name)
                log(
                    f"  {load.rps:,.0f} rps, p50 {load.p50} p95 {load.p95} p99 {load.p99} ms, "
                    f"errors {load.errors}, server CPU {load.server_cpu_ms} ms/request"
                )
                loads.append(load)

            # The signed-in pages once more at one connection per worker: what one request takes
            # with nobody queued ahead of it (at 16 connections on 2 workers a request waits for
            # ~7 others, so p50 is ~8 times the service time whatever the page).
            for name in LATENCY_ROWS:
                if args.latency_connections <= 0 or (only and name not in only):
                    continue
                label, path, who = rows[name]
                log(f"wrk {name} at {args.latency_connections} connections")
                load = run_wrk(
                    tools["wrk"],
                    server,
                    Load(
                        f"{name}_c{args.latency_connections}",
                        f"{label}, {args.latency_connections} connections",
                        "wrk",
                        path,
                        who,
                    ),
                    duration=args.duration,
                    connections=args.latency_connections,
                    cookie=cookies[who],
                    warmup=args.warmup,
                )
                log(f"  {load.rps:,.0f} rps, p50 {load.p50} p95 {load.p95} p99 {load.p99} ms")
                loads.append(load)

            journey = [
                ("feed_first", rows["feed_first"][0], rows["feed_first"][1]),
                ("feed_deep", rows["feed_deep"][0], rows["feed_deep"][1]),
                ("search2_member", rows["search2_member"][0], rows["search2_member"][1]),
                ("search4_member", rows["search4_member"][0], rows["search4_member"][1]),
            ]
            if not only or "locust" in only:
                log(f"locust journey: {args.users} signed-in users, {args.duration} s")
                for load in run_locust(
                    tools["locust"],
                    server,
                    duration=args.duration,
                    users=args.users,
                    username=subjects.member,
                    password=password,
                    journey=journey,
                ):
                    log(
                        f"  {load.label}: {load.rps:,.0f} rps, p95 {load.p95} p99 {load.p99} ms, errors {load.errors}"
                    )
                    loads.append(load)

            log("wrk baseline again: did the machine stay the same?")
            again = wrk_row("baseline")
            again.name, again.label = "baseline_end", "baseline again (end of the load)"
            loads.append(again)

            for pid in server.workers():
                memory[str(pid)] = proc_status(pid)
            log(f"worker memory (MB): {memory}")

            for name in [n for n in args.profile.split(",") if n]:
                if name not in rows:
                    log(f"--profile {name}: no such row")
                    continue
                log(f"py-spy on {name} for {args.duration} s")
                summary = run_profile(server, functools.partial(wrk_row, name), args.duration, name)
                if summary is not None:
                    profiles[name] = summary
        finally:
            stop_server(server)

        worker = worker_figure(args.database_url, args.worker_items) if args.worker_items else None
        if worker:
            log(
                f"worker: {worker['items_per_s']} items/s, {worker['queries_per_item']} queries/item"
            )
        create = (
            creation_figure(subjects, args.create_items, args.creators)
            if args.create_items
            else None
        )
        if create:
            log(
                f"creation: {create['items_per_s']} items/s, {create['queries_per_item']} queries/item"
            )

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            server_version = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            import sqlite3

            server_version = f"SQLite {sqlite3.sqlite_version}"
    results: dict[str, Any] = {
        "date": stamp.isoformat(timespec="seconds"),
        "command": " ".join(
            [Path(sys.executable).name, "-m", "bench.run", *(argv or sys.argv[1:])]
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": load_before,
            "load_after": round(os.getloadavg()[0], 2),
            "wrk": subprocess.run(
                [tools["wrk"], "-v"], capture_output=True, text=True
            ).stdout.split("\n")[0],
        },
        "database": {
            "vendor": server_version,
            "label": database_label(args.database_url),
            "counts": subjects.counts,
        },
        "server": {
            "workers": args.workers,
            "worker_class": args.worker_class,
            "threads": args.threads if args.worker_class == "gthread" else 1,
            "connections": args.connections,
            "duration_s": args.duration,
        },
        "subjects": subjects.as_json(),
        "http": [load.as_json() for load in loads],
        "plans": plans,
        "seq_scans": seq_scans,
        "memory": memory,
        "worker": worker,
        "create": create,
        "profiles": profiles,
    }
    results["targets"] = [t.__dict__ for t in evaluate(results)]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    table = markdown(results)
    out_path.with_suffix(".md").write_text(table, encoding="utf-8")
    print(table)
    for name, summary in profiles.items():
        print(f"py-spy, {name}: {summary['samples']} samples (wall time of both workers)")
        for title, key in (
            ("where the innermost frame is", "buckets"),
            ("dwgk functions, inclusive", "dwgk_inclusive"),
        ):
            print(f"  {title}:")
            for frame, share in summary[key]:
                print(f"    {share:5.1f} %  {frame}")
    if args.compare:
        print(compare(json.loads(args.compare.read_text(encoding="utf-8")), results))
    log(f"results: {out_path} and {out_path.with_suffix('.md')}")
    errors = sum(row.errors for row in loads)
    if seq_scans:
        loud(
            [
                "SEQUENTIAL SCAN OF THE ITEMS TABLES / 全表扫描 — see the plans in the JSON:",
                *seq_scans,
            ]
        )
        return 1
    if errors:
        loud([f"{errors} errors under load / 压测期间出现 {errors} 个错误"])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
