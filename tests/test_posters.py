"""The 公开栏 poster of an organization's month (CHAN-1; QJ 7–8): which items go on the board
for whom, the print-ready PDF (font embedded, Chinese text, QR codes that lead back to the
item pages, A4 and A3, many pages), the preview page and the large-type screen page.

The cast (tests/disclosure_cast.py): bob is the clerk of 第一党支部, charlie a member of
第二党支部; dave (made here) is a plain member of 第一党支部. `monthly` items go to branch1's
party members and on the board; `open` items go to society.
"""

from __future__ import annotations

import datetime
import io
import re
import shutil
import subprocess
from typing import Any

import pypdf
import pytest
import zxingcpp
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from dwgk.accounts.models import User
from dwgk.disclosures import actions
from dwgk.disclosures.models import Disclosure
from dwgk.orgs.models import Organization
from dwgk.public.posters import (
    CURRENT,
    ENDED,
    WITHDRAWN,
    Period,
    PeriodError,
    PosterItem,
    poster_item,
    poster_items,
    poster_pdf,
)
from tests.cast import make_member
from tests.disclosure_cast import approved, draft, later, published, through_review

BOARD = ["platform", "board"]
PARTY = "2026年10月党费收缴使用情况"  # `monthly`: branch1's party members, on the board
SOCIETY = "2026年支部工作计划"  # `open`: society
SOCIETY_BODY = "<p>全年支部工作计划：每月第一个星期五集中开展党务公开。</p>"
BASE = "http://testserver/"


def published_to_society(dw: Any, **fields: Any) -> Disclosure:
    """An item under the `open` entry (society, no approval step) on the board."""
    fields.setdefault("channels", BOARD)
    item = through_review(dw, draft(dw, entry=dw.open, **fields))
    return actions.disclosure_publish(item, actor=dw.bob)


def month_of(item: Disclosure) -> Period:
    assert item.published_at is not None
    local = timezone.localtime(item.published_at)
    return Period(local.year, local.month)


def titles(items: list[PosterItem]) -> list[str]:
    return [i.title for i in items]


def squeeze(text: str) -> str:
    """Text without whitespace: a title wrapped over two lines reads as one again."""
    return re.sub(r"\s+", "", text)


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return squeeze("".join(page.extract_text() for page in reader.pages))


def embedded_qr_codes(data: bytes) -> list[str]:
    """What the QR images embedded in the PDF say, page by page."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    found = []
    for page in reader.pages:
        for image in page.images:
            found += [code.text for code in zxingcpp.read_barcodes(image.image)]
    return found


@pytest.fixture
def dave(dw: Any) -> User:
    return make_member("dave", dw.branch1, name="戴夫")


@pytest.fixture
def items(dw: Any) -> dict[str, Any]:
    return {
        "party": published(dw, title=PARTY),
        "society": published_to_society(dw, title=SOCIETY, body=SOCIETY_BODY),
        "draft": draft(dw, title="尚未提出的党费草稿"),
        "approved": approved(dw, title="已批准未发布的党费事项"),
    }


def board(user: Any, dw: Any, items: dict[str, Any]) -> list[str]:
    return titles(poster_items(user, dw.branch1, month_of(items["party"])))


# --- the month ------------------------------------------------------------------------------


def test_the_board_day_is_the_first_friday_of_the_month():
    assert Period(2026, 12).board_day() == datetime.date(2026, 12, 4)
    assert Period(2026, 5).board_day() == datetime.date(2026, 5, 1)  # a Friday itself
    assert Period(2026, 12).board_day_label() == "2026年12月4日（星期五）"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "2026-1", "26-12", "十二月", "1999-12"])
def test_a_month_that_cannot_be_read_is_refused_with_a_chinese_message(text):
    with pytest.raises(PeriodError, match="月份"):
        Period.parse(text)


def test_a_month_covers_its_days_in_the_platforms_time_zone():
    start, end = Period(2026, 12).bounds()
    assert (start.isoformat(), end.isoformat()) == (
        "2026-12-01T00:00:00+08:00",
        "2027-01-01T00:00:00+08:00",
    )
    assert Period(2026, 1).preceding() == Period(2025, 12)
    assert Period(2026, 12).following() == Period(2027, 1)


# --- what goes on the board, for whom -------------------------------------------------------


def test_it_shows_the_public_only_society_items(dw, items):
    assert board(AnonymousUser(), dw, items) == [SOCIETY]


def test_a_branch_member_also_gets_the_party_items_of_their_branch(dw, items, dave):
    assert sorted(board(dave, dw, items)) == sorted([PARTY, SOCIETY])


def test_it_hides_branch1s_party_items_from_a_member_of_branch2(dw, items):
    assert board(dw.charlie, dw, items) == [SOCIETY]


def test_drafts_and_approved_items_never_go_on_the_board_not_even_for_the_clerk(dw, items):
    # bob works on the drafts, but the board is the readers' view (disclosed_to).
    shown = board(dw.bob, dw, items)
    assert "尚未提出的党费草稿" not in shown and "已批准未发布的党费事项" not in shown
    assert sorted(shown) == sorted([PARTY, SOCIETY])


def test_items_not_published_on_the_board_stay_off_it(dw, items, dave):
    published_to_society(dw, title="只在平台公开的工作计划", channels=["platform"])
    assert "只在平台公开的工作计划" not in board(dave, dw, items)


def test_only_the_months_items_of_the_organization_are_on_its_board(dw, items, dave):
    month = month_of(items["party"])
    assert poster_items(dave, dw.branch1, month.preceding()) == []
    assert poster_items(dave, dw.branch1, month.following()) == []
    assert poster_items(dave, dw.branch2, month) == []
    assert titles(poster_items(dave, dw.branch1, month.slug)) == titles(
        poster_items(dave, dw.branch1)  # the current month by default
    )


def test_a_withdrawn_item_shows_only_its_title_and_correction_notice(dw, items, dave):
    actions.disclosure_withdraw(
        items["party"], actor=dw.alice, notice="数据有误，核对后重新公开，特此更正。"
    )
    (party,) = [
        i
        for i in poster_items(dave, dw.branch1, month_of(items["party"]))
        if i.pk == items["party"].pk
    ]
    assert party.state == WITHDRAWN and party.mark == "已撤回"
    assert party.excerpt == "" and "数据有误" in party.notice


def test_an_item_withdrawn_this_month_brings_its_correction_to_this_months_board(dw, items, dave):
    item = actions.disclosure_withdraw(
        items["party"], actor=dw.alice, notice="数据有误，核对后重新公开，特此更正。"
    )
    month = month_of(item)
    item.published_at = timezone.localtime(item.published_at) - datetime.timedelta(days=40)
    Disclosure.objects.filter(pk=item.pk).update(published_at=item.published_at)
    for period in (month, month_of(item)):  # withdrawn in this one, published in that one
        states = {i.title: i.state for i in poster_items(dave, dw.branch1, period)}
        assert states[PARTY] == WITHDRAWN


def test_items_whose_period_ended_follow_the_current_ones_marked_and_without_excerpt(
    dw, items, dave
):
    ended = published(dw, title="已到期的党费公示")
    actions.disclosure_expire(ended, actor=dw.bob)
    board_items = poster_items(dave, dw.branch1, month_of(items["party"]))
    assert [i.state for i in board_items] == [CURRENT, CURRENT, ENDED]
    last = board_items[-1]
    assert last.title == "已到期的党费公示" and last.mark == "已过公开期限" and last.excerpt == ""


def test_an_item_past_its_end_date_counts_as_ended_before_the_worker_marks_it(dw, items):
    item = published(dw, title="即将到期的党费公示", expire_at=later(30))
    assert poster_item(item).state == CURRENT
    ended = poster_item(item, now=later(31))
    assert ended.state == ENDED and ended.mark == "已过公开期限" and ended.excerpt == ""


def test_the_excerpt_is_the_plain_text_of_the_body(dw, items):
    (society,) = poster_items(AnonymousUser(), dw.branch1, month_of(items["society"]))
    assert society.excerpt == "全年支部工作计划：每月第一个星期五集中开展党务公开。"


# --- the PDF --------------------------------------------------------------------------------


def poster(dw: Any, items: dict[str, Any], user: Any, size: str = "A4") -> bytes:
    month = month_of(items["party"])
    return poster_pdf(poster_items(user, dw.branch1, month), dw.branch1, month, size, BASE)


def test_the_pdf_embeds_the_chinese_font_and_carries_the_titles(dw, items, dave):
    data = poster(dw, items, dave)
    page: Any = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    assert fonts, "the page uses a font"
    for font in fonts:
        assert "NotoSansSC" in font["/BaseFont"]
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor  # embedded
    text = pdf_text(data)
    month = month_of(items["party"])
    assert squeeze(f"湖滨社区第一党支部 党务公开栏 · {month.label}") in text
    assert squeeze(f"党务公开日：{month.board_day_label()}") in text
    assert PARTY in text and SOCIETY in text
    assert items["party"].index_no in text and "扫码查看全文、提出意见" in text
    assert "尚未提出的党费草稿" not in text and "已批准未发布的党费事项" not in text


def test_the_public_poster_holds_no_party_item(dw, items):
    text = pdf_text(poster(dw, items, AnonymousUser()))
    assert SOCIETY in text and PARTY not in text


def test_the_qr_codes_decode_to_the_item_pages_at_their_feedback_form(dw, items, dave):
    codes = embedded_qr_codes(poster(dw, items, dave))
    expected = {f"{BASE}disclosures/{items[k].pk}/#feedback" for k in ("party", "society")}
    assert set(codes) == expected and len(codes) == 2


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) 未安装")
def test_the_printed_poster_scans_back_to_the_item_pages(dw, items, dave, tmp_path):
    (tmp_path / "poster.pdf").write_bytes(poster(dw, items, dave))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", tmp_path / "poster.pdf", tmp_path / "page"],
        check=True,
    )
    (page,) = sorted(tmp_path.glob("page*.png"))
    codes = {code.text for code in zxingcpp.read_barcodes(Image.open(page))}
    assert codes == {f"{BASE}disclosures/{items[k].pk}/#feedback" for k in ("party", "society")}


def test_a_withdrawn_item_is_printed_as_its_correction_notice_without_its_body(dw, items, dave):
    actions.disclosure_withdraw(
        items["party"], actor=dw.alice, notice="数据有误，核对后重新公开，特此更正。"
    )
    text = pdf_text(poster(dw, items, dave))
    assert squeeze(f"【已撤回】{PARTY}") in text and "数据有误，核对后重新公开" in text
    assert "收缴党费1,280元" not in text  # the body (tests.disclosure_cast.BODY)


def test_a3_is_a3_portrait(dw, items):
    reader = pypdf.PdfReader(io.BytesIO(poster(dw, items, AnonymousUser(), size="A3")))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 1191)
    assert SOCIETY in pdf_text(poster(dw, items, AnonymousUser(), size="A3"))
    reader = pypdf.PdfReader(io.BytesIO(poster(dw, items, AnonymousUser())))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_many_items_run_over_numbered_pages_each_item_whole(dw, items, dave):
    for n in range(1, 13):
        published(dw, title=f"第{n:02d}号党费公示", body=f"<p>{'党费收缴明细。' * 40}</p>")
    data = poster(dw, items, dave)
    reader = pypdf.PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages >= 3
    for number, page in enumerate(reader.pages, 1):
        text = squeeze(page.extract_text())
        assert f"第{number}页共{pages}页" in text
        if number > 1:
            assert "党务公开栏" in text and "（续）" in text
    text = pdf_text(data)
    for n in range(1, 13):
        assert text.count(f"第{n:02d}号党费公示") == 1
    assert len(embedded_qr_codes(data)) == 14


def test_a_month_without_board_items_prints_a_poster_that_says_so(dw):
    data = poster_pdf([], dw.branch1, Period(2026, 12), "A4", BASE)
    assert "本月暂无在党务公开栏公开的事项" in pdf_text(data)


# --- the views ------------------------------------------------------------------------------


def pdf_url(dw: Any, items: dict[str, Any], **query: str) -> str:
    url = reverse("posters:pdf", args=[dw.branch1.pk, month_of(items["party"]).slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def screen_url(dw: Any, items: dict[str, Any]) -> str:
    return reverse("posters:screen", args=[dw.branch1.pk, month_of(items["party"]).slug])


def page_url(dw: Any) -> str:
    return reverse("posters:org", args=[dw.branch1.pk])


def test_the_pdf_downloads_for_anonymous_visitors_with_society_items_only(client, dw, items):
    response = client.get(pdf_url(dw, items))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "filename*=utf-8''" in disposition.lower()
    assert "%E5%85%9A%E5%8A%A1%E5%85%AC%E5%BC%80%E6%A0%8F" in disposition  # 党务公开栏
    assert "public" in response["Cache-Control"]
    text = pdf_text(response.content)
    assert SOCIETY in text and PARTY not in text
    assert embedded_qr_codes(response.content) == [
        f"http://testserver/disclosures/{items['society'].pk}/#feedback"
    ]


def test_the_pdf_for_a_member_of_another_branch_has_no_party_item_of_branch1(client, dw, items):
    client.force_login(dw.charlie)
    response = client.get(pdf_url(dw, items))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert SOCIETY in text and PARTY not in text
    assert "private" in response["Cache-Control"]


def test_the_pdf_for_a_member_of_the_branch_has_its_party_items_and_is_private(
    client, dw, items, dave
):
    client.force_login(dave)
    response = client.get(pdf_url(dw, items, size="A3"))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert "Cookie" in response["Vary"]
    text = pdf_text(response.content)
    assert PARTY in text and SOCIETY in text
    assert "尚未提出的党费草稿" not in text and "已批准未发布的党费事项" not in text
    assert "A3" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("month", "size", "message"),
    [("2026-13", "A4", "月份"), ("2026-1", "A4", "月份"), ("2026-12", "B5", "纸张规格")],
)
def test_a_bad_month_or_size_is_a_400_in_chinese(client, dw, month, size, message):
    url = reverse("posters:pdf", args=[dw.branch1.pk, month]) + f"?size={size}"
    response = client.get(url)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_unknown_organization_is_a_404(client, dw):
    missing = Organization.objects.order_by("-pk").first().pk + 1  # type: ignore[union-attr]
    assert client.get(reverse("posters:org", args=[missing])).status_code == 404
    assert client.get(reverse("posters:pdf", args=[missing, "2026-12"])).status_code == 404
    assert client.get(reverse("posters:screen", args=[missing, "2026-12"])).status_code == 404


def test_the_page_previews_society_items_to_anonymous_visitors(client, dw, items):
    response = client.get(page_url(dw), {"month": month_of(items["party"]).slug})
    assert response.status_code == 200
    html = response.content.decode()
    assert SOCIETY in html and PARTY not in html
    assert "尚未提出的党费草稿" not in html and "已批准未发布的党费事项" not in html
    assert pdf_url(dw, items, size="A4") in html.replace("&amp;", "&")
    assert screen_url(dw, items) in html
    assert "党务公开日" in html


def test_the_page_shows_charlie_no_party_item_of_branch1(client, dw, items):
    client.force_login(dw.charlie)
    html = client.get(page_url(dw)).content.decode()
    assert SOCIETY in html and PARTY not in html


def test_the_page_previews_the_party_items_to_a_branch_member_with_the_chosen_size(
    client, dw, items, dave
):
    client.force_login(dave)
    html = client.get(page_url(dw), {"size": "A3"}).content.decode()
    assert PARTY in html and SOCIETY in html
    assert pdf_url(dw, items, size="A3") in html
    assert "private" in client.get(page_url(dw))["Cache-Control"]


def test_the_page_refuses_a_bad_month_in_chinese(client, dw):
    response = client.get(page_url(dw), {"month": "2026-13"})
    assert response.status_code == 400
    assert "月份应在 01 至 12 之间" in response.content.decode()


def test_the_screen_page_shows_society_items_in_large_type_with_inline_svg_qr_codes(
    client, dw, items
):
    response = client.get(screen_url(dw, items))
    assert response.status_code == 200
    html = response.content.decode()
    assert SOCIETY in html and PARTY not in html
    assert html.count('<svg viewBox="0 0 ') == 1 and 'class="poster-qr"' in html
    # Strict CSP: no inline script or style anywhere on the page.
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert 'http-equiv="refresh"' not in html


def test_the_screen_page_shows_a_branch_member_the_party_items_but_never_drafts(
    client, dw, items, dave
):
    client.force_login(dave)
    html = client.get(screen_url(dw, items)).content.decode()
    assert PARTY in html and SOCIETY in html
    assert "尚未提出的党费草稿" not in html and "已批准未发布的党费事项" not in html


def test_the_screen_page_hides_branch1s_party_items_from_charlie(client, dw, items):
    client.force_login(dw.charlie)
    html = client.get(screen_url(dw, items)).content.decode()
    assert SOCIETY in html and PARTY not in html


def test_the_screen_page_rotates_one_item_at_a_time_by_meta_refresh(client, dw, items, dave):
    client.force_login(dave)
    url = screen_url(dw, items)
    first = client.get(url, {"rotate": "20"}).content.decode()
    assert first.count('class="screen-item') == 1
    assert f'content="20; url={url}?rotate=20&amp;n=2"' in first
    second = client.get(url, {"rotate": "20", "n": "2"}).content.decode()
    assert f'content="20; url={url}?rotate=20&amp;n=1"' in second  # back to the first
    assert (PARTY in first) != (PARTY in second)
    assert client.get(url, {"rotate": "5"}).status_code == 400
    assert "轮播间隔" in client.get(url, {"rotate": "x"}).content.decode()


def test_the_screen_page_shows_a_withdrawn_item_as_its_correction_notice(client, dw, items):
    actions.disclosure_withdraw(
        items["society"], actor=dw.alice, notice="计划调整，待支部委员会重新研究后公开。"
    )
    html = client.get(screen_url(dw, items)).content.decode()
    assert SOCIETY in html and "已撤回" in html and "计划调整" in html
    assert "每月第一个星期五集中开展党务公开" not in html  # the body


# --- the demo and a real browser ------------------------------------------------------------


def test_the_demo_branchs_poster_carries_its_board_items_with_qr_codes(db):
    call_command("load_demo", force=True, stdout=io.StringIO())
    branch = Organization.objects.get(code="MZ-DH-HB-01-1")
    member = User.objects.get(username="tanglei")
    items = poster_items(member, branch)
    assert {"2026年第三季度党费收缴使用管理情况", "关于开展“社区党员志愿服务月”活动的通知"} <= set(
        titles(items)
    )
    assert [i.state for i in items if i.title.startswith("2026年9月主题党日")] == [WITHDRAWN]
    data = poster_pdf(items, branch, Period.current(), "A4", BASE)
    assert "湖滨社区第一党支部" in pdf_text(data)
    assert len(embedded_qr_codes(data)) == len(items)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_screen_page_renders_in_chromium_without_csp_errors(
    live_server, dw, items, dave, tmp_path
):
    from tests.browser import chromium_page

    url = live_server.url + screen_url(dw, items)
    with chromium_page(width=1920, height=1080) as (page, errors):
        page.goto(url)
        assert page.locator("section.screen-item").count() == 1
        qr = page.locator("svg.poster-qr")
        box = qr.bounding_box()
        assert box is not None and box["width"] > 200  # sized by the stylesheet
        page.screenshot(path=str(tmp_path / "screen.png"))
        codes = zxingcpp.read_barcodes(Image.open(tmp_path / "screen.png"))
        assert [c.text for c in codes] == [
            f"{live_server.url}/disclosures/{items['society'].pk}/#feedback"
        ]
    assert errors == []
