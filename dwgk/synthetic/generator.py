"""Building the synthetic province, phase by phase, straight into the platform's tables.

Every row is what the platform's own code would have written for the same history:

* organizations with their materialized `path` (8-digit id segments, orgs.models);
* people: one current membership each for the ~80 % who are party members (some with an
  ended one before it), affiliations with a unit for the others and for some members,
  and role grants (principal, clerk, reviewer of every organization; approvers,
  supervisors, spokespeople and subtree administrators for a sample);
* each organization's catalog as `catalog_generate_draft` makes it from the rule-set's
  template, adopted, filed, acknowledged and published (its audience key row included);
* disclosure items under those entries (or out of catalog), each with the log entries of
  its procedure — create, submit, start_review, pass_review, approve …, publish and what
  came after — hash-chained exactly as `disclosures.actions._log` chains them; the audience
  key rows `Audience.to_keys()` gives, only while `audience_sort_value()` is set; index
  numbers `组织编码/年份-序号` in order of publication, with the counters that continue them;
  reviews, approvals (bound to `content_hash`) and revisions for a sample and for every
  item still in the procedure; the search row `search.index.index_disclosure` would write;
* opinions on some items, and the open tasks (inbox) that the items and opinions in hand
  call for (`disclosures.actions.wanted_tasks`, `feedback.actions._sync`).

Not generated: attachments (files), co-confirmations, scope changes, notifications and
readings, the audit trail of each step (one audit entry records the generation).

All randomness comes from `random.Random` seeded from the seed and the phase's name, ids
are assigned here (consecutive from the first free id), times are counted back from a fixed
day (`until`): the same seed on an empty database gives the same rows, ids included.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import math
import random
import time
import uuid
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.db import models
from django.urls import reverse

from dwgk.accounts.models import Affiliation, Membership, Role, RoleGrant, User
from dwgk.audience.keys import Audience
from dwgk.catalog.models import (
    Catalog,
    CatalogEntry,
    CatalogEvent,
    CatalogVersion,
    CatalogVersionAudience,
)
from dwgk.catalog.rulesets import Ruleset, TemplateEntry, current_ruleset
from dwgk.disclosures import policy as disclosure_policy
from dwgk.disclosures.actions import DUE_DAYS
from dwgk.disclosures.models import (
    GENESIS,
    RISK_ASPECTS,
    Approval,
    Disclosure,
    DisclosureAudience,
    IndexCounter,
    LogEntry,
    Review,
    Revision,
    canonical_json,
)
from dwgk.feedback import policy as feedback_policy
from dwgk.feedback.models import DEFAULT_REPLY_DAYS, Opinion
from dwgk.inbox.models import Task
from dwgk.orgs.models import Organization, OrgType
from dwgk.search.index import document
from dwgk.search.models import SearchDoc
from dwgk.search.text import GAP, MAX_CHARS, tokens
from dwgk.synthetic import vocabulary as V
from dwgk.synthetic.tree import Node, Preset, Tree, build_tree
from dwgk.synthetic.writer import Writer

DAY = 86_400
HOUR = 3_600
YEARS = 5
UTC = datetime.UTC
S = Disclosure.Status

# The mix of audiences (brief: ≈ 30 % society, 55 % party, 10 % unit, 5 % named people).
AUDIENCE_MIX = (("society", 0.30), ("party", 0.55), ("unit", 0.10), ("people", 0.05))
# Items in the procedure are recent: of the items of the last IN_PROGRESS_DAYS, this share is
# still being worked on, split as below.
IN_PROGRESS_DAYS = 45
IN_PROGRESS_SHARE = 0.25
IN_PROGRESS = (
    (S.DRAFT, 0.30),
    (S.SUBMITTED, 0.10),
    (S.REVIEWING, 0.15),
    (S.APPROVING, 0.15),
    (S.APPROVED, 0.08),
    (S.SCHEDULED, 0.12),
    (S.RETURNED, 0.10),
)
REJECTED_SHARE = 0.008
WITHDRAWN_SHARE = 0.008
OUT_OF_CATALOG_SHARE = 0.02
DELAYED_SHARE = 0.01
SCHEDULED_SHARE = 0.30  # published by the worker at a time set in advance
SAMPLE_SHARE = 0.10  # disclosed items that also get review, approval and revision rows
OPINION_SHARE = 0.03
NO_CATALOG_SHARE = 0.02  # branches that have not compiled their catalog (未编制)
# How much each kind of organization publishes, relative to a branch.
PUBLISH_WEIGHT = {
    "province": 400.0,
    "city": 150.0,
    "district": 30.0,
    "street": 10.0,
    "township": 10.0,
    "organ": 8.0,
    "unit": 3.0,
}
AFFILIATION_KIND = {
    "community": Affiliation.Kind.RESIDENT,
    "village": Affiliation.Kind.VILLAGER,
    "street": Affiliation.Kind.RESIDENT,
    "township": Affiliation.Kind.VILLAGER,
}
CHUNK = 5_000  # items buffered before their rows are written

ORG_FIELDS = (
    "id",
    "name",
    "short_name",
    "code",
    "org_type_id",
    "parent_id",
    "path",
    "status",
    "merged_into_id",
    "ended_on",
    "sort_order",
    "created_at",
)
USER_FIELDS = (
    "id",
    "password",
    "last_login",
    "is_superuser",
    "username",
    "email",
    "is_staff",
    "is_active",
    "date_joined",
    "name",
    "phone",
)
MEMBERSHIP_FIELDS = ("id", "user_id", "branch_id", "kind", "started_on", "ended_on", "end_reason")
AFFILIATION_FIELDS = ("id", "user_id", "org_id", "kind", "started_on", "ended_on")
GRANT_FIELDS = (
    "id",
    "user_id",
    "org_id",
    "role",
    "inherit",
    "granted_at",
    "granted_by_id",
    "revoked_at",
    "revoked_by_id",
)
CATALOG_FIELDS = ("id", "org_id", "ruleset", "created_at")
VERSION_FIELDS = (
    "id",
    "audience",
    "catalog_id",
    "number",
    "status",
    "based_on_id",
    "change_note",
    "created_by_id",
    "created_at",
    "adopted_by_id",
    "adopted_at",
    "adopted_on",
    "adopted_meeting",
    "leader_name",
    "filed_by_id",
    "filed_at",
    "reviewed_by_id",
    "reviewed_at",
    "published_by_id",
    "published_at",
    "superseded_at",
)
KEY_FIELDS = ("id", "key", "sort_at", "obj_id")
ENTRY_FIELDS = (
    "id",
    "version_id",
    "position",
    "lineage",
    "content",
    "category",
    "basis",
    "audience",
    "audience_note",
    "approval",
    "channels",
    "timing",
    "responsible",
    "co_units",
    "remarks",
    "state",
    "state_note",
)
EVENT_FIELDS = ("id", "version_id", "kind", "actor_id", "actor_org_id", "at", "text")
DISCLOSURE_FIELDS = (
    "id",
    "audience",
    "org_id",
    "entry_id",
    "out_of_catalog",
    "out_of_catalog_reason",
    "title",
    "doc_number",
    "category",
    "body",
    "channels",
    "timing_kind",
    "publish_at",
    "expire_at",
    "stage",
    "series_id",
    "next_stage_at",
    "background",
    "significance",
    "key_points",
    "hot_spots",
    "response_plan",
    "co_units",
    "status",
    "revision",
    "route",
    "step",
    "author_id",
    "created_at",
    "updated_at",
    "submitted_at",
    "approved_at",
    "delay_reason",
    "delay_consent_by_id",
    "delay_consent_at",
    "index_no",
    "published_at",
    "published_revision",
    "ended_at",
    "withdrawn_at",
    "correction_notice",
    "archived_at",
    "catalog_update_pending",
)
LOG_FIELDS = (
    "id",
    "disclosure_id",
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "status",
    "revision",
    "data",
    "prev_hash",
    "hash",
)
REVIEW_FIELDS = (
    "id",
    "disclosure_id",
    "revision",
    "reviewer_id",
    "outcome",
    "confidentiality",
    "necessity",
    "accuracy",
    "normativity",
    "risks",
    "prevention_plan",
    "findings",
    "comment",
    "at",
)
APPROVAL_FIELDS = (
    "id",
    "disclosure_id",
    "revision",
    "content_sha256",
    "step",
    "step_label",
    "decision",
    "form",
    "by_id",
    "acting_org_id",
    "meeting",
    "meeting_date",
    "minutes",
    "comment",
    "at",
)
REVISION_FIELDS = ("id", "disclosure_id", "number", "content", "note", "by_id", "at")
SEARCH_FIELDS = (
    "id",
    "disclosure_id",
    "org_id",
    "published_at",
    "title",
    "text",
    "search_text",
    "keys",
    "indexed_at",
)
OPINION_FIELDS = (
    "id",
    "disclosure_id",
    "org_id",
    "channel",
    "text",
    "named",
    "submitter_id",
    "submitter_name",
    "contact",
    "status",
    "reject_reason",
    "assignee_id",
    "recorded_by_id",
    "reply",
    "replied_by_id",
    "replied_at",
    "told_at",
    "told_how",
    "closed_at",
    "published",
    "published_reply",
    "published_at",
    "ip_hash",
    "created_at",
    "outcome_seen_at",
)
TASK_FIELDS = (
    "id",
    "kind",
    "title",
    "url",
    "org_id",
    "roles",
    "assignee_id",
    "subject",
    "due_at",
    "created_at",
    "done_at",
    "overdue_warned_at",
)
COUNTER_FIELDS = ("id", "org_id", "year", "last")

# Every model the generator writes, for the first free ids and the sequences.
MODELS: tuple[type[models.Model], ...] = (
    Organization,
    User,
    Membership,
    Affiliation,
    RoleGrant,
    Catalog,
    CatalogVersion,
    CatalogVersionAudience,
    CatalogEntry,
    CatalogEvent,
    Disclosure,
    DisclosureAudience,
    LogEntry,
    Review,
    Approval,
    Revision,
    SearchDoc,
    Opinion,
    Task,
    IndexCounter,
)


# The tables with millions of rows: their secondary indexes are built after the load.
BIG_TABLES: tuple[type[models.Model], ...] = (
    Disclosure,
    DisclosureAudience,
    LogEntry,
    SearchDoc,
)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _mix(x: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an integer (people's names by id)."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 31)


def _ts(seconds: int) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, UTC)


def _pick(rng: random.Random, shares: tuple[tuple[Any, float], ...]) -> Any:
    x = rng.random()
    for value, share in shares:
        x -= share
        if x < 0:
            return value
    return shares[-1][0]


@dataclass
class PhaseReport:
    name: str
    rows: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Template:
    """A rule-set template prepared once for every organization that uses it."""

    entries: list[TemplateEntry]
    approval: list[str]  # each entry's route as JSON
    routes: list[list[dict[str, str]]]
    channels: list[list[str]]
    timing: list[str]
    by_scope: dict[str, list[int]] = field(default_factory=dict)
    no_parent: dict[str, list[int]] = field(default_factory=dict)  # for the root


class _NoAttachments:
    def all(self) -> list[Any]:
        return []


class _Shown:
    """What `search.index.document()` reads of an item, without building a model instance
    (62 µs each): the fields, no attachments, and the model's own `is_taken_down` rule."""

    Status = Disclosure.Status
    is_taken_down = Disclosure.is_taken_down
    attachments = _NoAttachments()

    def __init__(
        self,
        status: str,
        title: str,
        body: str,
        background: str,
        significance: str,
        key_points: str,
        correction_notice: str,
        withdrawn_at: datetime.datetime | None,
    ) -> None:
        self.status = status
        self.title = title
        self.body = body
        self.background = background
        self.significance = significance
        self.key_points = key_points
        self.correction_notice = correction_notice
        self.withdrawn_at = withdrawn_at


@dataclass
class _Step:
    action: str
    status: str
    at: int
    actor: int | None
    data: dict[str, Any]
    data_json: str = ""  # canonical_json(data), when the caller has it already


class Generator:
    """One run: `run()` writes every phase and returns their reports."""

    def __init__(
        self,
        preset: Preset,
        *,
        seed: int,
        until: datetime.date,
        password_hash: str = "!",  # noqa: S107 — "!" is Django's unusable password
        progress: Callable[[str], None] = print,
        defer_indexes: bool = False,
    ) -> None:
        self.preset = preset
        self.defer = defer_indexes
        self.seed = seed
        self.password_hash = password_hash
        self.progress = progress
        self.writer = Writer()
        self.tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        self.until = int(
            datetime.datetime(until.year, until.month, until.day, tzinfo=UTC).timestamp()
        )
        self.start = self.until - YEARS * 365 * DAY - DAY
        self.launch = self.start - 200 * DAY  # accounts and organizations exist from here
        self.ruleset: Ruleset = current_ruleset()
        self.first = {m._meta.label: self._first_id(m) for m in MODELS}
        self.reports: list[PhaseReport] = []
        self.tree = Tree()
        self.people = 0
        self.user0 = self.first[User._meta.label]
        self.member_start: list[int] = []
        self.names: dict[int, str] = {}
        self.label_jsons: dict[int, str] = {}
        self.json_cache: dict[str, str] = {}
        self.token_cache: dict[str, str] = {}
        self.counters: dict[tuple[int, int], int] = {}
        self.templates: dict[str, _Template] = {}
        self.templates_by_type: dict[str, str] = {}

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _first_id(model: type[models.Model]) -> int:
        last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        return int(last or 0) + 1

    def rng(self, phase: str) -> random.Random:
        """An independent stream per phase: changing one phase leaves the others' rows."""
        return random.Random(f"dwgk-synthetic:{self.seed}:{phase}")

    def name_of(self, uid: int) -> str:
        h = _mix(uid * 1_000_003 + self.seed)
        surname = V.SURNAMES[h % len(V.SURNAMES)]
        given = V.GIVEN[(h >> 16) % len(V.GIVEN)]
        if (h >> 32) % 10 < 7:
            given += V.GIVEN[(h >> 40) % len(V.GIVEN)]
        return surname + given

    def label_of(self, uid: int | None) -> str:
        """The actor label the log records (`disclosures.actions._label`)."""
        if uid is None:
            return "系统"
        label = self.names.get(uid)
        if label is None:
            label = f"{self.name_of(uid)}（u{uid}）"[:150]
            self.names[uid] = label
        return label

    def label_json(self, uid: int | None) -> str:
        if uid is None:
            return '"系统"'
        text = self.label_jsons.get(uid)
        if text is None:
            text = json.dumps(self.label_of(uid), ensure_ascii=False)
            self.label_jsons[uid] = text
        return text

    def cached_json(self, value: Any) -> str:
        """canonical_json of a small value that recurs (routes, approval steps)."""
        key = repr(value)
        text = self.json_cache.get(key)
        if text is None:
            text = canonical_json(value)
            if len(self.json_cache) < 100_000:
                self.json_cache[key] = text
        return text

    def tokens(self, title: str, text: str) -> str:
        """`tokens(f"{title}\\n{text}")`, line by line with the lines' tokens cached: lines
        such as the closing sentences recur in thousands of items. A line break always
        ends a token run (dwgk.search.text), so the tokens of the whole are the lines'
        tokens joined by a gap (the tests compare every row with the real function)."""
        whole = f"{title}\n{text}"
        if len(whole) >= MAX_CHARS:
            return tokens(whole)
        cache = self.token_cache
        parts = []
        for line in whole.split("\n"):
            cut = cache.get(line)
            if cut is None:
                cut = tokens(line)[1:-1]
                if len(cache) > 200_000:
                    cache.clear()
                cache[line] = cut
            if cut:
                parts.append(cut)
        return " " + f" {GAP} ".join(parts) + " "

    def members_of(self, node: Node) -> tuple[int, int]:
        """The user ids [lo, hi) of the party members in the node's subtree."""
        return (
            self.user0 + self.member_start[node.branch_lo],
            self.user0 + self.member_start[node.branch_hi],
        )

    def local(self, seconds: int) -> datetime.datetime:
        return _ts(seconds).astimezone(self.tz)

    def phase(self, name: str, work: Callable[[], int]) -> None:
        began = time.perf_counter()
        rows = work()
        took = time.perf_counter() - began
        report = PhaseReport(name, rows, took)
        self.reports.append(report)
        self.progress(f"  {name}：{rows:,} 行，{took:.1f} 秒，{report.rate:,.0f} 行/秒")

    def run(self) -> list[PhaseReport]:
        try:
            self.phase("组织", self.organizations)
            self.phase("人员、组织关系和角色", self.people_and_roles)
            self.phase("公开目录", self.catalogs)
            deferred = self.writer.defer_indexes(list(BIG_TABLES)) if self.defer else []
            self.phase("公开事项（含记录、审核审批、检索、意见、待办）", self.disclosures)
            if deferred:
                self.phase("重建索引", lambda: self._build(deferred))
            self.phase("索引号计数和序列", self.finish)
        except BaseException:
            # The background writer must be done with the connection before the
            # transaction is rolled back; its own error, if any, is the lesser news.
            with contextlib.suppress(BaseException):
                self.writer.wait()
            raise
        return self.reports

    def _build(self, definitions: list[str]) -> int:
        self.writer.build_indexes(definitions)
        return 0

    # --- organizations -----------------------------------------------------------------

    def organizations(self) -> int:
        types = dict(OrgType.objects.values_list("code", "pk"))
        self.templates_by_type = dict(OrgType.objects.values_list("code", "template"))
        self.tree = build_tree(
            self.rng("orgs"), self.preset.orgs, self.first[Organization._meta.label]
        )
        created = _ts(self.launch)

        def rows() -> Iterator[tuple[Any, ...]]:
            for n in self.tree.nodes:
                yield (
                    n.id,
                    n.name,
                    n.short if n.short != n.name else "",
                    n.code,
                    types[n.type_code],
                    n.parent.id if n.parent else None,
                    n.path,
                    Organization.Status.ACTIVE,
                    None,
                    None,
                    n.sort_order,
                    created,
                )

        return self.writer.write(Organization, ORG_FIELDS, rows())

    # --- people ----------------------------------------------------------------------------

    def people_and_roles(self) -> int:
        rng = self.rng("people")
        branches = self.tree.branches
        people = self.preset.people
        members = round(people * 0.8)
        # Largest-remainder allocation of the members over the branches by their sizes.
        total = sum(b.size for b in branches)
        raw = [b.size / total * members for b in branches]
        counts = [math.floor(x) for x in raw]
        order = sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True)
        for i in order[: members - sum(counts)]:
            counts[i] += 1
        self.member_start = [0]
        for c in counts:
            self.member_start.append(self.member_start[-1] + c)
        self.people = people
        u0 = self.user0
        launch = self.launch
        written = 0

        def users() -> Iterator[tuple[Any, ...]]:
            for uid in range(u0, u0 + people):
                joined = _ts(launch + _mix(uid ^ self.seed) % (180 * DAY))
                yield (
                    uid,
                    self.password_hash,
                    None,
                    False,
                    f"u{uid}",
                    "",
                    False,
                    True,
                    joined,
                    self.name_of(uid),
                    "",
                )

        written += self.writer.write(User, USER_FIELDS, users())

        written += self.writer.write(Membership, MEMBERSHIP_FIELDS, self._memberships())
        written += self.writer.write(Affiliation, AFFILIATION_FIELDS, self._affiliations(rng))
        written += self.writer.write(RoleGrant, GRANT_FIELDS, self._grants(rng))
        return written

    def _member_facts(self, uid: int) -> tuple[int, datetime.date]:
        """A member's own hash and the day they joined their current branch: drawn from the
        id, so the memberships and the affiliations can be streamed one after the other."""
        h = _mix(uid * 7 + self.seed)
        return h, datetime.date(1985, 1, 1) + datetime.timedelta(days=h % (38 * 365))

    def _memberships(self) -> Iterator[tuple[Any, ...]]:
        m_id = self.first[Membership._meta.label]
        branches = self.tree.branches
        u0 = self.user0
        for b, branch in enumerate(branches):
            for uid in range(u0 + self.member_start[b], u0 + self.member_start[b + 1]):
                h, started = self._member_facts(uid)
                if h % 20 == 1 and len(branches) > 1:
                    # Transferred in: the earlier branch's row stays as history.
                    other = branches[(h >> 20) % len(branches)]
                    if other is not branch:
                        before = started - datetime.timedelta(days=365 + (h >> 8) % (8 * 365))
                        yield (m_id, uid, other.id, "full", before, started, "transfer")
                        m_id += 1
                kind = Membership.Kind.PROBATIONARY if h % 20 == 0 else Membership.Kind.FULL
                yield (m_id, uid, branch.id, kind, started, None, "")
                m_id += 1

    def _affiliations(self, rng: random.Random) -> Iterator[tuple[Any, ...]]:
        a_id = self.first[Affiliation._meta.label]
        u0 = self.user0
        unit_ids = {u.id for u in self.tree.units}
        # A quarter of the members also belong to their branch's unit (staff, residents).
        for b, branch in enumerate(self.tree.branches):
            unit = branch.parent
            if unit is None or unit.id not in unit_ids:
                continue
            kind = self._affiliation_kind(unit)
            for uid in range(u0 + self.member_start[b], u0 + self.member_start[b + 1]):
                h, started = self._member_facts(uid)
                if (h >> 8) % 4 == 0:
                    yield (a_id, uid, unit.id, kind, started, None)
                    a_id += 1
        # The people who are not party members belong to a unit: residents of a community,
        # villagers, staff of an enterprise or institution, more in the bigger units.
        units = self.tree.units
        if not units:
            return
        weights = []
        acc = 0.0
        for unit in units:
            lo, hi = self.members_of(unit)
            acc += hi - lo + 1
            weights.append(acc)
        for uid in range(u0 + self.member_start[-1], u0 + self.people):
            unit = rng.choices(units, cum_weights=weights)[0]
            since = datetime.date(2000, 1, 1) + datetime.timedelta(days=rng.randrange(9000))
            yield (a_id, uid, unit.id, self._affiliation_kind(unit), since, None)
            a_id += 1

    @staticmethod
    def _affiliation_kind(unit: Node) -> str:
        return AFFILIATION_KIND.get(unit.unit_kind or unit.kind, Affiliation.Kind.STAFF)

    def _pick_people(self, rng: random.Random, node: Node, n: int) -> list[int]:
        lo, hi = self.members_of(node)
        if hi - lo < n:  # too few members below: anyone of the province's members
            lo, hi = self.user0, self.user0 + max(self.member_start[-1], 1)
        if hi - lo >= n:
            return rng.sample(range(lo, hi), n)
        return [lo + i % (hi - lo) for i in range(n)]

    def _grants(self, rng: random.Random) -> Iterator[tuple[Any, ...]]:
        g_id = self.first[RoleGrant._meta.label]
        granted = _ts(self.launch + 30 * DAY)
        for node in self.tree.nodes:
            node.principal, node.clerk, node.reviewer = self._pick_people(rng, node, 3)
            roles: list[tuple[int, str, bool]] = [
                (node.principal, Role.PRINCIPAL, False),
                (node.clerk, Role.CLERK, False),
                (node.reviewer, Role.REVIEWER, False),
            ]
            template = self.templates_by_type[node.type_code]
            needs_approver = any(
                s.role == Role.APPROVER for e in self.ruleset.entries_for(template) for s in e.route
            )
            if needs_approver or (node.kind != "branch" and rng.random() < 0.2):
                node.approver = self._pick_people(rng, node, 1)[0]
                roles.append((node.approver, Role.APPROVER, False))
            if node.depth <= 5 and rng.random() < 0.3:
                roles.append((self._pick_people(rng, node, 1)[0], Role.SUPERVISOR, False))
            if node.kind in ("province", "city", "district"):
                roles.append((self._pick_people(rng, node, 1)[0], Role.SPOKESPERSON, False))
                roles.append((self._pick_people(rng, node, 1)[0], Role.ORG_ADMIN, True))
            seen: set[tuple[int, str]] = set()
            for uid, role, inherit in roles:
                if (uid, role) in seen:
                    continue
                seen.add((uid, role))
                yield (g_id, uid, node.id, role, inherit, granted, None, None, None)
                g_id += 1

    # --- catalogs --------------------------------------------------------------------------

    def _template(self, key: str) -> _Template:
        cache = self.templates
        if key not in cache:
            entries = self.ruleset.entries_for(key)
            routes = [
                [{k: str(v) for k, v in s.to_json().items()} for s in e.route] for e in entries
            ]
            t = _Template(
                entries=entries,
                approval=[_dumps(r) for r in routes],
                routes=routes,
                channels=[[str(c) for c in e.channels] for e in entries],
                timing=[_dumps(e.timing.to_json()) for e in entries],
            )
            for pos, e in enumerate(entries):
                t.by_scope.setdefault(e.scope, []).append(pos)
                if not any(s["kind"] == "parent" for s in routes[pos]):
                    t.no_parent.setdefault(e.scope, []).append(pos)
                    t.no_parent.setdefault("*", []).append(pos)
            cache[key] = t
        return cache[key]

    def catalogs(self) -> int:
        rng = self.rng("catalogs")
        w = self.writer
        ids = {m: self.first[m._meta.label] for m in MODELS}
        catalogs: list[tuple[Any, ...]] = []
        versions: list[tuple[Any, ...]] = []
        keys: list[tuple[Any, ...]] = []
        entries: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        written = 0
        ruleset = self.ruleset

        def flush() -> int:
            n = w.write(Catalog, CATALOG_FIELDS, catalogs)
            n += w.write(CatalogVersion, VERSION_FIELDS, versions)
            n += w.write(CatalogVersionAudience, KEY_FIELDS, keys)
            n += w.write(CatalogEntry, ENTRY_FIELDS, entries)
            n += w.write(CatalogEvent, EVENT_FIELDS, events)
            for rows in (catalogs, versions, keys, entries, events):
                rows.clear()
            return n

        def event(version: int, kind: str, actor: int, org: int | None, at: int, text: str) -> None:
            events.append((ids[CatalogEvent], version, kind, actor, org, _ts(at), text))
            ids[CatalogEvent] += 1

        for node in self.tree.nodes:
            if node.kind == "branch" and rng.random() < NO_CATALOG_SHARE:
                continue  # 未编制: no catalog yet, and nothing published
            key = self.templates_by_type[node.type_code]
            template = self._template(key)
            if not template.entries:
                continue
            node.template = key
            catalog_id = ids[Catalog]
            ids[Catalog] += 1
            published = self.start - rng.randrange(10 * DAY, 150 * DAY)
            created = published - 40 * DAY
            adopted = published - 25 * DAY
            filed = published - 20 * DAY
            reviewed = published - 8 * DAY
            catalogs.append((catalog_id, node.id, ruleset.code, _ts(created)))
            version_id = ids[CatalogVersion]
            ids[CatalogVersion] += 1
            audience = Audience(party=(node.id,))
            parent = node.parent
            meeting = "支部委员会" if node.kind == "branch" else "党委会"
            versions.append(
                (
                    version_id,
                    _dumps(audience.to_json()),
                    catalog_id,
                    1,
                    CatalogVersion.Status.PUBLISHED,
                    None,
                    f"依据《{ruleset.name}》模板生成",
                    node.clerk,
                    _ts(created),
                    node.principal,
                    _ts(adopted),
                    self.local(adopted).date(),
                    meeting,
                    self.name_of(node.principal),
                    node.clerk if parent else None,
                    _ts(filed) if parent else None,
                    parent.principal if parent else None,
                    _ts(reviewed) if parent else None,
                    node.clerk,
                    _ts(published),
                    None,
                )
            )
            for k in audience.to_keys():
                keys.append((ids[CatalogVersionAudience], k, _ts(published), version_id))
                ids[CatalogVersionAudience] += 1
            event(version_id, CatalogEvent.Kind.CREATED, node.clerk, None, created, versions[-1][6])
            event(
                version_id,
                CatalogEvent.Kind.ADOPTED,
                node.principal,
                node.id,
                adopted,
                f"{meeting}（{self.local(adopted):%Y-%m-%d}）",
            )
            if parent is not None:
                event(
                    version_id,
                    CatalogEvent.Kind.FILED,
                    node.clerk,
                    node.id,
                    filed,
                    f"报{parent.name}备案",
                )
                event(
                    version_id,
                    CatalogEvent.Kind.ACKNOWLEDGED,
                    parent.principal,
                    parent.id,
                    reviewed,
                    "",
                )
            display = node.short or node.name
            event(
                version_id,
                CatalogEvent.Kind.PUBLISHED,
                node.clerk,
                node.id,
                published,
                f"{display}党内公开",
            )
            node.entry0 = ids[CatalogEntry]
            lineages = [self._lineage(node, pos) for pos in range(len(template.entries))]
            self._entries(entries, ids, version_id, node, template, lineages)
            if rng.random() < 0.05:
                # An adjustment in progress (CAT-4): a draft copied from the published one.
                draft_id = ids[CatalogVersion]
                ids[CatalogVersion] += 1
                started = self.until - rng.randrange(DAY, 60 * DAY)
                versions.append(
                    (
                        draft_id,
                        _dumps(audience.to_json()),
                        catalog_id,
                        2,
                        CatalogVersion.Status.DRAFT,
                        version_id,
                        "根据职责任务变化调整",
                        node.clerk,
                        _ts(started),
                        None,
                        None,
                        None,
                        "",
                        "",
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                        None,
                    )
                )
                event(
                    draft_id,
                    CatalogEvent.Kind.CREATED,
                    node.clerk,
                    None,
                    started,
                    "根据职责任务变化调整",
                )
                self._entries(entries, ids, draft_id, node, template, lineages)
            if len(entries) >= 20_000:
                written += flush()
        written += flush()
        return written

    def _entries(
        self,
        rows: list[tuple[Any, ...]],
        ids: dict[type[models.Model], int],
        version_id: int,
        node: Node,
        template: _Template,
        lineages: list[str],
    ) -> None:
        for pos, e in enumerate(template.entries):
            rows.append(
                (
                    ids[CatalogEntry],
                    version_id,
                    pos + 1,
                    lineages[pos],
                    e.content,
                    e.category,
                    e.basis,
                    _dumps(e.audience_for(node.id).to_json()),
                    e.scope_note,
                    template.approval[pos],
                    _dumps(template.channels[pos]),
                    template.timing[pos],
                    e.responsible,
                    e.co_units,
                    e.remarks,
                    CatalogEntry.State.ACTIVE,
                    "",
                )
            )
            ids[CatalogEntry] += 1

    # --- disclosures -----------------------------------------------------------------------

    def disclosures(self) -> int:
        rng = self.rng("disclosures")
        publishers = [n for n in self.tree.nodes if n.template]
        if not publishers:
            return 0
        cum: list[float] = []
        acc = 0.0
        for n in publishers:
            if n.kind == "branch":
                lo, hi = self.members_of(n)
                weight = 0.5 + min(2.0, (hi - lo) / 25)
            else:
                weight = PUBLISH_WEIGHT[n.kind]
            acc += weight
            cum.append(acc)
        self.ids = {m: self.first[m._meta.label] for m in MODELS}
        self.buffers: dict[type[models.Model], list[Sequence[Any]]] = {
            m: []
            for m in (
                Disclosure,
                DisclosureAudience,
                LogEntry,
                Review,
                Approval,
                Revision,
                SearchDoc,
                Opinion,
                Task,
            )
        }
        self.detail_url = reverse("disclosures:detail", args=[999_999_999]).replace(
            "999999999", "{}"
        )
        self.opinion_url = reverse("feedback:detail", args=[999_999_999]).replace("999999999", "{}")
        total = self.preset.items
        days = (self.until - self.start) // DAY
        weights = []
        for d in range(days):
            day = self.local(self.start + d * DAY + 12 * HOUR).date()
            w = 1.0 + 0.5 * d / days  # more items every year
            w *= (1.0, 1.0, 1.0, 1.0, 1.0, 0.25, 0.15)[day.weekday()]
            if day.weekday() == 4 and day.day <= 7:
                w *= 2.5  # 党务公开日: the first Friday of the month (QJ 8)
            weights.append(w)
        wsum = sum(weights)
        written = 0
        done = 0
        cum_w = 0.0
        last_report = time.perf_counter()
        began = last_report
        for d in range(days):
            before = round(cum_w / wsum * total)
            cum_w += weights[d]
            k = round(cum_w / wsum * total) - before
            if not k:
                continue
            day0 = self.start + d * DAY
            # Office hours in local time (UTC+8: 00:00–10:00 UTC is 08:00–18:00).
            times = sorted(day0 + rng.randrange(10 * HOUR) for _ in range(k))
            for node, t in zip(rng.choices(publishers, cum_weights=cum, k=k), times, strict=True):
                self._item(rng, node, t)
                done += 1
                if done % CHUNK == 0:
                    written += self._flush()
                    now = time.perf_counter()
                    if now - last_report > 10:
                        last_report = now
                        rate = done / (now - began)
                        self.progress(f"    公开事项 {done:,}/{total:,}（{rate:,.0f} 项/秒）")
        written += self._flush()
        self.writer.wait()
        return written

    def _flush(self) -> int:
        """Hand the buffered rows to the background writer; the count of rows handed."""
        n = 0
        for model, rows in list(self.buffers.items()):
            if rows:
                fields = {
                    Disclosure: DISCLOSURE_FIELDS,
                    DisclosureAudience: KEY_FIELDS,
                    LogEntry: LOG_FIELDS,
                    Review: REVIEW_FIELDS,
                    Approval: APPROVAL_FIELDS,
                    Revision: REVISION_FIELDS,
                    SearchDoc: SEARCH_FIELDS,
                    Opinion: OPINION_FIELDS,
                    Task: TASK_FIELDS,
                }[model]
                self.writer.write_later(model, fields, rows)
                self.buffers[model] = []
                n += len(rows)
        return n

    def _next(self, model: type[models.Model]) -> int:
        pk = self.ids[model]
        self.ids[model] = pk + 1
        return pk

    def _audience(self, rng: random.Random, node: Node, kind: str) -> Audience:
        if kind == "society":
            return Audience(society=True)
        if kind == "party":
            return Audience(party=(node.id,))
        if kind == "unit":
            return Audience(units=(node.id,))
        return Audience(people=tuple(self._pick_people(rng, node, rng.randint(1, 3))))

    def _item(self, rng: random.Random, node: Node, t: int) -> None:
        """Everything about one item whose decisive moment (publication, or creation for an
        item still in the procedure) is `t`."""
        pk = self._next(Disclosure)
        age = self.until - t
        if age < IN_PROGRESS_DAYS * DAY and rng.random() < IN_PROGRESS_SHARE:
            status = _pick(rng, IN_PROGRESS)
        elif rng.random() < REJECTED_SHARE:
            status = S.REJECTED
        else:
            status = S.PUBLISHED  # may end expired, closed, withdrawn or archived below
        audience_kind = _pick(rng, AUDIENCE_MIX)
        template = self._template(node.template)
        entry_pos: int | None = None
        if rng.random() >= OUT_OF_CATALOG_SHARE:
            scope = "party" if audience_kind == "people" else audience_kind
            pool = template.no_parent if node.parent is None else template.by_scope
            candidates = pool.get(scope) or (
                template.no_parent["*"]
                if node.parent is None and "*" in template.no_parent
                else None
            )
            if candidates is None:
                candidates = list(range(len(template.entries)))
            entry_pos = rng.choice(candidates)
        if entry_pos is not None:
            e = template.entries[entry_pos]
            category = e.category
            channels = template.channels[entry_pos]
            channels_json = _dumps(channels)
            timing_kind = e.timing.kind
            period = e.timing.period
            route = template.routes[entry_pos]
            route_json = template.approval[entry_pos]
            if node.parent is None and any(s["kind"] == "parent" for s in route):
                # Only when a root has nothing else to draw from: it has no parent to ask.
                route = [s for s in route if s["kind"] != "parent"]
                route_json = _dumps(route)
        else:
            e = None
            category = rng.choice(("工作部署", "服务群众"))
            channels = ["platform"]
            channels_json = '["platform"]'
            timing_kind = "immediate"
            period = ""
            # PROC-7 (build_route): the principal leader or a collective decision, and in
            # the parent-consent rule-sets also the upper organization.
            route = [
                {
                    "kind": "role",
                    "role": str(Role.PRINCIPAL),
                    "label": "目录外事项：主要负责人审批或领导班子集体决定",
                }
            ]
            if self.ruleset.extra.get("out_of_catalog") == "parent_consent" and node.parent:
                route.append({"kind": "parent", "label": "目录外事项：报上级党组织同意"})
            route_json = _dumps(route)
        if rng.random() < DELAYED_SHARE:
            timing_kind = "delayed"
        audience = self._audience(rng, node, audience_kind)
        audience_dict = audience.to_json()

        # --- the text ----------------------------------------------------------------------
        topic = V.CATEGORY_TOPIC.get(category) or rng.choice(tuple(V.TOPICS))
        term = rng.choice(V.TOPICS[topic])
        when = self.local(t)
        y, m = when.year, when.month
        short = node.short
        if period == "monthly":
            period_text = f"{y}年{m}月"
        elif period == "quarterly":
            period_text = f"{y}年第{V.cn_number((m - 1) // 3 + 1)}季度"
        elif period == "yearly":
            period_text = f"{y}年度"
        else:
            period_text = f"{y}年"
        stage = ""
        notice = False
        if timing_kind == "periodic":
            title = f"{short}{period_text}{term}"
        elif timing_kind == "immediate":
            pattern = rng.choice(V.TITLE_IMMEDIATE)
            title = pattern.format(term=term, short=short)
            notice = pattern.endswith("的公示")
        elif timing_kind == "phased":
            stage = rng.choice(V.STAGES)
            title = f"{short}{term}工作进展（{stage.split('：')[0]}）"
        elif timing_kind == "delayed":
            title = f"{short}关于{term}的说明"
        else:
            title = f"{short}{term}"
        phrase = rng.choice(V.PHRASES)
        paras = [rng.choice(V.OPENERS).format(term=term, org=short, phrase=phrase)]
        facts = V.DUES_FACTS if topic == "dues" else V.FACTS
        for fact in rng.sample(facts, rng.randint(1, min(2, len(facts)))):
            money = rng.randint(20, 800) * 10
            paras.append(
                fact.format(
                    period=period_text,
                    org=short,
                    term=term,
                    phrase=phrase,
                    action=rng.choice(V.ACTIONS),
                    n1=rng.randint(1, 30),
                    n2=rng.randint(1, 12),
                    n3=rng.randint(1, 6),
                    money=f"{money:,}",
                    up=f"{money // 2:,}",
                    left=f"{money - money // 2:,}",
                )
            )
        notice_days = rng.randint(5, 7)
        if notice:
            paras.append(V.NOTICE_CLOSER.format(days=notice_days, org=short))
        else:
            paras.append(rng.choice(V.CLOSERS))
        body = "".join(f"<p>{p}</p>" for p in paras)
        doc_number = ""
        if node.kind not in ("branch", "unit") and rng.random() < 0.4:
            doc_number = f"{short}发〔{y}〕{rng.randint(1, 90)}号"
        background = significance = key_points = hot_spots = response_plan = ""
        if audience.society and node.kind not in ("branch", "unit") and rng.random() < 0.3:
            # MECH-4 policy interpretation for items to society from committees and organs.
            background = V.BACKGROUND.format(phrase=phrase, org=short)
            significance = V.SIGNIFICANCE.format(term=term, phrase=phrase)
            key_points = V.KEY_POINTS.format(term=term)
            if rng.random() < 0.3:
                hot_spots = V.HOT_SPOTS.format(term=term)
                response_plan = V.RESPONSE_PLAN
        expire_at: int | None = None
        if notice:
            expire_at = t + notice_days * DAY
        next_stage_at = t + rng.randint(30, 90) * DAY if timing_kind == "phased" else None

        # --- the procedure, step by step -------------------------------------------------------
        steps: list[_Step] = []
        in_progress = status not in (S.PUBLISHED, S.REJECTED)
        if in_progress:
            t_create = t
            span = max(HOUR, int((self.until - t) * 0.9))
        else:
            span = rng.randint(1, 10) * DAY + rng.randrange(DAY)
            t_create = t - span
        clerk, reviewer, principal = node.clerk, node.reviewer, node.principal
        if status == S.DRAFT:
            marks = [t_create]
        else:
            n_marks = 3 + len(route) + 2
            marks = [t_create, *sorted(t_create + rng.randrange(span) for _ in range(n_marks))]
        mark = iter(marks)
        lineage = self._lineage(node, entry_pos) if entry_pos is not None else None
        steps.append(
            _Step(
                "create",
                S.DRAFT,
                next(mark),
                clerk,
                {"entry": lineage},
                f'{{"entry":"{lineage}"}}' if lineage else '{"entry":null}',
            )
        )
        review_at = approved_at = submitted_at = None
        approvals: list[tuple[int, dict[str, str], int]] = []  # (step index, step, at)
        publish_at: int | None = None
        delay = False
        scheduled = False
        target = status
        if target != S.DRAFT:
            submitted_at = next(mark)
            labels = [s.get("label") or s["kind"] for s in route]
            data: dict[str, Any] = {"route": labels, "prescreen": {}}
            steps.append(
                _Step("submit", S.SUBMITTED, submitted_at, clerk, data, self.cached_json(data))
            )
        if target not in (S.DRAFT, S.SUBMITTED):
            steps.append(_Step("start_review", S.REVIEWING, next(mark), reviewer, {}))
        if target == S.RETURNED:
            review_at = next(mark)
            opinion = V.RETURN_OPINION.format(term=term)
            steps.append(
                _Step(
                    "return", S.RETURNED, review_at, reviewer, {"opinion": opinion, "by": "review"}
                )
            )
        elif target == S.REJECTED:
            review_at = next(mark)
            steps.append(
                _Step(
                    "reject",
                    S.REJECTED,
                    review_at,
                    reviewer,
                    {"reason": V.REJECT_REASON, "by": "review"},
                )
            )
        elif target in (S.APPROVING, S.APPROVED, S.SCHEDULED, S.PUBLISHED):
            if target == S.APPROVING and not route:
                target = status = S.APPROVED
            review_at = next(mark)
            after_review = S.APPROVING if route else S.APPROVED
            steps.append(_Step("pass_review", after_review, review_at, reviewer, {}))
            if not route:
                approved_at = review_at
            n_steps = rng.randrange(len(route)) if target == S.APPROVING else len(route)
            for i in range(n_steps):
                s = route[i]
                at = next(mark)
                last = i == len(route) - 1
                by = self._decider(node, s)
                data = {
                    "step": s.get("label") or s["kind"],
                    "collective": s["kind"] == "body",
                    "meeting": s.get("body", "") if s["kind"] == "body" else "",
                }
                steps.append(
                    _Step(
                        "approve",
                        S.APPROVED if last else S.APPROVING,
                        at,
                        by,
                        data,
                        self.cached_json(data),
                    )
                )
                approvals.append((i, s, at))
                if last:
                    approved_at = at
            if target in (S.SCHEDULED, S.PUBLISHED):
                if timing_kind == "delayed":
                    delay = True
                elif target == S.SCHEDULED or rng.random() < SCHEDULED_SHARE:
                    scheduled = True
                publish_at = t if target == S.PUBLISHED else self.until + rng.randint(1, 10) * DAY
                if delay:
                    steps.append(
                        _Step(
                            "delay",
                            S.SCHEDULED,
                            next(mark),
                            principal,
                            {"until": _ts(publish_at).isoformat(), "reason": V.DELAY_REASON},
                        )
                    )
                elif scheduled:
                    steps.append(
                        _Step(
                            "schedule",
                            S.SCHEDULED,
                            next(mark),
                            clerk,
                            {"publish_at": _ts(publish_at).isoformat()},
                        )
                    )
        delay_consent_at = steps[-1].at if delay else None
        step_index = max(0, len(approvals) - 1) if status != S.APPROVING else len(approvals)

        # --- publication and after ----------------------------------------------------------
        index_no = None
        published_at = None
        ended_at = withdrawn_at = archived_at = None
        correction_notice = ""
        pending = False
        next_stage_final = next_stage_at
        if status == S.PUBLISHED:
            published_at = t
            year = when.year
            serial = self.counters.get((node.id, year), 0) + 1
            self.counters[(node.id, year)] = serial
            index_no = f"{node.code}/{year}-{serial:05d}"
            publisher = None if (scheduled or delay) else clerk
            steps.append(
                _Step(
                    "publish",
                    S.PUBLISHED,
                    t,
                    publisher,
                    {"index_no": index_no, "audience": audience_dict},
                    f'{{"audience":{self.cached_json(audience_dict)},"index_no":"{index_no}"}}',
                )
            )
            if e is None:
                if age < 30 * DAY:
                    pending = True  # PROC-7: the clerk still has to update the catalog
                else:
                    steps.append(
                        _Step(
                            "catalog_update",
                            S.PUBLISHED,
                            t + rng.randint(600, HOUR),
                            clerk,
                            {"added": False},
                        )
                    )
            if expire_at is not None and expire_at + HOUR <= self.until:
                ended_at = expire_at + rng.randrange(600)
                steps.append(_Step("expire", S.EXPIRED, ended_at, None, {}))
                status = S.EXPIRED
            elif timing_kind == "phased" and age > 180 * DAY and rng.random() < 0.5:
                ended_at = t + rng.randint(30, 180) * DAY
                steps.append(_Step("close", S.CLOSED, ended_at, clerk, {"note": ""}))
                status = S.CLOSED
                next_stage_final = None
            elif age > 2 * DAY and rng.random() < WITHDRAWN_SHARE:
                withdrawn_at = t + rng.randint(2 * HOUR, 2 * DAY)
                notice_text = V.CORRECTION.format(term=term)
                correction_notice = f"{self.local(withdrawn_at):%Y年%m月%d日}：{notice_text}"
                steps.append(
                    _Step("withdraw", S.WITHDRAWN, withdrawn_at, principal, {"notice": notice_text})
                )
                status = S.WITHDRAWN
            if status != S.WITHDRAWN and age > 730 * DAY and rng.random() < 0.25:
                after = (ended_at or t) + DAY
                archived_at = max(after, t + 365 * DAY) + rng.randrange(300 * DAY)
                if archived_at < self.until:
                    pending = False
                    status = S.ARCHIVED
                else:
                    archived_at = None

        sampled = status not in (S.DRAFT,) and (
            in_progress or status == S.REJECTED or rng.random() < SAMPLE_SHARE
        )
        reviews_n = 1 if sampled and review_at is not None else 0
        approvals_n = len(approvals) if sampled else 0
        revisions_n = 1 if sampled or in_progress else 0
        if status == S.ARCHIVED:
            assert archived_at is not None
            steps.append(
                _Step(
                    "archive",
                    S.ARCHIVED,
                    archived_at,
                    clerk,
                    {
                        "revisions": revisions_n,
                        "reviews": reviews_n,
                        "approvals": approvals_n,
                        "feedback_summary": "",
                    },
                )
            )

        # --- rows -----------------------------------------------------------------------------
        content = {
            "title": title,
            "doc_number": doc_number,
            "category": category,
            "body": body,
            "audience": audience_dict,
            "channels": channels,
            "timing_kind": timing_kind,
            "publish_at": None,
            "expire_at": _ts(expire_at).isoformat() if expire_at else None,
            "stage": stage,
            "next_stage_at": _ts(next_stage_at).isoformat() if next_stage_at else None,
            "background": background,
            "significance": significance,
            "key_points": key_points,
            "hot_spots": hot_spots,
            "response_plan": response_plan,
            "co_units": [],
            "attachments": [],
        }
        if e is None:
            entry_id = None
        else:
            assert entry_pos is not None
            entry_id = node.entry0 + entry_pos
        updated = steps[-1].at
        self.buffers[Disclosure].append(
            (
                pk,
                _dumps(audience_dict),
                node.id,
                entry_id,
                e is None,
                V.OUT_OF_CATALOG_REASON if e is None else "",
                title,
                doc_number,
                category,
                body,
                channels_json,
                timing_kind,
                _ts(publish_at) if publish_at else None,
                _ts(expire_at) if expire_at else None,
                stage,
                None,
                _ts(next_stage_final) if next_stage_final else None,
                background,
                significance,
                key_points,
                hot_spots,
                response_plan,
                "[]",
                status,
                1,
                route_json,
                step_index,
                clerk,
                _ts(t_create),
                _ts(updated),
                _ts(submitted_at) if submitted_at else None,
                _ts(approved_at) if approved_at else None,
                V.DELAY_REASON if delay else "",
                principal if delay else None,
                _ts(delay_consent_at) if delay_consent_at else None,
                index_no,
                _ts(published_at) if published_at else None,
                1 if published_at else None,
                _ts(ended_at) if ended_at else None,
                _ts(withdrawn_at) if withdrawn_at else None,
                correction_notice,
                _ts(archived_at) if archived_at else None,
                pending,
            )
        )
        self._log(pk, steps)
        keys = audience.to_keys() if published_at is not None else []
        if published_at is not None:
            sort_at = _ts(published_at)
            for k in keys:
                self.buffers[DisclosureAudience].append(
                    (self._next(DisclosureAudience), k, sort_at, pk)
                )
            # What search.index.document() makes searchable, from the item as written.
            shown = _Shown(
                status,
                title,
                body,
                background,
                significance,
                key_points,
                correction_notice,
                _ts(withdrawn_at) if withdrawn_at else None,
            )
            _, text = document(cast(Disclosure, shown))
            self.buffers[SearchDoc].append(
                (
                    self._next(SearchDoc),
                    pk,
                    node.id,
                    sort_at,
                    title,
                    text,
                    self.tokens(title, text),
                    " ".join(sorted(set(keys))),
                    _ts(updated),
                )
            )
        if revisions_n:
            self.buffers[Revision].append(
                (self._next(Revision), pk, 1, _dumps(content), "起草", clerk, _ts(t_create))
            )
        if reviews_n:
            assert review_at is not None
            self._review(rng, pk, node, status, review_at, term)
        if approvals_n:
            digest = self._content_hash(content)
            for i, s, at in approvals:
                self._approval(rng, pk, node, i, s, at, digest)
        self._tasks(pk, node, status, title, route, step_index, updated, pending)
        if status in (S.PUBLISHED, S.EXPIRED, S.CLOSED, S.ARCHIVED) and (
            rng.random() < OPINION_SHARE
        ):
            end = archived_at if archived_at else self.until - HOUR
            for _ in range(1 + (rng.random() < 0.3) + (rng.random() < 0.1)):
                self._opinion(rng, pk, node, t, end, title, term, audience)

    def _lineage(self, node: Node, pos: int) -> str:
        """A catalog entry's lineage, drawn from the organization and position: the draft
        copy of a catalog keeps it, and an item's create step records it, without keeping
        every organization's lineages in memory."""
        high = _mix((self.seed << 40) ^ (node.id << 8) ^ pos)
        low = _mix(high ^ node.id)
        return str(uuid.UUID(int=(high << 64) | low, version=4))

    @staticmethod
    def _content_hash(content: dict[str, Any]) -> str:
        """`disclosures.actions.content_hash`: the content without the publication time and
        the next stage's date."""
        bound = {k: v for k, v in content.items() if k not in ("publish_at", "next_stage_at")}
        return hashlib.sha256(canonical_json(bound).encode("utf-8")).hexdigest()

    def _decider(self, node: Node, step: dict[str, str]) -> int:
        if step["kind"] == "parent" and node.parent is not None:
            return node.parent.principal
        if step["kind"] == "role" and step.get("role") == Role.APPROVER and node.approver:
            return node.approver
        return node.principal

    def _log(self, pk: int, steps: list[_Step]) -> None:
        """The item's hash chain, as `disclosures.actions._log` appends it. The payload is
        `LogEntry.compute_hash()`'s canonical JSON written out directly, keys in sorted order
        (the tests recompute every chain with the model's own method)."""
        prev = GENESIS
        rows = self.buffers[LogEntry]
        for seq, s in enumerate(steps, 1):
            at = _ts(s.at)
            label = self.label_of(s.actor)
            data = s.data_json or (canonical_json(s.data) if s.data else "{}")
            payload = (
                f'{{"action":"{s.action}","actor":{"null" if s.actor is None else s.actor},'
                f'"actor_label":{self.label_json(s.actor)},"at":"{at.isoformat()}",'
                f'"data":{data},"disclosure":{pk},"prev":"{prev}","revision":1,'
                f'"seq":{seq},"status":"{s.status}"}}'
            )
            digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
            rows.append(
                (
                    self._next(LogEntry),
                    pk,
                    seq,
                    at,
                    s.actor,
                    label,
                    s.action,
                    s.status,
                    1,
                    data,
                    prev,
                    digest,
                )
            )
            prev = digest

    def _review(
        self, rng: random.Random, pk: int, node: Node, status: str, at: int, term: str
    ) -> None:
        if status == S.RETURNED:
            outcome, comment = Review.Outcome.RETURNED, V.RETURN_OPINION.format(term=term)
            opinions = ("", "", "", "")
            risks: dict[str, Any] = {}
            plan = ""
        elif status == S.REJECTED:
            outcome, comment = Review.Outcome.REJECTED, V.REJECT_REASON
            opinions = ("", "", "", "")
            risks = {}
            plan = ""
        else:
            outcome, comment = Review.Outcome.PASSED, ""
            opinions = (
                rng.choice(V.CONFIDENTIALITY),
                rng.choice(V.NECESSITY),
                rng.choice(V.ACCURACY),
                rng.choice(V.NORMATIVITY),
            )
            medium = rng.random() < 0.1
            risks = {
                code: {"level": "medium" if medium and code == "opinion" else "low", "note": ""}
                for code in RISK_ASPECTS
            }
            plan = V.PREVENTION if medium else ""
        self.buffers[Review].append(
            (
                self._next(Review),
                pk,
                1,
                node.reviewer,
                outcome,
                *opinions,
                _dumps(risks),
                plan,
                "{}",
                comment,
                _ts(at),
            )
        )

    def _approval(
        self,
        rng: random.Random,
        pk: int,
        node: Node,
        index: int,
        step: dict[str, str],
        at: int,
        digest: str,
    ) -> None:
        collective = step["kind"] == "body"
        acting = node.parent if step["kind"] == "parent" and node.parent else node
        self.buffers[Approval].append(
            (
                self._next(Approval),
                pk,
                1,
                digest,
                index,
                step.get("label") or step["kind"],
                Approval.Decision.APPROVED,
                Approval.Form.COLLECTIVE if collective else Approval.Form.SIGNED,
                self._decider(node, step),
                acting.id,
                step.get("body", "") if collective else "",
                self.local(at).date() if collective else None,
                rng.choice(V.MINUTES) if collective else "",
                "同意",
                _ts(at),
            )
        )

    def _task(
        self,
        kind: str,
        org: int,
        title: str,
        url: str,
        subject: str,
        created: int,
        roles: tuple[str, ...] = (),
        assignee: int | None = None,
        due: int | None = None,
    ) -> None:
        self.buffers[Task].append(
            (
                self._next(Task),
                kind,
                title[:255],
                url,
                org,
                f",{','.join(roles)}," if roles else "",
                assignee,
                subject,
                _ts(due) if due else None,
                _ts(created),
                None,
                None,
            )
        )

    def _tasks(
        self,
        pk: int,
        node: Node,
        status: str,
        title: str,
        route: list[dict[str, str]],
        step_index: int,
        at: int,
        pending: bool,
    ) -> None:
        """The open tasks `disclosures.actions.wanted_tasks` asks for in this state."""
        p = disclosure_policy
        url, subject = self.detail_url.format(pk), f"disclosure:{pk}"

        def due(kind: str) -> int:
            return at + DUE_DAYS[kind] * DAY

        if status == S.DRAFT:
            self._task(Task.Kind.PROPOSE, node.id, title, url, subject, at, assignee=node.clerk)
        elif status == S.RETURNED:
            self._task(Task.Kind.REVISE, node.id, title, url, subject, at, assignee=node.clerk)
        elif status in (S.SUBMITTED, S.REVIEWING):
            self._task(
                Task.Kind.REVIEW,
                node.id,
                title,
                url,
                subject,
                at,
                roles=p.REVIEW_ROLES,
                due=due("review"),
            )
        elif status == S.APPROVING:
            step = route[step_index]
            if step["kind"] == "parent" and node.parent is not None:
                self._task(
                    Task.Kind.APPROVE,
                    node.parent.id,
                    f"{node.name}：{title}",
                    url,
                    subject,
                    at,
                    roles=p.PARENT_SIGN_ROLES + p.RECORD_ROLES,
                    due=due("approve"),
                )
            else:
                roles: tuple[str, ...] = (step["role"],) if step["kind"] == "role" else ()
                if step["kind"] == "body" or step.get("role") == Role.PRINCIPAL:
                    roles = tuple(dict.fromkeys((*roles, *p.RECORD_ROLES)))
                self._task(
                    Task.Kind.APPROVE,
                    node.id,
                    title,
                    url,
                    subject,
                    at,
                    roles=roles,
                    due=due("approve"),
                )
        elif status == S.APPROVED:
            self._task(
                Task.Kind.PUBLISH,
                node.id,
                title,
                url,
                subject,
                at,
                roles=p.PUBLISH_ROLES,
                due=due("publish"),
            )
        elif pending:
            self._task(
                Task.Kind.CATALOG_UPDATE,
                node.id,
                title,
                url,
                subject,
                at,
                roles=(Role.CLERK, Role.PRINCIPAL),
            )

    def _opinion(
        self,
        rng: random.Random,
        pk: int,
        node: Node,
        published: int,
        end: int,
        title: str,
        term: str,
        audience: Audience,
    ) -> None:
        created = published + rng.randint(HOUR, 30 * DAY)
        if created >= end:
            return
        op = self._next(Opinion)
        channel = _pick(
            rng,
            (
                (Opinion.Channel.PLATFORM, 0.7),
                (Opinion.Channel.HOTLINE, 0.1),
                (Opinion.Channel.LETTER, 0.05),
                (Opinion.Channel.BOX, 0.1),
                (Opinion.Channel.MEETING, 0.05),
            ),
        )
        platform = channel == Opinion.Channel.PLATFORM
        submitter = recorded_by = None
        submitter_name = ip_hash = ""
        if platform:
            named = rng.random() < 0.6
            if named:
                # Someone the item was disclosed to.
                if audience.people:
                    submitter = rng.choice(audience.people)
                elif audience.society:
                    submitter = self.user0 + rng.randrange(self.people)
                else:
                    submitter = self._pick_people(rng, node, 1)[0]
            ip_hash = hashlib.sha256(
                f"{self.seed}:{rng.randrange(self.people * 2)}".encode()
            ).hexdigest()
        else:
            named = rng.random() < 0.5
            recorded_by = node.clerk
            if named:
                submitter_name = self.name_of(self.user0 + rng.randrange(self.people * 3))
        tell_in_app = named and submitter is not None
        age = end - created
        if age < 15 * DAY:
            state = _pick(
                rng,
                (
                    (Opinion.Status.NEW, 0.4),
                    (Opinion.Status.ASSIGNED, 0.3),
                    (Opinion.Status.REPLIED, 0.2),
                    (Opinion.Status.REJECTED, 0.1),
                ),
            )
        else:
            state = _pick(
                rng,
                (
                    (Opinion.Status.CLOSED, 0.8),
                    (Opinion.Status.REPLIED, 0.12),
                    (Opinion.Status.REJECTED, 0.08),
                ),
            )
        assignee = reply = replied_by = replied_at = told_at = closed_at = None
        told_how = reject_reason = published_reply = ""
        is_published = False
        op_published_at = outcome_seen = None
        last = created
        if state == Opinion.Status.ASSIGNED:
            assignee = node.clerk
        elif state in (Opinion.Status.REPLIED, Opinion.Status.CLOSED):
            replied_at = min(end - 1, created + rng.randint(HOUR, 10 * DAY))
            replied_by = node.clerk
            reply = rng.choice(V.REPLIES).format(term=term)
            last = replied_at
            if tell_in_app:
                told_at, told_how = replied_at, "站内通知"
            elif named and (state == Opinion.Status.CLOSED or rng.random() < 0.5):
                told_at = min(end - 1, replied_at + DAY)
                told_how = V.TOLD_HOW["offline"]
            if state == Opinion.Status.CLOSED:
                closed_at = min(end - 1, replied_at + rng.randint(HOUR, 5 * DAY))
                last = closed_at
            if rng.random() < 0.25:
                is_published = True
                published_reply = reply
                op_published_at = min(end - 1, replied_at + HOUR)
        elif state == Opinion.Status.REJECTED:
            reject_reason = V.REJECT_OPINION
            last = min(end - 1, created + DAY)
            if tell_in_app:
                told_at, told_how = last, "站内通知"
        has_outcome = state in (
            Opinion.Status.REPLIED,
            Opinion.Status.CLOSED,
            Opinion.Status.REJECTED,
        )
        if submitter is not None and has_outcome and rng.random() < 0.7:
            outcome_seen = min(end - 1, last + DAY)
        self.buffers[Opinion].append(
            (
                op,
                pk,
                node.id,
                channel,
                rng.choice(V.OPINIONS).format(term=term),
                named,
                submitter,
                submitter_name,
                "",
                state,
                reject_reason,
                assignee,
                recorded_by,
                reply or "",
                replied_by,
                _ts(replied_at) if replied_at else None,
                _ts(told_at) if told_at else None,
                told_how,
                _ts(closed_at) if closed_at else None,
                is_published,
                published_reply,
                _ts(op_published_at) if op_published_at else None,
                ip_hash,
                _ts(created),
                _ts(outcome_seen) if outcome_seen else None,
            )
        )
        # feedback.actions._sync: the handling task follows the opinion's state.
        url, subject = self.opinion_url.format(op), f"feedback:{op}"
        roles = feedback_policy.HANDLE_ROLES
        reply_due = created + DEFAULT_REPLY_DAYS * DAY
        task_title = f"意见：{title}"
        if state == Opinion.Status.NEW:
            self._task(
                Task.Kind.FEEDBACK, node.id, task_title, url, subject, created, roles, due=reply_due
            )
        elif state == Opinion.Status.ASSIGNED:
            self._task(
                Task.Kind.FEEDBACK,
                node.id,
                task_title,
                url,
                subject,
                created,
                assignee=assignee,
                due=reply_due,
            )
        elif state == Opinion.Status.REPLIED:
            self._task(Task.Kind.FEEDBACK, node.id, task_title, url, subject, last, roles)

    # --- the end ---------------------------------------------------------------------------

    def finish(self) -> int:
        first = self.first[IndexCounter._meta.label]
        rows = [
            (first + i, org, year, last)
            for i, ((org, year), last) in enumerate(sorted(self.counters.items()))
        ]
        n = self.writer.write(IndexCounter, COUNTER_FIELDS, rows)
        self.writer.reset_sequences(list(MODELS))
        return n
