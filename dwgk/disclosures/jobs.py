"""The disclosure jobs the worker runs that are not a step of one item (`manage.py run_worker`).

Publishing, expiring and phased stages are in `actions` (`publish_due`, `expire_due`,
`open_due_stages`), next to the steps they drive. Here: reminding each organization of its
periodic disclosures (定期公开, TIME-1) before they fall due.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from dwgk.catalog.models import CatalogEntry, CatalogVersion
from dwgk.catalog.timing import Timing, TimingError
from dwgk.disclosures import policy
from dwgk.disclosures.models import Disclosure
from dwgk.inbox.models import Task
from dwgk.inbox.services import Want, sync_tasks
from dwgk.orgs.models import Organization

logger = logging.getLogger(__name__)

# A PROPOSE task opens this many days before a periodic entry falls due: a week leaves time
# for review and approval before, say, the first Friday of the month (QJ 8: 党务公开日).
LOOKAHEAD_DAYS = 7
# Long enough to find the previous due date of a yearly entry.
_LOOK_BACK = datetime.timedelta(days=400)
PREFIX = "propose:"


@dataclass(frozen=True)
class _Due:
    entry: CatalogEntry
    timing: Timing
    due: datetime.date
    since: datetime.datetime  # a submission from here on fulfils this due date

    @property
    def subject(self) -> str:
        return propose_subject(self.entry.lineage, self.due)


def propose_subject(lineage: uuid.UUID | str, due: datetime.date) -> str:
    """The task subject of one periodic entry's one due date: `propose:<lineage>:<date>`."""
    return f"{PREFIX}{lineage}:{due.isoformat()}"


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(23, 59, 59)))


def _previous_due(timing: Timing, due: datetime.date) -> datetime.date:
    earlier = timing.due_dates(due - _LOOK_BACK, due - datetime.timedelta(days=1))
    return earlier[-1] if earlier else due - datetime.timedelta(days=366)


def create_url(org: Organization, entry: CatalogEntry) -> str:
    """The page where the clerk drafts an item under `entry`."""
    try:
        base = reverse("disclosures:create", args=[org.pk])
    except NoReverseMatch:  # the create page is not wired in yet
        base = f"/disclosures/org/{org.pk}/new/"
    return f"{base}?entry={entry.pk}"


def _title(entry: CatalogEntry, due: datetime.date) -> str:
    return f"{entry.content}（定期公开，本期公开日 {due.year}年{due.month}月{due.day}日）"


def _periodic_entries() -> list[tuple[CatalogEntry, Timing]]:
    """Every active periodic entry of every published catalog of an active organization:
    one query, whatever the number of organizations."""
    entries = (
        CatalogEntry.objects.filter(
            version__status=CatalogVersion.Status.PUBLISHED,
            version__catalog__org__status=Organization.Status.ACTIVE,
            state=CatalogEntry.State.ACTIVE,
            timing__kind="periodic",
        )
        .select_related("version__catalog__org")
        .order_by("pk")
    )
    found = []
    for entry in entries:
        try:
            found.append((entry, entry.get_timing()))
        except TimingError:
            logger.warning("catalog entry %s has an invalid timing: skipped", entry.pk)
    return found


def propose_due(today: datetime.date | None = None) -> list[Task]:
    """Open a PROPOSE task (定期公开提醒) for each periodic entry that falls due within the
    next LOOKAHEAD_DAYS days, unless an item under that entry (any version of it, matched by
    lineage) was submitted since the entry's previous due date; close such a task once an
    item is submitted, or once the entry is no longer in force. Idempotent: a due date's
    task is opened at most once, even if it was closed since. Returns the opened tasks.

    Three queries decide everything (entries, tasks, recent submissions); each task opened
    or closed then costs its own small transaction."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=LOOKAHEAD_DAYS)
    in_force = {entry.lineage: (entry, timing) for entry, timing in _periodic_entries()}

    wanted: dict[str, _Due] = {}
    for entry, timing in in_force.values():
        for due in timing.due_dates(today, horizon):
            item = _Due(entry, timing, due, _start_of(_previous_due(timing, due)))
            wanted[item.subject] = item

    # Tasks already opened for these due dates (open or closed), and every open one from
    # earlier runs, which may have to be closed now.
    known: set[str] = set()
    still_open: dict[str, _Due | None] = {}
    tasks = Task.objects.filter(
        Q(subject__in=list(wanted))
        | Q(kind=Task.Kind.PROPOSE, done_at__isnull=True, subject__startswith=PREFIX)
    ).values_list("subject", "done_at")
    for subject, done_at in tasks:
        known.add(subject)
        if done_at is None:
            still_open[subject] = wanted.get(subject) or _parse(subject, in_force)

    checks = [d for d in (*wanted.values(), *still_open.values()) if d is not None]
    submitted: dict[uuid.UUID, list[datetime.datetime]] = defaultdict(list)
    if checks:
        rows = Disclosure.objects.filter(
            entry__lineage__in={d.entry.lineage for d in checks},
            submitted_at__gte=min(d.since for d in checks),
        ).values_list("entry__lineage", "submitted_at")
        for lineage, at in rows:
            if at is not None:
                submitted[lineage].append(at)

    def fulfilled(d: _Due) -> bool:
        return any(at >= d.since for at in submitted.get(d.entry.lineage, ()))

    for subject, pending in still_open.items():
        if pending is None or fulfilled(pending):
            with transaction.atomic():
                sync_tasks(subject, ())

    opened: list[Task] = []
    for subject, coming in wanted.items():
        if subject in known or fulfilled(coming):
            continue
        opened.extend(_open(coming))
    return opened


def _parse(subject: str, in_force: dict[uuid.UUID, tuple[CatalogEntry, Timing]]) -> _Due | None:
    """The due date an open task stands for; None when its entry is no longer in force."""
    try:
        _prefix, lineage, day = subject.split(":")
        found = in_force.get(uuid.UUID(lineage))
        due = datetime.date.fromisoformat(day)
    except ValueError:
        return None
    if found is None:
        return None
    entry, timing = found
    return _Due(entry, timing, due, _start_of(_previous_due(timing, due)))


def _open(due: _Due) -> list[Task]:
    entry = due.entry
    org = entry.version.catalog.org
    with transaction.atomic():
        # Two workers may both have found the task missing: the entry's row lock lets one
        # open it and the other see it (SQLite serialises write transactions anyway).
        list(CatalogEntry.objects.select_for_update().filter(pk=entry.pk).values_list("pk"))
        if Task.objects.filter(subject=due.subject).exists():
            return []
        return sync_tasks(
            due.subject,
            [
                Want(
                    Task.Kind.PROPOSE,
                    org,
                    _title(entry, due.due),
                    create_url(org, entry),
                    roles=policy.PROPOSE_ROLES,
                    due_at=_end_of(due.due),
                )
            ],
        )
