"""A year of published items for the demo's public site and member portal: what 明州市委,
东湖区委 and 湖滨社区第一党支部 disclosed month by month, so that the organization columns
have categories, months and yearly figures, and a search for 党费 or 换届 finds something.

Each item goes through the real procedure (`disclosures.actions`, via the helpers of
`disclosures.demo`); afterwards its publication date is moved back to the month it
belongs to — the one thing the demo fakes, because the demo is loaded in one go. Loaded
once: if the first history item exists, nothing is done.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dwgk.accounts.models import User
from dwgk.disclosures import actions
from dwgk.disclosures.demo import _committee, _entry, _through_approval
from dwgk.disclosures.models import Disclosure, DisclosureAudience
from dwgk.disclosures.signals import disclosure_changed
from dwgk.orgs.models import Organization

# (organization code, clerk, reviewer, principal)
PEOPLE = {
    "MZ": ("lixiuying", "chenjing", "wangjianguo"),
    "MZ-DH": ("zhuhongmei", "mali", "sunzhiqiang"),
    "MZ-DH-HB-01-1": ("liangwenbo", "gaoming", "luoxiaoyan"),
}

# (days ago, organization code, catalog entry, fields), oldest first so that index numbers
# follow the dates.
HISTORY: list[tuple[int, str, str, dict[str, Any]]] = [
    (
        300,
        "MZ",
        "党委全体会议情况",
        {
            "title": "中国共产党明州市第十三届委员会第七次全体会议公报",
            "body": "<p>全会听取和讨论了市委常委会工作报告，审议通过了《关于深化党务公开工作的意见》，"
            "要求各级党组织健全党务公开目录，规范公开程序。</p>",
            "key_points": "健全党务公开目录；规范提出、审核、审批、公开程序；加强监督检查。",
        },
    ),
    (
        270,
        "MZ-DH-HB-01-1",
        "党费收缴使用管理情况",
        {
            "title": "2026年第一季度党费收缴使用管理情况",
            "body": "<p>第一季度支部应交党费党员27名，实交27名，收缴党费4,188.00元，已全额上缴。</p>",
        },
    ),
    (
        240,
        "MZ",
        "履行全面从严治党主体责任情况",
        {
            "title": "明州市2025年度党费收缴、使用和管理情况的通报",
            "body": "<p>2025年全市共收缴党费1.26亿元，按规定全额上缴和下拨，党费使用严格执行审批程序，"
            "主要用于党员教育培训、慰问困难党员和老党员、基层党组织建设。</p>",
            "background": "按照党费收缴、使用和管理的规定，每年向党员和社会通报党费收缴使用情况。",
        },
    ),
    (
        210,
        "MZ-DH",
        "党委常委会会议情况",
        {
            "title": "东湖区委常委会会议研究基层党组织换届选举工作",
            "body": "<p>会议研究部署全区村（社区）党组织换届选举工作，强调严格按照程序组织选举，"
            "严肃换届纪律。</p>",
        },
    ),
    (
        180,
        "MZ-DH-HB-01-1",
        "执行“三会一课”制度情况",
        {
            "title": "2026年上半年“三会一课”制度执行情况",
            "body": "<p>上半年召开支部党员大会2次、支部委员会6次、党小组会12次，书记讲党课1次。</p>",
        },
    ),
    (
        150,
        "MZ",
        "防止和纠正“四风”现象情况",
        {
            "title": "明州市纠治“四风”典型问题的通报",
            "body": "<p>今年以来全市查处违反中央八项规定精神问题43起，处理56人，现将其中5起典型问题通报如下。</p>",
        },
    ),
    (
        120,
        "MZ-DH",
        "重要人事任免情况",
        {
            "title": "东湖区委管理干部任前公示",
            "doc_number": "东组公〔2026〕5号",
            "body": "<p>经区委常委会研究，拟对以下同志进行任用，现予公示，公示期5个工作日。</p>",
        },
    ),
    (
        95,
        "MZ-DH-HB-01-1",
        "党费收缴使用管理情况",
        {
            "title": "2026年第二季度党费收缴使用管理情况",
            "body": "<p>第二季度支部应交党费党员28名，实交28名，收缴党费4,290.00元，已全额上缴。</p>",
        },
    ),
    (
        70,
        "MZ",
        "党委重要活动情况",
        {
            "title": "明州市举办“党务公开进基层”主题宣传活动",
            "body": "<p>活动通过公开栏、宣传册和网络平台，向党员群众介绍党务公开的内容、程序和监督方式。</p>",
        },
    ),
    (
        45,
        "MZ-DH",
        "防止和纠正“四风”现象情况",
        {
            "title": "东湖区关于中秋国庆期间纠治“四风”的提醒",
            "body": "<p>节日期间，全区党员干部要严格遵守中央八项规定精神，严禁公款吃喝、违规收送礼品礼金。</p>",
        },
    ),
    (
        20,
        "MZ-DH-HB-01-1",
        "执行“三会一课”制度情况",
        {
            "title": "2026年10月主题党日活动情况",
            "body": "<p>支部组织党员开展“党费知识”学习和社区志愿服务，参加党员25名。</p>",
        },
    ),
    (
        10,
        "MZ",
        "党委常委会会议情况",
        {
            "title": "市委常委会会议研究部署党费使用管理专项检查",
            "body": "<p>会议要求对全市各级党组织党费使用管理情况开展专项检查，年底前完成整改。</p>",
        },
    ),
]


def _publish(spec: tuple[int, str, str, dict[str, Any]], people: dict[str, User]) -> None:
    days, code, entry_text, fields = spec
    org = Organization.objects.get(code=code)
    clerk, reviewer, principal = (people[name] for name in PEOPLE[code])
    entry = _entry(org, entry_text)
    item = actions.disclosure_create(org, actor=clerk, entry=entry, **fields)
    steps: list[dict[str, Any]] = []
    for step in entry.get_route():
        if step.kind == "body":
            steps.append(_committee(principal, step.body + "会议"))
        else:
            steps.append({"actor": principal, "comment": "同意公开。"})
    item = _through_approval(item, clerk, reviewer, steps)
    item = actions.disclosure_publish(item, actor=clerk)
    when = timezone.now() - datetime.timedelta(days=days)
    Disclosure.objects.filter(pk=item.pk).update(published_at=when)
    DisclosureAudience.objects.filter(obj=item).update(sort_at=when)
    item.refresh_from_db()
    disclosure_changed.send(sender=Disclosure, item=item)  # the search row takes the date


@transaction.atomic
def load_demo_history() -> int:
    """Create the history items once; returns how many were created."""
    if Disclosure.objects.filter(title=HISTORY[0][3]["title"]).exists():
        return 0
    names = {n for people in PEOPLE.values() for n in people}
    people = {u.username: u for u in User.objects.filter(username__in=names)}
    if names - set(people) or Organization.objects.filter(code__in=PEOPLE).count() != 3:
        return 0  # an operator changed the demo's people or organizations: leave it alone
    for spec in HISTORY:
        _publish(spec, people)
    return len(HISTORY)
