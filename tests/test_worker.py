"""The worker: scheduled publication, expiry, periodic-disclosure reminders (propose_due) and
the `run_worker` command. Time is passed in (`now`, `today`), never slept through."""

from __future__ import annotations

import datetime
import io
import signal
import threading
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from dwgk.accounts.models import Role
from dwgk.catalog.models import CatalogEntry, CatalogVersion
from dwgk.disclosures import actions
from dwgk.disclosures import jobs as disclosure_jobs
from dwgk.disclosures.archive import verify_chain
from dwgk.disclosures.jobs import propose_due, propose_subject
from dwgk.disclosures.management.commands import run_worker
from dwgk.disclosures.models import Disclosure, LogEntry
from dwgk.inbox import jobs as inbox_jobs
from dwgk.inbox.models import Notification, Task
from tests.disclosure_cast import approved, draft, later, publish_catalog, published

S = Disclosure.Status


def scheduled(dw: Any, publish_at: datetime.datetime | None = None, **fields: Any) -> Disclosure:
    return actions.disclosure_schedule(
        approved(dw, **fields), actor=dw.bob, publish_at=publish_at or timezone.now()
    )


# --- publish_due / expire_due ------------------------------------------------------------------


def test_it_publishes_a_due_scheduled_item_and_leaves_a_future_one(dw):
    due = scheduled(dw, title="十月党费")
    future = scheduled(dw, later(60), title="十一月党费")

    done = actions.publish_due(timezone.now())

    assert done == [due.pk]
    due.refresh_from_db()
    future.refresh_from_db()
    assert due.status == S.PUBLISHED
    assert due.index_no
    assert future.status == S.SCHEDULED
    assert future.index_no is None
    assert actions.publish_due(timezone.now()) == []


def test_the_future_item_is_published_once_the_worker_clock_reaches_its_time(dw):
    item = scheduled(dw, later(60))

    assert actions.publish_due(timezone.now() + datetime.timedelta(minutes=61)) == [item.pk]

    item.refresh_from_db()
    assert item.status == S.PUBLISHED
    assert not Notification.objects.filter(text__contains="未能按时发布").exists()


def test_an_item_whose_approval_was_invalidated_is_not_published_and_staff_are_told_once(dw):
    item = scheduled(dw)
    # The content changes behind the procedure's back: the approval no longer covers it.
    Disclosure.objects.filter(pk=item.pk).update(body="<p>未经批准的内容</p>")

    assert actions.publish_due(timezone.now()) == []
    assert actions.publish_due(timezone.now()) == []

    item.refresh_from_db()
    assert item.status == S.SCHEDULED
    assert item.published_at is None
    told = Notification.objects.filter(text__contains="未能按时发布")
    # PUBLISH_ROLES at branch1: bob (clerk) and alice (principal), once each.
    assert sorted(told.values_list("user__username", flat=True)) == ["alice", "bob"]
    assert not told.filter(user=dw.cathy).exists()


def test_expire_due_marks_items_whose_period_ended_as_expired(dw):
    ended = published(dw, title="已到期", expire_at=later(60))
    running = published(dw, title="仍在公开期内", expire_at=later(600))
    two_hours_on = timezone.now() + datetime.timedelta(hours=2)

    assert actions.expire_due(timezone.now()) == []
    assert actions.expire_due(two_hours_on) == [ended.pk]

    ended.refresh_from_db()
    running.refresh_from_db()
    assert ended.status == S.EXPIRED
    assert ended.ended_at is not None
    assert running.status == S.PUBLISHED
    assert actions.expire_due(two_hours_on) == []


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="两个并发 worker 需要 PostgreSQL 的行锁（SQLite 串行执行写事务，无从竞争）"
    " / concurrent workers need PostgreSQL row locks; run with DATABASE_URL=postgres://…",
)
@pytest.mark.parametrize("batch", [actions.PUBLISH_BATCH, 3])  # 3: many batches, interleaved
def test_two_workers_at_once_publish_each_item_exactly_once(
    transactional_db, dw, monkeypatch, batch
):
    monkeypatch.setattr(actions, "PUBLISH_BATCH", batch)
    items = [scheduled(dw, title=f"第{n}期党费") for n in range(20)]
    start = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            results.append(actions.publish_due(timezone.now()))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    pks = sorted(i.pk for i in items)
    assert sorted(results[0] + results[1]) == pks
    for pk in pks:
        assert LogEntry.objects.filter(disclosure_id=pk, action="publish").count() == 1
    assert all(verify_chain(item) == [] for item in Disclosure.objects.filter(pk__in=pks))
    rows = Disclosure.objects.filter(pk__in=pks)
    assert set(rows.values_list("status", flat=True)) == {S.PUBLISHED}
    numbers = list(rows.values_list("index_no", flat=True))
    assert len(set(numbers)) == 20
    assert not Notification.objects.filter(text__contains="未能按时发布").exists()


# --- propose_due -------------------------------------------------------------------------------


def propose_tasks() -> Any:
    """The periodic reminders (a draft also has a PROPOSE task: finish and submit it)."""
    return Task.objects.filter(kind=Task.Kind.PROPOSE, subject__startswith="propose:")


def test_it_opens_one_propose_task_a_week_before_a_monthly_entry_falls_due(dw):
    # The monthly entry (党费收缴使用情况) falls due on the 1st.
    opened = propose_due(datetime.date(2026, 11, 27))

    assert len(opened) == 1
    task = opened[0]
    assert task.subject == propose_subject(dw.monthly.lineage, datetime.date(2026, 12, 1))
    assert task.kind == Task.Kind.PROPOSE
    assert task.org == dw.branch1
    assert task.role_list() == [Role.CLERK, Role.COORDINATOR, Role.PRINCIPAL]
    assert timezone.localtime(task.due_at).replace(tzinfo=None) == datetime.datetime(
        2026, 12, 1, 23, 59, 59
    )
    assert task.url == f"/disclosures/org/{dw.branch1.pk}/new/?entry={dw.monthly.pk}"
    assert "党费收缴使用情况" in task.title
    assert task in Task.objects.open().for_user(dw.bob)
    assert task not in Task.objects.open().for_user(dw.cathy)
    assert Notification.objects.filter(user=dw.bob, url=task.url).count() == 1


def test_running_propose_due_twice_opens_nothing_new(dw):
    assert len(propose_due(datetime.date(2026, 11, 27))) == 1
    assert propose_due(datetime.date(2026, 11, 27)) == []
    assert propose_due(datetime.date(2026, 11, 30)) == []
    assert propose_tasks().count() == 1


def test_nothing_is_proposed_when_no_due_date_is_within_a_week(dw):
    assert propose_due(datetime.date(2026, 11, 10)) == []
    assert not propose_tasks().exists()


def test_only_periodic_entries_of_published_catalogs_are_proposed(dw):
    # The other two entries of branch1 (immediate, long-term) have no calendar; a draft
    # catalog's periodic entry is not in force.
    draft_version = CatalogVersion.objects.create(
        catalog=dw.monthly.version.catalog, number=2, status=CatalogVersion.Status.DRAFT
    )
    CatalogEntry.objects.create(
        version=draft_version,
        position=1,
        content="草稿中的季度事项",
        timing={"kind": "periodic", "period": "quarterly", "day": 10},
    )
    # 2027-01-10 is within the week, but only for the draft's entry.
    assert propose_due(datetime.date(2027, 1, 5)) == []
    assert not propose_tasks().exists()


def test_quarterly_and_yearly_entries_fall_due_in_their_months(dw):
    quarterly, yearly = publish_catalog(
        dw.branch2,
        [
            {
                "content": "季度组织生活情况",
                "timing": {"kind": "periodic", "period": "quarterly", "day": 10},
            },
            {
                "content": "年度党费收缴情况",
                "timing": {"kind": "periodic", "period": "yearly", "month": 3, "day": 31},
            },
        ],
    )
    assert {t.subject for t in propose_due(datetime.date(2027, 4, 5))} == {
        propose_subject(quarterly.lineage, datetime.date(2027, 4, 10)),
    }
    assert {t.subject for t in propose_due(datetime.date(2027, 3, 28))} == {
        propose_subject(yearly.lineage, datetime.date(2027, 3, 31)),
        propose_subject(dw.monthly.lineage, datetime.date(2027, 4, 1)),
    }
    assert Task.objects.get(subject__contains=str(quarterly.lineage)).org == dw.branch2


def _week_before_next_first() -> datetime.date:
    """A day on which the monthly entry's next due date (the 1st of next month) is within a
    week, and its previous due date (the 1st of this month) lies before the real now — so
    an item submitted now counts as this period's."""
    today = timezone.localdate()
    first_of_next = (today.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return first_of_next - datetime.timedelta(days=3)


def test_nothing_is_proposed_when_an_item_was_submitted_since_the_previous_due_date(dw):
    actions.disclosure_submit(draft(dw), actor=dw.bob)
    assert propose_due(_week_before_next_first()) == []
    assert not propose_tasks().exists()


def test_a_draft_or_an_item_under_another_entry_does_not_count(dw):
    draft(dw)  # not submitted
    actions.disclosure_submit(draft(dw, entry=dw.open, title="支部工作计划"), actor=dw.bob)
    assert len(propose_due(_week_before_next_first())) == 1


def test_the_task_closes_when_an_item_for_the_entry_is_submitted_and_stays_closed(dw):
    today = _week_before_next_first()
    (task,) = propose_due(today)

    actions.disclosure_submit(draft(dw), actor=dw.bob)
    assert propose_due(today) == []

    task.refresh_from_db()
    assert task.done_at is not None
    assert propose_due(today) == []
    assert propose_tasks().count() == 1


def test_an_item_under_an_earlier_version_of_the_entry_counts_by_lineage(dw):
    actions.disclosure_submit(draft(dw), actor=dw.bob)
    old = dw.monthly.version
    old.status = CatalogVersion.Status.SUPERSEDED
    old.save()
    new = CatalogVersion.objects.create(
        catalog=old.catalog, number=2, status=CatalogVersion.Status.PUBLISHED
    )
    CatalogEntry.objects.create(
        version=new,
        position=1,
        lineage=dw.monthly.lineage,
        content="党费收缴使用情况（调整后）",
        timing=dw.monthly.timing,
    )
    assert propose_due(_week_before_next_first()) == []


def test_a_task_whose_entry_is_no_longer_in_force_is_closed(dw):
    (task,) = propose_due(datetime.date(2026, 11, 27))
    CatalogEntry.objects.filter(pk=dw.monthly.pk).update(state=CatalogEntry.State.REVOKED)

    assert propose_due(datetime.date(2026, 11, 28)) == []
    task.refresh_from_db()
    assert task.done_at is not None


def test_propose_due_costs_the_same_few_queries_however_many_organizations(
    dw, django_assert_num_queries
):
    for org in (dw.branch2, dw.community, dw.street, dw.uni_branch, dw.school):
        publish_catalog(
            org,
            [
                {
                    "content": f"{org.name}月度事项",
                    "timing": {"kind": "periodic", "period": "monthly"},
                }
            ],
        )
    with django_assert_num_queries(2):  # entries, tasks: nothing due
        assert propose_due(datetime.date(2026, 11, 10)) == []
    assert len(propose_due(datetime.date(2026, 11, 27))) == 6
    with django_assert_num_queries(3):  # entries, tasks, submissions: all opened already
        assert propose_due(datetime.date(2026, 11, 27)) == []


# --- the run_worker command ---------------------------------------------------------------------


def test_run_worker_once_runs_every_job_and_reports_what_it_did(dw):
    item = scheduled(dw)
    out = io.StringIO()

    call_command("run_worker", "--once", stdout=out)

    item.refresh_from_db()
    assert item.status == S.PUBLISHED
    text = out.getvalue()
    assert "发布 1" in text
    assert "published=1" in text
    assert "后台任务已退出" in text


def test_a_failing_job_is_logged_and_the_others_still_run(dw, monkeypatch, caplog):
    item = scheduled(dw)

    def boom(today: datetime.date | None = None) -> list[Task]:
        raise RuntimeError("目录坏了")

    monkeypatch.setattr(disclosure_jobs, "propose_due", boom)
    sent: list[datetime.datetime] = []

    def digests(now: datetime.datetime) -> int:
        sent.append(now)
        return 0

    monkeypatch.setattr(inbox_jobs, "send_digests", digests)
    out = io.StringIO()

    call_command("run_worker", "--once", stdout=out)

    item.refresh_from_db()
    assert item.status == S.PUBLISHED
    assert len(sent) == 1  # the job after the failing one ran
    assert "定期公开提醒失败" in out.getvalue()
    assert "proposed=FAILED" in out.getvalue()
    assert any("目录坏了" in (r.exc_text or "") for r in caplog.records if r.exc_info)


def test_sigterm_lets_the_round_finish_then_the_worker_exits(db, monkeypatch):
    command = run_worker.Command(stdout=io.StringIO())
    rounds: list[str] = []

    def warn(now: datetime.datetime) -> list[int]:
        command.on_signal(signal.SIGTERM, None)  # as if SIGTERM arrived mid-round
        return []

    def digests(now: datetime.datetime) -> int:
        rounds.append("digests")
        return 0

    monkeypatch.setattr(inbox_jobs, "warn_overdue", warn)
    monkeypatch.setattr(inbox_jobs, "send_digests", digests)
    before = signal.getsignal(signal.SIGTERM)

    call_command(command, "--interval", "3600")  # would loop for hours without the signal

    assert rounds == ["digests"]  # the round was finished, and no other began
    assert "SIGTERM" in command.stdout.getvalue()
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_signal_during_the_pause_ends_the_worker_without_another_round(db, monkeypatch):
    command = run_worker.Command(stdout=io.StringIO())
    rounds: list[int] = []

    def digests(now: datetime.datetime) -> int:
        rounds.append(1)
        return 0

    monkeypatch.setattr(inbox_jobs, "send_digests", digests)
    monkeypatch.setattr(time, "sleep", lambda seconds: command.on_signal(signal.SIGINT, None))

    call_command(command, "--interval", "3600")

    assert rounds == [1]
    assert "SIGINT" in command.stdout.getvalue()
