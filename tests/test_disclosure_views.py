"""The disclosure screens, view by view: anonymous → login (or 404 for an item page nobody
published to them), wrong person → 404 for what they cannot see and 403 for steps they may
not take, right person → the step is done; and the whole procedure through the screens.

The cast (tests/disclosure_cast.py): bob is the clerk of 第一党支部 and proposes, rita its
reviewer, alice its principal; paula is the principal of the community above it; cathy the
clerk of 第二党支部 (the co-unit); charlie a plain member of 第二党支部; dora a resident who
is not a party member; dave (made here) a plain member of 第一党支部.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.models import User
from dwgk.disclosures import actions
from dwgk.disclosures.models import CoConfirmation, Disclosure, Revision, ScopeChange
from dwgk.inbox.models import Task
from tests.cast import make_member
from tests.disclosure_cast import (
    BODY,
    OPINIONS,
    DisclosureWorld,
    approved,
    draft,
    published,
    through_review,
)

S = Disclosure.Status
ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"
REVIEW = {
    "confidentiality": "不涉及党和国家秘密",
    "necessity": "属于目录规定应当公开的事项",
    "accuracy": "数据与财务记录一致",
    "normativity": "格式规范",
    **{f"risk_{code}": "low" for code in OPINIONS["risks"]},
}
# Every step's URL name; the ones that need an attachment are tested on their own.
STEPS = [
    "submit",
    "start_review",
    "redact",
    "review",
    "referral_answer",
    "confirm",
    "approve",
    "return",
    "reject",
    "schedule",
    "publish",
    "delay",
    "withdraw",
    "correct",
    "close",
    "archive",
    "widen",
    "widen_decide",
    "catalog_update",
    "attachment_upload",
]


def url(name: str, *args: Any) -> str:
    return reverse(f"disclosures:{name}", args=args)


def page(client: Client, item: Disclosure) -> str:
    response = client.get(url("detail", item.pk))
    assert response.status_code == 200
    return response.content.decode()


def post(client: Client, name: str, item: Disclosure, data: dict[str, Any] | None = None) -> Any:
    return client.post(url(name, item.pk), data or {})


def fresh(item: Disclosure) -> Disclosure:
    return Disclosure.objects.get(pk=item.pk)


@pytest.fixture
def dave(dw: DisclosureWorld) -> User:
    return make_member("dave", dw.branch1, name="戴夫")


def submitted_for_review(dw: DisclosureWorld, **fields: Any) -> Disclosure:
    item = actions.disclosure_submit(draft(dw, **fields), actor=dw.bob)
    return actions.disclosure_start_review(item, actor=dw.rita)


# --- an organization's items ------------------------------------------------------------------


def test_the_org_list_sends_anonymous_visitors_to_log_in(client, dw):
    response = client.get(url("org", dw.branch1.pk))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", ["charlie", "dora", "cathy"])
def test_the_org_list_is_refused_to_people_without_a_staff_role_there(client, dw, who):
    draft(dw)
    client.force_login(getattr(dw, who))
    response = client.get(url("org", dw.branch1.pk))
    assert response.status_code == 403
    assert "党务公开工作人员" in response.content.decode()


@pytest.mark.parametrize("who", ["bob", "rita", "alice", "paula"])
def test_the_org_list_shows_every_state_to_the_staff_of_the_org_and_its_parent(client, dw, who):
    draft(dw, title="草稿中的事项")
    published(dw, title="已公开的事项")
    client.force_login(getattr(dw, who))
    html = client.get(url("org", dw.branch1.pk)).content.decode()
    assert "草稿中的事项" in html and "已公开的事项" in html


def test_the_org_list_filters_by_status(client, dw):
    draft(dw, title="草稿中的事项")
    published(dw, title="已公开的事项")
    client.force_login(dw.bob)
    html = client.get(url("org", dw.branch1.pk) + "?status=draft").content.decode()
    assert "草稿中的事项" in html and "已公开的事项" not in html
    assert "提出公开事项" in html  # bob may propose here


def test_the_org_list_holds_only_that_orgs_items(client, dw):
    draft(dw, title="第一支部的事项")
    client.force_login(dw.cathy)
    # cathy is staff of branch2, whose list is empty even though branch1 has items.
    html = client.get(url("org", dw.branch2.pk)).content.decode()
    assert "第一支部的事项" not in html
    assert "本组织还没有公开事项" in html


# --- drafting and editing ---------------------------------------------------------------------


def test_drafting_sends_anonymous_visitors_to_log_in(client, dw):
    response = client.get(url("create", dw.branch1.pk))
    assert response.status_code == 302


@pytest.mark.parametrize("who", ["charlie", "rita", "cathy"])
def test_drafting_is_refused_to_people_who_may_not_propose_there(client, dw, who):
    client.force_login(getattr(dw, who))
    assert client.get(url("create", dw.branch1.pk)).status_code == 403
    response = client.post(url("create", dw.branch1.pk), {"entry": "out", "title": "x"})
    assert response.status_code == 403
    assert not Disclosure.objects.exists()


def test_the_drafting_form_offers_the_catalog_entries_in_force(client, dw):
    client.force_login(dw.bob)
    html = client.get(url("create", dw.branch1.pk)).content.decode()
    for entry in (dw.monthly, dw.escalate, dw.open):
        assert entry.content in html
    assert "目录外事项" in html
    # Picking an entry fills in its category and channels.
    html = client.get(url("create", dw.branch1.pk) + f"?entry={dw.monthly.pk}").content.decode()
    assert 'value="党费"' in html
    assert re.search(r'value="board"[^>]*checked', html)
    assert not re.search(r'value="email"[^>]*checked', html)


def test_a_clerk_drafts_under_a_catalog_entry_with_its_defaults(client, dw):
    client.force_login(dw.bob)
    response = client.post(
        url("create", dw.branch1.pk),
        {
            "entry": dw.monthly.pk,
            "title": "2026年11月党费收缴使用情况",
            "doc_number": "湖一支〔2026〕3号",
            "body": '<p onclick="x()">正文</p><script>alert(1)</script>',
            "scope": "entry",
            "background": "第一行\r\n第二行",
            "co_units": [dw.branch2.pk],
        },
    )
    assert response.status_code == 302
    item = Disclosure.objects.get()
    assert response["Location"] == url("detail", item.pk)
    assert item.status == S.DRAFT and item.author == dw.bob and item.entry == dw.monthly
    assert item.body == "<p>正文</p>"  # sanitized by the action
    assert item.category == "党费"
    assert item.channels == ["platform", "board"]
    assert item.timing_kind == "periodic"
    assert item.get_audience().party == (dw.branch1.pk,)
    assert item.co_units == [dw.branch2.pk]
    assert item.background == "第一行\n第二行"
    assert item.doc_number == "湖一支〔2026〕3号"


def test_an_out_of_catalog_item_needs_a_reason(client, dw):
    client.force_login(dw.bob)
    data = {"entry": "out", "title": "临时事项", "scope": "society", "body": "<p>x</p>"}
    response = client.post(url("create", dw.branch1.pk), data)
    assert response.status_code == 400
    assert "目录外事项须写明公开理由" in response.content.decode()
    assert not Disclosure.objects.exists()
    data["out_of_catalog_reason"] = "上级临时部署，须及时告知"
    response = client.post(url("create", dw.branch1.pk), data)
    assert response.status_code == 302
    item = Disclosure.objects.get()
    assert item.out_of_catalog and item.get_audience().society


def test_an_action_error_on_drafting_is_shown_in_chinese_and_keeps_the_form(client, dw):
    client.force_login(dw.bob)
    response = client.post(
        url("create", dw.branch1.pk),
        {
            "entry": dw.monthly.pk,
            "title": "有效期错误的事项",
            "scope": "party",
            "publish_at": "2026-12-10T09:00",
            "expire_at": "2026-12-01T09:00",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "公开截止时间须晚于发布时间" in html
    assert "有效期错误的事项" in html
    assert not Disclosure.objects.exists()


def test_an_unknown_co_unit_code_is_an_error(client, dw):
    client.force_login(dw.bob)
    response = client.post(
        url("create", dw.branch1.pk),
        {"entry": dw.monthly.pk, "title": "t", "scope": "entry", "co_unit_codes": "NO-SUCH"},
    )
    assert response.status_code == 400
    assert "找不到组织编码：NO-SUCH" in response.content.decode()


def test_co_units_can_be_given_by_code(client, dw):
    client.force_login(dw.bob)
    client.post(
        url("create", dw.branch1.pk),
        {
            "entry": dw.monthly.pk,
            "title": "t",
            "scope": "entry",
            "co_unit_codes": f"{dw.discipline.code}，{dw.branch2.code}",
        },
    )
    assert Disclosure.objects.get().co_units == sorted([dw.discipline.pk, dw.branch2.pk])


def test_editing_is_for_the_author_and_the_proposing_staff(client, dw, dave):
    item = draft(dw)
    assert client.get(url("edit", item.pk)).status_code == 302  # anonymous
    client.force_login(dw.charlie)
    assert client.get(url("edit", item.pk)).status_code == 404  # cannot see the draft
    client.force_login(dw.rita)
    assert client.get(url("edit", item.pk)).status_code == 403  # sees it, may not edit
    client.force_login(dw.bob)
    assert client.get(url("edit", item.pk)).status_code == 200


def edit_data(dw: DisclosureWorld, item: Disclosure, **changes: Any) -> dict[str, Any]:
    data = {
        "title": item.title,
        "doc_number": item.doc_number,
        "category": item.category,
        "body": item.body,
        "scope": "party",
        "channels": list(item.channels),
        "timing_kind": item.timing_kind,
        "background": item.background.replace("\n", "\r\n"),
    }
    data.update(changes)
    return data


def test_an_untouched_edit_form_makes_no_new_revision(client, dw):
    item = draft(dw, background="第一行\n第二行")
    client.force_login(dw.bob)
    response = client.post(url("edit", item.pk), edit_data(dw, item), follow=True)
    assert "内容没有变化" in response.content.decode()
    assert fresh(item).revision == item.revision


def test_editing_a_draft_makes_a_new_revision(client, dw):
    item = draft(dw)
    client.force_login(dw.bob)
    response = client.post(url("edit", item.pk), edit_data(dw, item, title="新标题", note="改标题"))
    assert response.status_code == 302
    item2 = fresh(item)
    assert item2.title == "新标题" and item2.revision == item.revision + 1
    assert item2.revisions.get(number=item2.revision).note == "改标题"


def test_editing_after_approval_sends_the_item_back_to_review(client, dw):
    item = approved(dw)
    client.force_login(dw.bob)
    html = client.get(url("edit", item.pk)).content.decode()
    assert "保存修改后，事项回到“已提出，待审核”" in html
    response = client.post(url("edit", item.pk), edit_data(dw, item, title="改后的标题"))
    assert response.status_code == 302
    assert fresh(item).status == S.SUBMITTED
    followed = client.get(response["Location"]).content.decode()
    assert "须重新审核" in followed


def test_a_published_item_cannot_be_edited(client, dw):
    item = published(dw)
    client.force_login(dw.bob)
    response = client.get(url("edit", item.pk))
    assert response.status_code == 302
    assert "不能修改" in client.get(response["Location"]).content.decode()


# --- the item page ----------------------------------------------------------------------------


def test_an_unpublished_item_is_a_404_for_anyone_who_does_not_work_on_it(client, dw, dave):
    item = draft(dw)
    assert client.get(url("detail", item.pk)).status_code == 404  # anonymous
    for who in (dw.charlie, dw.dora, dave):
        client.force_login(who)
        assert client.get(url("detail", item.pk)).status_code == 404


def test_a_published_party_item_is_visible_to_the_branch_not_to_others(client, dw, dave):
    item = published(dw)
    assert client.get(url("detail", item.pk)).status_code == 404  # anonymous
    for who in (dw.charlie, dw.dora):
        client.force_login(who)
        assert client.get(url("detail", item.pk)).status_code == 404
    for who in (dw.bob, dave):
        client.force_login(who)
        html = page(client, item)
        assert "1,280元" in html and f"{item.index_no}" in html


def test_the_audience_sees_the_item_without_the_working_record(client, dw, dave):
    item = published(dw)
    client.force_login(dave)
    html = page(client, item)
    assert 'id="workflow"' not in html and 'id="log"' not in html and 'id="reviews"' not in html
    assert "索引号" in html and "发布机构" in html and "有效期" in html
    client.force_login(dw.bob)
    html = page(client, item)
    assert 'id="workflow"' in html and 'id="log"' in html and 'id="reviews"' in html
    assert "不涉及党和国家秘密" in html  # the review's opinion
    assert "政治安全风险" in html  # the risk table
    assert "书记签发" in html and "已批准" in html  # the route with its state
    assert "记录链校验完整" in html
    assert "archive.zip" not in html  # only an archived item has an archive package


def test_a_society_item_is_public(client, dw):
    item = through_review(dw, draft(dw, entry=dw.open, title="2027年支部工作计划"))
    assert item.status == S.APPROVED  # the entry names no approval step
    item = actions.disclosure_publish(item, actor=dw.bob)
    html = client.get(url("detail", item.pk)).content.decode()
    assert "2027年支部工作计划" in html
    assert 'id="workflow"' not in html


def test_the_panel_offers_only_the_steps_of_this_person_in_this_state(client, dw):
    item = draft(dw)
    client.force_login(dw.bob)
    assert ">提出</button>" in page(client, item)
    client.force_login(dw.rita)
    html = page(client, item)
    assert ">提出</button>" not in html and "开始审核" not in html
    assert "您目前没有需要办理的步骤" in html

    item = actions.disclosure_submit(item, actor=dw.bob)
    assert "开始审核</button>" in page(client, item)
    client.force_login(dw.bob)  # the author never reviews their own item
    assert "开始审核</button>" not in page(client, item)

    item = actions.disclosure_start_review(item, actor=dw.rita)
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    client.force_login(dw.alice)
    html = page(client, item)
    assert "签批同意</button>" in html and "登记集体决定</button>" in html
    assert "立即发布" not in html
    client.force_login(dw.rita)
    assert "签批同意</button>" not in page(client, item)


# --- steps: who may take them -----------------------------------------------------------------


@pytest.mark.parametrize("step", STEPS)
def test_steps_send_anonymous_visitors_to_log_in(client, dw, step):
    item = draft(dw)
    response = post(client, step, item)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("step", STEPS)
def test_steps_on_an_item_someone_cannot_see_are_a_404(client, dw, step):
    item = draft(dw)
    client.force_login(dw.charlie)
    assert post(client, step, item).status_code == 404


@pytest.mark.parametrize("step", STEPS)
def test_steps_are_refused_to_the_audience_of_a_published_item(client, dw, dave, step):
    item = published(dw)
    client.force_login(dave)
    response = post(client, step, item)
    assert response.status_code == 403
    assert fresh(item).status == S.PUBLISHED


def test_steps_only_take_posts(client, dw):
    item = draft(dw)
    client.force_login(dw.bob)
    assert client.get(url("submit", item.pk)).status_code == 405


def test_a_wrong_state_is_a_400_with_the_reason_in_chinese(client, dw):
    item = draft(dw)
    client.force_login(dw.bob)
    response = post(client, "publish", item)
    assert response.status_code == 400
    assert "当前状态为“草稿”，不能执行此操作" in response.content.decode()


# --- the whole procedure through the screens --------------------------------------------------


def test_the_whole_procedure_through_the_screens(client, dw):
    client.force_login(dw.bob)
    response = client.post(
        url("create", dw.branch1.pk),
        {
            "entry": dw.monthly.pk,
            "title": "2026年11月党费收缴使用情况",
            "body": f"<p>联系人电话{MOBILE}。本月收缴党费1,320元。</p>",
            "scope": "entry",
            "co_units": [dw.branch2.pk],
        },
    )
    item = Disclosure.objects.get()
    assert post(client, "submit", item).status_code == 302
    assert fresh(item).status == S.SUBMITTED
    assert [t.kind for t in Task.objects.open().for_user(dw.rita)] == ["review"]

    # The reviewer starts, sees the mobile number found, redacts it and passes.
    client.force_login(dw.rita)
    assert post(client, "start_review", item).status_code == 302
    html = page(client, item)
    assert "手机号码" in html and ">脱敏</button>" in html
    [finding] = actions.prescreen_item(fresh(item))
    redact = {k: finding[k] for k in ("field", "start", "end")}
    assert post(client, "redact", item, redact).status_code == 302
    assert MOBILE not in fresh(item).body
    assert post(client, "review", item, {**REVIEW, "decision": "pass"}).status_code == 302
    assert fresh(item).status == S.CONFIRMING

    # The co-unit agrees.
    client.force_login(dw.cathy)
    html = page(client, item)
    assert "湖滨社区第二党支部" in html and ">同意</button>" in html
    assert post(client, "confirm", item, {"org": dw.branch2.pk, "agree": "1"}).status_code == 302
    assert fresh(item).status == S.APPROVING

    # The principal signs.
    client.force_login(dw.alice)
    response = post(client, "approve", item, {"form": "signed", "comment": "同意公开"})
    assert response.status_code == 302
    assert fresh(item).status == S.APPROVED

    # The clerk publishes it.
    client.force_login(dw.bob)
    response = post(client, "publish", item)
    assert response.status_code == 302
    item = fresh(item)
    assert item.status == S.PUBLISHED and item.index_no
    assert f"已发布，索引号 {item.index_no}" in client.get(response["Location"]).content.decode()
    html = page(client, item)
    for step in ("提出", "开始审核", "脱敏", "审核通过", "沟通会签", "审批同意", "发布"):
        assert f"<strong>{step}</strong>" in html
    assert "记录链校验完整" in html


def test_redaction_through_the_screen_keeps_the_original_in_the_old_revision(client, dw):
    body = f"<p>申请人身份证号{ID_NUMBER}，电话{MOBILE}。</p>"
    item = submitted_for_review(dw, body=body)
    before = item.revision
    findings = {f["label"]: f for f in actions.prescreen_item(item)}
    assert set(findings) == {"居民身份证号码", "手机号码"}
    client.force_login(dw.rita)
    f = findings["居民身份证号码"]
    response = post(
        client, "redact", item, {"field": f["field"], "start": f["start"], "end": f["end"]}
    )
    assert response.status_code == 302
    item = fresh(item)
    assert ID_NUMBER not in item.body and MOBILE in item.body
    assert item.revision == before + 1
    assert ID_NUMBER in Revision.objects.get(disclosure=item, number=before).content["body"]
    # The original is in the record for the staff, on the revision page.
    html = client.get(url("revision", item.pk, before)).content.decode()
    assert ID_NUMBER in html
    # An out-of-date finding (the text moved) is refused with nothing changed.
    response = post(
        client, "redact", item, {"field": "body", "start": f["start"] + 1, "end": f["end"]}
    )
    assert response.status_code == 400
    assert "预检结果已不存在" in response.content.decode()


def test_the_revision_page_is_for_the_staff_only(client, dw, dave):
    item = published(dw)
    client.force_login(dave)
    assert client.get(url("revision", item.pk, 1)).status_code == 403
    client.force_login(dw.charlie)
    assert client.get(url("revision", item.pk, 1)).status_code == 404


def test_a_review_without_opinions_is_refused_and_keeps_what_was_typed(client, dw):
    item = submitted_for_review(dw)
    client.force_login(dw.rita)
    response = post(client, "review", item, {"decision": "pass", "necessity": "确属目录事项"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写保密审查意见" in html and "确属目录事项" in html
    assert fresh(item).status == S.REVIEWING


def test_medium_risks_need_a_prevention_plan(client, dw):
    item = submitted_for_review(dw)
    client.force_login(dw.rita)
    data = {**REVIEW, "risk_opinion": "medium", "decision": "pass"}
    response = post(client, "review", item, data)
    assert response.status_code == 400
    assert "风险防范预案" in response.content.decode()
    data["prevention_plan"] = "安排专人关注留言，及时解释说明"
    assert post(client, "review", item, data).status_code == 302
    review = fresh(item).reviews.get()
    assert review.risks["opinion"]["level"] == "medium"


def test_the_reviewer_returns_with_an_opinion(client, dw):
    item = submitted_for_review(dw)
    client.force_login(dw.rita)
    response = post(client, "review", item, {"decision": "return", "comment": "请补充支出明细"})
    assert response.status_code == 302
    assert fresh(item).status == S.RETURNED
    assert [t.kind for t in Task.objects.open().for_user(dw.bob)] == ["revise"]


def test_the_reviewer_refers_and_records_the_answer(client, dw):
    item = submitted_for_review(dw)
    client.force_login(dw.rita)
    post(client, "review", item, {"decision": "refer", "comment": "涉及人员名单，需确定密级"})
    assert fresh(item).status == S.REFERRED
    html = page(client, item)
    assert "登记答复</button>" in html
    response = post(
        client, "referral_answer", item, {"may_disclose": "1", "answer": "不涉密，可公开"}
    )
    assert response.status_code == 302
    assert fresh(item).status == S.REVIEWING


def test_the_reviewer_rejects_with_a_reason(client, dw):
    item = submitted_for_review(dw)
    client.force_login(dw.rita)
    response = post(client, "review", item, {"decision": "reject", "comment": "不属于公开范围"})
    assert response.status_code == 302
    assert fresh(item).status == S.REJECTED


def test_withholding_an_attachment_is_for_the_reviewer(client, dw):
    item = draft(dw)
    attachment = actions.attachment_add(
        item, actor=dw.bob, name="名单.txt", data=f"张三 {ID_NUMBER}\n".encode()
    )
    item = actions.disclosure_submit(item, actor=dw.bob)
    item = actions.disclosure_start_review(item, actor=dw.rita)
    withhold = url("withhold", item.pk, attachment.pk)
    client.force_login(dw.bob)
    assert client.post(withhold, {"text": "含身份证号"}).status_code == 403
    client.force_login(dw.rita)
    html = page(client, item)
    assert "附件：名单.txt" in html and ">不予公开</button>" in html
    assert client.post(withhold, {"text": "含身份证号"}).status_code == 302
    attachment.refresh_from_db()
    assert attachment.withheld


def test_a_withheld_attachment_is_not_served_to_a_member_but_is_to_the_staff(client, dw, dave):
    item = draft(dw)
    secret = actions.attachment_add(
        item, actor=dw.bob, name="名单.txt", data=f"张三 {ID_NUMBER}\n".encode()
    )
    plain = actions.attachment_add(
        item, actor=dw.bob, name="说明.txt", data="收支说明：全部用于党员教育。\n".encode()
    )
    item = actions.disclosure_submit(item, actor=dw.bob)
    item = actions.disclosure_start_review(item, actor=dw.rita)
    actions.attachment_withhold(secret, actor=dw.rita, reason="含身份证号")
    item = actions.disclosure_pass_review(fresh(item), actor=dw.rita, **OPINIONS)
    item = actions.disclosure_approve(item, actor=dw.alice)
    item = actions.disclosure_publish(item, actor=dw.bob)

    client.force_login(dave)
    html = page(client, item)
    assert "说明.txt" in html and "名单.txt" not in html
    assert client.get(url("attachment", item.pk, secret.pk)).status_code == 404
    response = client.get(url("attachment", item.pk, plain.pk))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content).decode() == "收支说明：全部用于党员教育。\n"

    client.force_login(dw.bob)
    response = client.get(url("attachment", item.pk, secret.pk))
    assert response.status_code == 200
    assert ID_NUMBER.encode() in b"".join(response.streaming_content)
    client.force_login(dw.charlie)
    assert client.get(url("attachment", item.pk, plain.pk)).status_code == 404
    client.logout()
    assert client.get(url("attachment", item.pk, plain.pk)).status_code == 404


def test_attachments_are_uploaded_and_removed_on_the_item_page(client, dw):
    from django.core.files.uploadedfile import SimpleUploadedFile

    item = draft(dw)
    client.force_login(dw.bob)
    upload = SimpleUploadedFile("明细.txt", "党费明细\n".encode(), content_type="text/plain")
    response = client.post(url("attachment_upload", item.pk), {"file": upload})
    assert response.status_code == 302
    attachment = fresh(item).attachments.get()
    assert attachment.name == "明细.txt"
    # A file that is not what its name says is refused with the reason.
    fake = SimpleUploadedFile("报告.pdf", b"just text", content_type="application/pdf")
    response = client.post(url("attachment_upload", item.pk), {"file": fake})
    assert response.status_code == 400
    assert "与扩展名 .pdf 不符" in response.content.decode()
    response = client.post(url("attachment_remove", item.pk, attachment.pk))
    assert response.status_code == 302
    attachment.refresh_from_db()
    assert attachment.removed
    client.force_login(dw.rita)
    assert client.post(url("attachment_remove", item.pk, attachment.pk)).status_code == 403


def test_a_co_unit_must_give_a_reason_to_disagree(client, dw):
    item = through_review(dw, draft(dw, co_units=[dw.branch2.pk]))
    assert item.status == S.CONFIRMING
    client.force_login(dw.cathy)
    response = post(client, "confirm", item, {"org": dw.branch2.pk, "agree": "0"})
    assert response.status_code == 400
    assert "请填写不同意的理由" in response.content.decode()
    response = post(
        client, "confirm", item, {"org": dw.branch2.pk, "agree": "0", "comment": "数据与我支部不符"}
    )
    assert response.status_code == 302
    assert fresh(item).status == S.RETURNED
    row = CoConfirmation.objects.get(disclosure=item)
    assert row.answer == "disagreed" and row.by == dw.cathy
    client.force_login(dw.bob)  # not staff of the co-unit
    assert post(client, "confirm", item, {"org": dw.branch2.pk, "agree": "1"}).status_code == 403


def test_a_collective_decision_then_the_parent_approves_an_escalated_item(client, dw):
    item = through_review(dw, draft(dw, entry=dw.escalate, title="发展对象预审结果"))
    assert item.status == S.APPROVING
    client.force_login(dw.alice)
    html = page(client, item)
    assert "登记集体决定</button>" in html and "签批同意</button>" not in html
    today = timezone.localdate().isoformat()
    response = post(
        client,
        "approve",
        item,
        {"form": "collective", "meeting": "支部委员会会议", "meeting_date": "", "minutes": ""},
    )
    assert response.status_code == 400
    assert "请填写会议日期" in response.content.decode()
    response = post(
        client,
        "approve",
        item,
        {
            "form": "collective",
            "meeting": "支部委员会会议",
            "meeting_date": today,
            "minutes": "全体支委同意报上级审批",
        },
    )
    assert response.status_code == 302
    item = fresh(item)
    assert item.status == S.APPROVING and item.is_escalated
    # The branch's principal cannot decide the parent's step.
    assert post(client, "approve", item, {"form": "signed"}).status_code == 403
    client.force_login(dw.paula)
    html = page(client, item)
    assert "签批同意</button>" in html and "支部委员会会议" in html
    assert post(client, "approve", item, {"form": "signed", "comment": "同意"}).status_code == 302
    assert fresh(item).status == S.APPROVED


def test_an_approver_returns_or_rejects(client, dw):
    item = through_review(dw, draft(dw))
    client.force_login(dw.alice)
    response = post(client, "return", item, {"text": ""})
    assert response.status_code == 400
    assert "请填写退回意见" in response.content.decode()
    assert post(client, "return", item, {"text": "请附上收据"}).status_code == 302
    assert fresh(item).status == S.RETURNED

    item = through_review(dw, draft(dw, title="另一事项"))
    assert post(client, "reject", item, {"text": "本月不宜公开"}).status_code == 302
    assert fresh(item).status == S.REJECTED


def test_the_clerk_schedules_an_approved_item(client, dw):
    item = approved(dw)
    client.force_login(dw.bob)
    when = timezone.localtime() + datetime.timedelta(days=1)
    response = post(client, "schedule", item, {"publish_at": when.strftime("%Y-%m-%dT%H:%M:%S")})
    assert response.status_code == 302
    item = fresh(item)
    assert item.status == S.SCHEDULED and item.publish_at is not None
    assert abs((item.publish_at - when).total_seconds()) < 1
    response = post(client, "schedule", item, {"publish_at": "not a date"})
    assert response.status_code == 400
    assert "请按“年-月-日 时:分”填写发布时间" in response.content.decode()


def test_a_scheduled_item_is_published_by_the_worker_when_due(client, dw):
    item = approved(dw)
    client.force_login(dw.bob)
    when = timezone.localtime() + datetime.timedelta(seconds=2)
    post(client, "schedule", item, {"publish_at": when.strftime("%Y-%m-%dT%H:%M:%S")})
    assert actions.publish_due(timezone.now() + datetime.timedelta(seconds=5)) == [item.pk]
    assert fresh(item).status == S.PUBLISHED


def test_only_the_principal_consents_to_a_delay(client, dw):
    item = approved(dw)
    until = (timezone.localtime() + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    data = {"until": until, "reason": "待上级统一部署后公开"}
    client.force_login(dw.bob)
    assert post(client, "delay", item, data).status_code == 403
    client.force_login(dw.alice)
    assert post(client, "delay", item, data).status_code == 302
    item = fresh(item)
    assert item.status == S.SCHEDULED and item.delay_consent_by == dw.alice
    assert "待上级统一部署后公开" in page(client, item)


def test_withdrawn_item_shows_the_notice_but_not_the_content_to_a_member(client, dw, dave):
    item = draft(dw)
    attachment = actions.attachment_add(item, actor=dw.bob, name="说明.txt", data=b"note\n")
    item = actions.disclosure_approve(through_review(dw, item), actor=dw.alice)
    item = actions.disclosure_publish(item, actor=dw.bob)
    client.force_login(dave)
    assert post(client, "withdraw", item, {"text": "数据有误"}).status_code == 403
    client.force_login(dw.alice)
    response = post(client, "withdraw", item, {"text": "短"})
    assert response.status_code == 400
    notice = "收缴金额统计有误，已撤回，更正后重新公开。"
    assert post(client, "withdraw", item, {"text": notice}).status_code == 302
    assert fresh(item).status == S.WITHDRAWN

    client.force_login(dave)
    html = page(client, item)
    assert notice in html and "已撤回" in html
    assert "1,280元" not in html and "说明.txt" not in html
    assert client.get(url("attachment", item.pk, attachment.pk)).status_code == 404
    client.force_login(dw.bob)  # the staff keep the record
    html = page(client, item)
    assert notice in html and "1,280元" in html
    assert client.get(url("attachment", item.pk, attachment.pk)).status_code == 200


def test_a_correction_notice_is_shown_with_the_item(client, dw, dave):
    item = published(dw)
    client.force_login(dw.bob)
    notice = "第二段中“上缴”应为“缴纳”，特此更正。"
    assert post(client, "correct", item, {"text": notice}).status_code == 302
    client.force_login(dave)
    html = page(client, item)
    assert notice in html and 'id="correction"' in html and "1,280元" in html


def test_close_and_archive(client, dw):
    item = published(dw)
    client.force_login(dw.rita)
    assert post(client, "close", item).status_code == 403
    client.force_login(dw.bob)
    assert post(client, "archive", item).status_code == 400  # published items are not archived
    assert post(client, "close", item, {"text": "公示期满"}).status_code == 302
    assert fresh(item).status == S.CLOSED
    assert post(client, "archive", item, {"text": "无反馈意见"}).status_code == 302
    assert fresh(item).status == S.ARCHIVED
    assert f'href="/disclosures/{item.pk}/archive.zip"' in page(client, item)


def test_widening_the_scope_is_proposed_and_approved(client, dw):
    item = published(dw)
    client.force_login(dw.bob)
    response = post(client, "widen", item, {"scope": "society", "reason": "群众普遍关心"})
    assert response.status_code == 302
    assert ScopeChange.objects.get().status == "pending"
    html = page(client, item)
    assert "待批准的公开范围调整" in html and "批准扩大</button>" not in html
    assert post(client, "widen_decide", item, {"approve": "1"}).status_code == 403
    client.force_login(dw.alice)
    assert "批准扩大</button>" in page(client, item)
    assert post(client, "widen_decide", item, {"approve": "1", "text": "同意"}).status_code == 302
    client.logout()
    assert client.get(url("detail", item.pk)).status_code == 200  # now public


def test_an_out_of_catalog_item_is_settled_with_the_catalog_after_publication(client, dw):
    item = draft(dw, title="临时通知", out_of_catalog_reason="上级临时部署的工作")
    item = actions.disclosure_approve(through_review(dw, item), actor=dw.alice)
    item = actions.disclosure_publish(item, actor=dw.bob)
    assert item.catalog_update_pending
    client.force_login(dw.rita)
    assert post(client, "catalog_update", item, {"add": "0"}).status_code == 403
    client.force_login(dw.bob)
    assert "纳入本组织目录</button>" in page(client, item)
    assert post(client, "catalog_update", item, {"add": "0"}).status_code == 302
    assert not fresh(item).catalog_update_pending


def test_the_archive_export_link_is_wired(dw):
    assert url("archive_export", 7) == "/disclosures/7/archive.zip"


def test_the_body_is_rendered_as_sanitized_html(client, dw, dave):
    item = published(dw, body='<p><strong>要点</strong><a href="javascript:alert(1)">链接</a></p>')
    client.force_login(dave)
    html = page(client, item)
    assert "<strong>要点</strong>" in html and "javascript:" not in html


def test_a_draft_shows_its_body_to_its_author(client, dw):
    item = draft(dw)
    client.force_login(dw.bob)
    assert BODY in page(client, item)
