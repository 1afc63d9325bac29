"""Accessibility of the main pages (issue 5): axe-core, run in Debian's Chromium against the
demo, must report no serious or critical violation on the home page, an organization's
column, an item page, the search results and the member pages — at desktop and phone width.

axe-core's script comes with the axe-playwright-python package (MPL 2.0, nothing is
downloaded); it is evaluated through the DevTools protocol, so the pages keep their strict
Content-Security-Policy while it runs.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from tests.browser import chromium_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


def axe_source() -> str:
    import axe_playwright_python  # type: ignore[import-untyped]

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")


@pytest.fixture
def urls(transactional_db: None) -> dict[str, str]:
    # The ORM is used only here, before Playwright starts its event loop.
    from dwgk.disclosures.models import Disclosure
    from dwgk.orgs.models import Organization

    call_command("load_demo", force=True, stdout=io.StringIO())
    city = Organization.objects.get(code="MZ")
    society = Disclosure.objects.get(title__startswith="明州市2025年度党费")
    party = Disclosure.objects.get(title="2026年第三季度党费收缴使用管理情况")
    withdrawn = Disclosure.objects.get(status=Disclosure.Status.WITHDRAWN)
    return {
        "home": "/",
        "column": f"/open/{city.pk}/",
        "item": f"/disclosures/{society.pk}/",
        "search": "/search/?q=%E5%85%9A%E8%B4%B9",  # 党费
        "party item": f"/disclosures/{party.pk}/",
        "withdrawn item": f"/disclosures/{withdrawn.pk}/",
        "member home": "/me/",
        "member feed": "/me/feed/",
    }


@pytest.fixture(params=[1280, 390], ids=["desktop", "phone"])
def page(request: Any, urls: dict[str, str]) -> Iterator[Any]:
    with chromium_page(width=request.param) as (page, errors):
        yield page
    assert errors == []


def violations(page: Any, source: str) -> list[dict[str, Any]]:
    page.evaluate(source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    found: list[dict[str, Any]] = result["violations"]
    return [v for v in found if v["impact"] in BLOCKING]


def summary(found: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in found
        ],
        ensure_ascii=False,
        indent=1,
    )


def test_the_main_pages_have_no_serious_or_critical_violations(page, live_server, urls):
    source = axe_source()
    report: dict[str, str] = {}
    checked = 0
    for name in ("home", "column", "item", "search"):
        page.goto(live_server.url + urls[name])
        found = violations(page, source)
        checked += 1
        if found:
            report[name] = summary(found)
    # A member of 湖滨社区第一党支部 (password of the demo accounts).
    page.goto(live_server.url + "/accounts/login/")
    found = violations(page, source)
    if found:
        report["login"] = summary(found)
    page.get_by_label("用户名").fill("tanglei")
    page.get_by_label("密码").fill("mingzhou-demo-2025")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(live_server.url + "/me/")
    for name in ("member home", "member feed", "party item", "withdrawn item", "search"):
        page.goto(live_server.url + urls[name])
        assert page.locator("main").count() == 1
        found = violations(page, source)
        checked += 1
        if found:
            report[f"{name} (member)"] = summary(found)
    assert checked == 9
    assert report == {}, "\n".join(f"{k}: {v}" for k, v in report.items())
