"""Demo disclosure items for the 明州 demo, at every stage of the procedure.

湖滨社区第一党支部 (clerk 梁文博 proposes, 高明 reviews, secretary 罗晓燕 approves; its parent
湖滨社区党委 — secretary 林芳 — decides escalated items; 第二党支部 is a co-unit):
    党费收缴使用管理情况         published to the branch's members
    拟发展对象情况（草稿）        a draft full of ID and phone numbers, ready to submit: the
                                 reviewer's pre-screen has something to show
    换届选举情况                  decided by the branch committee, waiting for the parent
    11月主题党日活动安排          approved and scheduled: the worker publishes it
    志愿服务月活动（目录外）       published out of catalog; the catalog update is pending
    9月主题党日活动安排           withdrawn, with its correction notice
    上半年组织生活会情况          closed and archived
东湖区委 and 明州市委: items published to society, for the public site.

Every step goes through `disclosures.actions` with the demo person who would take it.
Keyed by organization: one that already has items is left alone, so running twice changes
nothing and what people did in the demo since is kept.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dwgk.accounts.models import User
from dwgk.catalog.models import CatalogEntry
from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure
from dwgk.orgs.models import Organization

LOW = {"level": "low", "note": ""}
OPINIONS: dict[str, Any] = {
    "confidentiality": "经审查，不涉及党和国家秘密，不涉及工作秘密。",
    "necessity": "属于本组织党务公开目录规定应当公开的事项，公开有利于党员监督。",
    "accuracy": "内容与会议记录、财务凭证核对一致。",
    "normativity": "表述规范，格式符合要求。",
    "risks": {
        "political": LOW,
        "stability": LOW,
        "opinion": {"level": "medium", "note": "党员群众关注度较高"},
        "legality": LOW,
        "rationality": LOW,
        "feasibility": LOW,
        "controllability": LOW,
    },
    "prevention_plan": "安排支部委员当面解答党员疑问；如有不同意见，及时向支部委员会报告。",
}

# A draft full of personal data: 18-digit resident ID numbers (valid checksums), mobile
# and landline numbers — what the pre-screen exists to catch before anything is published.
DRAFT_BODY = (
    "<p>经支部委员会研究，拟将以下同志列为2026年第四季度发展对象，现予公示：</p>"
    "<ol><li>唐磊，男，1992年3月出生，身份证号 330203199203151237，社区网格员，"
    "联系电话 13905741234；</li>"
    "<li>韩晓雨，女，1996年8月出生，身份证号 330203199608124026，社区志愿者，"
    "联系电话 139 0574 5678。</li></ol>"
    "<p>公示期间，党员和群众可通过以下方式反映情况：来电 0574-87654321，"
    "或发送电子邮件至 hubin1zhibu@example.org。</p>"
)


def _entry(org: Organization, content: str) -> CatalogEntry:
    for entry in actions.in_force_entries(org):
        if entry.content.startswith(content):
            return entry
    raise LookupError(f"{org.code}: no catalog entry {content}")


def _through_approval(
    item: Disclosure, author: User, reviewer: User, approvers: list[dict[str, Any]]
) -> Disclosure:
    item = actions.disclosure_submit(item, actor=author)
    item = actions.disclosure_start_review(item, actor=reviewer)
    item = actions.disclosure_pass_review(item, actor=reviewer, **OPINIONS)
    for step in approvers:
        item = actions.disclosure_approve(item, **step)
    return item


def _committee(actor: User, meeting: str) -> dict[str, Any]:
    return {
        "actor": actor,
        "collective": True,
        "meeting": meeting,
        "meeting_date": timezone.localdate() - datetime.timedelta(days=2),
        "minutes": "会议逐项研究，一致同意公开。",
    }


def _branch(people: dict[str, User]) -> int:
    org = Organization.objects.get(code="MZ-DH-HB-01-1")
    if Disclosure.objects.filter(org=org).exists():
        return 0
    clerk, reviewer, secretary = people["liangwenbo"], people["gaoming"], people["luoxiaoyan"]
    co_unit = Organization.objects.get(code="MZ-DH-HB-01-2")
    committee = _committee(secretary, "支部委员会会议")
    sign = {"actor": secretary, "comment": "同意公开。"}

    fee = actions.disclosure_create(
        org,
        actor=clerk,
        entry=_entry(org, "党费收缴使用管理情况"),
        title="2026年第三季度党费收缴使用管理情况",
        body=(
            "<p>2026年第三季度，支部应交党费党员28名，实交28名，收缴党费合计4,326.00元，"
            "已全额上缴湖滨社区党委。</p>"
            "<table><thead><tr><th>月份</th><th>收缴金额（元）</th><th>上缴金额（元）</th></tr></thead>"
            "<tbody><tr><td>7月</td><td>1,442.00</td><td>1,442.00</td></tr>"
            "<tr><td>8月</td><td>1,442.00</td><td>1,442.00</td></tr>"
            "<tr><td>9月</td><td>1,442.00</td><td>1,442.00</td></tr></tbody></table>"
        ),
        key_points="党费按月收缴、全额上缴，党员可向支部委员查询本人缴纳记录。",
    )
    fee = _through_approval(fee, clerk, reviewer, [committee, sign])
    actions.disclosure_publish(fee, actor=clerk)

    candidates = actions.disclosure_create(
        org,
        actor=clerk,
        entry=_entry(org, "发展党员情况"),
        title="关于2026年第四季度拟发展对象的公示",
        body=DRAFT_BODY,
        co_units=[co_unit.pk],
        hot_spots="发展对象的条件和程序；个人信息是否公开过多。",
        response_plan="由组织委员解答发展程序；公示内容不含身份证号等个人敏感信息。",
    )
    del candidates  # stays a draft: the walk-through starts here

    election = actions.disclosure_create(
        org,
        actor=clerk,
        entry=_entry(org, "换届选举情况"),
        title="湖滨社区第一党支部换届选举工作安排",
        body=(
            "<p>支部委员会任期将于2026年12月届满。经支部委员会研究，拟于2026年12月中旬召开"
            "党员大会进行换届选举，选举产生新一届支部委员会委员5名。</p>"
        ),
    )
    _through_approval(election, clerk, reviewer, [committee])  # waits for 湖滨社区党委

    theme = actions.disclosure_create(
        org,
        actor=clerk,
        entry=_entry(org, "执行“三会一课”制度情况"),
        title="2026年11月主题党日活动安排",
        body="<p>本月主题党日定于11月第一个星期五下午在社区党群服务中心举行，内容为集中学习和志愿服务。</p>",
    )
    theme = _through_approval(theme, clerk, reviewer, [sign])
    actions.disclosure_schedule(
        theme, actor=clerk, publish_at=timezone.now() + datetime.timedelta(minutes=2)
    )

    volunteer = actions.disclosure_create(
        org,
        actor=clerk,
        out_of_catalog_reason="社区临时部署的志愿服务活动，目录未列，党员普遍关心参与安排。",
        title="关于开展“社区党员志愿服务月”活动的通知",
        body="<p>支部决定于12月开展党员志愿服务月活动，每名党员认领至少一项服务岗位。</p>",
        channels=["platform", "board"],  # on the month's 公开栏 poster, with the fee report
    )
    volunteer = _through_approval(volunteer, clerk, reviewer, [sign])
    actions.disclosure_publish(volunteer, actor=clerk)

    september = actions.disclosure_create(
        org,
        actor=clerk,
        entry=_entry(org, "执行“三会一课”制度情况"),
        title="2026年9月主题党日活动安排",
        body="<p>9月主题党日定于9月5日在社区党群服务中心举行。</p>",
        channels=["meeting", "platform", "board"],  # the poster shows its correction notice
    )
    september = _through_approval(september, clerk, reviewer, [sign])
    september = actions.disclosure_publish(september, actor=clerk)
    actions.disclosure_withdraw(
        september,
        actor=secretary,
        notice="原通知中活动日期有误，9月主题党日改为9月12日举行，地点不变，特此更正。",
    )

    review = actions.disclosure_create(
        org,
        actor=clerk,
        entry=_entry(org, "召开组织生活会情况"),
        title="2026年上半年组织生活会召开情况",
        body="<p>支部于2026年6月召开组织生活会，开展批评和自我批评，查摆问题12条，均已制定整改措施。</p>",
    )
    review = _through_approval(review, clerk, reviewer, [sign])
    review = actions.disclosure_publish(review, actor=clerk)
    review = actions.disclosure_close(review, actor=clerk, note="整改已完成。")
    actions.disclosure_archive(
        review, actor=clerk, feedback_summary="公开期间收到党员意见2条，均已答复。"
    )
    return 7


def _society(
    people: dict[str, User],
    code: str,
    author: str,
    reviewer: str,
    principal: str,
    items: list[dict[str, Any]],
) -> int:
    org = Organization.objects.get(code=code)
    if Disclosure.objects.filter(org=org).exists():
        return 0
    for spec in items:
        spec = dict(spec)
        entry = _entry(org, spec.pop("entry"))
        item = actions.disclosure_create(org, actor=people[author], entry=entry, **spec)
        steps = []
        for step in item.entry.get_route() if item.entry else []:
            if step.kind == "body":
                steps.append(_committee(people[principal], step.body + "会议"))
            else:
                steps.append({"actor": people[principal], "comment": "同意。"})
        item = _through_approval(item, people[author], people[reviewer], steps)
        actions.disclosure_publish(item, actor=people[author])
    return len(items)


@transaction.atomic
def load_demo_disclosures() -> int:
    """Create the demo items (see the module docstring); returns how many were created."""
    people = {u.username: u for u in User.objects.all()}
    count = _branch(people)
    count += _society(
        people,
        "MZ-DH",
        "zhuhongmei",
        "mali",
        "sunzhiqiang",
        [
            {
                "entry": "推进党风廉政建设和反腐败斗争情况",
                "title": "东湖区委2026年第三季度党风廉政建设和反腐败工作情况",
                "body": "<p>第三季度，全区各级党组织开展廉政谈话312人次，督查“四风”问题线索17条，均已办结。</p>",
                "background": "落实全面从严治党主体责任，按季度向社会公开党风廉政建设情况。",
            },
            {
                "entry": "领导班子职责分工",
                "title": "中共东湖区委关于区委领导班子成员工作分工的通知",
                "doc_number": "东委发〔2026〕12号",
                "body": "<p>根据工作需要，经区委常委会研究，现将区委领导班子成员工作分工通知如下。</p>",
            },
        ],
    )
    count += _society(
        people,
        "MZ",
        "lixiuying",
        "chenjing",
        "wangjianguo",
        [
            {
                "entry": "党委常委会会议情况",
                "title": "市委常委会召开会议 研究部署党务公开工作",
                "body": "<p>市委常委会召开会议，传达学习党务公开工作条例，研究部署全市党务公开目录编制和平台建设工作。</p>",
                "key_points": "各级党组织年底前完成公开目录编制并报上级备案；统一党务公开平台年内上线。",
            },
        ],
    )
    return count
