"""The inbox jobs the worker runs (`manage.py run_worker`): overdue warnings and e-mail
digests of notifications.

Both are safe with several workers at once. A task is warned by whoever first sets its
`overdue_warned_at` (an optimistic `update()` filtered on it being empty); a person's
notifications are mailed by whoever first sets their `mailed_at`, under a lock on that
person's row, so no warning and no notification is ever sent twice.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.models import Role, User
from dwgk.inbox.models import Notification, Task
from dwgk.inbox.services import notify, people_for

logger = logging.getLogger(__name__)

# A digest lists at most this many notifications; the rest are counted, and read in-app.
DIGEST_MAX_LINES = 100


# --- overdue tasks ---------------------------------------------------------------------------


def warn_overdue(now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """逾期提醒: tell the people who can take each open task past its due time, and the
    principal of the task's organization (who answers for the work), once per task.
    Returns the ids of the tasks warned in this call."""
    now = now or timezone.now()
    due = (
        Task.objects.open()
        .filter(due_at__lt=now, overdue_warned_at__isnull=True)
        .select_related("org", "assignee")
        .order_by("due_at", "pk")[:limit]
    )
    warned = []
    for task in due:
        with transaction.atomic():
            # The claim: of two workers, exactly one updates the row (the other's filter no
            # longer matches), and only that one notifies.
            claimed = Task.objects.filter(
                pk=task.pk, done_at__isnull=True, overdue_warned_at__isnull=True
            ).update(overdue_warned_at=now)
            if not claimed:
                continue
            takers = [task.assignee] if task.assignee else people_for(task.org, task.role_list())
            principals = people_for(task.org, (Role.PRINCIPAL,))
            assert task.due_at is not None
            notify(
                [*takers, *principals],
                f"逾期提醒：待办“{task.get_kind_display()}《{task.title}》”已超过办理时限"
                f"（{timezone.localtime(task.due_at):%Y年%m月%d日 %H:%M}），请尽快办理。",
                task.url,
            )
        warned.append(task.pk)
    return warned


# --- e-mail digests ----------------------------------------------------------------------------


def send_digests(now: datetime.datetime | None = None) -> int:
    """Mail each person their unmailed notifications, all in one message, at most one message
    per NOTIFY_DIGEST_SECONDS. Returns the number of messages sent.

    The rule: a person with unmailed notifications is mailed at once unless they were mailed
    within the interval; then everything that piled up goes out in one message when the
    interval is over. So the first notice of a task comes within one worker round, and a
    busy day still costs at most one mail per interval. Notifications already read in the
    platform are marked mailed but not listed (no mail when all were read). People without
    an e-mail address (or no longer active) read in the platform: theirs are marked mailed
    without sending. All messages go over one connection."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(seconds=settings.NOTIFY_DIGEST_SECONDS)
    unmailed = Notification.objects.filter(mailed_at__isnull=True, created_at__lte=now)
    # order_by(): the model's default ordering would otherwise defeat DISTINCT.
    pending = set(unmailed.order_by().values_list("user_id", flat=True).distinct())
    if not pending:
        return 0
    no_mail = User.objects.filter(pk__in=pending).filter(Q(email="") | Q(is_active=False))
    unmailed.filter(user__in=no_mail).update(mailed_at=now)
    recently_mailed = Notification.objects.filter(user_id__in=pending, mailed_at__gt=cutoff)
    waiting = set(recently_mailed.order_by().values_list("user_id", flat=True).distinct())

    batch: list[tuple[EmailMessage, list[int]]] = []
    for user in User.objects.filter(pk__in=pending - waiting, is_active=True).exclude(email=""):
        rows = _claim(user, now, cutoff)
        unread = [n for n in rows if n.read_at is None]
        if unread:
            batch.append((_message(user, unread), [n.pk for n in rows]))
    return _send(batch, now)


def _claim(user: User, now: datetime.datetime, cutoff: datetime.datetime) -> list[Notification]:
    """Take this person's unmailed notifications for one digest, or none if another worker
    mailed them within the interval."""
    with transaction.atomic():
        # The person's row lock makes the interval check and the claim one step.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        if Notification.objects.filter(user=user, mailed_at__gt=cutoff).exists():
            return []
        rows = list(
            Notification.objects.filter(
                user=user, mailed_at__isnull=True, created_at__lte=now
            ).order_by("created_at", "id")
        )
        claimed = Notification.objects.filter(
            pk__in=[n.pk for n in rows], mailed_at__isnull=True
        ).update(mailed_at=now)
        if claimed != len(rows):  # someone else marked some of them: leave it to them
            transaction.set_rollback(True)
            return []
        return rows


def _send(batch: Sequence[tuple[EmailMessage, list[int]]], now: datetime.datetime) -> int:
    """Send over one connection. When sending fails, the notifications of the messages not
    sent are released for the next round and the error is raised for the worker to log."""
    if not batch:
        return 0
    sent = 0
    try:
        with get_connection() as connection:
            for message, _ids in batch:
                message.connection = connection
                connection.send_messages([message])
                sent += 1
    except Exception:
        unsent = [pk for _message, ids in batch[sent:] for pk in ids]
        Notification.objects.filter(pk__in=unsent, mailed_at=now).update(mailed_at=None)
        raise
    return sent


def _message(user: User, unread: list[Notification]) -> EmailMessage:
    lines = [
        f"{user.name or user.get_username()}，您好：",
        "",
        f"您在党务公开平台有 {len(unread)} 条新通知：",
        "",
    ]
    for n, item in enumerate(unread[:DIGEST_MAX_LINES], 1):
        lines.append(f"{n}. [{timezone.localtime(item.created_at):%m月%d日 %H:%M}] {item.text}")
        if item.url:
            lines.append(f"   {item.url}")
    if len(unread) > DIGEST_MAX_LINES:
        lines += ["", f"另有 {len(unread) - DIGEST_MAX_LINES} 条通知未列出，请登录平台查看。"]
    lines += [
        "",
        f"我的待办：{reverse('inbox:tasks')}",
        "",
        "此邮件由党务公开平台自动发送，请勿直接回复。同一时段内的通知合并为一封邮件。",
    ]
    return EmailMessage(
        subject=f"【党务公开平台】您有 {len(unread)} 条新通知",
        body="\n".join(lines),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
