"""The 目录表 of a catalog version as a print-ready PDF (A4 landscape).

Same layout as the .xlsx and .docx (`catalog.sheet`), in the platform's one embedded Chinese
font (`dwgk.lib.pdffont`).
"""

from __future__ import annotations

import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import WrapMode, XPos, YPos
from fpdf.fonts import FontFace

from dwgk.catalog import sheet
from dwgk.catalog.models import CatalogVersion
from dwgk.lib.pdffont import FONT, FONT_FILE, MISSING

MARGIN = 12  # mm


class _SheetPDF(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font(FONT, size=8)
        self.set_text_color(90)
        self.cell(0, 4, self.footer_text, align="L")
        self.set_x(MARGIN)
        self.cell(0, 4, f"— {self.page_no()} —", align="C")
        self.set_text_color(0)


def export_pdf(version: CatalogVersion) -> bytes:
    """The 目录表 as a PDF with the Chinese font embedded."""
    title = sheet.sheet_title(version)
    pdf = _SheetPDF(orientation="L", unit="mm", format="A4")
    pdf.footer_text = f"第{version.number}版（{version.get_status_display()}）"
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_font(FONT, fname=str(FONT_FILE))
    known: dict[int, Any] = getattr(pdf.fonts[FONT], "cmap", {})

    def shown(text: str) -> str:
        return "".join(c if ord(c) in known or c in "\n\t" else MISSING for c in text)

    pdf.set_title(title)
    pdf.set_author(version.org.name)
    pdf.set_subject(pdf.footer_text)
    pdf.set_creator("党务公开平台")
    pdf.set_lang("zh-CN")
    # One creation date for the same version on the same day keeps the bytes stable.
    pdf.set_creation_date(
        datetime.datetime.combine(sheet.sheet_date(version), datetime.time(), datetime.UTC)
    )
    pdf.add_page()

    pdf.set_font(FONT, size=18)
    pdf.cell(0, 12, shown(title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, size=10.5)
    _two_part(pdf, shown(sheet.org_line(version)), shown(sheet.leader_line(version)))
    pdf.ln(1)

    widths = [sheet.NUMBER_WIDTH, *(c.width for c in sheet.COLUMNS)]
    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=tuple(widths),
        width=pdf.epw,
        repeat_headings=1,
        headings_style=FontFace(emphasis="", fill_color=231),
        # Chinese has no spaces to break at: any character may end a line.
        wrapmode=WrapMode.CHAR,
        text_align="LEFT",
        line_height=pdf.font_size * 1.45,
        padding=(1, 1.2),
    ) as table:
        heading = table.row()
        for label in sheet.header():
            heading.cell(label, align="C")
        for values in sheet.entry_rows(version):
            row = table.row()
            for index, value in enumerate(values):
                row.cell(shown(value), align="C" if index == 0 else None)

    pdf.ln(2)
    pdf.set_font(FONT, size=10.5)
    _two_part(pdf, shown(sheet.footnote()), sheet.date_line(version))
    return bytes(pdf.output())


def _two_part(pdf: FPDF, left: str, right: str) -> None:
    """A line with text at the left margin and at the right margin."""
    pdf.cell(pdf.epw / 2, 7, left, align="L")
    pdf.cell(pdf.epw / 2, 7, right, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
