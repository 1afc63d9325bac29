"""The rules of a disclosure's procedure, one by one (issue 4): edits invalidate approvals,
four eyes in review, secrecy markings and referrals, co-confirmation, escalation to the
parent, out-of-catalog items under each rule-set, delayed disclosure, withdrawal, scope
widening, archiving, index numbers, and two approvers at once."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone

from dwgk.audience.keys import Audience
from dwgk.catalog.models import CatalogEntry, CatalogVersion
from dwgk.disclosures import actions, prescreen
from dwgk.disclosures.models import (
    Approval,
    CoConfirmation,
    Disclosure,
    Review,
    ScopeChange,
)
from dwgk.inbox.models import Task
from dwgk.lib.errors import ActionError, NotAllowed
from tests.cast import make_member
from tests.disclosure_cast import (
    BODY,
    OPINIONS,
    approved,
    branch2_catalog,
    draft,
    later,
    published,
    published_in_branch2,
    record_of,
    second_co_unit,
    through_review,
)

S = Disclosure.Status
NOTICE = "经核实，原公开内容中的数字有误，现予更正。"
TODAY = datetime.date.today


def fresh(item: Disclosure) -> Disclosure:
    return Disclosure.objects.get(pk=item.pk)


def tasks_of(user: Any, item: Disclosure) -> list[str]:
    url = actions.item_url(item)
    return [t.kind for t in Task.objects.open().for_user(user).filter(url=url)]


def collective(**extra: Any) -> dict[str, Any]:
    return {
        "collective": True,
        "meeting": "支部委员会会议",
        "meeting_date": TODAY(),
        "minutes": "会议研究，同意公开",
        **extra,
    }


def review_and_approve(dw, item: Disclosure) -> Disclosure:
    item = actions.disclosure_start_review(item, actor=dw.rita)
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    return actions.disclosure_approve(item, actor=dw.alice, comment="同意")


def at(moment: datetime.datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, "now" is `moment` (the worker's clock, auto_now fields, everything)."""
    monkeypatch.setattr(timezone, "now", lambda: moment)


# --- an approval counts only for the content it approved ---------------------------------


def test_an_edit_after_approval_sends_the_item_back_to_review(dw):
    item = approved(dw)
    assert item.status == S.APPROVED
    item = actions.disclosure_edit(item, actor=dw.bob, body=BODY + "<p>补充：上缴凭证已存档。</p>")
    assert item.status == S.SUBMITTED
    assert item.revision == 2
    # The old approval stays in the record, naming the revision it was given for.
    assert list(item.approvals.values_list("revision", "decision")) == [(1, "approved")]
    assert tasks_of(dw.rita, item) == ["review"]


def test_publish_refuses_edited_content_until_it_is_reviewed_and_approved_again(dw):
    item = actions.disclosure_edit(
        approved(dw), actor=dw.bob, title="2026年10月党费收缴情况（更正）"
    )
    with pytest.raises(ActionError, match="已提出，待审核"):
        actions.disclosure_publish(item, actor=dw.bob)
    assert actions.clearance_problems(item) == [
        "当前内容未经审核通过",
        "“书记签发”环节未批准当前内容",
    ]
    item = actions.disclosure_start_review(item, actor=dw.rita)
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    assert actions.clearance_problems(item) == ["“书记签发”环节未批准当前内容"]
    with pytest.raises(ActionError, match="审批中"):
        actions.disclosure_publish(item, actor=dw.bob)
    item = actions.disclosure_approve(item, actor=dw.alice)
    item = actions.disclosure_publish(item, actor=dw.bob)
    assert item.status == S.PUBLISHED
    assert item.published_revision == 2
    assert item.approvals.filter(decision="approved").count() == 2


def test_a_scheduled_item_edited_before_its_time_is_not_published_by_the_worker(dw, monkeypatch):
    item = actions.disclosure_schedule(approved(dw), actor=dw.bob, publish_at=later(30))
    item = actions.disclosure_edit(item, actor=dw.alice, title="2026年10月党费收缴使用情况（修订）")
    at(timezone.now() + datetime.timedelta(hours=1), monkeypatch)
    assert actions.publish_due() == []
    assert fresh(item).status == S.SUBMITTED
    assert fresh(item).index_no is None


def test_publish_names_every_missing_approval_in_chinese(dw, monkeypatch):
    """Even if the state were wrong, the record decides (clearance_problems): the reason
    given lists each missing piece in the words of the procedure."""
    item = through_review(dw, draft(dw, entry=dw.escalate, co_units=[dw.branch2.pk]))
    # Pretend a bug had moved the state on, without the record to support it.
    Disclosure.objects.filter(pk=item.pk).update(status=S.APPROVED)
    with pytest.raises(ActionError) as refused:
        actions.disclosure_publish(item, actor=dw.bob)
    assert refused.value.message == (
        "不能发布：会签单位尚未全部同意当前内容；“支部委员会决定”环节未批准当前内容；"
        "“报上级党组织审批”环节未批准当前内容。"
    )


# --- review -------------------------------------------------------------------------------


def test_the_reviewer_cannot_review_their_own_item(dw):
    # alice is principal (so she may propose) and may review — but not what she proposed.
    item = actions.disclosure_create(
        dw.branch1, actor=dw.alice, entry=dw.monthly, title="2026年11月党费收缴使用情况", body=BODY
    )
    item = actions.disclosure_submit(item, actor=dw.alice)
    before = record_of(item)
    with pytest.raises(NotAllowed, match="不能审核自己提出的事项"):
        actions.disclosure_start_review(item, actor=dw.alice)
    assert record_of(item) == before
    assert tasks_of(dw.alice, item) == ["review"]  # the queue shows it; acting is refused
    item = actions.disclosure_start_review(item, actor=dw.rita)
    with pytest.raises(NotAllowed):
        actions.disclosure_pass_review(item, actor=dw.alice, **OPINIONS)
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    assert item.status == S.APPROVING


def test_the_review_records_the_four_opinions_the_risks_and_the_pre_screen(dw):
    item = through_review(dw, draft(dw, body=BODY + "<p>联系电话13812345678。</p>"))
    review = item.reviews.get()
    assert review.outcome == Review.Outcome.PASSED
    assert review.reviewer == dw.rita
    assert review.revision == item.revision
    assert review.accuracy == "数据与财务记录一致"
    assert {row[1] for row in review.risk_rows()} == {"低"}
    assert review.findings == {"手机号码": 1}


SECRET_BODY = "<p>根据机密★1年文件精神，现将2026年发展党员预审结果公示如下。</p>"


def reviewing_secret(dw) -> Disclosure:
    item = actions.disclosure_submit(draft(dw, body=SECRET_BODY), actor=dw.bob)
    return actions.disclosure_start_review(item, actor=dw.rita)


def test_a_secrecy_marking_blocks_the_review(dw):
    item = reviewing_secret(dw)
    before = record_of(item)
    with pytest.raises(ActionError, match="预检发现涉密标识“机密★1年”"):
        actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    assert record_of(item) == before


def test_redacting_the_marking_lets_the_review_pass(dw):
    item = reviewing_secret(dw)
    (marking,) = [f for f in prescreen.scan(item.body) if f.severity == "block"]
    item = actions.disclosure_redact(
        item, actor=dw.rita, field="body", start=marking.start, end=marking.end
    )
    assert "机密★1年" not in item.body
    assert "■■■■■" in item.body
    assert item.revision == 2
    # The original stays in the record, for staff only.
    assert "机密★1年" in item.revisions.get(number=1).content["body"]
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    assert item.status == S.APPROVING


def test_a_redaction_with_stale_offsets_is_refused(dw):
    item = reviewing_secret(dw)
    (marking,) = prescreen.scan(item.body)
    actions.disclosure_redact(
        item, actor=dw.rita, field="body", start=marking.start, end=marking.end
    )
    with pytest.raises(ActionError, match="该预检结果已不存在"):
        actions.disclosure_redact(
            item, actor=dw.rita, field="body", start=marking.start, end=marking.end
        )


def test_an_ordinary_word_like_secret_ballot_does_not_block(dw):
    item = actions.disclosure_submit(
        draft(dw, body="<p>支部大会采取秘密投票方式选举支部委员。</p>"), actor=dw.bob
    )
    item = actions.disclosure_start_review(item, actor=dw.rita)
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    assert item.status == S.APPROVING


def test_a_referral_answered_may_disclose_goes_back_to_review(dw):
    item = actions.disclosure_refer(
        reviewing_secret(dw), actor=dw.rita, question="所引文件的密级是否已解除"
    )
    assert item.status == S.REFERRED
    assert tasks_of(dw.rita, item) == ["referral"]
    item = actions.disclosure_referral_answer(
        item, actor=dw.rita, may_disclose=True, answer="经保密部门确定，可以公开"
    )
    assert item.status == S.REVIEWING
    assert tasks_of(dw.rita, item) == ["review"]


def test_after_the_secrecy_administration_says_it_may_be_disclosed_the_review_can_pass(dw):
    item = actions.disclosure_refer(
        reviewing_secret(dw), actor=dw.rita, question="所引文件的密级是否已解除"
    )
    item = actions.disclosure_referral_answer(
        item, actor=dw.rita, may_disclose=True, answer="经保密部门确定，该文件已解密，可以公开"
    )
    item = actions.disclosure_pass_review(item, actor=dw.rita, **OPINIONS)
    assert item.status == S.APPROVING


def test_a_referral_answered_may_not_disclose_rejects_the_item(dw):
    item = actions.disclosure_refer(
        reviewing_secret(dw), actor=dw.rita, question="所引文件的密级是否已解除"
    )
    item = actions.disclosure_referral_answer(
        item, actor=dw.rita, may_disclose=False, answer="经保密部门确定，属于国家秘密"
    )
    assert item.status == S.REJECTED
    assert list(item.reviews.values_list("outcome", flat=True)) == ["referred", "rejected"]
    assert dw.bob.notifications.filter(text__contains="经保密部门确定不予公开").exists()
    with pytest.raises(ActionError):
        actions.disclosure_submit(item, actor=dw.bob)


# --- co-confirmation (PROC-8) --------------------------------------------------------------


def confirming(dw) -> tuple[Disclosure, Any]:
    della = second_co_unit(dw)
    item = through_review(dw, draft(dw, co_units=[dw.branch2.pk, dw.discipline.pk]))
    assert item.status == S.CONFIRMING
    return item, della


def test_each_co_unit_finds_its_confirmation_in_its_queue(dw):
    item, della = confirming(dw)
    assert tasks_of(dw.cathy, item) == ["confirm"]
    assert tasks_of(della, item) == ["confirm"]
    assert tasks_of(dw.alice, item) == []
    # The co-units' staff see the item while it is being confirmed; others in branch2 do not.
    assert item in Disclosure.objects.visible_to(dw.cathy)
    assert item not in Disclosure.objects.visible_to(dw.charlie)


def test_one_disagreement_returns_the_item_once_every_co_unit_has_answered(dw):
    item, della = confirming(dw)
    item = actions.disclosure_confirm(
        item, actor=dw.cathy, org=dw.branch2, agree=False, comment="我支部的党员人数有误"
    )
    assert item.status == S.CONFIRMING  # della has not answered yet
    assert tasks_of(dw.cathy, item) == []
    item = actions.disclosure_confirm(item, actor=della, org=dw.discipline, agree=True)
    assert item.status == S.RETURNED
    assert tasks_of(dw.bob, item) == ["revise"]
    assert dw.bob.notifications.filter(text__contains="会签单位有不同意见").exists()


def test_when_every_co_unit_agrees_the_item_goes_to_approval(dw):
    item, della = confirming(dw)
    item = actions.disclosure_confirm(item, actor=della, org=dw.discipline, agree=True)
    item = actions.disclosure_confirm(item, actor=dw.cathy, org=dw.branch2, agree=True)
    assert item.status == S.APPROVING
    assert tasks_of(dw.alice, item) == ["approve"]


def test_a_co_unit_answers_a_round_only_once(dw):
    item, _della = confirming(dw)
    actions.disclosure_confirm(item, actor=dw.cathy, org=dw.branch2, agree=True)
    with pytest.raises(ActionError, match="已答复过本轮会签"):
        actions.disclosure_confirm(
            item, actor=dw.cathy, org=dw.branch2, agree=False, comment="改主意了"
        )


def test_after_a_return_the_revised_item_is_confirmed_again_from_scratch(dw):
    item, della = confirming(dw)
    actions.disclosure_confirm(
        item, actor=dw.cathy, org=dw.branch2, agree=False, comment="人数有误"
    )
    item = actions.disclosure_confirm(item, actor=della, org=dw.discipline, agree=True)
    item = actions.disclosure_edit(item, actor=dw.bob, body=BODY + "<p>更正：党员人数为32人。</p>")
    item = through_review(dw, item)
    assert item.status == S.CONFIRMING
    rounds = item.co_confirmations.filter(revision=item.revision)
    assert sorted(rounds.values_list("answer", flat=True)) == ["pending", "pending"]
    # the earlier round is kept as it was
    assert item.co_confirmations.filter(revision=1, answer="disagreed").count() == 1


# --- escalation to the parent (PROC-3) -----------------------------------------------------


def escalated(dw) -> Disclosure:
    item = through_review(dw, draft(dw, entry=dw.escalate, title="2026年发展党员预审结果"))
    assert item.status == S.APPROVING
    return actions.disclosure_approve(
        item, actor=dw.alice, meeting_date=TODAY(), minutes="支部委员会研究，同意报上级审批"
    )


def test_the_body_step_needs_the_meeting_its_date_and_minutes(dw):
    item = through_review(dw, draft(dw, entry=dw.escalate))
    before = record_of(item)
    with pytest.raises(ActionError, match="会议日期"):
        actions.disclosure_approve(item, actor=dw.alice, minutes="同意报上级审批")
    with pytest.raises(ActionError, match="会议记录摘要"):
        actions.disclosure_approve(item, actor=dw.alice, meeting_date=TODAY())
    with pytest.raises(NotAllowed):  # a collective decision is recorded by its staff
        actions.disclosure_approve(item, actor=dw.rita, **collective())
    assert record_of(item) == before


def test_after_the_branch_committee_decides_the_item_waits_for_the_parent(dw):
    item = escalated(dw)
    assert item.status == S.APPROVING
    assert item.is_escalated
    decision = item.approvals.get()
    assert decision.form == Approval.Form.COLLECTIVE
    assert decision.meeting == "支部委员会"
    assert decision.meeting_date == TODAY()
    assert decision.minutes == "支部委员会研究，同意报上级审批"
    assert decision.acting_org == dw.branch1
    assert tasks_of(dw.paula, item) == ["approve"]
    assert tasks_of(dw.alice, item) == []
    assert item in Disclosure.objects.visible_to(dw.paula)


def test_the_branch_cannot_approve_the_parent_step_for_itself(dw):
    item = escalated(dw)
    before = record_of(item)
    for actor, how in [(dw.alice, {}), (dw.alice, collective()), (dw.bob, collective())]:
        with pytest.raises(NotAllowed):
            actions.disclosure_approve(item, actor=actor, **how)
    assert record_of(item) == before


def test_the_parent_approves_its_step(dw):
    item = actions.disclosure_approve(escalated(dw), actor=dw.paula, comment="同意公示")
    assert item.status == S.APPROVED
    parent = item.approvals.get(step=1)
    assert (parent.by, parent.acting_org, parent.form) == (dw.paula, dw.community, "signed")
    assert tasks_of(dw.paula, item) == []
    assert tasks_of(dw.bob, item) == ["publish"]


def test_the_parent_may_return_an_escalated_item(dw):
    item = actions.disclosure_return(escalated(dw), actor=dw.paula, opinion="请补充考察材料")
    assert item.status == S.RETURNED
    assert item.approvals.get(step=1).decision == Approval.Decision.RETURNED


# --- out-of-catalog items (PROC-7) ---------------------------------------------------------

REASON = "社区疫情防控捐款情况，群众普遍关心"


def out_of_catalog(dw) -> Disclosure:
    item = draft(dw, out_of_catalog_reason=REASON, title="社区党员自愿捐款情况")
    return actions.disclosure_submit(item, actor=dw.bob)


def test_an_out_of_catalog_item_needs_a_reason(dw):
    with pytest.raises(ActionError, match="目录外事项须写明公开理由"):
        draft(dw, out_of_catalog_reason="  ")


def test_under_bj_an_out_of_catalog_item_needs_the_principal(dw, settings):
    settings.CATALOG_RULESET = "bj"
    item = out_of_catalog(dw)
    assert [(s["kind"], s.get("role")) for s in item.route] == [("role", "principal")]
    item = actions.disclosure_pass_review(
        actions.disclosure_start_review(item, actor=dw.rita), actor=dw.rita, **OPINIONS
    )
    with pytest.raises(NotAllowed):
        actions.disclosure_approve(item, actor=dw.bob)  # the clerk cannot sign for the principal
    item = actions.disclosure_approve(item, actor=dw.alice, comment="同意")
    assert item.status == S.APPROVED


def test_under_bj_a_collective_decision_may_stand_for_the_principal(dw, settings):
    settings.CATALOG_RULESET = "bj"
    item = out_of_catalog(dw)
    item = actions.disclosure_pass_review(
        actions.disclosure_start_review(item, actor=dw.rita), actor=dw.rita, **OPINIONS
    )
    item = actions.disclosure_approve(item, actor=dw.bob, **collective())
    assert item.status == S.APPROVED
    assert item.approvals.get().form == Approval.Form.COLLECTIVE


def test_a_published_out_of_catalog_item_asks_the_clerk_to_update_the_catalog(dw, settings):
    settings.CATALOG_RULESET = "bj"
    item = review_and_approve(dw, out_of_catalog(dw))
    item = actions.disclosure_publish(item, actor=dw.bob)
    assert item.catalog_update_pending
    assert "catalog_update" in tasks_of(dw.bob, item)
    with pytest.raises(NotAllowed):
        actions.disclosure_catalog_update(item, actor=dw.rita)

    entry = actions.disclosure_catalog_update(item, actor=dw.bob)
    assert isinstance(entry, CatalogEntry)
    assert entry.content == "社区党员自愿捐款情况"
    assert entry.version.status == CatalogVersion.Status.DRAFT
    assert entry.version.number == 2
    assert entry.version.catalog.org == dw.branch1
    assert entry.approval == [{"kind": "role", "role": "principal"}]
    assert f"索引号 {item.index_no}" in entry.remarks
    item = fresh(item)
    assert not item.catalog_update_pending
    assert tasks_of(dw.bob, item) == []
    with pytest.raises(ActionError, match="没有待处理的目录调整"):
        actions.disclosure_catalog_update(item, actor=dw.bob)


def test_the_clerk_may_leave_an_out_of_catalog_item_a_one_off(dw, settings):
    settings.CATALOG_RULESET = "bj"
    item = actions.disclosure_publish(review_and_approve(dw, out_of_catalog(dw)), actor=dw.bob)
    assert actions.disclosure_catalog_update(item, actor=dw.alice, add_entry=False) is None
    assert not fresh(item).catalog_update_pending
    assert CatalogVersion.objects.filter(catalog__org=dw.branch1).count() == 1


@pytest.mark.parametrize("ruleset", ["nm", "qj"])
def test_under_nm_and_qj_an_out_of_catalog_item_also_goes_to_the_parent(dw, settings, ruleset):
    settings.CATALOG_RULESET = ruleset
    item = out_of_catalog(dw)
    assert [s["kind"] for s in item.route] == ["role", "parent"]
    item = review_and_approve(dw, item)
    assert item.status == S.APPROVING
    assert item.is_escalated
    assert tasks_of(dw.paula, item) == ["approve"]
    item = actions.disclosure_approve(item, actor=dw.paula, comment="同意")
    assert item.status == S.APPROVED


@pytest.mark.parametrize("ruleset", ["bj", "cmu", "sx"])
def test_under_bj_cmu_and_sx_the_parent_is_not_asked(dw, settings, ruleset):
    settings.CATALOG_RULESET = ruleset
    assert [s["kind"] for s in out_of_catalog(dw).route] == ["role"]


# --- delayed disclosure (TIME-1) ----------------------------------------------------------


def delayed(dw) -> Disclosure:
    item = approved(dw, timing_kind="delayed")
    assert item.status == S.APPROVED
    return item


def test_a_delayed_item_cannot_be_scheduled_without_the_principals_consent(dw):
    item = delayed(dw)
    before = record_of(item)
    with pytest.raises(ActionError, match="延期公开事项须先经组织同意延期"):
        actions.disclosure_schedule(item, actor=dw.bob, publish_at=later(60))
    assert record_of(item) == before


def test_a_delayed_item_cannot_be_published_without_the_principals_consent(dw):
    item = delayed(dw)
    with pytest.raises(ActionError, match="延期公开事项尚未经组织同意延期"):
        actions.disclosure_publish(item, actor=dw.bob)
    assert fresh(item).status == S.APPROVED


def test_only_the_principal_consents_to_a_delay(dw):
    item = delayed(dw)
    for actor in (dw.bob, dw.rita, dw.paula):
        with pytest.raises(NotAllowed, match="主要负责人同意"):
            actions.disclosure_delay(item, actor=actor, until=later(600), reason="换届后公开")


def test_with_consent_the_delayed_item_goes_out_when_due(dw, monkeypatch):
    item = delayed(dw)
    until = later(60 * 24 * 10)
    item = actions.disclosure_delay(
        item, actor=dw.alice, until=until, reason="待换届工作结束后公开"
    )
    assert item.status == S.SCHEDULED
    assert (item.delay_consent_by, item.delay_reason) == (dw.alice, "待换届工作结束后公开")
    assert item.delay_consent_at is not None
    assert actions.publish_due() == []
    at(until + datetime.timedelta(minutes=1), monkeypatch)
    assert actions.publish_due() == [item.pk]
    assert fresh(item).status == S.PUBLISHED


def test_with_consent_staff_may_also_reschedule_a_delayed_item(dw):
    item = actions.disclosure_delay(
        delayed(dw), actor=dw.alice, until=later(600), reason="待换届工作结束后公开"
    )
    item = actions.disclosure_schedule(item, actor=dw.bob, publish_at=later(900))
    assert item.status == S.SCHEDULED


# --- withdrawal (MECH-7) and correction (MECH-5) --------------------------------------------


def test_withdrawal_needs_the_principal_and_a_notice(dw):
    item = published(dw)
    before = record_of(item)
    with pytest.raises(NotAllowed):
        actions.disclosure_withdraw(item, actor=dw.bob, notice=NOTICE)
    with pytest.raises(ActionError, match="更正说明"):
        actions.disclosure_withdraw(item, actor=dw.alice, notice="撤回")
    assert record_of(item) == before


def test_a_withdrawn_item_stays_visible_to_its_audience_with_the_notice(dw):
    mia = make_member("mia", dw.branch1, name="米娅")  # a member of branch1 without a role
    item = actions.disclosure_withdraw(published(dw), actor=dw.alice, notice=NOTICE)
    assert item.status == S.WITHDRAWN
    assert NOTICE in item.correction_notice
    assert item.withdrawn_at is not None
    assert item in Disclosure.objects.visible_to(dw.bob)
    assert item in Disclosure.objects.visible_to(mia)
    assert item not in Disclosure.objects.visible_to(dw.charlie)
    assert item not in Disclosure.objects.visible_to(AnonymousUser())


def test_corrections_accumulate_dated_in_the_notice(dw):
    item = actions.disclosure_correct(published(dw), actor=dw.bob, notice=NOTICE)
    item = actions.disclosure_correct(
        item, actor=dw.alice, notice="另：上缴时间为11月5日，特此说明。"
    )
    lines = item.correction_notice.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(NOTICE)
    assert timezone.localdate().strftime("%Y年%m月%d日") in lines[1]


# --- scope widening (SCOPE-2 先党内后党外) --------------------------------------------------


def test_widening_to_society_waits_for_the_principal(dw):
    item = published(dw)
    party = item.audience
    change = actions.scope_widen_propose(
        item, actor=dw.bob, audience=Audience(society=True), reason="党内公示期满，拟向社会公开"
    )
    assert item not in Disclosure.objects.visible_to(AnonymousUser())
    assert tasks_of(dw.alice, item) == ["scope"]
    with pytest.raises(NotAllowed):
        actions.scope_widen_decide(change, actor=dw.paula, approve=True)
    with pytest.raises(NotAllowed):
        actions.scope_widen_decide(change, actor=dw.bob, approve=True)
    actions.scope_widen_decide(change, actor=dw.alice, approve=True, comment="同意")
    assert item in Disclosure.objects.visible_to(AnonymousUser())
    assert item in Disclosure.objects.visible_to(dw.charlie)
    change = ScopeChange.objects.get(pk=change.pk)
    assert change.old_audience == party
    assert change.new_audience["society"] is True
    assert (change.status, change.decided_by) == ("approved", dw.alice)
    assert tasks_of(dw.alice, item) == []


def test_widening_an_escalated_item_is_decided_by_the_parent(dw):
    item = actions.disclosure_approve(escalated(dw), actor=dw.paula)
    item = actions.disclosure_publish(item, actor=dw.bob)
    change = actions.scope_widen_propose(
        item, actor=dw.bob, audience=Audience(society=True), reason="公示期满，向社会公开"
    )
    assert tasks_of(dw.paula, item) == ["scope"]
    with pytest.raises(NotAllowed):
        actions.scope_widen_decide(change, actor=dw.alice, approve=True)
    actions.scope_widen_decide(change, actor=dw.paula, approve=True)
    assert item in Disclosure.objects.visible_to(AnonymousUser())


def test_a_refused_widening_keeps_the_audience(dw):
    item = published(dw)
    change = actions.scope_widen_propose(
        item, actor=dw.bob, audience=Audience(society=True), reason="拟向社会公开"
    )
    actions.scope_widen_decide(change, actor=dw.alice, approve=False, comment="涉及党员个人信息")
    assert item not in Disclosure.objects.visible_to(AnonymousUser())
    assert fresh(item).audience == item.audience
    with pytest.raises(ActionError, match="该调整已处理"):
        actions.scope_widen_decide(change, actor=dw.alice, approve=True)


def test_a_widening_must_cover_the_old_audience(dw):
    item = published(dw)
    with pytest.raises(ActionError, match="只能扩大公开范围"):
        actions.scope_widen_propose(
            item, actor=dw.bob, audience=Audience(party=(dw.branch2.pk,)), reason="换个支部看"
        )


# --- archiving (PROC-6) ---------------------------------------------------------------------


def test_an_archived_item_refuses_every_further_action(dw):
    item = actions.disclosure_close(published(dw), actor=dw.bob)
    change = actions.scope_widen_propose(
        item, actor=dw.bob, audience=Audience(society=True), reason="拟向社会公开"
    )
    item = actions.disclosure_archive(item, actor=dw.bob, feedback_summary="无反馈意见")
    assert item.status == S.ARCHIVED
    # archiving refuses a pending widening, and the widening's task goes with it
    assert ScopeChange.objects.get(pk=change.pk).status == ScopeChange.Status.REFUSED
    assert Task.objects.open().filter(url=actions.item_url(item)).count() == 0
    before = record_of(item)
    attempts = [
        lambda a: actions.disclosure_edit(item, actor=a, title="改标题"),
        lambda a: actions.disclosure_submit(item, actor=a),
        lambda a: actions.disclosure_start_review(item, actor=a),
        lambda a: actions.disclosure_pass_review(item, actor=a, **OPINIONS),
        lambda a: actions.disclosure_refer(item, actor=a, question="是否涉密？"),
        lambda a: actions.disclosure_return(item, actor=a, opinion="请修改内容"),
        lambda a: actions.disclosure_reject(item, actor=a, reason="不予公开"),
        lambda a: actions.disclosure_approve(item, actor=a, **collective()),
        lambda a: actions.disclosure_schedule(item, actor=a, publish_at=later(60)),
        lambda a: actions.disclosure_delay(item, actor=a, until=later(600), reason="换届后公开"),
        lambda a: actions.disclosure_publish(item, actor=a),
        lambda a: actions.disclosure_expire(item, actor=a),
        lambda a: actions.disclosure_close(item, actor=a),
        lambda a: actions.disclosure_withdraw(item, actor=a, notice=NOTICE),
        lambda a: actions.disclosure_correct(item, actor=a, notice=NOTICE),
        lambda a: actions.disclosure_archive(item, actor=a),
        lambda a: actions.scope_widen_propose(
            item, actor=a, audience=Audience(society=True), reason="拟向社会公开"
        ),
        lambda a: actions.scope_widen_decide(change, actor=a, approve=True),
        lambda a: actions.attachment_add(item, actor=a, name="a.txt", data=b"text"),
    ]
    for attempt in attempts:
        for actor in (dw.alice, dw.bob, dw.rita, dw.paula):
            with pytest.raises(ActionError):
                attempt(actor)
    assert record_of(item) == before
    assert item in Disclosure.objects.visible_to(dw.bob)  # the record stays


# --- index numbers ------------------------------------------------------------------------


def test_index_numbers_are_sequential_per_organization_and_year(dw):
    entry, ruth = branch2_catalog(dw)
    year = timezone.localdate().year
    first = published(dw)
    other = published_in_branch2(dw, entry, ruth)
    second = published(dw, title="2026年11月党费收缴使用情况")
    third = published(dw, title="2026年12月党费收缴使用情况")
    b1, b2 = dw.branch1.code, dw.branch2.code
    assert [first.index_no, second.index_no, third.index_no] == [
        f"{b1}/{year}-00001",
        f"{b1}/{year}-00002",
        f"{b1}/{year}-00003",
    ]
    assert other.index_no == f"{b2}/{year}-00001"


def test_index_numbers_are_never_reassigned(dw):
    first = published(dw)
    number = first.index_no
    first = actions.disclosure_withdraw(first, actor=dw.alice, notice=NOTICE)
    first = actions.disclosure_archive(first, actor=dw.bob)
    assert first.index_no == number
    after = published(dw, title="2026年11月党费收缴使用情况")
    assert after.index_no == f"{dw.branch1.code}/{timezone.localdate().year}-00002"
    assert fresh(first).index_no == number


def test_a_new_year_starts_a_new_series(dw, monkeypatch):
    year = timezone.localdate().year
    published(dw)
    item = approved(dw, title="次年1月党费收缴使用情况")
    at(datetime.datetime(year + 1, 1, 2, 9, tzinfo=datetime.UTC), monkeypatch)
    item = actions.disclosure_publish(item, actor=dw.bob)
    assert item.index_no == f"{dw.branch1.code}/{year + 1}-00001"


# --- two approvers at once (PostgreSQL: SQLite serializes every writer anyway) ---------------

ON_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.mark.skipif(
    not ON_POSTGRES,
    reason="needs PostgreSQL: row locks between two connections (SQLite's test database "
    "is one in-memory connection)",
)
@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_make_one_approval(dw):
    item = through_review(dw, draft(dw))
    assert item.status == S.APPROVING
    barrier = threading.Barrier(2)
    results: dict[str, str] = {}

    def approve(name: str, actor: Any, how: dict[str, Any]) -> None:
        try:
            barrier.wait(timeout=10)
            actions.disclosure_approve(Disclosure(pk=item.pk), actor=actor, **how)
            results[name] = "approved"
        except ActionError as error:
            results[name] = error.message
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=("alice", dw.alice, {"comment": "同意"})),
        threading.Thread(target=approve, args=("bob", dw.bob, collective())),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["alice", "bob"]
    outcomes = sorted(results.values())
    assert outcomes.count("approved") == 1, results
    refused = next(r for r in outcomes if r != "approved")
    assert "已批准" in refused or "他人处理" in refused, refused
    assert Approval.objects.filter(disclosure_id=item.pk, step=0).count() == 1
    assert fresh(item).status == S.APPROVED
    assert CoConfirmation.objects.filter(disclosure_id=item.pk).count() == 0


# --- a returned item submitted again unchanged ---------------------------------------------


def test_a_returned_item_submitted_again_unchanged_is_confirmed_again(dw):
    item, della = confirming(dw)
    actions.disclosure_confirm(
        item, actor=dw.cathy, org=dw.branch2, agree=False, comment="人数有误"
    )
    item = actions.disclosure_confirm(item, actor=della, org=dw.discipline, agree=True)
    assert item.status == S.RETURNED
    # The author explains rather than changes: the same content goes round again.
    item = through_review(dw, item)
    assert item.status == S.CONFIRMING
    assert tasks_of(dw.cathy, item) == ["confirm"]
    item = actions.disclosure_confirm(item, actor=dw.cathy, org=dw.branch2, agree=True)
    item = actions.disclosure_confirm(item, actor=della, org=dw.discipline, agree=True)
    assert item.status == S.APPROVING


def test_a_returned_item_submitted_again_unchanged_can_be_approved_again(dw):
    item = actions.disclosure_return(escalated(dw), actor=dw.paula, opinion="请补充考察材料")
    item = through_review(dw, item)
    assert item.status == S.APPROVING
    item = actions.disclosure_approve(
        item, actor=dw.alice, meeting_date=TODAY(), minutes="支部委员会再次研究，同意报上级审批"
    )
    item = actions.disclosure_approve(item, actor=dw.paula, comment="同意")
    assert item.status == S.APPROVED
