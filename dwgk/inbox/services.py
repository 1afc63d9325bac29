"""Opening and closing tasks, and notifying people. Called by domain actions inside their
transactions, so a failed action leaves no task and no notification behind."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from dwgk.accounts.models import RoleGrant, User
from dwgk.inbox.models import Notification, Task
from dwgk.orgs.models import Organization


@dataclass(frozen=True)
class Want:
    """A task that should be open: (kind, org, roles or assignee) identify it."""

    kind: str
    org: Organization
    title: str
    url: str
    roles: tuple[str, ...] = ()
    assignee: User | None = None
    due_at: datetime.datetime | None = None

    def key(self) -> tuple[str, int, str, int | None]:
        return (
            self.kind,
            self.org.pk,
            _roles(self.roles),
            self.assignee.pk if self.assignee else None,
        )


def _roles(roles: Iterable[str]) -> str:
    roles = list(roles)
    return f",{','.join(roles)}," if roles else ""


def people_for(org: Organization, roles: Iterable[str]) -> list[User]:
    """Everyone holding one of `roles` at `org`, directly or inherited from above."""
    ids = RoleGrant.objects.covering(org).filter(role__in=list(roles)).values("user")
    return list(User.objects.filter(pk__in=ids, is_active=True))


def notify(users: Iterable[User], text: str, url: str = "") -> None:
    now = timezone.now()
    seen: set[int] = set()
    rows = []
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, text=text[:300], url=url, created_at=now))
    Notification.objects.bulk_create(rows)


def notify_each(messages: Iterable[tuple[User, str, str]]) -> None:
    """One notification per (user, text, url), written with one statement: `notify` for
    many different messages at once (the worker's batches)."""
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(user=u, text=text[:300], url=url, created_at=now)
            for u, text, url in messages
        ]
    )


def sync_tasks(subject: str, wanted: Iterable[Want], actor: Any = None) -> list[Task]:
    """Make the open tasks of `subject` exactly `wanted`: tasks still wanted stay as they are
    (their due date and age kept), the others are closed, new ones are opened and the
    people who can take them are notified — except `actor`, who just caused them.
    Returns the newly opened tasks."""
    now = timezone.now()
    wanted_by_key = {w.key(): w for w in wanted}
    opened: list[Task] = []
    for task in Task.objects.open().filter(subject=subject).select_for_update():
        key = (task.kind, task.org_id, task.roles, task.assignee_id)
        if key in wanted_by_key:
            del wanted_by_key[key]
        else:
            task.done_at = now
            task.save(update_fields=["done_at"])
    for want in wanted_by_key.values():
        task = Task.objects.create(
            kind=want.kind,
            title=want.title[:255],
            url=want.url,
            org=want.org,
            roles=_roles(want.roles),
            assignee=want.assignee,
            subject=subject,
            due_at=want.due_at,
            created_at=now,
        )
        opened.append(task)
        people = [want.assignee] if want.assignee else people_for(want.org, want.roles)
        people = [p for p in people if actor is None or p.pk != actor.pk]
        due = f"，请于{timezone.localtime(want.due_at):%m月%d日}前办理" if want.due_at else ""
        notify(people, f"待办：{task.get_kind_display()}《{want.title}》{due}", want.url)
    return opened


def close_tasks(subject: str) -> None:
    sync_tasks(subject, ())


def open_tasks_q(subject_prefix: str) -> Q:
    return Q(done_at__isnull=True, subject__startswith=subject_prefix)


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
