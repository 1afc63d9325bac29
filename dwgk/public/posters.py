"""Bulletin-board posters (公开栏, CHAN-1; QJ 7) for an organization's monthly 党务公开日.

QJ 8(2) makes the first Friday of every month the 党务公开日, when the month's regular items
go up on the 党务公开栏; QJ 7 also names 电子显示屏. `poster_items` picks what goes on the
board, `poster_pdf` prints it as an A4 or A3 poster and the screen page
(`views_posters.screen`) shows the same items in large type.

What goes on the board for a reader:

* the organization's items disclosed to *that reader* (`Disclosure.objects.disclosed_to`,
  the one visibility rule: anonymous visitors get society items only, a branch member also
  the branch's party items), whose channels include 公开栏 (`Channel.BOARD`), and which were
  published in the month;
* in force first, in the order they were published;
* then items whose 公开期限 has ended (expired, closed or archived, or past their end date
  before the worker marked them): they were on the board this month, so the poster still
  lists them — marked 已过公开期限 / 已结束 / 已归档, without an excerpt (the board is for
  what is in force; the QR code still leads to the page, which stays readable);
* last, withdrawn items as their correction notice only, marked 已撤回 — never their body.
  An item withdrawn in the month is listed even when it was published earlier, so that a
  board which carried it also carries its correction.
"""

from __future__ import annotations

import calendar
import datetime
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import segno
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, TextMode, WrapMode, XPos, YPos

from dwgk.catalog.channels import Channel
from dwgk.disclosures.models import Disclosure
from dwgk.disclosures.record_pdf import html_paragraphs
from dwgk.lib.pdffont import FONT, FONT_FILE, shown
from dwgk.orgs.models import Organization

SIZES = ("A4", "A3")
# A3 is A4 scaled by √2: the same poster, every length and type size enlarged alike.
SCALE = {"A4": 1.0, "A3": 297 / 210}
MIN_YEAR, MAX_YEAR = 2000, 2099
EXCERPT_CHARS = 200
WEEKDAYS = "一二三四五六日"
QR_CAPTION = "扫码查看全文、提出意见"

CURRENT, ENDED, WITHDRAWN = "current", "ended", "withdrawn"
_ORDER = {CURRENT: 0, ENDED: 1, WITHDRAWN: 2}


class PeriodError(ValueError):
    """A month that cannot be read; the message is for the person who typed it."""


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month, the period of one board (QJ 8(2): 每月公开一次)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        """`YYYY-MM` (2026-12) as a period; PeriodError with a Chinese message otherwise."""
        match = re.fullmatch(r"(\d{4})-(\d{2})", (text or "").strip())
        if match is None:
            raise PeriodError(f"月份“{text}”无法识别，请按“年-月”填写，例如 2026-12。")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise PeriodError(f"月份“{text}”无效：月份应在 01 至 12 之间。")
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise PeriodError(f"月份“{text}”无效：年份应在{MIN_YEAR}年至{MAX_YEAR}年之间。")
        return cls(year, month)

    @classmethod
    def current(cls) -> Period:
        """The month it is now, in the platform's time zone."""
        today = timezone.localdate()
        return cls(today.year, today.month)

    @property
    def slug(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{self.year}年{self.month}月"

    def bounds(self) -> tuple[datetime.datetime, datetime.datetime]:
        """The first instant of the month and of the next, in the platform's time zone."""
        tz = timezone.get_current_timezone()
        start = datetime.datetime(self.year, self.month, 1, tzinfo=tz)
        following = self.following()
        end = datetime.datetime(following.year, following.month, 1, tzinfo=tz)
        return start, end

    def following(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def preceding(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def board_day(self) -> datetime.date:
        """The 党务公开日: the first Friday of the month (QJ 8(2))."""
        first = datetime.date(self.year, self.month, 1)
        return first + datetime.timedelta(days=(calendar.FRIDAY - first.weekday()) % 7)

    def board_day_label(self) -> str:
        day = self.board_day()
        return f"{day.year}年{day.month}月{day.day}日（星期{WEEKDAYS[day.weekday()]}）"


@dataclass(frozen=True)
class PosterItem:
    """One item as the board shows it: what a reader may see, nothing more. A withdrawn
    item carries its title and correction notice only (its body is never read)."""

    pk: int
    title: str
    index_no: str
    published_on: datetime.date | None
    category: str
    state: str  # CURRENT, ENDED or WITHDRAWN
    mark: str  # the state as the board prints it: "" while in force
    excerpt: str
    notice: str  # the correction notice, if any
    withdrawn_on: datetime.date | None

    @property
    def path(self) -> str:
        """The item page, at its feedback form."""
        return reverse("disclosures:detail", args=[self.pk]) + "#feedback"

    def url(self, base_url: str) -> str:
        """The absolute URL the QR code encodes."""
        return base_url.rstrip("/") + self.path


def _date(value: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(value).date() if value is not None else None


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The beginning of the sanitized body as plain text (tables as `a | b` rows)."""
    text = "\n".join(html_paragraphs(body))
    return text if len(text) <= limit else text[:limit].rstrip() + "……"


def poster_item(item: Disclosure, now: datetime.datetime | None = None) -> PosterItem:
    """The board's view of one item the reader may see (see the module docstring)."""
    now = now or timezone.now()
    common: dict[str, Any] = {
        "pk": item.pk,
        "title": item.title,
        "index_no": item.index_no or "",
        "published_on": _date(item.published_at),
        "category": item.category,
        "notice": item.correction_notice,
        "withdrawn_on": _date(item.withdrawn_at),
    }
    if item.withdrawn_at is not None:
        # Only the title and the correction notice stay visible (the detail page's rule).
        return PosterItem(**common, state=WITHDRAWN, mark="已撤回", excerpt="")
    S = Disclosure.Status
    if item.status in (S.EXPIRED, S.CLOSED, S.ARCHIVED):
        return PosterItem(**common, state=ENDED, mark=item.get_status_display(), excerpt="")
    if item.expire_at is not None and item.expire_at <= now:
        # Past its end date; the worker has not marked it yet.
        return PosterItem(**common, state=ENDED, mark=str(S.EXPIRED.label), excerpt="")
    return PosterItem(**common, state=CURRENT, mark="", excerpt=excerpt(item.body))


def poster_items(
    user: Any, org: Organization, period: Period | str | None = None
) -> list[PosterItem]:
    """The items of `org` on its board for `period` (default: this month), as `user` may
    see them: in force first, then ended ones, then withdrawn ones as their correction."""
    if period is None:
        period = Period.current()
    elif isinstance(period, str):
        period = Period.parse(period)
    start, end = period.bounds()
    rows = (
        Disclosure.objects.disclosed_to(user)
        .filter(org=org)
        .filter(
            Q(published_at__gte=start, published_at__lt=end)
            | Q(withdrawn_at__gte=start, withdrawn_at__lt=end)
        )
        .order_by("published_at", "pk")
    )
    now = timezone.now()
    # Channels are a JSON list, which SQLite cannot query by element; a month's items of
    # one organization are few, so they are picked here.
    items = [poster_item(row, now) for row in rows if Channel.BOARD in (row.channels or [])]
    return sorted(items, key=lambda i: _ORDER[i.state])  # stable: publication order within


# --- QR codes -------------------------------------------------------------------------------


def qr_png(url: str) -> bytes:
    """The URL as a QR code PNG, 10 px a module with the standard 4-module quiet zone: at
    the poster's 30 mm that is over 300 dpi, so it prints crisply."""
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    """The URL as an inline SVG QR code, sized by CSS (class `poster-qr`), no inline style."""
    svg: str = segno.make(url, error="m").svg_inline(
        scale=1, border=4, omitsize=True, svgclass="poster-qr"
    )
    return svg


# --- the PDF --------------------------------------------------------------------------------

RED = (192, 0, 0)  # party red
RED_DARK = (150, 0, 0)
GOLD = (230, 180, 34)
INK = (31, 35, 40)
GRAY = (96, 104, 112)
LINE = (208, 215, 222)
BAND_TEXT = (255, 236, 236)
# Stands for the page count in the footer: a private-use character no text can contain
# (`shown()` turns every character the font lacks into □ before fpdf2 sees it).
PAGES_ALIAS = "\ue000\ue000"
TITLE_LINES, EXCERPT_LINES, NOTICE_LINES = 3, 5, 6


class _PosterPDF(FPDF):
    k_scale = 1.0
    footer_left = ""
    band_text = ""

    def header(self) -> None:
        if self.page_no() == 1:
            return  # the first page has the full title band, drawn by poster_pdf
        s = self.k_scale
        self.set_fill_color(*RED)
        self.rect(0, 0, self.w, 13 * s, style="F")
        self.set_fill_color(*GOLD)
        self.rect(0, 13 * s, self.w, 1.2 * s, style="F")
        self.set_xy(self.l_margin, 3 * s)
        text = self.band_text + "（续）"
        self.set_font(FONT, size=_fit_size(self, text, self.epw, 12 * s, 8 * s))
        self.set_text_color(255)
        self.cell(self.epw, 7 * s, text, align="L")
        self.set_y(20 * s)

    def footer(self) -> None:
        s = self.k_scale
        y = self.h - 12 * s
        self.set_draw_color(*LINE)
        self.set_line_width(0.3 * s)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_xy(self.l_margin, y + 1.5 * s)
        self.set_font(FONT, size=8.5 * s)
        self.set_text_color(*GRAY)
        self.cell(self.epw, 5 * s, self.footer_left, align="L")
        self.set_x(self.l_margin)
        self.cell(self.epw, 5 * s, f"第 {self.page_no()} 页 共 {PAGES_ALIAS} 页", align="R")


def _lines(pdf: FPDF, width: float, text: str, limit: int) -> list[str]:
    """`text` wrapped to `width` at any character (Chinese has no spaces), at most
    `limit` lines, the last one ending in …… when something was cut."""
    lines = cast(
        list[str],
        pdf.multi_cell(
            width,
            text=text,
            wrapmode=WrapMode.CHAR,
            dry_run=True,
            output=MethodReturnValue.LINES,
        ),
    )
    if len(lines) <= limit:
        return lines
    kept = lines[:limit]
    last = kept[-1]
    while last and pdf.get_string_width(last + "……") > width:
        last = last[:-1]
    return [*kept[:-1], last + "……"]


def _packed(pdf: FPDF, width: float, parts: Sequence[str], gap: str = "　　") -> list[str]:
    """Short label–value parts side by side, a line broken only between parts (a date
    never splits); a part too long for a line of its own is wrapped by character."""
    lines: list[str] = []
    for part in parts:
        joined = f"{lines[-1]}{gap}{part}" if lines else part
        if lines and pdf.get_string_width(joined) <= width:
            lines[-1] = joined
        else:
            lines.extend(_lines(pdf, width, part, 2))
    return lines


def _fit_size(pdf: FPDF, text: str, width: float, largest: float, smallest: float) -> float:
    """The largest type size (pt) from `largest` down to `smallest` at which `text` fits."""
    size = largest
    while size > smallest:
        pdf.set_font(FONT, size=size)
        if pdf.get_string_width(text) <= width:
            break
        size -= 0.5
    return size


class _Layout:
    """Draws the poster on one FPDF document; every length in A4 millimetres × scale."""

    def __init__(self, pdf: _PosterPDF, base_url: str) -> None:
        self.pdf = pdf
        self.s = pdf.k_scale
        self.base_url = base_url
        self.bottom = pdf.h - 16 * self.s  # above the footer

    def band(self, org_name: str, board: str, board_day: str) -> None:
        """The red title band: "org 党务公开栏 · month" on one line when it fits in large
        type, else the organization's name above "党务公开栏 · month" (never broken
        inside a word)."""
        pdf, s = self.pdf, self.s
        one_line = f"{org_name} {board}"
        size = _fit_size(pdf, one_line, pdf.epw, 24 * s, 17 * s)
        pdf.set_font(FONT, size=size)
        if pdf.get_string_width(one_line) <= pdf.epw:
            title_lines = [one_line]
        else:
            size = _fit_size(pdf, org_name, pdf.epw, 22 * s, 14 * s)
            pdf.set_font(FONT, size=size)
            title_lines = [*_lines(pdf, pdf.epw, org_name, 2), board]
        line_h = size * 0.3528 * 1.35
        height = 10 * s + line_h * len(title_lines) + 9 * s
        pdf.set_fill_color(*RED)
        pdf.rect(0, 0, pdf.w, height, style="F")
        pdf.set_fill_color(*GOLD)
        pdf.rect(0, height, pdf.w, 1.6 * s, style="F")
        pdf.set_text_color(255)
        y = 7 * s
        with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.25 * s):
            pdf.set_draw_color(255)
            for line in title_lines:
                pdf.set_xy(pdf.l_margin, y)
                pdf.cell(pdf.epw, line_h, line, align="C")
                y += line_h
        pdf.set_font(FONT, size=12 * s)
        pdf.set_text_color(*BAND_TEXT)
        pdf.set_xy(pdf.l_margin, y + 1 * s)
        pdf.cell(pdf.epw, 6 * s, board_day, align="C")
        pdf.set_y(height + 6 * s)

    def intro(self, text: str) -> None:
        pdf, s = self.pdf, self.s
        pdf.set_font(FONT, size=10 * s)
        pdf.set_text_color(*GRAY)
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(
            pdf.epw,
            5.5 * s,
            text,
            wrapmode=WrapMode.CHAR,
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(3 * s)

    def item(self, number: int, item: PosterItem) -> None:
        pdf, s = self.pdf, self.s
        qr = 30 * s
        pad = 4 * s
        bar = 2.2 * s
        text_x = pdf.l_margin + bar + pad
        text_w = pdf.epw - bar - pad * 3 - qr
        title_pt, meta_pt, body_pt = 14 * s, 9 * s, 10.5 * s
        title_h, meta_h, body_h = title_pt * 0.52, meta_pt * 0.55, body_pt * 0.56

        mark = f"【{item.mark}】" if item.mark else ""
        pdf.set_font(FONT, size=title_pt)
        title = _lines(pdf, text_w, shown(f"{number}. {mark}{item.title}"), TITLE_LINES)
        meta = [
            shown(part)
            for part in (
                f"索引号：{item.index_no}" if item.index_no else "",
                f"发布日期：{_cn_date(item.published_on)}" if item.published_on else "",
                f"撤回日期：{_cn_date(item.withdrawn_on)}" if item.withdrawn_on else "",
                f"类别：{item.category}" if item.category else "",
            )
            if part
        ]
        pdf.set_font(FONT, size=meta_pt)
        meta_lines = _packed(pdf, text_w, meta)
        body_lines: list[str] = []
        pdf.set_font(FONT, size=body_pt)
        if item.state == WITHDRAWN:
            text = (
                f"更正说明：{item.notice}" if item.notice else "该事项已撤回，原公开内容不再提供。"
            )
            body_lines = _lines(pdf, text_w, shown(text), NOTICE_LINES)
        elif item.state == ENDED:
            body_lines = ["公开期限已届满，可扫码在线查阅。"]
        else:
            if item.excerpt:
                body_lines = _lines(pdf, text_w, shown(item.excerpt), EXCERPT_LINES)
            if item.notice:
                body_lines += _lines(pdf, text_w, shown(f"更正说明：{item.notice}"), 3)

        text_h = title_h * len(title) + 1.5 * s + meta_h * len(meta_lines)
        if body_lines:
            text_h += 2 * s + body_h * len(body_lines)
        qr_h = qr + 5 * s
        height = max(text_h, qr_h) + pad * 2
        if pdf.get_y() + height > self.bottom:
            pdf.add_page()
        top = pdf.get_y()

        pdf.set_draw_color(*LINE)
        pdf.set_line_width(0.3 * s)
        pdf.rect(pdf.l_margin, top, pdf.epw, height, style="D")
        pdf.set_fill_color(*(GRAY if item.state != CURRENT else RED))
        pdf.rect(pdf.l_margin, top, bar, height, style="F")

        url = item.url(self.base_url)
        y = top + pad
        pdf.set_font(FONT, size=title_pt)
        pdf.set_text_color(*(RED_DARK if item.state == CURRENT else GRAY))
        with pdf.local_context(text_mode=TextMode.FILL_STROKE, line_width=0.18 * s):
            pdf.set_draw_color(*(RED_DARK if item.state == CURRENT else GRAY))
            for line in title:
                pdf.set_xy(text_x, y)
                pdf.cell(text_w, title_h, line, align="L", link=url)
                y += title_h
        y += 1.5 * s
        pdf.set_font(FONT, size=meta_pt)
        pdf.set_text_color(*GRAY)
        for line in meta_lines:
            pdf.set_xy(text_x, y)
            pdf.cell(text_w, meta_h, line, align="L")
            y += meta_h
        if body_lines:
            y += 2 * s
            pdf.set_font(FONT, size=body_pt)
            pdf.set_text_color(*INK)
            for line in body_lines:
                pdf.set_xy(text_x, y)
                pdf.cell(text_w, body_h, line, align="L")
                y += body_h

        qr_x = pdf.l_margin + pdf.epw - pad - qr
        qr_y = top + (height - qr_h) / 2
        pdf.image(io.BytesIO(qr_png(url)), x=qr_x, y=qr_y, w=qr, h=qr, link=url)
        pdf.set_font(FONT, size=7.5 * s)
        pdf.set_text_color(*GRAY)
        pdf.set_xy(qr_x - 3 * s, qr_y + qr)
        pdf.cell(qr + 6 * s, 5 * s, QR_CAPTION, align="C")

        pdf.set_y(top + height + 4 * s)

    def empty(self) -> None:
        pdf, s = self.pdf, self.s
        pdf.set_font(FONT, size=14 * s)
        pdf.set_text_color(*GRAY)
        pdf.set_x(pdf.l_margin)
        pdf.cell(pdf.epw, 20 * s, "本月暂无在党务公开栏公开的事项。", align="C")


def _cn_date(value: datetime.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value is not None else ""


def board_title(org: Organization, period: Period) -> str:
    return f"{org.name} 党务公开栏 · {period.label}"


def poster_pdf(
    items: Iterable[PosterItem],
    org: Organization,
    period: Period,
    size: str = "A4",
    base_url: str = "",
) -> bytes:
    """The board as a print-ready portrait PDF (A4 or A3), the Chinese font embedded: a red
    title band with the 党务公开日, each item with its QR code to its page and feedback
    form, pages numbered in the footer. `base_url` (`https://host/`) makes the QR codes'
    URLs absolute."""
    if size not in SIZES:
        raise ValueError(f"unknown poster size {size!r}")
    items = list(items)
    pdf = _PosterPDF(orientation="P", unit="mm", format=size)
    pdf.k_scale = s = SCALE[size]
    pdf.alias_nb_pages(PAGES_ALIAS)
    pdf.set_margins(14 * s, 20 * s, 14 * s)
    pdf.set_auto_page_break(False)  # each item is placed whole, by _Layout.item
    pdf.add_font(FONT, fname=str(FONT_FILE))
    title = shown(board_title(org, period))
    pdf.band_text = title
    pdf.footer_left = shown(f"{org.name} · 党务公开栏 · {period.label}")
    pdf.set_title(title)
    pdf.set_author(org.name)
    pdf.set_subject(f"党务公开日 {period.board_day_label()}")
    pdf.set_creator("党务公开平台")
    pdf.set_lang("zh-CN")
    pdf.add_page()
    layout = _Layout(pdf, base_url)
    layout.band(
        shown(org.name), f"党务公开栏 · {period.label}", f"党务公开日：{period.board_day_label()}"
    )
    if not items:
        layout.empty()
    else:
        layout.intro(
            f"本期公开事项共 {len(items)} 项。扫描各事项右侧二维码，可在党务公开平台查看全文、提出意见和建议。"
        )
        for number, item in enumerate(items, 1):
            layout.item(number, item)
    return bytes(pdf.output())
