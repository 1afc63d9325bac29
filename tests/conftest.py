from __future__ import annotations

import shutil

import pytest

from tests.cast import Cast, make_cast

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(autouse=True)
def _empty_page_cache() -> None:
    """Each test starts without cached public pages: the stamp they were filed under is
    rolled back with the test's database, so an old page could otherwise match again."""
    from django.core.cache import caches

    from dwgk.public import pagecache

    caches["pages"].clear()
    pagecache._forget_stamp()


@pytest.fixture
def cast(db: None) -> Cast:
    return make_cast()


@pytest.fixture
def world(cast: Cast) -> Cast:
    """The cast, plus catalog staff: bob is branch1's clerk, paula the secretary of the
    community above it (branch1's parent)."""
    from dwgk.accounts.actions import role_grant
    from dwgk.accounts.models import Role
    from tests.cast import make_user

    role_grant(cast.bob, cast.branch1, Role.CLERK, actor=None)
    cast.paula = make_user("paula", name="宝拉")
    role_grant(cast.paula, cast.community, Role.PRINCIPAL, actor=None)
    return cast


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM:
        return
    skip = pytest.mark.skip(
        reason="未安装 Chromium：浏览器端到端测试已跳过 (apt-get install chromium)"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not CHROMIUM:
        terminalreporter.write_line(
            "注意 / NOTE: 未找到 Chromium，浏览器端到端测试已跳过。"
            "No Chromium installed: browser tests were SKIPPED (apt-get install chromium).",
            yellow=True,
            bold=True,
        )


@pytest.fixture
def dw(world: Cast):
    """The disclosure world (tests/disclosure_cast.py)."""
    from tests.disclosure_cast import make_disclosure_world

    return make_disclosure_world(world)
