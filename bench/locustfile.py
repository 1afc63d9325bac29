"""Locust journeys of signed-in people, driven headless by bench/run.py.

    locust -f bench/locustfile.py --headless -u 16 -r 16 -t 15s --host http://127.0.0.1:PORT \\
        --csv bench/results/locust

Every simulated user signs in once through the real login form (CSRF token, django-axes,
argon2), then walks the journey in a loop with no think time: 公开给我的 first page, a page
deep in the list, and a member's search for a two- and a four-character word. bench/run.py
picks the person and the addresses from the database and passes them in the environment:

    BENCH_USERNAME, BENCH_PASSWORD   the account every simulated user signs in as
    BENCH_JOURNEY                    JSON list of [name, path]: the requests of one round

    BENCH_DURATION                   seconds to measure, counted from the last sign-in

The statistics start when every user has signed in: argon2 makes a sign-in cost ~0.1 s of
CPU, and 16 of them queued on two workers would otherwise fill the first seconds of a short
run. A sign-in that fails stops that user and is reported as a failure of "login" at the
end, so a broken login can never pass for a fast page.
"""

from __future__ import annotations

import json
import os
import re
from urllib.parse import urlencode

import gevent  # type: ignore[import-untyped]
from gevent.event import Event  # type: ignore[import-untyped]
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.exception import StopUser

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
LOGIN_PATH = "/accounts/login/"


_finished_sign_ins = 0
_everyone_in = Event()
_login_failures: list[str] = []


def _sign_in_finished(environment: Environment) -> None:
    """Count a finished sign-in; after the last one, start the measured window."""
    global _finished_sign_ins
    _finished_sign_ins += 1
    users = environment.parsed_options.num_users if environment.parsed_options else 1
    if _finished_sign_ins >= users and not _everyone_in.is_set():
        assert environment.runner is not None
        environment.runner.stats.reset_all()
        duration = float(os.environ.get("BENCH_DURATION", "0"))
        if duration:
            gevent.spawn_later(duration, environment.runner.quit)
        _everyone_in.set()


@events.test_stop.add_listener  # type: ignore[untyped-decorator]
def _report_login_failures(environment: Environment, **_kwargs: object) -> None:
    # After the reset, so that failed sign-ins are in the figures bench/run.py reads.
    for reason in _login_failures:
        environment.events.request.fire(
            request_type="POST",
            name="login",
            response_time=0,
            response_length=0,
            exception=RuntimeError(reason),
            context={},
        )
    _login_failures.clear()


class Member(FastHttpUser):
    """One signed-in person walking the journey as fast as the server answers."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.steps = [tuple(step) for step in json.loads(os.environ["BENCH_JOURNEY"])]
        reason = self._sign_in()
        _sign_in_finished(self.environment)
        if reason:
            _login_failures.append(reason)
            raise StopUser(reason)
        _everyone_in.wait()

    def _sign_in(self) -> str:
        """Sign in through the form; the reason it failed, or "" when it worked."""
        form = self.client.get(LOGIN_PATH, name="login (form)")
        found = CSRF_FIELD.search(form.text or "")
        if not found:
            return f"no CSRF token on the login page (HTTP {form.status_code})"
        answer = self.client.post(
            LOGIN_PATH,
            data=urlencode(
                {
                    "csrfmiddlewaretoken": found.group(1),
                    "username": os.environ["BENCH_USERNAME"],
                    "password": os.environ["BENCH_PASSWORD"],
                }
            ),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.host}{LOGIN_PATH}",
            },
            name="login",
            allow_redirects=False,
        )
        # Django answers a good login with a redirect; a bad one re-renders the form (200)
        # and a locked-out one with 429.
        return "" if answer.status_code == 302 else f"login refused: HTTP {answer.status_code}"

    @task
    def journey(self) -> None:
        for name, path in self.steps:
            self.client.get(path, name=name)
