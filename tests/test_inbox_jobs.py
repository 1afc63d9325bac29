"""Overdue warnings and notification e-mail digests (dwgk/inbox/jobs.py)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.utils import timezone

from dwgk.disclosures import actions
from dwgk.inbox.jobs import send_digests, warn_overdue
from dwgk.inbox.models import Notification, Task
from dwgk.inbox.services import notify
from tests.disclosure_cast import draft

DAY = datetime.timedelta(days=1)


def overdue_notes() -> Any:
    return Notification.objects.filter(text__startswith="逾期提醒")


# --- warn_overdue ------------------------------------------------------------------------------


def test_an_overdue_task_is_warned_once_even_when_run_twice(dw):
    actions.disclosure_submit(draft(dw), actor=dw.bob)  # a review task, due in 3 days
    task = Task.objects.open().get(kind=Task.Kind.REVIEW)
    now = timezone.now() + 4 * DAY

    assert warn_overdue(now) == [task.pk]
    assert warn_overdue(now) == []
    assert warn_overdue(now + DAY) == []

    task.refresh_from_db()
    assert task.overdue_warned_at == now
    # The reviewer who can take it, and the principal (alice is both principal and
    # a reviewer of the task's roles): each told once.
    assert sorted(overdue_notes().values_list("user__username", flat=True)) == ["alice", "rita"]
    note = overdue_notes().get(user=dw.rita)
    assert "审核" in note.text
    assert note.url == task.url


def test_a_task_not_yet_due_or_already_done_is_not_warned(dw):
    actions.disclosure_submit(draft(dw), actor=dw.bob)
    task = Task.objects.open().get(kind=Task.Kind.REVIEW)

    assert warn_overdue(timezone.now()) == []
    Task.objects.filter(pk=task.pk).update(done_at=timezone.now())
    assert warn_overdue(timezone.now() + 4 * DAY) == []
    assert not overdue_notes().exists()


def test_a_named_task_warns_its_assignee_and_the_principal(dw):
    task = Task.objects.create(
        kind=Task.Kind.REVISE,
        title="修改党费公开稿",
        url="/disclosures/1/",
        org=dw.branch1,
        assignee=dw.bob,
        subject="test:1",
        due_at=timezone.now() - DAY,
    )
    assert warn_overdue(timezone.now()) == [task.pk]
    assert sorted(overdue_notes().values_list("user__username", flat=True)) == ["alice", "bob"]


def test_a_task_claimed_by_another_worker_meanwhile_is_not_warned_again(dw, monkeypatch):
    actions.disclosure_submit(draft(dw), actor=dw.bob)
    task = Task.objects.open().get(kind=Task.Kind.REVIEW)
    # The other worker sets overdue_warned_at between our read and our claim.
    real_filter = Task.objects.filter

    def racing_filter(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("pk") == task.pk:
            real_filter(pk=task.pk).update(overdue_warned_at=timezone.now())
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Task.objects, "filter", racing_filter)
    assert warn_overdue(timezone.now() + 4 * DAY) == []
    assert not overdue_notes().exists()


# --- send_digests ------------------------------------------------------------------------------


@pytest.fixture
def people(cast):
    """bob and charlie read mail; alice has no address. Everyone starts with an empty inbox."""
    Notification.objects.all().delete()
    for user, email in ((cast.bob, "bob@example.cn"), (cast.charlie, "charlie@example.cn")):
        user.email = email
        user.save(update_fields=["email"])
    return cast


def mails_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def test_fifty_notifications_make_one_mail_and_a_second_run_sends_none(people, mailoutbox):
    for n in range(50):
        notify([people.bob], f"待办：审核《第{n}期党费公开》", f"/disclosures/{n}/")
    now = timezone.now()

    assert send_digests(now) == 1
    assert send_digests(now) == 0

    (message,) = mailoutbox
    assert message.to == ["bob@example.cn"]
    assert message.subject == "【党务公开平台】您有 50 条新通知"
    assert "待办：审核《第0期党费公开》" in message.body
    assert "待办：审核《第49期党费公开》" in message.body
    assert "/disclosures/49/" in message.body
    assert "/inbox/" in message.body
    assert "http" not in message.body
    assert not Notification.objects.filter(mailed_at__isnull=True).exists()


def test_one_mail_per_person_over_one_connection(people, mailoutbox, monkeypatch):
    opened: list[Any] = []
    real = get_connection

    def counting(*args: Any, **kwargs: Any) -> Any:
        opened.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr("dwgk.inbox.jobs.get_connection", counting)
    notify([people.bob, people.charlie], "待办：审批《十月党费》")
    notify([people.bob, people.charlie], "待办：审批《十一月党费》")

    assert send_digests(timezone.now()) == 2
    assert opened == [1]
    assert [m.subject for m in mails_to("bob@example.cn")] == ["【党务公开平台】您有 2 条新通知"]
    assert len(mails_to("charlie@example.cn")) == 1


def test_digests_respect_the_interval(people, mailoutbox, settings):
    settings.NOTIFY_DIGEST_SECONDS = 600
    notify([people.bob], "第一条")
    start = timezone.now()
    assert send_digests(start) == 1

    notify([people.bob], "第二条")
    notify([people.bob], "第三条")
    assert send_digests(timezone.now() + datetime.timedelta(seconds=60)) == 0
    assert send_digests(start + datetime.timedelta(seconds=599)) == 0
    assert send_digests(start + datetime.timedelta(seconds=601)) == 1

    assert [m.subject for m in mailoutbox] == [
        "【党务公开平台】您有 1 条新通知",
        "【党务公开平台】您有 2 条新通知",
    ]
    assert "第三条" in mailoutbox[1].body


def test_people_without_an_address_are_marked_mailed_without_a_mail(people, mailoutbox):
    notify([people.alice], "待办：审批《十月党费》")

    assert send_digests(timezone.now()) == 0

    assert mailoutbox == []
    assert Notification.objects.get(user=people.alice).mailed_at is not None


def test_notifications_read_in_the_platform_are_not_mailed(people, mailoutbox):
    for text in ("已读一", "已读二", "未读"):
        notify([people.bob], text)
    Notification.objects.filter(text__startswith="已读").update(read_at=timezone.now())

    assert send_digests(timezone.now()) == 1

    (message,) = mailoutbox
    assert message.subject == "【党务公开平台】您有 1 条新通知"
    assert "未读" in message.body
    assert "已读一" not in message.body
    assert not Notification.objects.filter(mailed_at__isnull=True).exists()


def test_notifications_made_after_now_wait_for_a_later_run(people, mailoutbox):
    before = timezone.now() - datetime.timedelta(seconds=5)
    notify([people.bob], "稍后的通知")

    assert send_digests(before) == 0
    assert Notification.objects.get(user=people.bob).mailed_at is None


def test_when_sending_fails_the_unsent_notifications_are_released(people, mailoutbox, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    notify([people.bob], "给鲍勃")
    notify([people.charlie], "给查理")
    real_send = EmailBackend.send_messages

    def send_first_only(self: Any, messages: Any) -> int:
        if mailoutbox:
            raise ConnectionError("邮件服务器断开")
        return real_send(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", send_first_only)
    with pytest.raises(ConnectionError):
        send_digests(timezone.now())
    assert len(mailoutbox) == 1
    assert Notification.objects.filter(mailed_at__isnull=True).count() == 1

    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    assert send_digests(timezone.now()) == 1
    assert len(mailoutbox) == 2
    assert {m.to[0] for m in mailoutbox} == {"bob@example.cn", "charlie@example.cn"}
