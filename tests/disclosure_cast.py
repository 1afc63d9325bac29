"""The disclosure world: the shared cast plus everyone the procedure needs.

branch1 (湖滨社区第一党支部) has a published catalog with three entries:
  monthly   党费收缴使用情况 — party members of branch1, route: 书记签发
  escalate  发展党员预审结果 — party members of branch1, route: 支部委员会决定, 报上级党组织审批
  open      支部工作计划 — society, no approval step
People (on top of tests.cast):
  bob    clerk of branch1 (proposes)         rita   reviewer of branch1
  alice  principal of branch1 (approves)     paula  principal of the community (parent)
  cathy  clerk of branch2 (the co-unit)      charlie member of branch2, no role
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from dwgk.accounts.actions import role_grant
from dwgk.accounts.models import Role, User
from dwgk.audience.keys import Audience
from dwgk.catalog.models import Catalog, CatalogEntry, CatalogVersion
from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure
from tests.cast import Cast, make_user

LOW_RISKS = {
    code: {"level": "low", "note": ""}
    for code in (
        "political",
        "stability",
        "opinion",
        "legality",
        "rationality",
        "feasibility",
        "controllability",
    )
}
OPINIONS: dict[str, Any] = {
    "confidentiality": "不涉及党和国家秘密",
    "necessity": "属于目录规定应当公开的事项",
    "accuracy": "数据与财务记录一致",
    "normativity": "格式规范",
    "risks": LOW_RISKS,
}


@dataclass
class DisclosureWorld:
    cast: Cast
    rita: User
    cathy: User
    monthly: CatalogEntry
    escalate: CatalogEntry
    open: CatalogEntry

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cast, name)


def publish_catalog(org: Any, entries: list[dict[str, Any]]) -> list[CatalogEntry]:
    catalog = Catalog.objects.create(org=org, ruleset="bj")
    version = CatalogVersion.objects.create(
        catalog=catalog,
        number=1,
        status=CatalogVersion.Status.PUBLISHED,
        published_at=timezone.now(),
        audience=Audience(party=(org.pk,)).to_json(),
    )
    return [
        CatalogEntry.objects.create(version=version, position=n, **fields)
        for n, fields in enumerate(entries, 1)
    ]


def make_disclosure_world(world: Cast) -> DisclosureWorld:
    rita = make_user("rita", name="丽塔")
    role_grant(rita, world.branch1, Role.REVIEWER, actor=None)
    cathy = make_user("cathy", name="凯西")
    role_grant(cathy, world.branch2, Role.CLERK, actor=None)
    party = Audience(party=(world.branch1.pk,)).to_json()
    monthly, escalate, open_ = publish_catalog(
        world.branch1,
        [
            {
                "content": "党费收缴使用情况",
                "category": "党费",
                "audience": party,
                "approval": [{"kind": "role", "role": "principal", "label": "书记签发"}],
                "channels": ["platform", "board"],
                "timing": {"kind": "periodic", "period": "monthly"},
            },
            {
                "content": "发展党员预审结果",
                "category": "发展党员",
                "audience": party,
                "approval": [
                    {"kind": "body", "body": "支部委员会", "label": "支部委员会决定"},
                    {"kind": "parent", "label": "报上级党组织审批"},
                ],
                "channels": ["platform"],
                "timing": {"kind": "immediate"},
            },
            {
                "content": "支部工作计划",
                "category": "工作计划",
                "audience": Audience(society=True).to_json(),
                "approval": [],
                "channels": ["platform"],
                "timing": {"kind": "long_term"},
            },
        ],
    )
    return DisclosureWorld(world, rita, cathy, monthly, escalate, open_)


BODY = "<p>2026年10月支部共收缴党费1,280元，上缴上级党委1,280元。</p>"


def draft(dw: DisclosureWorld, entry: CatalogEntry | None = None, **fields: Any) -> Disclosure:
    fields.setdefault("title", "2026年10月党费收缴使用情况")
    fields.setdefault("body", BODY)
    kwargs: dict[str, Any] = {}
    if entry is None and "out_of_catalog_reason" not in fields:
        entry = dw.monthly
    if "out_of_catalog_reason" in fields:
        kwargs["out_of_catalog_reason"] = fields.pop("out_of_catalog_reason")
    return actions.disclosure_create(dw.branch1, actor=dw.bob, entry=entry, **kwargs, **fields)


def through_review(dw: DisclosureWorld, item: Disclosure) -> Disclosure:
    item = actions.disclosure_submit(item, actor=dw.bob)
    item = actions.disclosure_start_review(item, actor=dw.rita)
    return actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)


def approved(dw: DisclosureWorld, **fields: Any) -> Disclosure:
    item = through_review(dw, draft(dw, **fields))
    return actions.disclosure_approve(item, actor=dw.alice, comment="同意")


def published(dw: DisclosureWorld, **fields: Any) -> Disclosure:
    return actions.disclosure_publish(approved(dw, **fields), actor=dw.bob)


def later(minutes: int = 60) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(minutes=minutes)


# --- Added for the procedure's rule tests (test_disclosure_transitions/_property/_rules) ---


def make_world() -> Cast:
    """The `world` fixture as a plain function, for fixtures wider than one test (a module's
    shared starting states) and for Hypothesis tests that build their own world."""
    from tests.cast import make_cast

    world = make_cast()
    role_grant(world.bob, world.branch1, Role.CLERK, actor=None)
    world.paula = make_user("paula", name="宝拉")
    role_grant(world.paula, world.community, Role.PRINCIPAL, actor=None)
    return world


def second_co_unit(dw: DisclosureWorld) -> User:
    """della, clerk of the district discipline commission: a second co-unit (PROC-8)."""
    della = make_user("della", name="黛拉")
    role_grant(della, dw.discipline, Role.CLERK, actor=None)
    return della


def branch2_catalog(dw: DisclosureWorld) -> tuple[CatalogEntry, User]:
    """branch2 gets a published catalog with one society entry that needs no approval, and
    a reviewer, ruth; cathy (its clerk) proposes there."""
    ruth = make_user("ruth", name="露丝")
    role_grant(ruth, dw.branch2, Role.REVIEWER, actor=None)
    (entry,) = publish_catalog(
        dw.branch2,
        [
            {
                "content": "支部工作计划",
                "category": "工作计划",
                "audience": Audience(society=True).to_json(),
                "approval": [],
                "channels": ["platform"],
                "timing": {"kind": "long_term"},
            }
        ],
    )
    return entry, ruth


def published_in_branch2(dw: DisclosureWorld, entry: CatalogEntry, ruth: User) -> Disclosure:
    item = actions.disclosure_create(
        dw.branch2, actor=dw.cathy, entry=entry, title="第二党支部工作计划", body=BODY
    )
    item = actions.disclosure_submit(item, actor=dw.cathy)
    item = actions.disclosure_start_review(item, actor=ruth)
    item = actions.disclosure_pass_review(item, actor=ruth, **OPINIONS)
    return actions.disclosure_publish(item, actor=dw.cathy)


def record_of(item: Disclosure) -> dict[str, Any]:
    """Everything a step may write, read fresh from the database: the item's row and its
    audience keys, and a fingerprint of every table the procedure writes to (rows, open
    rows, answers, last id). Two equal records mean nothing changed — not even half of a
    step. One query for the tables: the transition tests take thousands of these."""
    from django.db import connection

    from dwgk.audit.models import AuditEntry
    from dwgk.catalog.models import CatalogEntry as Entry
    from dwgk.disclosures.models import (
        Approval,
        Attachment,
        CoConfirmation,
        DisclosureAudience,
        IndexCounter,
        LogEntry,
        Review,
        Revision,
        ScopeChange,
    )
    from dwgk.inbox.models import Notification, Task

    def table(model: Any) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    fingerprints = {
        "log": f"SELECT COUNT(*) || ':' || COALESCE(MAX(id), 0) FROM {table(LogEntry)}",
        "reviews": f"SELECT COUNT(*) FROM {table(Review)}",
        "approvals": f"SELECT COUNT(*) FROM {table(Approval)}",
        "co_confirmations": f"SELECT COUNT(*) || ':' || SUM(CASE WHEN answer = 'pending' THEN 1 ELSE 0 END) FROM {table(CoConfirmation)}",
        "revisions": f"SELECT COUNT(*) FROM {table(Revision)}",
        "tasks": f"SELECT COUNT(*) || ':' || SUM(CASE WHEN done_at IS NULL THEN 1 ELSE 0 END) FROM {table(Task)}",
        "audit": f"SELECT COUNT(*) FROM {table(AuditEntry)}",
        "notifications": f"SELECT COUNT(*) FROM {table(Notification)}",
        "scope_changes": f"SELECT COUNT(*) || ':' || SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) FROM {table(ScopeChange)}",
        "index_counters": f"SELECT COUNT(*) || ':' || COALESCE(SUM(last), 0) FROM {table(IndexCounter)}",
        "attachments": f"SELECT COUNT(*) || ':' || SUM(CASE WHEN withheld OR removed THEN 1 ELSE 0 END) FROM {table(Attachment)}",
        "catalog_entries": f"SELECT COUNT(*) FROM {table(Entry)}",
    }
    sql = "SELECT " + ", ".join(f"({query})" for query in fingerprints.values())
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return {
        "item": Disclosure.objects.filter(pk=item.pk).values().get(),
        "audience_keys": sorted(
            DisclosureAudience.objects.filter(obj_id=item.pk).values_list("key", flat=True)
        ),
        **{name: str(value) for name, value in zip(fingerprints, row, strict=True)},
    }
