"""Demo catalogs for the 明州 demo (see accounts/demo.py), at every stage of their life.

    明州市委              adopted and published to society (a root files with nobody)
    东湖区委              filed with the city, acknowledged, published to society
    西山区委              a draft being compiled
    明州医科大学党委       acknowledged by the city, published to the university (本单位)
    基础医学院党委         filed with the university and returned with a comment
    明州交投集团党委       adopted, not yet filed
    湖滨社区党委           filed with 湖滨街道党工委 and waiting for its acknowledgment
    湖滨社区第一党支部     published to its party members; a second version in progress
                         (one entry changed, one added), so the comparison shows something

Every step goes through `catalog.actions` with the demo person who would really take it
(looked up by username), so the history and the audit log read as after a real roll-out.
Keyed by organization code: an organization that already has a catalog is left alone, so
a second run changes nothing and what people did in the demo since is kept.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from dwgk.accounts.models import User
from dwgk.audience.keys import Audience
from dwgk.catalog import actions
from dwgk.catalog.approval import parse_route
from dwgk.catalog.channels import parse_channels
from dwgk.catalog.models import Catalog
from dwgk.catalog.timing import parse_duration, parse_start
from dwgk.orgs.models import Organization

RETURN_COMMENT = (
    "请补充党费收缴使用情况的公开条目并明确按季度公开；"
    "评优评先、发展党员推荐等师生关注的事项也请列入目录。"
)

# How far a plan takes the catalog.
DRAFT, ADOPTED, FILED, RETURNED, PUBLISHED = "draft", "adopted", "filed", "returned", "published"


@dataclass(frozen=True)
class Plan:
    code: str
    clerk: str  # compiles, files and publishes (党务公开工作人员 or the principal)
    principal: str  # records the adoption
    meeting: str
    until: str
    reviewer: str = ""  # the parent's staff member who acknowledges or returns
    review_comment: str = ""
    publish_to: str = ""  # "party", "unit" or "society"
    adjust: bool = False


PLANS: tuple[Plan, ...] = (
    Plan("MZ", "zhangwei", "wangjianguo", "市委常委会会议", PUBLISHED, publish_to="society"),
    Plan(
        "MZ-DH",
        "mali",
        "sunzhiqiang",
        "区委常委会会议",
        PUBLISHED,
        reviewer="lixiuying",
        review_comment="目录内容完整，同意备案。",
        publish_to="society",
    ),
    Plan("MZ-XS", "zengfan", "pengguoqing", "区委常委会会议", DRAFT),
    Plan(
        "MZYK",
        "xuqing",
        "dengweidong",
        "党委常委会会议",
        PUBLISHED,
        reviewer="lixiuying",
        review_comment="同意备案。",
        publish_to="unit",
    ),
    Plan(
        "MZYK-JC",
        "suzhenhua",
        "suzhenhua",
        "学院党委会",
        RETURNED,
        reviewer="xuqing",
        review_comment=RETURN_COMMENT,
    ),
    Plan("MZJT", "renjing", "weidongsheng", "集团党委会", ADOPTED),
    Plan("MZ-DH-HB-01", "liangwenbo", "linfang", "社区党委会", FILED),
    Plan(
        "MZ-DH-HB-01-1",
        "luoxiaoyan",
        "luoxiaoyan",
        "支部委员会会议",
        PUBLISHED,
        reviewer="linfang",
        review_comment="同意备案，请按目录及时公开。",
        publish_to="party",
        adjust=True,
    ),
)

# Used only when the rule-set's template for the organization's type has no entries, so
# that every demo catalog can be adopted whichever rule-set the deployment picked.
FALLBACK: tuple[dict[str, str], ...] = (
    {
        "category": "组织机构",
        "content": "党组织设置、委员会组成及分工情况",
        "basis": "BJ 5",
        "scope": "unit",
        "approval": "书记签发",
        "channels": "公开栏、党务公开平台",
        "start": "长期",
        "duration": "至被新内容替代",
        "responsible": "组织委员",
    },
    {
        "category": "党的建设",
        "content": "学习贯彻党中央和上级组织决策部署情况",
        "basis": "BJ 7(1)",
        "scope": "party",
        "approval": "书记签发",
        "channels": "召开会议、党务公开平台",
        "start": "会后一周内",
        "duration": "永久",
        "responsible": "党组织办公室",
    },
    {
        "category": "党员队伍建设",
        "content": "发展党员、党员转正等情况",
        "basis": "BJ 7(4)",
        "scope": "unit",
        "approval": "集体研究决定，报上级党组织审批",
        "channels": "公开栏、党务公开平台",
        "start": "事项确定后5个工作日内",
        "duration": "1年",
        "responsible": "组织委员",
    },
)

# The adjustment of the branch's catalog (CAT-4): one entry changed, one added.
ADJUST_NOTE = "根据社区党委意见，增加主题党日条目，明确第1条的更新时限。"
ADJUSTED_REMARK = "委员分工调整后一周内更新"
ADDED_ENTRY = {
    "category": "组织生活",
    "content": "主题党日活动安排及开展情况",
    "basis": "BJ 7(3)",
    "scope": "party",
    "scope_note": "本支部党员",
    "approval": "书记签发",
    "channels": "党员大会、党务公开平台",
    "start": "每月第一个星期五",
    "duration": "1年",
    "responsible": "党支部宣传委员",
}


def _fields(raw: dict[str, str], org: Organization) -> dict[str, Any]:
    """Entry fields from the sheet's wording, read with the parsers an import uses."""
    audience = _audience(raw.get("scope", "party"), org)
    timing = parse_start(raw["start"], parse_duration(raw["duration"]))
    return {
        "content": raw["content"],
        "category": raw.get("category", ""),
        "basis": raw.get("basis", ""),
        "audience": audience.to_json(),
        "audience_note": raw.get("scope_note", ""),
        "approval": [step.to_json() for step in parse_route(raw["approval"])],
        "channels": parse_channels(raw["channels"]),
        "timing": timing.to_json(),
        "responsible": raw.get("responsible", ""),
    }


def _audience(scope: str, org: Organization) -> Audience:
    if scope == "society":
        return Audience(society=True)
    if scope == "unit":
        return Audience(units=(org.pk,))
    return Audience(party=(org.pk,))


def _run(plan: Plan, org: Organization, people: dict[str, User]) -> int:
    """Take one organization's catalog as far as its plan says; the number of versions made."""
    clerk, principal = people[plan.clerk], people[plan.principal]
    reviewer = people.get(plan.reviewer)
    version = actions.catalog_generate_draft(org, actor=clerk)
    if not version.entries.exists():
        for raw in FALLBACK:
            actions.entry_add(version, actor=clerk, **_fields(raw, org))
    if plan.until == DRAFT:
        return 1
    adopted_on = timezone.localdate() - datetime.timedelta(days=30)
    actions.catalog_adopt(version, actor=principal, meeting=plan.meeting, decided_on=adopted_on)
    if plan.until == ADOPTED:
        return 1
    if org.parent is not None:
        actions.catalog_file(version, actor=clerk)
        if plan.until == FILED:
            return 1
        assert reviewer is not None
        if plan.until == RETURNED:
            actions.catalog_return(version, actor=reviewer, comment=plan.review_comment)
            return 1
        actions.catalog_acknowledge(version, actor=reviewer, comment=plan.review_comment)
    actions.catalog_publish(version, actor=clerk, audience=_audience(plan.publish_to, org))
    if not plan.adjust:
        return 1
    second = actions.catalog_adjust(org, actor=clerk, note=ADJUST_NOTE)
    first = second.entries.order_by("position").first()
    if first is not None:
        actions.entry_update(first, actor=clerk, remarks=ADJUSTED_REMARK)
    added = _fields(ADDED_ENTRY, org)
    if not second.entries.filter(content=added["content"]).exists():
        actions.entry_add(second, actor=clerk, **added)
    else:  # the template already has it: change its timing instead
        entry = second.entries.filter(content=added["content"]).get()
        actions.entry_update(entry, actor=clerk, timing=added["timing"])
    return 2


@transaction.atomic
def load_demo_catalogs() -> int:
    """Create the demo catalogs that are missing; return how many versions were made."""
    codes = [plan.code for plan in PLANS]
    orgs = {o.code: o for o in Organization.objects.filter(code__in=codes)}
    usernames = {n for p in PLANS for n in (p.clerk, p.principal, p.reviewer) if n}
    people = {u.username: u for u in User.objects.filter(username__in=usernames, is_active=True)}
    started = set(
        Catalog.objects.filter(org__code__in=codes, versions__isnull=False).values_list(
            "org__code", flat=True
        )
    )
    made = 0
    for plan in PLANS:
        org = orgs.get(plan.code)
        needed = {plan.clerk, plan.principal} | ({plan.reviewer} if plan.reviewer else set())
        # Respect what an operator changed since: skip, never force.
        if org is None or not org.is_active or plan.code in started or needed - set(people):
            continue
        made += _run(plan, org, people)
    return made
