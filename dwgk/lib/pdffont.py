"""The one Chinese font every generated PDF embeds (catalog sheets, disclosure records).

Noto Sans SC Regular (SIL Open Font License 1.1, `fonts/OFL.txt`), the whole font with
TrueType outlines (rebuilt by `fonts/build_font.py`), so a PDF prints and displays the same
on a machine without any Chinese font; system fonts are never looked up. fpdf2 embeds only
the glyphs a document uses, as a CIDFontType2 (Identity-H) that every viewer and text
extractor reads. A character the font lacks would vanish silently, so `shown()` prints it
as □ instead.
"""

from __future__ import annotations

import functools
from pathlib import Path

FONT_FILE = Path(__file__).parent / "fonts" / "NotoSansSC-Regular.ttf"
FONT = "notosanssc"  # fpdf2 keys its fonts by the lower-cased family name
MISSING = "□"


@functools.cache
def font_codepoints() -> frozenset[int]:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    font = TTFont(str(FONT_FILE), lazy=True)
    return frozenset(font.getBestCmap())


def shown(text: str) -> str:
    """The text as it can be printed: tabs as spaces, what the font lacks as □."""
    known = font_codepoints()
    return "".join(
        c if c == "\n" or ord(c) in known else (" " if c == "\t" else MISSING) for c in text
    )
