"""The catalog's whole life in a real Chromium, on the demo data, by the people who would do
it: the secretary of 基础医学院教工第一党支部 generates her branch's catalog from the template,
edits it, adopts it and files it; the school committee above returns it with a comment; she
fixes it and files again; the committee acknowledges; she publishes it to the branch's party
members, who see it while others do not; and after an adjustment the comparison of the two
versions shows what changed. Same launch as test_browser.py (Debian's chromium, never a
downloaded browser); skipped when no chromium is installed."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command

from dwgk.accounts import demo
from dwgk.orgs.models import Organization
from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/dwgk-catalog.png"


@pytest.fixture
def orgs(transactional_db: None) -> dict[str, int]:
    # The ORM is used only here, before Playwright starts its event loop.
    call_command("load_demo", force=True, stdout=io.StringIO())
    codes = ["MZYK-JC-T1", "MZYK-JC"]
    return dict(Organization.objects.filter(code__in=codes).values_list("code", "pk"))


@pytest.fixture
def page(orgs: dict[str, int]) -> Iterator[Any]:
    with chromium_page(width=1280) as (page, errors):
        yield page
    # No script errors and no Content-Security-Policy violations on any page.
    assert errors == []


def log_in(page: Any, base: str, username: str | None) -> None:
    page.context.clear_cookies()
    if username is None:
        return
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/me/")


def button(page: Any, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def message(page: Any) -> str:
    text: str = page.locator(".messages").inner_text()
    return text


def test_a_branch_catalog_from_template_to_its_audience(page, live_server, orgs):
    base = live_server.url
    branch, school = orgs["MZYK-JC-T1"], orgs["MZYK-JC"]
    catalog = f"{base}/catalog/org/{branch}/"

    # The branch secretary finds the catalog from her branch's page and generates it.
    log_in(page, base, "jiangliping")
    page.goto(f"{base}/orgs/{branch}/")
    page.get_by_role("link", name="本组织党务公开目录").click()
    page.wait_for_url(catalog)
    button(page, "依据模板生成目录草稿").click()
    assert "已依据模板生成目录草稿" in message(page)
    assert page.locator("h1").inner_text().startswith("基础医学院教工第一党支部党务公开目录")
    template_rows = page.locator("#entries tbody tr").count()
    assert template_rows > 0

    # She adds an entry by picking from the lists; the timing fields follow the kind.
    page.get_by_role("link", name="新增条目").click()
    page.locator("#id_content").fill("主题党日活动开展情况")
    page.locator("#id_category").fill("组织生活")
    page.locator("#id_basis").fill("BJ 7(3)")
    assert page.locator("#id_body1").is_hidden()
    page.locator("#id_step1").select_option("body")
    page.locator("#id_body1").fill("支委会")
    page.locator("#id_step2").select_option("principal")
    page.locator("input[name=channels][value=board]").check()
    assert page.locator("#id_period").is_hidden()
    page.locator("#id_timing_kind").select_option("periodic")
    page.locator("#id_period").select_option("quarterly")
    page.locator("#id_day").fill("10")
    page.locator("#id_duration_unit").select_option("years")
    page.locator("#id_duration_n").fill("1")
    button(page, "保存条目").click()
    assert "条目已保存" in message(page)
    n = template_rows + 1
    last = page.locator("#entries tbody tr").nth(n - 1)
    assert "主题党日活动开展情况" in last.inner_text()
    assert "支委会集体研究决定，书记签发" in last.inner_text()
    assert "每季度首月10日前" in last.inner_text()

    # Duplicate it, move the copy up, then delete it again.
    button(page, f"复制第{n}条").click()
    assert page.locator("#entries tbody tr").count() == n + 1
    button(page, f"上移第{n + 1}条").click()
    assert "已将第" in message(page)
    button(page, f"删除第{n}条").click()
    assert page.locator("#entries tbody tr").count() == n

    # She adopts it (she is the principal) and files it with the school committee.
    page.goto(catalog)
    page.locator("#id_meeting").fill("支部委员会会议")
    button(page, "记录审议通过").click()
    assert "已记录目录审议通过" in message(page)
    button(page, "报基础医学院党委备案").click()
    assert "目录已报中共明州医科大学基础医学院委员会备案" in message(page)

    # The school committee's secretary sees it waiting, and returns it with a comment.
    log_in(page, base, "suzhenhua")
    page.goto(f"{base}/catalog/org/{school}/subtree/")
    row = page.locator("tr", has_text="基础医学院教工第一党支部")
    assert "待确认" in row.inner_text()
    row.get_by_role("link", name="基础医学院教工第一党支部").click()
    page.wait_for_url(catalog)
    page.locator("#return-text").fill("请将主题党日条目的责任主体写明为支部组织委员。")
    button(page, "退回修改").click()
    assert "已退回修改" in message(page)

    # She reads the comment, fixes the entry, adopts and files again.
    log_in(page, base, "jiangliping")
    page.goto(catalog)
    assert (
        "请将主题党日条目的责任主体写明为支部组织委员。"
        in page.locator("#return-comment").inner_text()
    )
    page.get_by_role("link", name="编辑目录条目").click()
    page.get_by_role("link", name=f"编辑第{n}条").click()
    page.locator("#id_responsible").fill("支部组织委员")
    button(page, "保存条目").click()
    assert "支部组织委员" in page.locator("#entries tbody tr").nth(n - 1).inner_text()
    page.goto(catalog)
    assert "草稿" in page.locator("#current-status").inner_text()
    page.locator("#id_meeting").fill("支部委员会会议")
    button(page, "记录审议通过").click()
    button(page, "报基础医学院党委备案").click()

    # The committee acknowledges it.
    log_in(page, base, "suzhenhua")
    page.goto(catalog)
    button(page, "确认备案").click()
    assert "已确认备案" in message(page)

    # She publishes it within the party: to the branch's members.
    log_in(page, base, "jiangliping")
    page.goto(catalog)
    page.get_by_label("党内公开（基础医学院教工第一党支部的党员）").check()
    button(page, "公开目录").click()
    assert "目录已公开" in message(page)

    # A member of the branch sees it; a member of another branch and the public do not.
    log_in(page, base, "dengweidong")
    page.goto(catalog)
    assert "主题党日活动开展情况" in page.locator("#published").inner_text()
    page.get_by_role("link", name="第1版").first.click()
    page.screenshot(path=SCREENSHOT, full_page=True)
    for other in ["xuqing", None]:
        log_in(page, base, other)
        page.goto(catalog)
        assert "主题党日" not in page.locator("#published").inner_text()
        assert page.locator("#no-published").is_visible()

    # An adjustment, and the comparison of the two versions shows what changed.
    log_in(page, base, "jiangliping")
    page.goto(catalog)
    page.locator("#adjust-note").fill("主题党日条目改为每月公开")
    button(page, "新建版本调整目录").click()
    assert "第2版" in page.locator("h1").inner_text()
    page.get_by_role("link", name=f"编辑第{n}条").click()
    page.locator("#id_period").select_option("monthly")
    button(page, "保存条目").click()
    page.get_by_role("link", name="查看调整内容").click()
    summary = page.locator("#diff-summary").inner_text()
    assert "第1版 → 第2版" in summary and "修改 1 条" in summary
    diff = page.locator("#diff").inner_text()
    assert "每季度首月10日前" in diff and "每月10日前" in diff
