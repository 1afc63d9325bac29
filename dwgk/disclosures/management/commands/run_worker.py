"""`manage.py run_worker [--once] [--interval SECONDS]`: the background worker.

Each round publishes the scheduled items that are due, marks expired ones, opens the tasks
for phased stages and periodic disclosures, warns about overdue tasks and mails notification
digests. Every job is safe to run on several machines at once (see each job's docstring), so
running two workers is harmless. SIGTERM or SIGINT lets the current round finish, then the
worker exits; a job that fails is logged and the round goes on with the next one.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from dwgk.disclosures import actions
from dwgk.disclosures import jobs as disclosure_jobs
from dwgk.inbox import jobs as inbox_jobs

logger = logging.getLogger("dwgk.worker")


def _jobs() -> list[tuple[str, str, Callable[[], int]]]:
    """(Chinese label, English name, job returning how many things it did), in order.
    Looked up at call time so each job is the module's current function."""
    return [
        ("发布", "published", lambda: len(actions.publish_due(timezone.now()))),
        ("到期", "expired", lambda: len(actions.expire_due(timezone.now()))),
        ("分期提醒", "stages", lambda: len(actions.open_due_stages(timezone.now()))),
        ("定期公开提醒", "proposed", lambda: len(disclosure_jobs.propose_due())),
        ("逾期提醒", "overdue", lambda: len(inbox_jobs.warn_overdue(timezone.now()))),
        ("通知邮件", "mailed", lambda: inbox_jobs.send_digests(timezone.now())),
    ]


class Command(BaseCommand):
    help = "后台任务：定时发布、到期、分期与定期公开提醒、逾期提醒、通知邮件。"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="只运行一轮后退出。")
        parser.add_argument(
            "--interval",
            type=float,
            default=30.0,
            help="两轮之间的间隔秒数（默认 30）。",
        )

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM / SIGINT: finish the round under way, then exit (a half-done round would
        only be redone by the next start, but a clean stop keeps the log readable)."""
        self.stopping = True
        self.stdout.write(
            f"收到信号 {signal.Signals(signum).name}，本轮完成后退出。 (stopping after this round)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = max(0.0, float(options["interval"]))
        previous = {s: signal.signal(s, self.on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.stdout.write(
                f"后台任务已启动，每 {interval:g} 秒一轮。 (worker started, interval {interval:g}s)"
            )
            while True:
                self.run_round()
                if options["once"] or self.stopping:
                    break
                self.pause(interval)
                if self.stopping:
                    break
                # A long-lived process must drop connections the server closed or that
                # outlived CONN_MAX_AGE, as Django does around each web request.
                close_old_connections()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
        self.stdout.write("后台任务已退出。 (worker stopped)")

    def run_round(self) -> dict[str, int]:
        """Run every job once; one job's failure does not stop the others."""
        counts: dict[str, int] = {}
        failed: list[str] = []
        jobs = _jobs()
        for label, name, job in jobs:
            try:
                counts[name] = job()
            except Exception:
                logger.exception("后台任务“%s”失败 (job %s failed)", label, name)
                failed.append(name)
        done = {name: n for name, n in counts.items() if n}
        labels = {name: label for label, name, _job in jobs}
        if done or failed:
            parts = [f"{labels[name]} {n}" for name, n in done.items()]
            parts += [f"{labels[name]}失败" for name in failed]
            english = ", ".join(
                [f"{name}={n}" for name, n in done.items()] + [f"{name}=FAILED" for name in failed]
            )
            self.stdout.write(
                f"[{timezone.localtime():%Y-%m-%d %H:%M:%S}] {'，'.join(parts)} ({english})"
            )
        return counts

    def pause(self, seconds: float) -> None:
        """Sleep in short steps, so a signal ends the wait at once."""
        end = time.monotonic() + seconds
        while not self.stopping:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 1.0))
