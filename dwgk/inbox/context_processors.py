"""The 待办 counts in the navigation bar of every page a signed-in person sees."""

from __future__ import annotations

from typing import Any

from django.db.models import Func, IntegerField, QuerySet, Subquery, Value
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from dwgk.accounts.models import User
from dwgk.inbox.models import Notification, Task


def _count(queryset: QuerySet[Any]) -> Subquery:
    # COUNT(*) of a queryset as a scalar subquery (no GROUP BY: one row).
    counted = queryset.order_by().annotate(n=Func(Value(1), function="COUNT")).values("n")
    return Subquery(counted, output_field=IntegerField())


def inbox_counts(user: Any) -> tuple[int, int]:
    """(open tasks, unread notifications) of a signed-in person: their grants, then both
    counts in one query."""
    row = (
        User.objects.filter(pk=user.pk)
        .annotate(
            open_tasks=_count(Task.objects.open().for_user(user)),
            unread=_count(Notification.objects.filter(user=user, read_at__isnull=True)),
        )
        .values_list("open_tasks", "unread")
        .get()
    )
    return int(row[0] or 0), int(row[1] or 0)


def inbox(request: HttpRequest) -> dict[str, Any]:
    """INBOX_OPEN and INBOX_UNREAD for the navigation bar. Lazy: a response that renders
    no navigation bar runs no query, and one that does runs two."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    counts = SimpleLazyObject(lambda: inbox_counts(user))
    return {
        "INBOX_OPEN": SimpleLazyObject(lambda: counts[0]),
        "INBOX_UNREAD": SimpleLazyObject(lambda: counts[1]),
    }
