"""The 目录表 of a catalog version, as offices print and type it: .xlsx and .docx out,
.xlsx in (the PDF is in `catalog.pdf`).

The layout is the university's 目录表 (CMU 附件): a title "<组织名称>党务公开目录", a line
naming the 制表党组织 and its 负责人, the header 序号 and the nine columns in their order
(`COLUMNS`), one row per entry, then the footnote and the 制表日期 (the adoption date,
else today).

Reading follows the roster import (`accounts.rosters`, whose helpers it uses): the file is
checked by content, the header is looked for in the first rows under a merged title,
blank rows, rows whose 序号 or 公开内容 is marked 例 (samples), rows with only a 序号
(the empty lines of a printed form), a repeated header and everything from the footnote
on are skipped; padding and full-width spaces are removed, full-width digits read as
digits, and Chinese punctuation is kept as typed. Every row is checked with the parsers
the rule-set templates use (parse_route, parse_channels, parse_start, parse_duration)
before anything is written; one bad row and nothing changes, and every bad row is listed
as "第 N 行「列名」：原因".

公开范围 is free text on paper; on the platform it is an Audience relative to the
catalog's organization <org>. The wording maps as follows (first rule that applies):

1. wording this version already uses (an entry's 公开范围 as exported) keeps that entry's
   audience, so a sheet exported and imported again changes nothing;
2. 社会 or 公众 (全社会, 向社会公开, 社会公众) → society (public);
3. people outside the party: 群众, 师生, 职工, 员工, 居民, 村民, 全体人员
   (全体师生员工, 本单位党员群众) → unit:<org>, everyone in the unit;
4. 党内, 党员 or 支部 (党内公开, 全体党员, 本支部党员, 全校党员) → party:<org>;
5. the whole place: 全校, 全院, 全所, 全局, 全体, 本单位, 各单位, 本部门, 范围内 → unit:<org>;
6. anything else, being specific wording ("常委、校领导及相关部门") → org:<org>, the
   organization itself as recipient (its members and role holders).

The typed wording is kept as the entry's audience note unless it is exactly what the
platform would write for that audience anyway.

An import replaces the version's entries with the sheet's rows through the entry actions
(`catalog.actions`), in one transaction, so each change has the same state and permission
checks and audit entry as the same change made by hand. A row whose 公开内容 matches an
existing entry updates that entry (keeping its lineage, category and basis, which the sheet
does not show) rather than deleting and re-adding it, so versions stay comparable entry by
entry and re-importing an export changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from dwgk.audience.keys import Audience
from dwgk.audit.models import record
from dwgk.catalog import policy
from dwgk.catalog.actions import (
    clean_entry_fields,
    entry_add,
    entry_delete,
    entry_move,
    entry_update,
)
from dwgk.catalog.approval import RouteError, Step, parse_route, route_to_json
from dwgk.catalog.channels import parse_channels
from dwgk.catalog.models import CatalogEntry, CatalogVersion
from dwgk.catalog.rulesets import current_ruleset
from dwgk.catalog.timing import Timing, TimingError, parse_duration, parse_start
from dwgk.lib import sheets
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.lib.sheets import RowError
from dwgk.orgs.models import Organization

NUMBER_LABEL = "序号"
ORG_LABEL = "制表党组织（部门、单位）"
LEADER_LABEL = "负责人"
DATE_LABEL = "制表日期"
# CMU 附件's footnote; a rule-set may give its own as `sheet_footnote` in its [ruleset].
FOOTNOTE = "注：此表动态更新，更新后请报党委办公室备案"
NO_APPROVAL = "无需审批"
CHANNEL_EXAMPLES = "党务公开平台、党员大会、公开栏、办公网、网站、微信公众号、纸质印发、简报"
MAX_ENTRIES = 1000  # a catalog has tens of entries; more rows is the wrong file

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: float  # Excel character units; the relative widths of the .docx and PDF too
    required: bool = False  # the cell must not be blank
    in_header: bool = True  # the header must have the column


# The nine columns of the 目录表, in the order of the form (CMU 附件).
COLUMNS = (
    Column("content", "公开内容", 30, required=True),
    Column("audience", "公开范围", 16, required=True),
    Column("approval", "审批程序", 20, required=True),
    Column("channels", "公开方式", 16, required=True),
    Column("start", "公开起始时点", 15, required=True),
    Column("duration", "公开时长", 9, required=True),
    Column("responsible", "责任主体", 14),
    Column("co_units", "协同单位或人员", 14, in_header=False),
    Column("remarks", "备注", 14, in_header=False),
)
NUMBER_WIDTH = 6
LABELS = {c.key: c.label for c in COLUMNS}

# Other headings offices type for the same columns (compared after _header_key).
_ALIASES = {
    "编号": "number",
    "公开事项": "content",
    "事项": "content",
    "内容": "content",
    "范围": "audience",
    "公开对象": "audience",
    "审批": "approval",
    "审批流程": "approval",
    "程序": "approval",
    "方式": "channels",
    "公开形式": "channels",
    "公开载体": "channels",
    "起始时点": "start",
    "公开时点": "start",
    "公开时间": "start",
    "公开起始时间": "start",
    "时长": "duration",
    "公开期限": "duration",
    "责任单位": "responsible",
    "责任部门": "responsible",
    "协同单位": "co_units",
    "配合单位": "co_units",
    "说明": "remarks",
}
_HEADINGS = (
    {sheets.header_key(c.label): c.key for c in COLUMNS} | {NUMBER_LABEL: "number"} | _ALIASES
)

_WIDE = sheets.CJK + "\u3000-\u303f\uff00-\uffef"
_WIDE_GAP_RE = re.compile(rf"(?<=[{_WIDE}])\s+(?=[{_WIDE}])")
_FULLWIDTH_ALNUM = str.maketrans(
    {chr(c): chr(c - 0xFEE0) for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B)]}
    | {chr(c): chr(c - 0xFEE0) for c in range(0xFF41, 0xFF5B)}
)
# "例：…", "例1：…", "（例）…", "【例】…" in the 公开内容 cell; a bare 例 starts real content
# too (例会制度), so the mark needs its colon or brackets here.
_SAMPLE_CONTENT_RE = re.compile(r"^(?:例\d*[:.、]|[(\[【]例\d*[)\]】])")
_FOOTNOTE_RE = re.compile(r"^(?:注|填表说明)\d*[:：.、]")
_CHANNEL_SPLIT_RE = re.compile(r"以及|[、，,；;/／\s]+|和|及|与|或")
_STATE_MARK_RE = re.compile(r"\n?【(?:暂缓公开|已变更|已撤销|已终止)】[^\n]*$")
_DELAY_NOTE_RE = re.compile(r"^经党组织同意后延期[（(](.*)[）)]$")

# 公开范围 wording (see the module docstring for the order).
_SOCIETY_WORDS = ("社会", "公众")
_PEOPLE_WORDS = ("群众", "师生", "职工", "员工", "居民", "村民", "全体人员")
_PARTY_WORDS = ("党内", "党员", "支部")
_PLACE_WORDS = ("全校", "全院", "全所", "全局", "全体", "本单位", "各单位", "本部门", "范围内")


# --- what an entry shows --------------------------------------------------------------------


def footnote() -> str:
    return str(current_ruleset().extra.get("sheet_footnote", FOOTNOTE))


def sheet_title(version: CatalogVersion) -> str:
    return f"{version.org.name}党务公开目录"


def sheet_date(version: CatalogVersion) -> datetime.date:
    """The 制表日期: the day the organization adopted the version, else today."""
    return version.adopted_on or timezone.localdate()


def cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def org_line(version: CatalogVersion) -> str:
    return f"{ORG_LABEL}：{version.org.name}"


def leader_line(version: CatalogVersion) -> str:
    return f"{LEADER_LABEL}：{version.leader_name}"


def date_line(version: CatalogVersion) -> str:
    return f"{DATE_LABEL}：{cn_date(sheet_date(version))}"


def header() -> list[str]:
    return [NUMBER_LABEL, *(c.label for c in COLUMNS)]


def _remarks(entry: CatalogEntry) -> str:
    """备注, with the entry's exception (CAT-7) appended where it has one; an import drops
    that mark again, since only the catalog-setting organization may set it."""
    if entry.state == CatalogEntry.State.ACTIVE:
        return entry.remarks
    mark = f"【{entry.get_state_display()}】{entry.state_note}"
    return f"{entry.remarks}\n{mark}" if entry.remarks else mark


def entry_rows(version: CatalogVersion) -> list[list[str]]:
    """The table as text: 序号 and the nine columns, one list per entry."""
    rows = []
    for number, entry in enumerate(version.entries.order_by("position"), 1):
        rows.append(
            [
                str(number),
                entry.content,
                entry.audience_text(),
                entry.approval_text(),
                entry.channels_text(),
                entry.start_text(),
                entry.duration_text(),
                entry.responsible,
                entry.co_units,
                _remarks(entry),
            ]
        )
    return rows


def download_name(version: CatalogVersion, fmt: str) -> str:
    return f"{sheet_title(version)}（第{version.number}版）.{fmt}"


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _line_count(text: str, width: float) -> int:
    usable = max(1.0, width - 1)
    return sum(max(1, math.ceil(_display_width(line) / usable)) for line in text.split("\n"))


# --- .xlsx -----------------------------------------------------------------------------------


def export_xlsx(version: CatalogVersion) -> bytes:
    """The 目录表 as an Excel workbook, ready to print on A4 landscape."""
    import openpyxl
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.page import PageMargins

    rows = entry_rows(version)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "党务公开目录"
    widths = [NUMBER_WIDTH, *(c.width for c in COLUMNS)]
    last = get_column_letter(len(widths))
    split = 6  # the left part of the two-part lines: 序号 … 公开方式
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width

    font = Font(name="宋体", size=11)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def put(row: int, column: int, value: str, **style: Any) -> Any:
        cell = sheet.cell(row=row, column=column, value=value)
        # Text stays text: a cell typed "=…" must not become a formula.
        cell.data_type = "s"
        cell.font = style.pop("font", font)
        for name, item in style.items():
            setattr(cell, name, item)
        return cell

    def line(row: int, left: str, right: str) -> None:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=split)
        sheet.merge_cells(
            start_row=row, start_column=split + 1, end_row=row, end_column=len(widths)
        )
        put(row, 1, left, alignment=Alignment(vertical="center"))
        put(row, split + 1, right, alignment=Alignment(horizontal="right", vertical="center"))
        sheet.row_dimensions[row].height = 22

    sheet.merge_cells(f"A1:{last}1")
    put(
        1,
        1,
        sheet_title(version),
        font=Font(name="宋体", size=18, bold=True),
        alignment=Alignment(horizontal="center", vertical="center"),
    )
    sheet.row_dimensions[1].height = 36
    line(2, org_line(version), leader_line(version))

    wrap = Alignment(wrap_text=True, vertical="center")
    centered = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for column, label in enumerate(header(), 1):
        put(
            3,
            column,
            label,
            font=Font(name="宋体", size=11, bold=True),
            alignment=centered,
            border=border,
            fill=PatternFill("solid", fgColor="E7E6E6"),
        )
    sheet.row_dimensions[3].height = 30
    for offset, values in enumerate(rows):
        row = 4 + offset
        for column, value in enumerate(values, 1):
            put(row, column, value, alignment=centered if column == 1 else wrap, border=border)
        # Excel does not grow wrapped rows by itself when it opens a file: estimate.
        lines = max(_line_count(v, w) for v, w in zip(values, widths, strict=True))
        sheet.row_dimensions[row].height = max(20, 15 * lines + 5)
    end = 4 + len(rows)
    line(end, footnote(), date_line(version))

    sheet.freeze_panes = "A4"
    sheet.print_title_rows = "3:3"
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6, footer=0.3)
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "第 &P 页，共 &N 页"
    workbook.properties.title = sheet_title(version)
    workbook.properties.creator = version.org.name
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- .docx -----------------------------------------------------------------------------------


def export_docx(version: CatalogVersion) -> bytes:
    """The 目录表 as a Word document: A4 landscape, the table's header repeated per page."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Mm(15))
    section.top_margin, section.bottom_margin = Mm(15), Mm(15)
    usable = Mm(297 - 30)

    normal = document.styles["Normal"]
    normal.font.name = "宋体"
    normal.font.size = Pt(10.5)
    # Word takes Chinese text's font from the eastAsia slot, not from font.name.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")

    title = document.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(sheet_title(version))
    run.bold = True
    run.font.size = Pt(18)

    def two_part(left: str, right: str) -> None:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.tab_stops.add_tab_stop(usable, WD_TAB_ALIGNMENT.RIGHT)
        paragraph.add_run(f"{left}\t{right}")

    two_part(org_line(version), leader_line(version))

    rows = entry_rows(version)
    # Word pads cells more than Excel: "序号" needs a wider first column to stay on one line.
    widths = [NUMBER_WIDTH + 2, *(c.width for c in COLUMNS)]
    total = sum(widths)
    table = document.add_table(rows=1 + len(rows), cols=len(widths))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for index, width in enumerate(widths):
        size = int(usable * width / total)
        table.columns[index].width = size
        for cell in table.columns[index].cells:
            cell.width = size

    def row_flag(table_row: Any, name: str) -> None:
        flag = OxmlElement(name)
        flag.set(qn("w:val"), "true")
        table_row._tr.get_or_add_trPr().append(flag)

    def fill(cell: Any, text: str, *, center: bool = False, bold: bool = False) -> None:
        cell.text = text
        for paragraph in cell.paragraphs:
            if center:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in paragraph.runs:
                run.font.size = Pt(9.5)
                run.bold = bold

    for cell, label in zip(table.rows[0].cells, header(), strict=True):
        fill(cell, label, center=True, bold=True)
    row_flag(table.rows[0], "w:tblHeader")  # repeated at the top of every page
    for table_row, values in zip(table.rows[1:], rows, strict=True):
        row_flag(table_row, "w:cantSplit")  # an entry is never cut across two pages
        for index, (cell, value) in enumerate(zip(table_row.cells, values, strict=True)):
            fill(cell, value, center=index == 0)

    two_part(footnote(), date_line(version))

    # "— 1 —" at the foot of each page, as on the printed form.
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    page = OxmlElement("w:fldSimple")
    page.set(qn("w:instr"), "PAGE")
    number = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    number.append(text)
    page.append(number)
    footer._p.append(page)
    footer.add_run(" —")

    document.core_properties.title = sheet_title(version)
    document.core_properties.author = version.org.name
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- import: results -------------------------------------------------------------------------


@dataclass
class ImportResult(sheets.Report):
    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        if not self.ok:
            return f"目录表有 {len(self.errors)} 处问题，未做任何修改。"
        return (
            f"目录表导入完成：新增 {self.added} 条，修改 {self.updated} 条，"
            f"删除 {self.deleted} 条，无变化 {self.unchanged} 条。"
        )


class _RowFailed(Exception):
    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


# --- import: reading the sheet ----------------------------------------------------------------


def _tidy(value: Any) -> str:
    """A free-text cell as stored: trimmed, runs of spaces made one, the padding between
    Chinese characters and punctuation removed, line breaks kept, punctuation as typed."""
    lines = []
    for line in sheets.text(value).replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _WIDE_GAP_RE.sub("", re.sub(r"\s+", " ", sheets.text(line)))
        if line:
            lines.append(line)
    return "\n".join(lines)


def _halfwidth(text: str) -> str:
    """Full-width digits and letters as ASCII, for the parsers; punctuation stays."""
    return text.translate(_FULLWIDTH_ALNUM)


_Row = tuple[int, dict[str, Any]]  # (row number in Excel, column key -> cell value)


def _match_header(values: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(values):
        key = _HEADINGS.get(sheets.header_key(value))
        if key is not None and key not in found:
            found[key] = index
    return found


def _missing(found: dict[str, int]) -> list[str]:
    return [c.label for c in COLUMNS if c.in_header and c.key not in found]


def _first_text(values: list[Any]) -> str:
    return next((t for t in (sheets.text(v) for v in values) if t), "")


def _merged_down(data: bytes, sheet_index: int, below: int) -> dict[tuple[int, int], Any]:
    """Cells covered by a merge that runs down several rows, with the merged value: offices
    merge 责任主体 or 公开方式 over the entries that share it. (The streaming reader that
    reads the rows sees only the first cell of a merge.)"""
    import openpyxl

    try:
        sheet = openpyxl.load_workbook(io.BytesIO(data), data_only=True).worksheets[sheet_index]
    except Exception:
        return {}  # the streaming reader managed: read the rows without the merges
    covered: dict[tuple[int, int], Any] = {}
    for merged in sheet.merged_cells.ranges:
        if merged.max_row > merged.min_row and merged.max_row > below:
            value = sheet.cell(merged.min_row, merged.min_col).value
            for row in range(merged.min_row + 1, merged.max_row + 1):
                covered[(row, merged.min_col - 1)] = value
    return covered


def _data_rows(
    rows: Iterator[tuple[int, list[Any]]],
    columns: dict[str, int],
    covered: dict[tuple[int, int], Any],
) -> list[_Row]:
    found: list[_Row] = []
    width = max([*columns.values(), *(index for _, index in covered)], default=0) + 1
    for number, values in rows:
        values = values + [None] * (width - len(values))
        for index, value in enumerate(values):
            if value is None and (number, index) in covered:
                values[index] = covered[(number, index)]
        first = sheets.nfkc(_first_text(values))
        if _FOOTNOTE_RE.match(first) or any(DATE_LABEL in sheets.nfkc(v) for v in values):
            break  # the footnote and 制表日期 close the table
        cells = {
            key: values[index] if index < len(values) else None for key, index in columns.items()
        }
        content = sheets.nfkc(cells.get("content"))
        if (
            sheets.is_blank(values)
            or sheets.is_sample(values)
            or _SAMPLE_CONTENT_RE.match(content)
            or len(_match_header(values)) >= 3  # the header again, as on a printed page
            or all(sheets.text(cells.get(c.key)) == "" for c in COLUMNS)  # only a 序号
        ):
            continue
        if len(found) >= MAX_ENTRIES:
            raise sheets.FileError(f"目录表超过 {MAX_ENTRIES} 行，请检查是否选错了文件。")
        found.append((number, cells))
    return found


def _read_rows(data: bytes) -> list[_Row]:
    """The data rows of the first sheet that has the 目录表 header in its first rows."""
    if len(data) > settings.ROSTER_MAX_BYTES:
        raise sheets.FileError(sheets.too_big_message())
    if not data.strip():
        raise sheets.FileError("文件是空的。")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise sheets.FileError(
            "不支持旧版 Excel（.xls）或设置了密码的文件，请另存为 Excel 工作簿（.xlsx）后再导入。"
        )
    if not data.startswith(b"PK\x03\x04"):
        raise sheets.FileError("文件内容不是 Excel 工作簿（.xlsx），无法导入。")
    partial: list[str] = []
    for sheet_index, table in enumerate(sheets.xlsx_tables(data)):
        rows = table()
        columns: dict[str, int] | None = None
        for number, values in rows:
            if number > sheets.HEADER_SEARCH_ROWS:
                break
            found = _match_header(values)
            if not _missing(found):
                columns = found
                break
            if len(found) >= 3 and not partial:
                partial = _missing(found)
        if columns is not None:
            return _data_rows(rows, columns, _merged_down(data, sheet_index, number))
    if partial:
        raise sheets.FileError("表头缺少列：" + "、".join(f"「{p}」" for p in partial) + "。")
    required = "、".join(c.label for c in COLUMNS if c.in_header)
    raise sheets.FileError(
        f"在前 {sheets.HEADER_SEARCH_ROWS} 行中找不到目录表的表头（须包含 {required}），"
        "请使用本平台导出的目录表。"
    )


# --- import: checking each row ----------------------------------------------------------------


def audience_from_text(text: str, org: Organization) -> tuple[Audience, str]:
    """The Audience and the audience note for 公开范围 wording (rules 2–6 of the module
    docstring); the note is empty when the wording is what the platform writes anyway."""
    key = sheets.nfkc(text)
    if any(w in key for w in _SOCIETY_WORDS):
        audience = Audience(society=True)
    elif any(w in key for w in _PEOPLE_WORDS):
        audience = Audience(units=(org.pk,))
    elif any(w in key for w in _PARTY_WORDS):
        audience = Audience(party=(org.pk,))
    elif any(w in key for w in _PLACE_WORDS):
        audience = Audience(units=(org.pk,))
    else:
        audience = Audience(orgs=(org.pk,))
    return audience, "" if text == audience.describe() else text


def route_from_text(text: str) -> list[Step]:
    if sheets.nfkc(text) in (NO_APPROVAL, "无", "不需审批", "无需", "-", "/"):
        return []
    return parse_route(text)


def channels_from_text(text: str) -> list[str]:
    """公开方式: every part of the wording must name a known channel."""
    unknown = [
        part
        for part in _CHANNEL_SPLIT_RE.split(text.removesuffix("等"))
        if part and not parse_channels(part)
    ]
    if unknown:
        words = "”“".join(unknown)
        raise ValueError(f"无法识别的公开方式：“{words}”（可写：{CHANNEL_EXAMPLES}等）")
    return parse_channels(text)


class _DurationError(ValueError):
    pass


def timing_from_text(start: str, duration: str) -> Timing:
    """Both columns; a bad 公开时长 raises _DurationError, a bad 公开起始时点 TimingError."""
    try:
        length = parse_duration(_halfwidth(duration))
    except TimingError as error:
        raise _DurationError(str(error)) from None
    timing = parse_start(_halfwidth(start), length)
    if timing.kind == "delayed" and (m := _DELAY_NOTE_RE.match(timing.note)):
        # parse_start keeps the whole wording as the note; describe_start wraps the note
        # in 经党组织同意后延期（…）, so take the note back out or it doubles on every trip.
        timing = dataclasses.replace(timing, note=m.group(1))
    return timing


def _content_key(text: str) -> str:
    return sheets.nfkc(text)


@dataclass
class _Plan:
    row: int
    fields: dict[str, Any]
    entry: CatalogEntry | None  # the existing entry this row stands for


class _Checker:
    """Checks rows against one locked version. A row whose 公开内容 matches an existing
    entry stands for that entry; where a column reads exactly as the entry shows it, the
    entry's stored structure is kept rather than parsed again from the words, so a sheet
    exported and imported again changes nothing."""

    def __init__(self, version: CatalogVersion) -> None:
        self.version = version
        self.org = version.org
        self.errors: list[RowError] = []
        self.pool: dict[str, list[CatalogEntry]] = {}
        # Rule 1 of the audience mapping: wording this version uses keeps its audience.
        self.known_audiences: dict[str, tuple[dict[str, Any], str]] = {}
        for entry in version.entries.order_by("position"):
            self.pool.setdefault(_content_key(entry.content), []).append(entry)
            self.known_audiences.setdefault(
                _tidy(entry.audience_text()), (entry.audience, entry.audience_note)
            )

    def error(self, row: int, key: str, message: str) -> None:
        self.errors.append(RowError(row, LABELS.get(key, ""), message))

    def text(self, row: int, cells: dict[str, Any], key: str, limit: int) -> str:
        text = _tidy(cells.get(key))
        if not text and any(c.required for c in COLUMNS if c.key == key):
            self.error(row, key, "不能为空")
        elif len(text) > limit:
            self.error(row, key, f"不能超过 {limit} 个字")
        return text

    def plan(self, row: int, cells: dict[str, Any]) -> _Plan | None:
        before = len(self.errors)
        texts = {
            "content": self.text(row, cells, "content", 2000),
            "audience": self.text(row, cells, "audience", 200),
            "approval": self.text(row, cells, "approval", 500),
            "channels": self.text(row, cells, "channels", 500),
            "start": self.text(row, cells, "start", 200),
            "duration": self.text(row, cells, "duration", 60),
            "responsible": self.text(row, cells, "responsible", 200),
            "co_units": self.text(row, cells, "co_units", 200),
            "remarks": _STATE_MARK_RE.sub("", self.text(row, cells, "remarks", 2000)),
        }
        same = self.pool.get(_content_key(texts["content"])) if texts["content"] else None
        entry = same.pop(0) if same else None
        shown = _shown(entry) if entry is not None else {}

        def kept(*keys: str) -> bool:
            return bool(shown) and all(texts[k] == shown[k] for k in keys)

        fields: dict[str, Any] = {
            k: texts[k] for k in ("content", "responsible", "co_units", "remarks")
        }
        if kept("audience"):
            assert entry is not None
            fields["audience"], fields["audience_note"] = entry.audience, entry.audience_note
        elif texts["audience"]:
            fields["audience"], fields["audience_note"] = self.audience(row, texts["audience"])
        if kept("approval"):
            assert entry is not None
            fields["approval"] = entry.approval
        elif texts["approval"]:
            try:
                fields["approval"] = route_to_json(route_from_text(texts["approval"]))
            except RouteError as error:
                self.error(row, "approval", str(error))
        if kept("channels"):
            assert entry is not None
            fields["channels"] = entry.channels
        elif texts["channels"]:
            try:
                fields["channels"] = channels_from_text(texts["channels"])
            except ValueError as error:
                self.error(row, "channels", str(error))
        if kept("start", "duration"):
            assert entry is not None
            fields["timing"] = entry.timing
        elif texts["start"] and texts["duration"]:
            try:
                fields["timing"] = timing_from_text(texts["start"], texts["duration"]).to_json()
            except _DurationError as error:
                self.error(row, "duration", str(error))
            except TimingError as error:
                self.error(row, "start", str(error))
        if len(self.errors) > before:
            return None
        try:
            fields = clean_entry_fields(fields)
        except ActionError as error:
            self.error(row, "", error.message)
            return None
        return _Plan(row, fields, entry)

    def audience(self, row: int, text: str) -> tuple[dict[str, Any], str]:
        if text in self.known_audiences:
            return self.known_audiences[text]
        audience, note = audience_from_text(text, self.org)
        return audience.to_json(), note


def _shown(entry: CatalogEntry) -> dict[str, str]:
    """An entry's columns as an export shows them and an import reads them back."""
    return {
        "content": _tidy(entry.content),
        "audience": _tidy(entry.audience_text()),
        "approval": _tidy(entry.approval_text()),
        "channels": _tidy(entry.channels_text()),
        "start": _tidy(entry.start_text()),
        "duration": _tidy(entry.duration_text()),
        "responsible": _tidy(entry.responsible),
        "co_units": _tidy(entry.co_units),
        "remarks": _tidy(entry.remarks),
    }


# --- import: writing -------------------------------------------------------------------------


def _apply(version: CatalogVersion, plans: list[_Plan], actor: Any, result: ImportResult) -> None:
    kept = {plan.entry.pk for plan in plans if plan.entry is not None}
    # Last first: each deletion closes the gap behind it, and there is none.
    for entry in version.entries.order_by("-position"):
        if entry.pk not in kept:
            entry_delete(entry, actor=actor)
            result.deleted += 1
    final: list[CatalogEntry] = []
    for plan in plans:
        try:
            if plan.entry is None:
                final.append(entry_add(version, actor=actor, **plan.fields))
                result.added += 1
                continue
            entry = plan.entry
            changes = {k: v for k, v in plan.fields.items() if getattr(entry, k) != v}
            if changes:
                entry_update(entry, actor=actor, **changes)
                result.updated += 1
            else:
                result.unchanged += 1
            final.append(entry)
        except NotAllowed:
            raise
        except ActionError as error:
            raise _RowFailed(plan.row, error.message) from error
    order = list(version.entries.order_by("position").values_list("pk", flat=True))
    for index, entry in enumerate(final):
        if order[index] != entry.pk:
            entry_move(entry, actor=actor, to_position=index + 1)
            order.remove(entry.pk)
            order.insert(index, entry.pk)


class _Rollback(Exception):
    pass


def import_xlsx(
    version: CatalogVersion,
    data: bytes,
    *,
    actor: Any,
    filename: str = "",
    request: HttpRequest | None = None,
) -> ImportResult:
    """Replace an editable version's entries with the rows of a 目录表 workbook.

    `actor` None is the operator at the command line. Raises NotAllowed when the actor may
    not edit the catalog; every other problem is in the result, and then nothing changed.
    The version is locked while the rows are checked against its entries and written.
    """
    org = version.org
    if actor is not None and not policy.can_edit(actor, org):
        raise NotAllowed(f"您无权编辑“{org.name}”的党务公开目录。")
    result = ImportResult()
    try:
        rows = _read_rows(data)
    except sheets.FileError as error:
        result.errors.append(RowError(None, "", error.message))
        return result
    try:
        with transaction.atomic():
            locked = (
                CatalogVersion.objects.select_for_update()
                .select_related("catalog__org")
                .get(pk=version.pk)
            )
            if not locked.is_editable:
                status = locked.get_status_display()
                raise ActionError(f"目录当前状态为“{status}”，不能修改；如需调整请新建版本。")
            if not rows:
                raise ActionError("表头下面没有目录条目。")
            checker = _Checker(locked)
            plans = [plan for number, cells in rows if (plan := checker.plan(number, cells))]
            if checker.errors:
                result.errors = sorted(checker.errors, key=lambda e: e.row or 0)
                raise _Rollback
            _apply(locked, plans, actor, result)
            record(
                actor,
                "catalog.sheet_import",
                locked,
                org_id=org.pk,
                request=request,
                filename=filename[:200],
                rows=len(plans),
                added=result.added,
                updated=result.updated,
                deleted=result.deleted,
                unchanged=result.unchanged,
            )
    except _Rollback:
        pass
    except _RowFailed as error:
        # The checks above should have caught it; the action had the last word.
        result.errors.append(RowError(error.row, "", error.message))
    except NotAllowed:
        raise
    except ActionError as error:
        result.errors.append(RowError(None, "", error.message))
    except IntegrityError:
        result.errors.append(
            RowError(None, "", "导入时目录正被他人同时修改，未做任何修改，请稍后重新导入。")
        )
    if result.errors:
        result.added = result.updated = result.deleted = result.unchanged = 0
    version.refresh_from_db()
    return result
