"""Rebuild the CJK font shipped for record PDFs (run by hand, never at run time).

    pip download --no-deps -d /tmp/font pylopdf-fonts-zh-cn   # ships NotoSansSC-Regular.otf
    unzip /tmp/font/*.whl -d /tmp/font
    .venv/bin/python dwgk/lib/fonts/build_font.py /tmp/font/pylopdf_fonts_zh_cn/NotoSansSC-Regular.otf

(or any copy of Noto Sans SC Regular 2.004, the region-specific OTF of notofonts/noto-cjk;
SIL Open Font License 1.1, see OFL.txt). A disclosure's record must show whatever the item says —
names written with rare or traditional characters included — so the whole font is kept:
30,890 code points, all of CJK Unified Ideographs and Extension A (GB 18030), Latin, Greek,
Cyrillic and the punctuation and symbols. Only what fpdf2 cannot use is dropped (layout
and vertical-metrics tables, hinting), and the cubic (CFF) outlines become quadratic
TrueType ones, so that the PDF carries the font as a CIDFontType2 (Identity-H) every viewer and text extractor reads. fpdf2 embeds
only the glyphs a document uses, so a record PDF stays small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset  # type: ignore[import-untyped]
from fontTools.pens.cu2quPen import Cu2QuPen  # type: ignore[import-untyped]
from fontTools.pens.ttGlyphPen import TTGlyphPen  # type: ignore[import-untyped]
from fontTools.ttLib import TTFont, newTable  # type: ignore[import-untyped]

TARGET = Path(__file__).with_name("NotoSansSC-Regular.ttf")


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines with TrueType ones, within 1/1000 em of the original curves
    — the outlines every PDF viewer and text extractor handles."""
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
    post.formatType = 3.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = None
    del font["CFF "]
    font.sfntVersion = "\x00\x01\x00\x00"


def main(source: Path) -> None:
    font = TTFont(str(source))
    font.recalcTimestamp = False  # the same input gives the same file
    options = subset.Options()
    options.layout_features = []  # fpdf2 places glyphs one by one: no shaping
    options.name_IDs = ["*"]  # keep the copyright and licence notices
    options.notdef_outline = True  # a missing character prints as a box, not nothing
    options.hinting = False
    options.drop_tables += ["VORG", "vhea", "vmtx", "BASE", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(font.getBestCmap()))
    subsetter.subset(font)
    to_truetype(font)
    font.save(str(TARGET))
    count = len(TTFont(str(TARGET)).getBestCmap())
    print(f"{TARGET.name}: {count} code points, {TARGET.stat().st_size:,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
