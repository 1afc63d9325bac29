"""One disclosure's whole procedure in a real Chromium, by the people who would do it: the
clerk of 第一党支部 drafts the month's 党费 item under the catalog entry, with a resident ID
number and a mobile number in it by mistake; the reviewer sees both in the pre-screen,
redacts them with the buttons, writes her opinions and passes it; the co-unit's clerk
agrees; the principal signs; the clerk schedules it two seconds ahead and the worker (called
here) publishes it; the branch sees it and the other branch does not; then the principal
withdraws it with a correction notice, which the branch reads instead of the content.
Same launch as the other browser tests (Debian's chromium, never a downloaded browser).
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "test-pass-123"  # tests.cast.make_user
ID_NUMBER = "11010519491231002X"
MOBILE = "13812345678"
SCREENSHOT = "/tmp/dwgk-disclosure-{}.png"


@pytest.fixture
def ids(transactional_db: None, dw: Any) -> dict[str, int]:
    # The ORM is used only here (and in a thread below), never inside Playwright's loop.
    from tests.cast import make_member

    make_member("dave", dw.branch1, name="戴夫")
    return {"branch1": dw.branch1.pk, "branch2": dw.branch2.pk}


@pytest.fixture
def page(ids: dict[str, int]) -> Iterator[Any]:
    with chromium_page(width=1280) as (page, errors):
        yield page
    # No script errors and no Content-Security-Policy violations on any page; the one
    # expected 404 (charlie asking for a party item) is the only failed load.
    unexpected = [e for e in errors if "status of 404" not in e]
    assert unexpected == []


def log_in(page: Any, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/me/")


def button(page: Any, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def message(page: Any) -> str:
    text: str = page.locator(".messages").inner_text()
    return text


def open_task(page: Any, title: str) -> None:
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="待办").click()
    page.locator("#tasks").get_by_role("link", name=title).click()
    page.wait_for_url("**/disclosures/*/")


def publish_due_in_a_thread() -> list[int]:
    """The worker's job, run off Playwright's event loop (Django refuses the ORM there)."""
    from django.db import connection

    from dwgk.disclosures.actions import publish_due

    done: list[int] = []

    def run() -> None:
        try:
            done.extend(publish_due())
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    return done


def test_a_disclosure_from_draft_to_withdrawal(page, live_server, ids):
    base = live_server.url
    title = "2026年11月党费收缴使用情况"

    # The clerk drafts under the catalog entry: the entry fills in category and channels.
    log_in(page, base, "bob")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="待办").click()
    page.get_by_role("link", name="提出公开事项").click()
    page.locator("#pick-entry").select_option(label="1. 党费收缴使用情况")
    button(page, "带出条目的类别、范围、方式和时间").click()
    assert page.locator("#id_category").input_value() == "党费"
    assert page.locator("input[name=channels][value=board]").is_checked()
    page.locator("#id_title").fill(title)
    page.locator("#id_body").fill(
        f"<p>本月收缴党费1,320元。经手人身份证号{ID_NUMBER}，联系电话{MOBILE}。</p>"
    )
    page.locator("#id_co_units").select_option(str(ids["branch2"]))
    page.screenshot(path=SCREENSHOT.format("form"), full_page=True)
    button(page, "保存草稿").click()
    assert "草稿已保存" in message(page)
    detail = page.url
    button(page, "提出").click()
    assert "已提出" in message(page)

    # The reviewer finds it in her tasks, sees both findings and redacts them.
    log_in(page, base, "rita")
    open_task(page, title)
    button(page, "开始审核").click()
    findings = page.locator("#findings")
    assert "居民身份证号码" in findings.inner_text() and "手机号码" in findings.inner_text()
    assert ID_NUMBER in findings.inner_text()
    page.screenshot(path=SCREENSHOT.format("review"), full_page=True)
    findings.locator("tr", has_text="居民身份证号码").get_by_role("button", name="脱敏").click()
    assert "已脱敏" in message(page)
    assert "居民身份证号码" not in page.locator("#findings").inner_text()
    page.locator("#findings tr", has_text="手机号码").get_by_role("button", name="脱敏").click()
    assert page.locator("#no-findings").is_visible()
    assert ID_NUMBER not in page.locator("#body").inner_text()
    assert MOBILE not in page.locator("#body").inner_text()
    page.get_by_label("保密审查意见").fill("不涉及党和国家秘密，个人信息已脱敏")
    page.get_by_label("必要性意见").fill("属于目录规定按月公开的事项")
    page.get_by_label("准确性意见").fill("数据与财务记录一致")
    page.get_by_label("规范性意见").fill("格式规范")
    for aspect in (
        "political",
        "stability",
        "opinion",
        "legality",
        "rationality",
        "feasibility",
        "controllability",
    ):
        page.locator(f"input[name=risk_{aspect}][value=low]").check()
    button(page, "审核通过").click()
    assert "审核通过" in message(page) and "沟通会签中" in message(page)

    # The co-unit's clerk agrees.
    log_in(page, base, "cathy")
    open_task(page, title)
    assert "湖滨社区第二党支部" in page.locator("#workflow").inner_text()
    button(page, "同意").click()
    assert "审批中" in message(page)

    # The principal signs.
    log_in(page, base, "alice")
    open_task(page, title)
    page.locator("#sign-comment").fill("同意公开")
    button(page, "签批同意").click()
    assert "已批准，待发布" in message(page)

    # The clerk schedules it two seconds ahead; the worker publishes it when due.
    log_in(page, base, "bob")
    page.goto(detail)
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=2)
    local = when.astimezone(datetime.timezone(datetime.timedelta(hours=8)))  # Asia/Shanghai
    page.locator("#schedule-publish_at").fill(local.strftime("%Y-%m-%dT%H:%M:%S"))
    button(page, "定时发布").click()
    assert "已定时于" in message(page)
    assert "已定时，待发布" in page.locator("#item-status").inner_text()
    time.sleep(max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds()) + 0.5)
    assert len(publish_due_in_a_thread()) == 1

    # The branch sees it (redacted); a member of the other branch gets a 404.
    page.goto(detail)
    assert "已公开" in page.locator("#item-status").inner_text()
    assert "1,320元" in page.locator("#body").inner_text()
    assert ID_NUMBER not in page.content()
    log_in(page, base, "dave")
    page.goto(detail)
    body = page.locator("#body").inner_text()
    assert "1,320元" in body and ID_NUMBER not in body and MOBILE not in body
    assert page.locator("#workflow").count() == 0
    log_in(page, base, "charlie")
    response = page.goto(detail)
    assert response.status == 404
    assert title not in page.content()

    # The principal withdraws it with a correction notice.
    notice = "收缴金额统计有误，现予撤回，更正后重新公开。"
    log_in(page, base, "alice")
    page.goto(detail)
    page.locator("#withdraw-text").fill(notice)
    button(page, "紧急撤回").click()
    assert "已撤回" in message(page)

    # The clerk and the branch's members read the notice; members no longer get the content.
    log_in(page, base, "bob")
    page.goto(detail)
    assert notice in page.locator("#correction").inner_text()
    log_in(page, base, "dave")
    page.goto(detail)
    assert notice in page.locator("#correction").inner_text()
    assert page.locator("#withdrawn").is_visible()
    assert page.locator("#body").count() == 0
    page.screenshot(path=SCREENSHOT.format("withdrawn"), full_page=True)
