"""Reading sheets that offices typed by hand (rosters, the 目录表): cell text, header
matching, sample and blank rows, workbook safety checks, and the per-row error report.
Shared by every import so that each one tolerates the same things and reports alike."""

from __future__ import annotations

import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

HEADER_SEARCH_ROWS = 10  # the header must lie within the first rows of the sheet
SAMPLE_MARK = "例"  # rows whose first cell starts with this are examples, not data
ERRORS_SHOWN = 500  # the page lists this many problems at most; the count is always exact
CJK = "\u3400-\u9fff\uf900-\ufaff"
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")

RowIter = Iterator[tuple[int, list[Any]]]


@dataclass
class RowError:
    """One problem: the row as numbered in Excel, the column's heading, the reason."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" if self.row is not None else ""
        if self.column:
            where += f"「{self.column}」"
        return f"{where}：{self.message}" if where else self.message


@dataclass
class Report:
    """What an import found wrong; nothing is written while `errors` is not empty."""

    errors: list[RowError] = field(default_factory=list, kw_only=True)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def shown_errors(self) -> list[RowError]:
        return self.errors[:ERRORS_SHOWN]

    @property
    def more_errors(self) -> int:
        return max(0, len(self.errors) - ERRORS_SHOWN)


class FileError(Exception):
    """The file as a whole cannot be read; the message is shown as-is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def text(value: Any) -> str:
    """A cell as trimmed text: numbers without a spurious ".0", full-width spaces removed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = _INVISIBLE_RE.sub("", str(value)).replace("\u3000", " ").replace("\xa0", " ")
    text = text.strip()
    # Our CSV export writes '=... so Excel does not run it as a formula; undo that here.
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        text = text[1:]
    return text


def nfkc(value: Any) -> str:
    """Text for codes, names of choices, dates and numbers: full-width → half-width, no spaces."""
    return "".join(unicodedata.normalize("NFKC", text(value)).split())


def header_key(value: Any) -> str:
    text = nfkc(value).replace("*", "")
    return re.sub(r"\(.*\)$", "", text)


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    return f"{max(1, n // 1024)} KB"


def too_big_message() -> str:
    return f"文件超过大小上限（{human_size(settings.ROSTER_MAX_BYTES)}），请分成几个文件导入。"


def xlsx_tables(data: bytes) -> list[Callable[[], RowIter]]:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile:
        raise FileError("无法读取该 Excel 文件，文件可能已损坏。") from None
    # A small zip may unpack to gigabytes; real rosters compress maybe 10:1.
    if unpacked > max(50 * settings.ROSTER_MAX_BYTES, 20 * 1024 * 1024):
        raise FileError("该 Excel 文件解压后过大，无法导入。")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        # openpyxl fails in many ways on zips that are not workbooks (.docx, .ods, damaged).
        raise FileError(
            "无法读取该 Excel 文件。请在 Excel 中“另存为”Excel 工作簿（.xlsx）后再导入。"
        ) from None

    def sheet_rows(sheet: Any) -> Callable[[], RowIter]:
        def rows() -> RowIter:
            # The stored dimensions are often wrong in files written by other programs.
            sheet.reset_dimensions()
            try:
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    yield number, list(values)
            except Exception:
                # A damaged sheet inside a readable workbook: still the office's file, not a 500.
                raise FileError("Excel 文件中的工作表已损坏，无法读取。") from None

        return rows

    return [sheet_rows(sheet) for sheet in workbook.worksheets]


def is_blank(values: list[Any]) -> bool:
    return all(text(v) == "" for v in values)


def is_sample(values: list[Any]) -> bool:
    for value in values:
        cell = text(value)
        if cell:
            return cell.startswith(SAMPLE_MARK)
    return False
