"""The whole record of a disclosure item as an A4 PDF, for the archive (PROC-6).

What was disclosed (metadata, body, interpretation, opinion analysis, attachments), how it
was decided (every revision, review with its four opinions and seven-aspect risk table,
co-confirmation, approval and scope change), what happened after (correction notice,
withdrawal) and the item's hash-chained log with every hash, so the printout alone shows
the chain.

The text is set in the platform's embedded Chinese font (`dwgk.lib.pdffont`): the whole
font, because a record must show every character the item contains. A character the font
lacks still prints, as □, never vanishing unnoticed.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from html.parser import HTMLParser
from typing import Any

from django.utils import timezone
from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from dwgk.audience.keys import Audience
from dwgk.catalog.channels import describe_channels
from dwgk.disclosures.models import (
    CoConfirmation,
    Disclosure,
    LogEntry,
    Review,
    ScopeChange,
    canonical_json,
)
from dwgk.lib.pdffont import FONT, FONT_FILE, shown
from dwgk.lib.sheets import human_size

MARGIN = 18  # mm
# Stands for the page count in the footer. A private-use character: no item's text can
# contain it (it is not in the font, so `_Shown` turns it into □ before fpdf2 sees it).
PAGES_ALIAS = "\ue000\ue000"
EMPTY = "（无）"
GRAY = 110
# The lines a table cell may take: with the rest of its row, well within one page.
MAX_CELL_LINES = 30


# --- text -----------------------------------------------------------------------------------


class _TextOfHtml(HTMLParser):
    """The sanitized body (actions.ALLOWED_TAGS) as paragraphs of plain text."""

    BLOCKS = {"p", "h2", "h3", "h4", "blockquote", "tr", "table", "ul", "ol", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [is_ordered, counter]
        self.cells = 0

    def _flush(self) -> None:
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(self.current))
        text = "\n".join(line.strip() for line in text.split("\n")).strip()
        if text:
            self.paragraphs.append(text)
        self.current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS or tag == "li":
            self._flush()
        if tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 0])
        elif tag == "li":
            indent = "  " * max(0, len(self.lists) - 1)
            if self.lists and self.lists[-1][0]:
                self.lists[-1][1] += 1
                self.current.append(f"{indent}{self.lists[-1][1]}. ")
            else:
                self.current.append(f"{indent}• ")
        elif tag == "br":
            self.current.append("\n")
        elif tag == "tr":
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells:
                self.current.append(" | ")
            self.cells += 1
        elif tag == "hr":
            self.paragraphs.append("—" * 10)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag in self.BLOCKS or tag == "li":
            self._flush()

    def handle_data(self, data: str) -> None:
        self.current.append(data.replace("\n", " "))


def html_paragraphs(html: str) -> list[str]:
    """The paragraphs of a sanitized HTML body, as plain text."""
    parser = _TextOfHtml()
    parser.feed(html or "")
    parser.close()
    parser._flush()
    return parser.paragraphs


def text_paragraphs(text: str) -> list[str]:
    """A plain-text field's paragraphs (one per non-empty line)."""
    lines = (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line.strip() for line in lines if line.strip()]


def when(value: datetime.datetime | datetime.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return f"{timezone.localtime(value):%Y-%m-%d %H:%M}"
    return f"{value:%Y-%m-%d}"


def person(user: Any) -> str:
    if user is None:
        return ""
    return f"{getattr(user, 'name', '') or ''}（{user.get_username()}）"


def audience_text(value: dict[str, Any] | None) -> str:
    audience = Audience.from_json(value)
    text = audience.describe()
    return f"{text}（{audience.note}）" if audience.note else text


# --- the document ---------------------------------------------------------------------------


class _RecordPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(GRAY)
        self.cell(0, 5, self.footer_text, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"第 {self.page_no()} 页 共 {PAGES_ALIAS} 页", align="R")
        self.set_text_color(0)


class _Writer:
    """The record's building blocks over one FPDF document."""

    def __init__(self, pdf: _RecordPDF) -> None:
        self.pdf = pdf
        self.sections = 0

    def heading(self, text: str) -> None:
        self.sections += 1
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 50:  # keep a heading with what follows
            pdf.add_page()
        pdf.ln(3)
        pdf.set_font(FONT, size=13)
        pdf.multi_cell(0, 8, shown(f"{_CHINESE_NUMBERS[self.sections]}、{text}"), **_NEXT)
        y = pdf.get_y()
        pdf.set_draw_color(160)
        pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
        pdf.set_draw_color(0)
        pdf.ln(2)
        pdf.set_font(FONT, size=10.5)

    def subheading(self, text: str) -> None:
        pdf = self.pdf
        if pdf.get_y() > pdf.h - 40:
            pdf.add_page()
        pdf.ln(1)
        pdf.set_font(FONT, size=11)
        pdf.multi_cell(0, 7, shown(text), wrapmode=WrapMode.CHAR, **_NEXT)
        pdf.set_font(FONT, size=10.5)

    def paragraphs(self, paragraphs: Sequence[str], size: float = 10.5) -> None:
        pdf = self.pdf
        pdf.set_font(FONT, size=size)
        if not paragraphs:
            self.muted(EMPTY)
            return
        for text in paragraphs:
            pdf.multi_cell(0, size * 0.6, shown(text), wrapmode=WrapMode.CHAR, **_NEXT)
            pdf.ln(1.5)
        pdf.set_font(FONT, size=10.5)

    def muted(self, text: str) -> None:
        pdf = self.pdf
        pdf.set_text_color(GRAY)
        pdf.multi_cell(0, 6, shown(text), wrapmode=WrapMode.CHAR, **_NEXT)
        pdf.set_text_color(0)

    def fields(self, rows: Sequence[tuple[str, str]], label_width: float = 32) -> None:
        """Label–value lines; a value may run over lines and pages."""
        pdf = self.pdf
        pdf.set_font(FONT, size=10)
        for label, value in rows:
            if pdf.get_y() > pdf.h - 25:
                pdf.add_page()
            top = pdf.get_y()
            pdf.set_text_color(GRAY)
            pdf.cell(label_width, 6, shown(label))
            pdf.set_text_color(0)
            pdf.multi_cell(
                pdf.epw - label_width,
                6,
                shown(value) if value else "",
                wrapmode=WrapMode.CHAR,
                **_NEXT,
            )
            if pdf.get_y() == top:  # an empty value
                pdf.ln(6)
        pdf.ln(1)
        pdf.set_font(FONT, size=10.5)

    def table(
        self,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        size: float = 9,
        detail: Sequence[str] | None = None,
    ) -> None:
        """A ruled table; `detail`, when given, is a row under each row spanning all the
        columns but the first. fpdf2 cannot break a row across pages, so a cell too long
        for a part of a page shows its beginning and the whole text follows the table."""
        pdf = self.pdf
        scale = pdf.epw / sum(widths)
        notes: list[str] = []

        def fit(text: str, width: float) -> str:
            # Characters per line, counting every character as wide as a Chinese one.
            per_line = max(4, int((width * scale - 2) / (size * 0.3528)))
            lines = 0
            for n, line in enumerate(text.split("\n")):
                lines += max(1, -(-len(line) // per_line))
                if lines > MAX_CELL_LINES:
                    notes.append(text)
                    kept = "\n".join(text.split("\n")[:n])
                    room = per_line * (MAX_CELL_LINES - kept.count("\n") - 2)
                    head = "\n".join(filter(None, [kept, line[: max(0, room)]]))
                    return f"{head}……（全文见表后注 {len(notes)}）"
            return text

        pdf.set_font(FONT, size=size)
        with pdf.table(
            col_widths=tuple(widths),
            width=pdf.epw,
            repeat_headings=1,
            headings_style=FontFace(emphasis="", fill_color=235),
            wrapmode=WrapMode.CHAR,  # Chinese has no spaces to break at
            text_align="LEFT",
            line_height=size * 0.55,
            padding=(0.8, 1),
        ) as table:
            heading = table.row()
            for label in headings:
                heading.cell(label)
            for n, values in enumerate(rows):
                row = table.row()
                for index, value in enumerate(values):
                    # With a detail row, the first cell spans both rows: fpdf2 never
                    # breaks a page inside a row span, so an entry stays in one piece.
                    span = 2 if detail is not None and index == 0 else 1
                    row.cell(shown(fit(value, widths[index])), rowspan=span)
                if detail is not None:
                    text = fit(detail[n], sum(widths[1:]))
                    table.row().cell(shown(text), colspan=len(widths) - 1)
        pdf.ln(2)
        for n, text in enumerate(notes, 1):
            self.paragraphs([f"注 {n}：{text}"], size=9)
        pdf.set_font(FONT, size=10.5)


# Left-aligned: justifying would stretch only the few spaces of a Chinese line.
_NEXT: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT, "align": "L"}
_CHINESE_NUMBERS = [*"〇一二三四五六七八九十", *(f"十{d}" for d in "一二三四五六七八九")]


def record_pdf(item: Disclosure) -> bytes:
    """The item's full record as PDF bytes; the same record always gives the same bytes."""
    item = Disclosure.objects.select_related(
        "org", "entry", "author", "delay_consent_by", "series"
    ).get(pk=item.pk)
    pdf = _RecordPDF(orientation="P", unit="mm", format="A4")
    pdf.alias_nb_pages(PAGES_ALIAS)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font(FONT, fname=str(FONT_FILE))
    pdf.footer_text = shown(f"{item.index_no or f'事项 {item.pk}'}　{item.title}")[:60]
    pdf.set_title(item.title)
    pdf.set_author(item.org.name)
    pdf.set_subject("党务公开事项归档记录")
    pdf.set_creator("党务公开平台")
    pdf.set_lang("zh-CN")
    # A fixed creation date keeps the bytes of the same record the same.
    stamp = item.archived_at or item.updated_at
    pdf.set_creation_date(stamp.astimezone(datetime.UTC).replace(microsecond=0))
    pdf.add_page()
    w = _Writer(pdf)

    pdf.set_font(FONT, size=10)
    pdf.set_text_color(GRAY)
    pdf.cell(0, 6, "党务公开事项归档记录", **{**_NEXT, "align": "C"})
    pdf.set_text_color(0)
    pdf.set_font(FONT, size=17)
    pdf.multi_cell(0, 9, shown(item.title), wrapmode=WrapMode.CHAR, **{**_NEXT, "align": "C"})
    pdf.ln(3)
    w.fields(_metadata(item))

    w.heading("正文")
    w.paragraphs(html_paragraphs(item.body))

    w.heading("政策解读")
    for label, text in (
        ("出台背景", item.background),
        ("重要意义", item.significance),
        ("主要内容和要点", item.key_points),
    ):
        w.subheading(label)
        w.paragraphs(text_paragraphs(text))

    w.heading("舆情预判")
    for label, text in (("预判舆情热点", item.hot_spots), ("应对预案", item.response_plan)):
        w.subheading(label)
        w.paragraphs(text_paragraphs(text))

    _attachments(w, item)
    _revisions(w, item)
    _reviews(w, item)
    _co_confirmations(w, item)
    _approvals(w, item)
    _scope_changes(w, item)
    _corrections(w, item)
    _log(w, item)
    return bytes(pdf.output())


def _metadata(item: Disclosure) -> list[tuple[str, str]]:
    if item.entry is not None:
        origin = f"目录条目：{item.entry.content}"
    else:
        origin = f"目录外事项：{item.out_of_catalog_reason}"
    published = item.published_revision
    rows = [
        ("索引号", item.index_no or ""),
        ("发布机构", item.org.name),
        ("文号", item.doc_number),
        ("类别", item.category),
        ("公开范围", audience_text(item.audience)),
        ("公开方式", describe_channels(list(item.channels or []))),
        ("公开时间", item.get_timing_kind_display()),
        ("发布日期", when(item.published_at)),
        ("截止日期", when(item.expire_at)),
        ("状态", item.get_status_display()),
        ("来源", origin),
        ("承办人", person(item.author)),
        ("提出时间", when(item.submitted_at)),
        ("批准时间", when(item.approved_at)),
        (
            "内容版本",
            f"第 {item.revision} 版" + (f"（发布第 {published} 版）" if published else ""),
        ),
    ]
    if item.stage:
        rows.append(("阶段", item.stage))
    if item.withdrawn_at:
        rows.append(("撤回时间", when(item.withdrawn_at)))
    if item.ended_at:
        rows.append(("结束时间", when(item.ended_at)))
    rows.append(("归档时间", when(item.archived_at)))
    return rows


def _attachments(w: _Writer, item: Disclosure) -> None:
    w.heading("附件")
    attachments = list(item.attachments.order_by("id"))
    if not attachments:
        w.muted(EMPTY)
        return
    rows = []
    for n, a in enumerate(attachments, 1):
        state = "已移除" if a.removed else ("不予公开" if a.withheld else "公开")
        rows.append([str(n), a.name, human_size(a.size), state, when(a.uploaded_at)])
    w.table(
        ["序号", "文件名", "大小", "状态", "上传时间"],
        rows,
        [10, 80, 18, 18, 28],
        detail=[f"SHA-256：{a.sha256}" for a in attachments],
    )


def _revisions(w: _Writer, item: Disclosure) -> None:
    w.heading("内容版本")
    revisions = list(item.revisions.select_related("by").order_by("number"))
    if not revisions:
        w.muted(EMPTY)
        return
    w.table(
        ["版本", "时间", "修改人", "说明"],
        [[f"第 {r.number} 版", when(r.at), person(r.by), r.note] for r in revisions],
        [18, 30, 40, 86],
    )


def _reviews(w: _Writer, item: Disclosure) -> None:
    w.heading("审核意见与风险评估")
    reviews: list[Review] = list(item.reviews.select_related("reviewer").order_by("at", "id"))
    if not reviews:
        w.muted(EMPTY)
        return
    for n, review in enumerate(reviews, 1):
        w.subheading(f"第 {n} 次审核（第 {review.revision} 版）：{review.get_outcome_display()}")
        findings = "、".join(f"{k} {v} 处" for k, v in sorted((review.findings or {}).items()))
        w.fields(
            [
                ("审核人", person(review.reviewer)),
                ("审核时间", when(review.at)),
                ("保密审查意见", review.confidentiality),
                ("必要性意见", review.necessity),
                ("准确性意见", review.accuracy),
                ("规范性意见", review.normativity),
                ("风险防范预案", review.prevention_plan),
                ("其他意见", review.comment),
                ("预检结果", findings or "未发现需处理的内容"),
            ]
        )
        w.table(
            ["评估事项", "风险等级", "说明"],
            [[label, level or "—", note] for label, level, note in review.risk_rows()],
            [40, 20, 114],
        )


def _co_confirmations(w: _Writer, item: Disclosure) -> None:
    w.heading("沟通会签")
    rows: list[CoConfirmation] = list(
        item.co_confirmations.select_related("org", "by").order_by("revision", "id")
    )
    if not rows:
        w.muted("无会签单位" if not item.co_units else EMPTY)
        return
    w.table(
        ["会签单位", "版本", "意见", "说明", "答复人", "时间"],
        [
            [
                c.org.name,
                f"第 {c.revision} 版",
                c.get_answer_display(),
                c.comment,
                person(c.by),
                when(c.at),
            ]
            for c in rows
        ],
        [38, 16, 16, 46, 30, 28],
    )


def _approvals(w: _Writer, item: Disclosure) -> None:
    w.heading("审批")
    approvals = list(item.approvals.select_related("by", "acting_org").order_by("at", "id"))
    if not approvals:
        w.muted("无审批环节" if not item.route else EMPTY)
        return
    for approval in approvals:
        w.subheading(
            f"{approval.step_label}：{approval.get_decision_display()}（第 {approval.revision} 版）"
        )
        rows = [
            ("环节", f"第 {approval.step + 1} 环节 {approval.step_label}"),
            ("决定", approval.get_decision_display()),
            ("形式", approval.get_form_display()),
            ("审批组织", approval.acting_org.name),
        ]
        if approval.form == approval.Form.COLLECTIVE:
            rows += [
                ("会议名称", approval.meeting),
                ("会议日期", when(approval.meeting_date)),
                ("会议记录摘要", approval.minutes),
            ]
        rows += [
            ("意见", approval.comment),
            ("审批人", person(approval.by)),
            ("时间", when(approval.at)),
            ("批准内容摘要", approval.content_sha256),
        ]
        w.fields(rows)


def _scope_changes(w: _Writer, item: Disclosure) -> None:
    w.heading("公开范围调整")
    changes: list[ScopeChange] = list(
        item.scope_changes.select_related("proposed_by", "decided_by").order_by("proposed_at")
    )
    if not changes:
        w.muted(EMPTY)
        return
    for n, change in enumerate(changes, 1):
        w.subheading(f"第 {n} 次调整：{change.get_status_display()}")
        w.fields(
            [
                ("原公开范围", audience_text(change.old_audience)),
                ("新公开范围", audience_text(change.new_audience)),
                ("理由", change.reason),
                ("提出人", f"{person(change.proposed_by)} {when(change.proposed_at)}"),
                ("批准人", f"{person(change.decided_by)} {when(change.decided_at)}".strip()),
                ("意见", change.comment),
            ]
        )


def _corrections(w: _Writer, item: Disclosure) -> None:
    w.heading("更正说明、撤回与延期")
    rows: list[tuple[str, str]] = []
    if item.withdrawn_at:
        rows.append(("紧急撤回", when(item.withdrawn_at)))
    if item.delay_consent_at:
        rows += [
            ("延期公开理由", item.delay_reason),
            ("同意延期", f"{person(item.delay_consent_by)} {when(item.delay_consent_at)}"),
        ]
    if rows:
        w.fields(rows)
    w.subheading("更正说明")
    w.paragraphs(text_paragraphs(item.correction_notice))


def _log(w: _Writer, item: Disclosure) -> None:
    from dwgk.disclosures.archive import check_chain

    w.heading("事项记录")
    report = check_chain(item)
    if report.ok:
        w.muted(
            f"共 {report.entries} 条，哈希链校验完整。每条记录的摘要（SHA-256）覆盖该条内容和"
            "前一条的摘要，改动、删除或调换任何一条都会使校验失败。"
        )
    else:
        w.muted(f"共 {report.entries} 条。哈希链校验发现问题：" + "；".join(report.messages))
    entries = list(LogEntry.objects.filter(disclosure_id=item.pk).order_by("seq", "pk"))
    statuses = {str(code): str(label) for code, label in Disclosure.Status.choices}
    w.table(
        ["序号", "时间", "操作人", "操作", "状态", "版本"],
        [
            [
                str(e.seq),
                when(e.at),
                e.actor_label,
                e.label,
                statuses.get(e.status, e.status),
                str(e.revision),
            ]
            for e in entries
        ],
        [12, 30, 38, 42, 38, 14],
        size=8,
        detail=[
            f"前序摘要：{e.prev_hash}\n本条摘要：{e.hash}"
            + (f"\n详情：{canonical_json(e.data)}" if e.data else "")
            for e in entries
        ],
    )
