"""Rebuild the CJK font shipped for PDF exports (run by hand, never at run time).

    apt-get install fonts-noto-cjk unicode-data
    .venv/bin/python dwgk/catalog/fonts/build_subset.py

Noto Sans CJK SC (SIL Open Font License 1.1, see OFL.txt) is subset to what a 目录表
needs: every character of GB 2312 and of the 通用规范汉字表 (2013, 8105 characters, the
national standard list that also covers the characters used in personal names), ASCII,
and the punctuation and symbols offices type, then its cubic (CFF) outlines are turned into
quadratic TrueType ones: a PDF then carries it as a CIDFontType2 with Identity-H, the form
every viewer, text extractor and printer RIP reads (fpdf2 writes CFF fonts with an embedded
encoding CMap that some readers cannot extract text from). The whole CJK block would make
a file of about 6–7 MB; this one is 2.6 MB. pdf.py prints a character outside it as □.
"""

from __future__ import annotations

import bz2
import re
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTCollection, TTFont, newTable  # type: ignore[import-untyped]

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SC_FACE = 2  # the collection's faces: JP, KR, SC, TC, HK, then the Mono ones
UNIHAN = Path("/usr/share/unicode/Unihan_OtherMappings.txt.bz2")
TARGET = Path(__file__).with_name("NotoSansCJKsc-Regular-subset.ttf")

EXTRA_RANGES = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1: · × ÷ °
    (0x2010, 0x2027),  # dashes, quotes, …
    (0x2030, 0x203B),  # ‰ ′ ″ ※
    (0x2103, 0x2116),  # ℃ №
    (0x2160, 0x216B),  # Roman numerals
    (0x2190, 0x2199),  # arrows
    (0x2460, 0x249B),  # ① ⑴ ⒈
    (0x2500, 0x257F),  # box drawing
    (0x25A0, 0x25FF),  # ■ □ ▲ ○ ●
    (0x2605, 0x2606),  # ★ ☆
    (0x3000, 0x303F),  # CJK punctuation: 、。〇「」【】〔〕
    (0x3220, 0x3243),  # ㈠ ㈡
    (0xFE30, 0xFE4F),  # vertical forms
    (0xFF01, 0xFF5E),  # full-width forms
    (0xFFE0, 0xFFE6),  # ￥ ￡
]


def gb2312() -> set[int]:
    found: set[int] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                found.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return found


def tongyong_guifan() -> set[int]:
    """The 通用规范汉字表 from Unihan's kTGH field (Debian package unicode-data)."""
    text = bz2.decompress(UNIHAN.read_bytes()).decode("utf-8")
    return {int(m.group(1), 16) for m in re.finditer(r"^U\+([0-9A-F]+)\tkTGH\t", text, re.M)}


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines with TrueType ones (as fontTools' otf2ttf example does),
    within 1/1000 em of the original curves."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    max_err = font["head"].unitsPerEm / 1000
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, max_err, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for field in (
        "maxTwilightPoints",
        "maxStorage",
        "maxFunctionDefs",
        "maxInstructionDefs",
        "maxStackElements",
        "maxSizeOfInstructions",
        "maxComponentElements",
    ):
        setattr(maxp, field, 0)
    maxp.maxZones = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 3.0  # no glyph names: CID-keyed fonts have none worth keeping
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    font.sfntVersion = "\x00\x01\x00\x00"


def main() -> None:
    codepoints = gb2312() | tongyong_guifan()
    for start, end in EXTRA_RANGES:
        codepoints.update(range(start, end + 1))
    font = TTCollection(str(SOURCE)).fonts[SC_FACE]
    font.recalcTimestamp = False  # the same input gives the same file
    options = subset.Options()
    options.layout_features = []  # fpdf2 places glyphs one by one: no shaping
    options.name_IDs = ["*"]  # keep the copyright and licence notices
    options.notdef_outline = True  # a missing character prints as a box, not nothing
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(codepoints))
    subsetter.subset(font)
    to_truetype(font)
    font.save(str(TARGET))
    print(f"{TARGET.name}: {len(codepoints)} code points, {TARGET.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
