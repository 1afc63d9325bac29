"""My tasks and my notifications.

Tasks are opened and closed by the domain actions (`inbox.services.sync_tasks`); these
pages only read them, grouped by kind, with what is overdue marked. Notifications are the
person's own: anyone else's is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from dwgk.accounts.models import RoleGrant, User
from dwgk.disclosures import policy
from dwgk.inbox.models import Notification, Task
from dwgk.orgs.models import Organization

RECENT_NOTIFICATIONS = 10
PER_PAGE = 50


@dataclass
class Group:
    """The open tasks of one kind."""

    kind: str
    label: str
    tasks: list[Task] = field(default_factory=list)

    @property
    def overdue(self) -> int:
        return sum(1 for t in self.tasks if t.is_overdue)


@dataclass
class StaffOrg:
    """An organization where I work on disclosures, with whether I may propose there."""

    org: Organization
    can_propose: bool


def _groups(tasks: list[Task]) -> list[Group]:
    groups = {kind: Group(kind, str(label)) for kind, label in Task.Kind.choices}
    for task in tasks:
        groups[task.kind].tasks.append(task)
    return [g for g in groups.values() if g.tasks]


def _staff_orgs(user: User) -> list[StaffOrg]:
    grants = (
        RoleGrant.objects.current()
        .filter(user=user, role__in=policy.STAFF_ROLES)
        .select_related("org")
        .order_by("org__path")
    )
    orgs: dict[int, Organization] = {}
    for grant in grants:
        orgs.setdefault(grant.org_id, grant.org)
    return [StaffOrg(o, policy.can_propose(user, o)) for o in orgs.values()]


@login_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    """My open tasks by kind, the newest notifications, and where I work on disclosures."""
    user = request.user
    assert isinstance(user, User)
    open_tasks = list(
        Task.objects.open().for_user(user).select_related("org").order_by("due_at", "id")
    )
    recent = list(Notification.objects.filter(user=user)[:RECENT_NOTIFICATIONS])
    unread = Notification.objects.filter(user=user, read_at__isnull=True).count()
    return render(
        request,
        "inbox/tasks.html",
        {
            "groups": _groups(open_tasks),
            "total": len(open_tasks),
            "overdue": sum(1 for t in open_tasks if t.is_overdue),
            "notifications": recent,
            "unread": unread,
            "staff_orgs": _staff_orgs(user),
        },
    )


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    """All my notifications, newest first."""
    assert isinstance(request.user, User)
    mine = Notification.objects.filter(user=request.user)
    page = Paginator(mine, PER_PAGE).get_page(request.GET.get("page"))
    unread = mine.filter(read_at__isnull=True).count()
    return render(request, "inbox/notifications.html", {"page": page, "unread": unread})


def _back(request: HttpRequest) -> str:
    wanted = request.POST.get("next", "")
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("inbox:notifications")


@login_required
@require_POST
def read_all(request: HttpRequest) -> HttpResponse:
    assert isinstance(request.user, User)
    count = Notification.objects.filter(user=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    messages.success(request, f"已将 {count} 条通知标为已读。" if count else "没有未读通知。")
    return redirect(_back(request))


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my notifications read; with `open`, go on to what it is about."""
    assert isinstance(request.user, User)
    notification = get_object_or_404(Notification, pk=pk, user=request.user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    target = notification.url
    if (
        "open" in request.POST
        and target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return redirect(target)
    return redirect(_back(request))
