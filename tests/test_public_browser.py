"""The public side end to end in a real Chromium, walked the way the README's demo
walk-through tells a new user to (issue 5, "Done when"), on the real demo data: a visitor
browses the home page and 中共明州市委员会's column, filters it, reads an item and searches
党费 — the city's items are found, the branch's party-only ones are not — and switches to
large type; 唐磊 (tanglei, 湖滨社区第一党支部) logs in, finds his branch's party items in 公开给我的
marked 未读 and in the search too, and leaves a named opinion on one; 梁文博 (liangwenbo, the
branch's clerk) finds it in his tasks, replies and publishes it with the item; 唐磊 reads the
reply in 我的意见 and on the item page. 马丽 (mali, another branch) and a visitor get a 404
for the same item. Screenshots of the main pages at desktop and phone width go to
/tmp/dwgk-public-*.png. Same launch as the other browser tests (Debian's chromium, never a
downloaded browser); the ORM only in the fixture, never inside Playwright's event loop.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.management import call_command

from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mingzhou-demo-2025"  # every demo account (dwgk.accounts.demo.DEMO_PASSWORD)
SCREENSHOT = "/tmp/dwgk-public-{}-{}.png"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

CITY = "中共明州市委员会"
# The city's items that mention 党费, published to society.
CITY_FEES = [
    "明州市2025年度党费收缴、使用和管理情况的通报",
    "市委常委会会议研究部署党费使用管理专项检查",
]
# 湖滨社区第一党支部's 党费 items, published to the branch's party members only.
BRANCH_FEES = [
    "2026年第三季度党费收缴使用管理情况",
    "2026年第二季度党费收缴使用管理情况",
    "2026年第一季度党费收缴使用管理情况",
]
PARTY_ITEM = BRANCH_FEES[0]
OPINION = "建议在公开党费收缴情况时，同时列出党费使用的主要去向，方便党员了解。"
REPLY = "感谢您的建议。支部将从第四季度起在公开党费收缴情况时一并公开使用情况。"


@dataclass
class Demo:
    """Addresses a person would have bookmarked or been sent: nobody clicks their way to an
    item they are not allowed to see."""

    party_item: str
    scheduled_item: str


@pytest.fixture
def demo(transactional_db: None) -> Demo:
    # The ORM is used only here, before Playwright starts its event loop.
    from dwgk.disclosures.models import Disclosure

    call_command("load_demo", force=True, stdout=io.StringIO())
    party = Disclosure.objects.get(title=PARTY_ITEM)
    scheduled = Disclosure.objects.get(status=Disclosure.Status.SCHEDULED)
    return Demo(f"/disclosures/{party.pk}/", f"/disclosures/{scheduled.pk}/")


@pytest.fixture
def page(demo: Demo) -> Iterator[Any]:
    with chromium_page(**DESKTOP) as (page, errors):
        yield page
    # No script errors and no Content-Security-Policy violations on any page; the expected
    # 404s (a party item asked for by the wrong people) are the only failed loads.
    unexpected = [e for e in errors if "status of 404" not in e]
    assert unexpected == []


def shoot(page: Any, name: str) -> None:
    """The page as it is, at desktop and at phone width, for a person to look at."""
    page.screenshot(path=SCREENSHOT.format(name, DESKTOP["width"]), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=SCREENSHOT.format(name, PHONE["width"]), full_page=True)
    page.set_viewport_size(DESKTOP)


def main_nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="主导航")


def portal_tab(page: Any, name: str) -> None:
    """Into the member portal (个人中心 in the main navigation), then one of its tabs."""
    main_nav(page).get_by_role("link", name="个人中心").click()
    page.get_by_role("navigation", name="个人中心").get_by_role("link", name=name).click()


def log_in(page: Any, base: str, username: str) -> None:
    """A fresh visit: no session left over, in from the 登录 link on the home page."""
    page.context.clear_cookies()
    page.goto(f"{base}/")
    main_nav(page).get_by_role("link", name="登录").click()
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/me/")


def search(page: Any, words: str) -> Any:
    """检索 in the main navigation, the words in the search box; the result list."""
    main_nav(page).get_by_role("link", name="检索").click()
    page.get_by_role("searchbox", name="检索公开内容").fill(words)
    page.get_by_role("search").get_by_role("button", name="检索").click()
    page.locator("#search-total").wait_for()
    return page.locator("#results")


def titles(listing: Any) -> list[str]:
    found: list[str] = listing.locator(".item-title").all_inner_texts()
    return found


def row(listing: Any, title: str) -> Any:
    return listing.locator("li", has=listing.page.get_by_role("link", name=title, exact=True))


def message(page: Any) -> str:
    text: str = page.locator(".messages").inner_text()
    return text


def font_size(page: Any) -> float:
    size: str = page.evaluate("getComputedStyle(document.body).fontSize")
    return float(size.removesuffix("px"))


def test_a_visitor_browses_the_city_column_and_searches_for_party_fees(page, live_server):
    base = live_server.url
    page.goto(f"{base}/")

    # The home page lists the newest items published to society, none of the branch's.
    newest = page.locator("#newest")
    assert CITY_FEES[1] in titles(newest)
    assert not set(BRANCH_FEES) & set(titles(newest))
    shoot(page, "home")

    # The city's column, from the directory of columns.
    columns = page.get_by_role("region", name=re.compile("党组织公开专栏"))
    columns.get_by_role("link", name=CITY, exact=True).click()
    assert page.get_by_role("heading", level=1, name=CITY).is_visible()
    items = page.locator("#items")
    assert set(CITY_FEES) <= set(titles(items))
    assert "年度统计" in page.locator("#figures").inner_text()
    shoot(page, "column")

    # By category: the 通报 is the city's one item under 全面从严治党.
    page.locator("#categories").get_by_role("link", name="全面从严治党").click()
    assert titles(items) == [CITY_FEES[0]]
    page.get_by_role("link", name="查看全部").click()
    assert set(CITY_FEES) <= set(titles(items))

    # By month: the month the list dates the 通报 in.
    date = row(items, CITY_FEES[0]).locator("time").inner_text()
    year, month, day = (int(part) for part in date.split("-"))
    page.locator("#months").get_by_role("link", name=f"{year}年{month}月").click()
    assert CITY_FEES[0] in titles(items)
    assert f"{year}年{month}月" in page.locator("#h-items").inner_text()

    # The item, with its metadata block.
    items.get_by_role("link", name=CITY_FEES[0]).click()
    assert page.get_by_role("heading", level=1, name=re.compile(CITY_FEES[0])).is_visible()
    meta = page.locator("#item-meta").inner_text()
    assert "索引号" in meta and re.search(r"MZ/\d{4}-\d{5}", meta)
    assert "发布日期" in meta and f"{year}年{month}月{day}日" in meta
    assert "向社会公开" in meta and CITY in meta
    assert "党费" in page.locator("#body").inner_text()
    shoot(page, "item")

    # Search 党费: the city's items with the hits marked; the branch's party items stay out.
    results = search(page, "党费")
    found = titles(results)
    assert set(CITY_FEES) <= set(found)
    assert not set(BRANCH_FEES) & set(found)
    marks = results.locator("mark").all_inner_texts()
    assert marks and set(marks) == {"党费"}
    assert "登录" in page.locator("main").inner_text()  # members are told to log in for more
    shoot(page, "search")

    # Large type from the footer, on the same page, and back.
    standard = font_size(page)
    page.get_by_role("contentinfo").get_by_role("link", name=re.compile("大字号")).click()
    assert "large-type" in (page.locator("html").get_attribute("class") or "")
    assert font_size(page) > standard
    assert set(CITY_FEES) <= set(titles(page.locator("#results")))  # still the results
    page.get_by_role("contentinfo").get_by_role("link", name="标准字号").click()
    assert "large-type" not in (page.locator("html").get_attribute("class") or "")
    assert font_size(page) == standard


def test_a_member_finds_his_branchs_party_items_marked_unread_and_in_search(page, live_server):
    base = live_server.url
    log_in(page, base, "tanglei")

    # 公开给我的: the branch's party items, unread, next to the society items.
    portal_tab(page, "公开给我的")
    feed = page.locator("#feed")
    assert set(BRANCH_FEES) <= set(titles(feed))
    assert CITY_FEES[0] in titles(feed)
    for title in BRANCH_FEES:
        assert row(feed, title).locator(".unread-mark").inner_text() == "未读"
    shoot(page, "feed")

    # Reading one clears its mark, and only its mark.
    feed.get_by_role("link", name=PARTY_ITEM).click()
    assert page.get_by_role("heading", level=1, name=re.compile(PARTY_ITEM)).is_visible()
    assert "4,326.00元" in page.locator("#body").inner_text()
    assert "湖滨社区第一党支部党内公开" in page.locator("#item-meta").inner_text()
    portal_tab(page, "公开给我的")
    assert row(feed, PARTY_ITEM).locator(".unread-mark").count() == 0
    assert row(feed, BRANCH_FEES[1]).locator(".unread-mark").count() == 1

    # Signed in, the search covers what is disclosed to him: the branch's items too.
    results = search(page, "党费")
    found = titles(results)
    assert set(BRANCH_FEES) <= set(found)
    assert set(CITY_FEES) <= set(found)
    assert row(results, PARTY_ITEM).locator("mark").count() > 0


def test_a_members_opinion_is_answered_by_the_clerk_and_read_by_the_member(
    page, live_server, settings
):
    # The form refuses a post faster than a person types; this person types fast.
    settings.FEEDBACK_MIN_FILL_SECONDS = 0
    base = live_server.url

    # 唐磊 leaves a named opinion on his branch's 党费 item, found in 公开给我的.
    log_in(page, base, "tanglei")
    portal_tab(page, "公开给我的")
    page.locator("#feed").get_by_role("link", name=PARTY_ITEM).click()
    feedback = page.get_by_role("region", name=re.compile("意见反馈"))
    assert feedback.locator("#no-opinions").is_visible()
    feedback.get_by_label("意见内容").fill(OPINION)
    assert feedback.get_by_role("radio", name=re.compile("署名反映")).is_checked()
    feedback.get_by_role("button", name="提交意见").click()
    assert "您的意见已提交" in message(page)
    page.locator("#my-opinions-link").get_by_role("link", name="我的意见").click()
    mine = page.locator("#my-opinions")
    assert PARTY_ITEM in mine.inner_text() and OPINION in mine.inner_text()
    assert "办理结果" not in mine.inner_text()

    # The clerk finds it among his tasks, sees who wrote it, replies and publishes it.
    log_in(page, base, "liangwenbo")
    main_nav(page).get_by_role("link", name=re.compile("待办")).click()
    page.locator("#tasks-feedback").get_by_role("link", name=f"意见：{PARTY_ITEM}").click()
    assert OPINION in page.locator("#opinion-text").inner_text()
    assert "唐磊" in page.locator("#submitter").inner_text()
    page.get_by_label("办理结果（答复意见）").fill(REPLY)
    page.get_by_role("button", name="答复", exact=True).click()
    assert "已答复" in message(page)
    assert REPLY in page.locator("#reply").inner_text()
    assert page.get_by_label("随事项公开的办理结果").input_value() == REPLY
    page.get_by_role("button", name="随事项公开", exact=True).click()
    assert "已随事项公开" in message(page)
    assert "已公开" in page.locator("#published").inner_text()

    # Back as 唐磊: 我的意见 shows the reply, marked unread until he opens it.
    log_in(page, base, "tanglei")
    portal_tab(page, "我的意见")
    entry = page.locator("#my-opinions li", has_text=PARTY_ITEM)
    assert entry.locator(".unread-mark").inner_text() == "未读"
    assert REPLY in entry.locator(".opinion-reply").inner_text()
    assert "新的办理结果" in page.get_by_role("heading", level=1).inner_text()
    entry.get_by_role("link", name=re.compile(PARTY_ITEM)).click()
    assert REPLY in page.locator("#reply").inner_text()
    page.get_by_role("navigation", name="位置").get_by_role("link", name="我的意见").click()
    assert page.locator("#my-opinions .unread-mark").count() == 0

    # The item page shows the opinion and its reply, without who wrote it.
    page.locator("#my-opinions").get_by_role("link", name=re.compile(PARTY_ITEM)).click()
    page.locator("#opinion-title").get_by_role("link", name=PARTY_ITEM).click()
    published = page.locator("#published-opinions")
    assert OPINION in published.inner_text() and REPLY in published.inner_text()
    assert "唐磊" not in published.inner_text()
    shoot(page, "item-feedback")


def test_another_branch_and_a_visitor_get_a_404_for_a_party_item(page, live_server, demo):
    base = live_server.url

    # 马丽 is a member of 柳岸社区第一党支部 (and works for 东湖区委): not this branch's item.
    log_in(page, base, "mali")
    response = page.goto(base + demo.party_item)
    assert response.status == 404
    assert PARTY_ITEM not in page.content()

    # Nor for a visitor.
    page.context.clear_cookies()
    response = page.goto(base + demo.party_item)
    assert response.status == 404
    assert PARTY_ITEM not in page.content()

    # The branch's own member reads it, but not an item that is only scheduled.
    log_in(page, base, "tanglei")
    assert page.goto(base + demo.party_item).status == 200
    response = page.goto(base + demo.scheduled_item)
    assert response.status == 404
    assert "2026年11月主题党日活动安排" not in page.content()


def test_the_404_page_speaks_chinese_and_leads_back_home(page, live_server, demo):
    response = page.goto(live_server.url + demo.party_item)
    assert response.status == 404
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert main_nav(page).get_by_role("link", name="首页").is_visible()
    assert "页面不存在" in page.locator("h1").inner_text()
