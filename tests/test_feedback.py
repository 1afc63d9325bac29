"""Opinions on disclosed items (PROC-5): submitting, recording, handling, telling the named
submitter (QJ 9(4)), publishing with the item, rate limits, and who sees whose identity."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from dwgk.audit.models import AuditEntry
from dwgk.disclosures import actions as disclosure_actions
from dwgk.feedback import actions
from dwgk.feedback.models import Opinion
from dwgk.inbox.models import Notification, Task
from dwgk.lib.errors import ActionError, NotAllowed
from tests.cast import make_member
from tests.disclosure_cast import draft, published, through_review

S = Opinion.Status
TEXT = "建议把党费使用明细再公布得细一些。"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def ming(dw):
    """A plain member of branch1: sees the branch's party items, holds no role."""
    return make_member("ming", dw.branch1, name="小明")


@pytest.fixture
def society(dw):
    """branch1's work plan, disclosed to society (its entry needs no approval step)."""
    item = through_review(dw, draft(dw, entry=dw.open, title="2027年支部工作计划"))
    return disclosure_actions.disclosure_publish(item, actor=dw.bob)


def submit(item, who, text=TEXT, *, named=False, ip="203.0.113.7", **kw: Any) -> Opinion:
    return actions.opinion_submit(item, user_or_anonymous=who, text=text, named=named, ip=ip, **kw)


def state(op: Opinion) -> dict[str, Any]:
    """The row and everything an action writes besides it."""
    return {
        "row": Opinion.objects.filter(pk=op.pk).values().get(),
        "audit": AuditEntry.objects.count(),
        "tasks": list(Task.objects.filter(subject=f"feedback:{op.pk}").values("pk", "done_at")),
        "notifications": Notification.objects.count(),
    }


def open_tasks(op: Opinion) -> list[Task]:
    return list(Task.objects.open().filter(subject=f"feedback:{op.pk}"))


# --- the whole procedure -------------------------------------------------------------------


def test_a_named_members_opinion_is_handled_answered_and_published(dw, ming):
    item = published(dw)
    op = submit(item, ming, named=True)
    assert (op.status, op.channel, op.org, op.submitter) == (S.NEW, "platform", dw.branch1, ming)
    assert len(op.ip_hash) == 64 and "203.0.113.7" not in op.ip_hash
    (task,) = open_tasks(op)
    assert task.kind == Task.Kind.FEEDBACK and task.url == f"/feedback/{op.pk}/"
    assert Notification.objects.filter(user=dw.bob, text__contains="处理意见").exists()

    op = actions.opinion_assign(op, actor=dw.bob, assignee=dw.alice)
    assert op.status == S.ASSIGNED
    (task,) = open_tasks(op)
    assert task.assignee == dw.alice

    op = actions.opinion_reply(op, actor=dw.alice, reply="下月起按季度公布党费使用明细。")
    assert (op.status, op.replied_by) == (S.REPLIED, dw.alice)
    # QJ 9(4): the named submitter is told the outcome.
    assert op.told_at is not None and op.told_how == "站内通知"
    note = Notification.objects.get(user=ming)
    assert "按季度公布" in note.text and note.url == f"/feedback/{op.pk}/"

    op = actions.opinion_close(op, actor=dw.bob)
    assert op.status == S.CLOSED and op.closed_at is not None
    assert open_tasks(op) == []

    op = actions.opinion_publish(op, actor=dw.bob, published=True)
    assert op.published and op.published_reply == "下月起按季度公布党费使用明细。"
    actions_logged = set(
        AuditEntry.objects.filter(object_id=str(op.pk), action__startswith="feedback.").values_list(
            "action", flat=True
        )
    )
    assert actions_logged == {
        "feedback.submit",
        "feedback.assign",
        "feedback.reply",
        "feedback.close",
        "feedback.publish",
    }

    op = actions.opinion_publish(op, actor=dw.bob, published=False)
    assert not op.published


def test_a_recorded_named_opinion_cannot_be_closed_before_the_submitter_was_told(dw):
    item = published(dw)
    op = actions.opinion_record(
        item,
        actor=dw.bob,
        channel=Opinion.Channel.HOTLINE,
        text="来电反映党费公示时间太短。",
        submitter_name="王大爷",
        contact="13812345678",
    )
    assert op.named and op.submitter is None and op.recorded_by == dw.bob
    op = actions.opinion_reply(op, actor=dw.bob, reply="已将公示期延长至十五天。")
    assert op.must_tell and list(Opinion.objects.tell_due()) == [op]
    with pytest.raises(ActionError, match="告知反映人"):
        actions.opinion_close(op, actor=dw.bob)
    op = actions.opinion_confirm_told(op, actor=dw.bob, how="电话告知")
    assert not op.must_tell and list(Opinion.objects.tell_due()) == []
    assert actions.opinion_close(op, actor=dw.bob).status == S.CLOSED


def test_an_anonymous_opinion_needs_nobody_told(dw, society):
    op = submit(society, AnonymousUser())
    op = actions.opinion_reply(op, actor=dw.bob, reply="感谢您的建议，已采纳。")
    assert not op.must_tell and Notification.objects.filter(text__contains="已采纳").count() == 0
    assert actions.opinion_close(op, actor=dw.bob).status == S.CLOSED


def test_a_named_opinion_recorded_without_a_contact_is_refused(dw):
    with pytest.raises(ActionError, match="联系方式"):
        actions.opinion_record(
            published(dw),
            actor=dw.bob,
            channel="letter",
            text="来信反映情况五个字",
            submitter_name="张三",
        )
    assert not Opinion.objects.exists()


def test_spam_is_rejected_with_a_reason_and_its_task_closed(dw, society):
    op = submit(society, AnonymousUser(), text="广告广告广告广告")
    op = actions.opinion_reject(op, actor=dw.bob, reason="广告信息")
    assert (op.status, op.reject_reason) == (S.REJECTED, "广告信息")
    assert open_tasks(op) == []
    with pytest.raises(ActionError, match="不予受理"):
        actions.opinion_publish(op, actor=dw.bob, published=True)


# --- who may submit ------------------------------------------------------------------------


def test_anyone_may_comment_on_a_society_item(dw, society):
    assert submit(society, AnonymousUser()).submitter is None
    assert submit(society, dw.dora, text="工作计划很清楚，支持。", named=True).submitter == dw.dora


def test_anonymous_visitors_cannot_comment_on_a_party_item(dw):
    with pytest.raises(NotAllowed):
        submit(published(dw), AnonymousUser())
    assert not Opinion.objects.exists()


def test_charlie_cannot_comment_on_branch1s_party_item(dw):
    with pytest.raises(NotAllowed):
        submit(published(dw), dw.charlie, named=True)
    assert not Opinion.objects.exists()


def test_nobody_comments_on_an_unpublished_item_not_even_its_staff(dw, ming):
    item = draft(dw, entry=dw.open)
    for who in (AnonymousUser(), ming, dw.bob):
        with pytest.raises(NotAllowed):
            submit(item, who)
    assert not Opinion.objects.exists()


def test_a_visitor_cannot_sign_an_opinion(dw, society):
    with pytest.raises(ActionError, match="登录"):
        submit(society, AnonymousUser(), named=True)


@pytest.mark.parametrize("text", ["", "太短", "   四个字   ", "长" * 2001])
def test_the_text_must_be_5_to_2000_characters(dw, society, text):
    with pytest.raises(ActionError, match="意见内容"):
        submit(society, AnonymousUser(), text=text)
    assert not Opinion.objects.exists()


def test_a_filled_honeypot_is_refused_without_saying_why(dw, society):
    with pytest.raises(ActionError, match=r"^提交失败，请稍后再试。$"):
        submit(society, AnonymousUser(), honeypot="http://spam.example")
    assert not Opinion.objects.exists()


# --- rate limits and duplicates ------------------------------------------------------------


@override_settings(FEEDBACK_ANON_LIMIT=(2, 3600), FEEDBACK_MEMBER_LIMIT=(3, 3600))
def test_one_address_gets_a_few_anonymous_opinions_an_hour(dw, society, ming):
    submit(society, AnonymousUser(), text="第一条意见内容")
    submit(society, AnonymousUser(), text="第二条意见内容")
    with pytest.raises(ActionError, match="频繁"):
        submit(society, AnonymousUser(), text="第三条意见内容")
    assert Opinion.objects.count() == 2
    # Another address is counted apart; so is a member, by account, whatever the address.
    submit(society, AnonymousUser(), text="第三条意见内容", ip="198.51.100.1")
    for n in range(3):
        submit(society, ming, text=f"会员第{n}条意见内容")
    with pytest.raises(ActionError, match="频繁"):
        submit(society, ming, text="会员再一条意见内容")
    assert Opinion.objects.count() == 6


@override_settings(FEEDBACK_ANON_LIMIT=(1, 3600))
def test_a_refused_opinion_does_not_use_up_the_limit(dw, society):
    with pytest.raises(ActionError):
        submit(society, AnonymousUser(), text="短")
    submit(society, AnonymousUser())


def test_the_same_text_twice_is_refused(dw, society, ming):
    submit(society, AnonymousUser())
    with pytest.raises(ActionError, match="重复"):
        submit(society, AnonymousUser(), text=f"  {TEXT}\n")
    submit(society, ming, named=True, ip="")
    with pytest.raises(ActionError, match="重复"):
        submit(society, ming, named=True, ip="")
    assert Opinion.objects.count() == 2


# --- who sees what -------------------------------------------------------------------------


def test_a_published_opinion_hides_its_submitter_from_all_but_the_staff(dw, society):
    op = actions.opinion_record(
        society,
        actor=dw.bob,
        channel="letter",
        text="来信建议增加党员活动安排。",
        submitter_name="王大爷",
        contact="湖滨路1号",
    )
    op = actions.opinion_reply(op, actor=dw.bob, reply="已在计划中增加每月一次主题党日。")
    actions.opinion_confirm_told(op, actor=dw.bob, how="回信告知")
    op = actions.opinion_publish(op, actor=dw.bob, published=True)

    for viewer in (AnonymousUser(), dw.dora, dw.charlie):
        assert list(Opinion.objects.visible_to(viewer)) == [op]
        view = op.for_viewer(viewer)
        assert (view.submitter_name, view.contact, view.submitter_id) == ("", "", None)
        assert view.text == "来信建议增加党员活动安排。"
        assert view.reply == "已在计划中增加每月一次主题党日。"
    for staff in (dw.bob, dw.alice, dw.rita):
        view = op.for_viewer(staff)
        assert (view.submitter_name, view.contact) == ("王大爷", "湖滨路1号")


def test_a_named_members_identity_is_shown_to_staff_only(dw, society, ming):
    op = submit(society, ming, named=True)
    assert op.for_viewer(dw.bob).submitter_name == "小明"
    assert op.for_viewer(dw.bob).submitter_id == ming.pk
    own = op.for_viewer(ming)
    assert own.text == TEXT and own.submitter_id is None


def test_unpublished_opinions_are_seen_by_the_staff_and_their_submitter_only(dw, ming):
    item = published(dw)
    op = submit(item, ming, named=True)
    other = submit(item, ming, text="匿名提的另一条意见。")
    assert set(Opinion.objects.visible_to(dw.bob)) == {op, other}
    assert set(Opinion.objects.visible_to(dw.rita)) == {op, other}
    assert list(Opinion.objects.visible_to(ming)) == [op]  # the anonymous one is not "his"
    for outsider in (AnonymousUser(), dw.charlie, dw.dora, dw.cathy):
        assert not Opinion.objects.visible_to(outsider).exists()


def test_a_published_party_item_opinion_stays_within_the_party(dw, ming):
    op = submit(published(dw), ming)
    op = actions.opinion_reply(op, actor=dw.bob, reply="感谢建议，已经研究采纳。")
    actions.opinion_publish(op, actor=dw.bob, published=True)
    assert list(Opinion.objects.visible_to(ming)) == [op]
    assert not Opinion.objects.visible_to(dw.charlie).exists()
    assert not Opinion.objects.visible_to(AnonymousUser()).exists()


# --- refusals change nothing ---------------------------------------------------------------


def test_publishing_personal_data_is_refused_naming_it(dw, society):
    op = submit(society, AnonymousUser(), text="请联系我，电话13812345678。")
    op = actions.opinion_reply(op, actor=dw.bob, reply="已电话联系您。")
    before = state(op)
    with pytest.raises(ActionError, match="手机号码1处"):
        actions.opinion_publish(op, actor=dw.bob, published=True)
    assert state(op) == before

    clean = submit(society, AnonymousUser(), text="建议多开展志愿服务活动。")
    clean = actions.opinion_reply(clean, actor=dw.bob, reply="好的。请致电13812345678了解。")
    with pytest.raises(ActionError, match="手机号码"):
        actions.opinion_publish(clean, actor=dw.bob, published=True)
    # A clean reply for publication is accepted in its place.
    clean = actions.opinion_publish(clean, actor=dw.bob, published=True, reply="已采纳建议。")
    assert clean.published_reply == "已采纳建议。"


def test_the_wrong_person_changes_nothing(dw, society, ming):
    op = submit(society, ming, named=True)
    before = state(op)
    for call in (
        lambda: actions.opinion_assign(op, actor=dw.charlie, assignee=dw.bob),
        lambda: actions.opinion_reply(op, actor=dw.rita, reply="审核人不办理意见。"),
        lambda: actions.opinion_reply(op, actor=ming, reply="自问自答五个字"),
        lambda: actions.opinion_reject(op, actor=dw.cathy, reason="垃圾信息"),
        lambda: actions.opinion_close(op, actor=dw.charlie),
        lambda: actions.opinion_publish(op, actor=dw.dora, published=True),
        lambda: actions.opinion_record(
            society, actor=ming, channel="hotline", text="冒充登记的意见"
        ),
    ):
        with pytest.raises(NotAllowed):
            call()
        assert state(op) == before
    assert Opinion.objects.count() == 1


def test_steps_out_of_order_change_nothing(dw, society, ming):
    op = submit(society, ming, named=True)
    before = state(op)
    for call in (
        lambda: actions.opinion_close(op, actor=dw.bob),
        lambda: actions.opinion_publish(op, actor=dw.bob, published=True),
        lambda: actions.opinion_publish(op, actor=dw.bob, published=False),
        lambda: actions.opinion_confirm_told(op, actor=dw.bob, how="电话告知"),
        lambda: actions.opinion_assign(op, actor=dw.bob, assignee=ming),  # not staff
        lambda: actions.opinion_assign(op, actor=dw.bob, assignee=dw.cathy),  # other org
        lambda: actions.opinion_reply(op, actor=dw.bob, reply="短"),
    ):
        with pytest.raises(ActionError):
            call()
        assert state(op) == before

    op = actions.opinion_reply(op, actor=dw.bob, reply="已研究采纳您的意见。")
    before = state(op)
    for call in (
        lambda: actions.opinion_reply(op, actor=dw.bob, reply="再答复一次意见。"),
        lambda: actions.opinion_assign(op, actor=dw.bob, assignee=dw.alice),
        lambda: actions.opinion_reject(op, actor=dw.bob, reason="垃圾信息"),
        lambda: actions.opinion_confirm_told(op, actor=dw.bob, how="电话告知"),  # told in-app
    ):
        with pytest.raises(ActionError, match=r"状态|无需告知"):
            call()
        assert state(op) == before


# --- added with the feedback screens ---------------------------------------------------------


def test_tasks_and_notifications_lead_to_the_opinions_page(dw, ming):
    op = submit(published(dw), ming, named=True)
    assert actions.opinion_url(op) == reverse("feedback:detail", args=[op.pk])


def test_an_open_opinion_has_a_due_date_for_its_task(dw, ming):
    op = submit(published(dw), ming, named=True)
    (task,) = open_tasks(op)
    assert task.due_at == op.due_at == op.created_at + datetime.timedelta(days=15)
    op = actions.opinion_assign(op, actor=dw.bob, assignee=dw.alice)
    (task,) = open_tasks(op)
    assert task.due_at == op.due_at
    with override_settings(FEEDBACK_REPLY_DAYS=0):
        assert op.is_overdue
    op = actions.opinion_reply(op, actor=dw.alice, reply="已研究采纳您的意见。")
    assert not op.is_overdue


def test_a_named_submitter_is_told_when_their_opinion_is_not_taken_up(dw, society, ming):
    op = actions.opinion_reject(submit(society, ming, named=True), actor=dw.bob, reason="广告信息")
    assert (op.told_how, op.told_at is not None) == ("站内通知", True)
    note = Notification.objects.get(user=ming)
    assert "不予受理" in note.text and "广告信息" in note.text
    assert op.for_viewer(ming).reject_reason == "广告信息"
    assert op.for_viewer(dw.charlie).reject_reason == ""


def test_no_opinion_is_taken_on_a_withdrawn_or_archived_item(dw, society, ming):
    disclosure_actions.disclosure_withdraw(society, actor=dw.alice, notice="数据有误，已撤回更正。")
    with pytest.raises(NotAllowed):
        submit(society, AnonymousUser())
    with pytest.raises(ActionError, match="撤回"):
        actions.opinion_record(society, actor=dw.bob, channel="letter", text="来信反映的意见内容")
    item = disclosure_actions.disclosure_archive(society, actor=dw.bob)
    with pytest.raises(NotAllowed):
        submit(item, ming, named=True)
    assert not Opinion.objects.exists()


def test_a_withdrawn_items_published_opinions_are_hidden_from_its_readers(dw, society, ming):
    op = submit(society, ming, named=True)
    op = actions.opinion_reply(op, actor=dw.bob, reply="感谢建议，已经研究采纳。")
    op = actions.opinion_publish(op, actor=dw.bob, published=True)
    assert list(Opinion.objects.visible_to(AnonymousUser())) == [op]
    disclosure_actions.disclosure_withdraw(society, actor=dw.alice, notice="数据有误，已撤回更正。")
    for reader in (AnonymousUser(), dw.charlie, dw.dora):
        assert not Opinion.objects.visible_to(reader).exists()
    # Its submitter and the staff still follow it.
    assert list(Opinion.objects.visible_to(ming)) == [op]
    assert list(Opinion.objects.visible_to(dw.bob)) == [op]
    op = actions.opinion_publish(op, actor=dw.bob, published=False)
    with pytest.raises(ActionError, match="撤回"):
        actions.opinion_publish(op, actor=dw.bob, published=True)


def test_an_opinions_page_is_followed_by_its_handlers_and_its_submitter_only(dw, society, ming):
    op = submit(society, ming, named=True)
    op = actions.opinion_reply(op, actor=dw.bob, reply="感谢建议，已经研究采纳。")
    op = actions.opinion_publish(op, actor=dw.bob, published=True)
    for follower in (ming, dw.bob, dw.alice, dw.rita):
        assert list(Opinion.objects.followed_by(follower)) == [op]
    for reader in (AnonymousUser(), dw.charlie, dw.dora, dw.cathy, dw.paula):
        assert list(Opinion.objects.visible_to(reader)) == [op]  # seen with the item
        assert not Opinion.objects.followed_by(reader).exists()  # but not its page


def test_opening_the_outcome_marks_it_read_for_the_submitter_only(dw, society, ming):
    op = submit(society, ming, named=True)
    assert not actions.opinion_outcome_seen(op, user=ming)  # nothing to read yet
    op = actions.opinion_reply(op, actor=dw.bob, reply="感谢建议，已经研究采纳。")
    assert op.outcome_unread
    assert not actions.opinion_outcome_seen(op, user=dw.bob)
    assert Opinion.objects.get(pk=op.pk).outcome_unread
    assert actions.opinion_outcome_seen(op, user=ming)
    assert not Opinion.objects.get(pk=op.pk).outcome_unread
    assert not Notification.objects.filter(user=ming, read_at__isnull=True).exists()
    assert not actions.opinion_outcome_seen(op, user=ming)  # once
