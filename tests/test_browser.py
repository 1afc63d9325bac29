"""End to end in a real Chromium (Debian's binary; Playwright never downloads a browser):
the demo branch secretary logs in, finds her branch line, walks the organization tree down
to a branch page; a wrong password gets the Chinese error. Skipped when no chromium is
installed (see conftest.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from dwgk.accounts import demo
from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_data(transactional_db: None) -> None:
    # The ORM is used only here, before Playwright starts its event loop.
    call_command("load_demo", force=True, stdout=io.StringIO())


@pytest.fixture
def page(demo_data: None) -> Iterator[Any]:
    with chromium_page(width=1100) as (page, errors):
        yield page
    # No script errors and no Content-Security-Policy violations on any page.
    assert errors == []


def log_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_the_branch_secretary_logs_in_and_walks_the_tree(page, live_server, tmp_path):
    base = live_server.url
    log_in(page, base, demo.BRANCH_SECRETARY, demo.DEMO_PASSWORD)

    # The member home, with her branch and its line of parents.
    page.wait_for_url(f"{base}/me/")
    assert page.get_by_role("heading", name="个人中心").is_visible()
    line = page.locator("#my-line")
    for name in ["明州市委", "东湖区委", "湖滨街道党工委", "湖滨社区党委", "湖滨社区第一党支部"]:
        assert name in line.inner_text()
    assert "湖滨社区第一党支部" in page.locator("#my-orgs").inner_text()

    # Into the organization tree: the city is open one level.
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="组织机构").click()
    page.wait_for_url(f"{base}/orgs/")
    tree = page.locator("#org-tree")
    assert tree.get_by_role("link", name="中共明州市东湖区委员会").is_visible()
    page.screenshot(path=str(tmp_path / "org-tree.png"), full_page=True)

    # Open 东湖区委 in place (tree.js fetches one level), then the street below it.
    tree.get_by_role("button", name="展开“东湖区委”的下级组织").click()
    street = tree.get_by_role("link", name="中共明州市东湖区湖滨街道工作委员会")
    street.wait_for()
    tree.get_by_role("button", name="收起“东湖区委”的下级组织").wait_for()

    # Down the links, one page per level, to the branch.
    street.click()
    page.get_by_role("link", name="中共湖滨街道湖滨社区委员会").click()
    page.get_by_role("link", name="湖滨社区第一党支部").click()
    assert page.get_by_role("heading", name="湖滨社区第一党支部").is_visible()
    crumbs = page.locator("#crumbs").inner_text()
    assert "明州市委" in crumbs and "湖滨社区党委" in crumbs
    # She is its principal: she sees the roster.
    roster = page.locator("#roster")
    assert roster.is_visible()
    assert "罗晓燕" in page.locator("table.grid").inner_text()
    page.screenshot(path=str(tmp_path / "branch.png"), full_page=True)


def test_a_dissolved_branch_is_marked_in_the_browser(page, live_server):
    base = live_server.url
    page.goto(f"{base}/orgs/?q=临时党支部")
    page.get_by_role("link", name="湖滨社区防汛抗灾临时党支部").click()
    assert page.locator("h1 .badge").inner_text() == "已撤销"
    assert "党员名册" not in page.content()  # anonymous


def test_a_wrong_password_shows_the_chinese_error(page, live_server):
    base = live_server.url
    log_in(page, base, demo.BRANCH_SECRETARY, "not-the-password")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "用户名或密码不正确" in alert.inner_text()
    assert page.url.startswith(f"{base}/accounts/login/")
