"""Every step of an opinion's handling (PROC-5) is one function here, called the same way
from views, the API, commands and tests.

    new (待处理) ─assign→ assigned (办理中) ─reply→ replied (已答复) ─close→ closed (已办结)
      └────────────────────reply──────────────────┘
    new / assigned ─reject→ rejected (不予受理, spam)

Each function is atomic, locks the opinion, checks its state and the actor's right, changes
it, writes the audit log and only then syncs the handling task and notifies. When a check
fails an ActionError (in Chinese) is raised and nothing has changed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from dwgk.audit.models import record
from dwgk.disclosures import prescreen
from dwgk.disclosures.actions import screen_extra_terms
from dwgk.disclosures.models import Disclosure
from dwgk.feedback import policy, ratelimit
from dwgk.feedback.models import TEXT_MAX, TEXT_MIN, Opinion, accepts_opinions, shows_opinions
from dwgk.inbox.models import Notification, Task
from dwgk.inbox.services import Want, notify, sync_tasks
from dwgk.lib.errors import ActionError, NotAllowed

S = Opinion.Status
C = Opinion.Channel


def opinion_url(op: Opinion) -> str:
    """The opinion's own page, where tasks and notifications about it lead."""
    return reverse("feedback:detail", args=[op.pk])


def _allow(ok: bool, message: str) -> None:
    if not ok:
        raise NotAllowed(message)


def _lock(op: Opinion) -> Opinion:
    return (
        Opinion.objects.select_for_update(of=("self",))
        .select_related("org", "disclosure")
        .get(pk=op.pk)
    )


def _check(op: Opinion, *allowed: str) -> None:
    if op.status not in allowed:
        raise ActionError(f"该意见当前状态为“{op.get_status_display()}”，不能执行此操作。")


def _text(value: str, what: str, min_len: int = TEXT_MIN, max_len: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if len(value) < min_len:
        raise ActionError(f"{what}至少需要{min_len}个字。")
    if len(value) > max_len:
        raise ActionError(f"{what}不能超过{max_len}个字。")
    return value


def _sync(op: Opinion, actor: Any) -> None:
    """The handling task follows the state: the office's clerks while new, the assignee while
    assigned, the office again to tell and close once answered; none once done."""
    title = f"意见：{op.disclosure.title}"
    url = opinion_url(op)
    wanted: list[Want] = []
    if op.status == S.NEW:
        wanted.append(
            Want(
                Task.Kind.FEEDBACK, op.org, title, url, roles=policy.HANDLE_ROLES, due_at=op.due_at
            )
        )
    elif op.status == S.REPLIED:
        wanted.append(Want(Task.Kind.FEEDBACK, op.org, title, url, roles=policy.HANDLE_ROLES))
    elif op.status == S.ASSIGNED and op.assignee is not None:
        wanted.append(
            Want(Task.Kind.FEEDBACK, op.org, title, url, assignee=op.assignee, due_at=op.due_at)
        )
    sync_tasks(f"feedback:{op.pk}", wanted, actor=actor)


def _is_user(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


@transaction.atomic
def opinion_submit(
    item: Disclosure,
    *,
    user_or_anonymous: Any,
    text: str,
    named: bool,
    ip: str,
    honeypot: str = "",
) -> Opinion:
    """网络留言: a member or visitor leaves an opinion on a disclosed item they can see.
    Anonymous visitors can see, and so comment on, society items only. `honeypot` is the
    hidden form field that people leave empty and bots fill in."""
    user = user_or_anonymous
    if honeypot:
        # Generic on purpose: tell a bot nothing about why.
        raise ActionError("提交失败，请稍后再试。")
    visible = Disclosure.objects.visible_to(user).filter(pk=item.pk).first()
    if visible is None or not accepts_opinions(visible):
        raise NotAllowed("您无权对该事项提出意见，或该事项未公开。")
    text = _text(text, "意见内容")
    is_member = _is_user(user)
    if named and not is_member:
        raise ActionError("署名反映请先登录。")
    hashed = ratelimit.ip_hash(ip) if ip else ""
    same = Opinion.objects.filter(disclosure=visible, text=text).exclude(status=S.REJECTED)
    if (named and same.filter(submitter=user).exists()) or (
        hashed and same.filter(ip_hash=hashed).exists()
    ):
        raise ActionError("您已提交过相同的意见，请勿重复提交。")
    # Last check before writing, so refused input does not count against the limit.
    allowed = ratelimit.allow_member(user.pk) if is_member else ratelimit.allow_anonymous(ip)
    if not allowed:
        raise ActionError("提交过于频繁，请稍后再试。")
    op = Opinion.objects.create(
        disclosure=visible,
        org=visible.org,
        channel=C.PLATFORM,
        text=text,
        named=named,
        submitter=user if named else None,
        ip_hash=hashed,
    )
    # An anonymous opinion is anonymous in the audit log too.
    record(user if named else AnonymousUser(), "feedback.submit", op, org_id=op.org_id)
    _sync(op, actor=None)
    return op


@transaction.atomic
def opinion_record(
    item: Disclosure,
    *,
    actor: Any,
    channel: str,
    text: str,
    submitter_name: str = "",
    contact: str = "",
) -> Opinion:
    """The clerk records an opinion that came by hotline, letter, opinion box or forum. A
    named one needs a contact: the submitter must be told the outcome (QJ 9(4))."""
    item = Disclosure.objects.select_related("org").get(pk=item.pk)
    _allow(policy.can_handle(actor, item.org), "您无权登记该事项的意见。")
    if not accepts_opinions(item):
        raise ActionError("该事项未公开或已撤回、归档，不能登记意见。")
    if channel not in C.values or channel == C.PLATFORM:
        raise ActionError("请选择收集渠道：热线电话、来信、意见箱或座谈会。")
    text = _text(text, "意见内容")
    submitter_name = (submitter_name or "").strip()[:60]
    contact = (contact or "").strip()
    if len(contact) > 120:
        raise ActionError("联系方式不能超过120个字。")
    if submitter_name and not contact:
        raise ActionError("署名反映的意见请登记联系方式，以便告知处理结果。")
    op = Opinion.objects.create(
        disclosure=item,
        org=item.org,
        channel=channel,
        text=text,
        named=bool(submitter_name),
        submitter_name=submitter_name,
        contact=contact if submitter_name else "",
        recorded_by=actor,
    )
    record(actor, "feedback.record", op, org_id=op.org_id, channel=channel)
    _sync(op, actor)
    return op


@transaction.atomic
def opinion_assign(op: Opinion, *, actor: Any, assignee: Any) -> Opinion:
    """Hand the opinion to one of the organization's disclosure staff to handle."""
    op = _lock(op)
    _allow(policy.can_handle(actor, op.org), "您无权分办该意见。")
    _check(op, S.NEW, S.ASSIGNED)
    if not _is_user(assignee) or not policy.is_handling_staff(assignee, op.org_id):
        raise ActionError("承办人须为本组织的党务公开工作人员。")
    op.assignee = assignee
    op.status = S.ASSIGNED
    op.save(update_fields=["assignee", "status"])
    record(actor, "feedback.assign", op, org_id=op.org_id, assignee=assignee.pk)
    _sync(op, actor)
    return op


@transaction.atomic
def opinion_reply(op: Opinion, *, actor: Any, reply: str) -> Opinion:
    """答复: record the outcome. A named platform submitter is told at once in the app; one
    recorded from a hotline or letter must be told offline (`opinion_confirm_told`)."""
    op = _lock(op)
    _allow(policy.can_reply(actor, op), "您无权答复该意见。")
    _check(op, S.NEW, S.ASSIGNED)
    op.reply = _text(reply, "办理结果")
    op.status = S.REPLIED
    op.replied_by = actor
    op.replied_at = timezone.now()
    fields = ["reply", "status", "replied_by", "replied_at"]
    tell = op.named and op.submitter is not None
    if tell:
        op.told_at = op.replied_at
        op.told_how = "站内通知"
        fields += ["told_at", "told_how"]
    op.save(update_fields=fields)
    record(actor, "feedback.reply", op, org_id=op.org_id)
    _sync(op, actor)
    if tell and op.submitter is not None:
        notify(
            [op.submitter],
            f"您对《{op.disclosure.title}》提出的意见已有办理结果：{op.reply}",
            opinion_url(op),
        )
    return op


@transaction.atomic
def opinion_confirm_told(op: Opinion, *, actor: Any, how: str) -> Opinion:
    """The clerk confirms that a named submitter was told the outcome offline (QJ 9(4))."""
    op = _lock(op)
    _allow(policy.can_handle(actor, op.org), "您无权登记告知情况。")
    _check(op, S.REPLIED)
    if not op.must_tell:
        raise ActionError("该意见无需告知或已告知反映人。")
    op.told_how = _text(how, "告知方式", min_len=2, max_len=120)
    op.told_at = timezone.now()
    op.save(update_fields=["told_at", "told_how"])
    record(actor, "feedback.tell", op, org_id=op.org_id, how=op.told_how)
    return op


@transaction.atomic
def opinion_close(op: Opinion, *, actor: Any) -> Opinion:
    """办结. A named submitter must have been told the outcome first (QJ 9(4))."""
    op = _lock(op)
    _allow(policy.can_handle(actor, op.org), "您无权办结该意见。")
    _check(op, S.REPLIED)
    if op.must_tell:
        raise ActionError("署名反映的意见须先将处理结果告知反映人，并登记告知情况。")
    op.status = S.CLOSED
    op.closed_at = timezone.now()
    op.save(update_fields=["status", "closed_at"])
    record(actor, "feedback.close", op, org_id=op.org_id)
    _sync(op, actor)
    return op


@transaction.atomic
def opinion_outcome_seen(op: Opinion, *, user: Any) -> bool:
    """The named submitter opened their opinion's outcome: "我的意见" stops marking it
    unread, and the notifications that led here are read. Nothing happens for anyone else.
    Not audited: like reading a notification, it is no step of the handling."""
    if not _is_user(user) or op.submitter_id != user.pk or not op.has_outcome:
        return False
    now = timezone.now()
    Notification.objects.filter(user=user, url=opinion_url(op), read_at__isnull=True).update(
        read_at=now
    )
    return bool(
        Opinion.objects.filter(pk=op.pk, outcome_seen_at__isnull=True).update(outcome_seen_at=now)
    )


@transaction.atomic
def opinion_reject(op: Opinion, *, actor: Any, reason: str) -> Opinion:
    """不予受理: spam or abuse, with a reason. A named platform submitter is told, with the
    reason (QJ 9(4)); an anonymous one cannot be."""
    op = _lock(op)
    _allow(policy.can_handle(actor, op.org), "您无权处理该意见。")
    _check(op, S.NEW, S.ASSIGNED)
    op.reject_reason = _text(reason, "不予受理理由", min_len=2, max_len=255)
    op.status = S.REJECTED
    op.published = False
    fields = ["reject_reason", "status", "published"]
    # QJ 9(4): a named submitter is told the outcome, a refusal included.
    tell = op.named and op.submitter is not None
    if tell:
        op.told_at = timezone.now()
        op.told_how = "站内通知"
        fields += ["told_at", "told_how"]
    op.save(update_fields=fields)
    record(actor, "feedback.reject", op, org_id=op.org_id, reason=op.reject_reason)
    _sync(op, actor)
    if tell and op.submitter is not None:
        notify(
            [op.submitter],
            f"您对《{op.disclosure.title}》提出的意见不予受理：{op.reject_reason}",
            opinion_url(op),
        )
    return op


@transaction.atomic
def opinion_publish(
    op: Opinion, *, actor: Any, published: bool, reply: str | None = None
) -> Opinion:
    """Publish a handled opinion and its reply with the item, or take it down again
    (BJ 14(4)). `reply` is the reply as published, by default the reply itself. Both texts
    go through the pre-screen: nothing with personal data found in it is published."""
    op = _lock(op)
    _allow(policy.can_handle(actor, op.org), "您无权公开该意见。")
    if not published:
        if not op.published:
            raise ActionError("该意见尚未公开。")
        op.published = False
        op.published_at = None
        op.save(update_fields=["published", "published_at"])
        record(actor, "feedback.unpublish", op, org_id=op.org_id)
        return op
    _check(op, S.REPLIED, S.CLOSED)
    if not shows_opinions(op.disclosure):
        raise ActionError("该事项当前未公开或已撤回，不能随事项公开意见。")
    public_reply = _text(op.reply if reply is None else reply, "公开的办理结果")
    extra = screen_extra_terms()
    findings = [
        *prescreen.scan(op.text, extra_terms=extra),
        *prescreen.scan(public_reply, extra_terms=extra),
    ]
    if findings:
        found = "、".join(f"{label}{n}处" for label, n in prescreen.summary(findings).items())
        raise ActionError(f"意见或办理结果中含有个人信息或敏感内容（{found}），不能公开。")
    op.published = True
    op.published_reply = public_reply
    op.published_at = timezone.now()
    op.save(update_fields=["published", "published_reply", "published_at"])
    record(actor, "feedback.publish", op, org_id=op.org_id)
    return op
