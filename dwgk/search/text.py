"""Chinese text as search tokens (DESIGN-NOTES "Chinese search": own bigrams work on both).

Neither database segments Chinese by itself, so the text is turned into a token string that
both index the same way:

* CJK runs become overlapping character bigrams (换届选举 → 换届 届选 选举); a CJK character
  standing alone stays itself (年 in 2026年10月);
* other letters and digits become lowercase words (Latin, numbers: whole-word matching);
* full-width forms are folded first (NFKC: ＡＢＣ１２３ → abc123), HTML is stripped;
* wherever the text had anything else between two pieces (punctuation, spaces, line breaks)
  the token string holds a `|`, which neither database indexes, so that a phrase can
  never run across a gap: 换届。届选举 does not contain 换届选举.

The token string is stored padded with one space on each side, so that an exact check of a
phrase is a plain LIKE '% 换届 届选 选举 %' on both databases (`Term.pattern`).

A query is split on whitespace into terms, all of which must match. A CJK term means
"this substring" (so 2–4 character words match wherever they occur); Latin and numbers mean
whole words. A term made of one CJK character has no bigram to look up: it is checked with
LIKE inside the set the other terms found, and a query with nothing else is refused
(`QueryError`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

# Han (with extensions A–G and the compatibility block), 々〆〇, kana and Hangul.
CJK = (
    "\u3005-\u3007\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0003134f"
)
_PIECE = re.compile(rf"([{CJK}]+)|([^\W_{CJK}]+)")
GAP = "|"
# Block-level tags end a line of text; inline tags (strong, a …) sit inside words.
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|h[1-6]|ul|ol|li|blockquote|table|thead|tbody|tr|th|td|hr|div)\b[^>]*>", re.I
)
_TAG = re.compile(r"<[^>]*>")
# PostgreSQL refuses a tsvector above 1 MB; Chinese text of this length stays far below it.
MAX_CHARS = 50_000
MAX_TERMS = 8
MAX_TERM_CHARS = 40


class QueryError(ValueError):
    """A query that cannot be searched; the message is for the person who typed it."""


def normalize(text: str) -> str:
    """Full-width forms folded (NFKC), as stored and as shown in snippets."""
    return unicodedata.normalize("NFKC", text or "")


def readable_text(fragment: str) -> str:
    """The text of sanitized HTML as people read it: one line per block, entities decoded,
    the characters as written (NFKC would turn the full-width ：，（） of Chinese text into
    ASCII punctuation). What snippets, feeds and posters show."""
    text = _BLOCK_TAG.sub("\n", fragment or "")
    lines = html.unescape(_TAG.sub("", text)).splitlines()
    return "\n".join(line.strip() for line in lines if line.strip())


def plain_text(fragment: str) -> str:
    """The readable text of sanitized HTML, NFKC-folded: what matching compares."""
    return normalize(readable_text(fragment))


def _pieces(text: str) -> list[str]:
    """Tokens in order, with GAP where something unindexed stood between two pieces."""
    out: list[str] = []
    end = 0
    for match in _PIECE.finditer(normalize(text).lower()):
        if out and match.start() > end and out[-1] != GAP:
            out.append(GAP)
        end = match.end()
        run, word = match.groups()
        if word:
            out.append(word)
        elif len(run) == 1:
            out.append(run)
        else:
            out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out


def tokens(text: str) -> str:
    """The token string stored for `text` (padded with a space on each side)."""
    return " " + " ".join(_pieces(text[:MAX_CHARS])) + " "


@dataclass(frozen=True)
class Term:
    """One whitespace-separated query term.

    `lookup`: the tokens an index must hold (looked up in the full-text index);
    `pattern`: a LIKE pattern on the token string that decides exactly, or "" when the
    lookup alone is exact (a single CJK bigram); `literal`: the text to highlight.
    """

    literal: str
    lookup: tuple[str, ...]
    pattern: str


def _term(raw: str) -> Term | None:
    literal = normalize(raw).lower()
    found = list(_PIECE.finditer(literal))
    if not found:
        return None
    pieces = _pieces(literal[found[0].start() : found[-1].end()])
    first, last = found[0], found[-1]
    # A CJK character at either end of the term may be the end of a longer run in the text
    # (10月 in 10月支部): there it is only part of a bigram, so it is neither looked up nor
    # required to be a whole token.
    lone_first = first.group(1) is not None and len(first.group(1)) == 1
    lone_last = last.group(1) is not None and len(last.group(1)) == 1
    inner = pieces[(1 if lone_first else 0) : len(pieces) - (1 if lone_last else 0)]
    lookup = tuple(dict.fromkeys(t for t in inner if t != GAP))
    body = " ".join(pieces)
    pattern = ("%" if lone_first else "% ") + body + ("%" if lone_last else " %")
    if len(pieces) == 1 and not lone_first:
        pattern = ""  # one whole token: the index lookup is exact
    return Term(literal, lookup, pattern)


def query_terms(q: str) -> list[Term]:
    """The terms of a query (all must match). Raises QueryError for what cannot be searched."""
    raw = [t for t in (q or "").split() if t]
    if len(raw) > MAX_TERMS:
        raise QueryError(f"关键词过多，请不要超过{MAX_TERMS}个。")
    if any(len(t) > MAX_TERM_CHARS for t in raw):
        raise QueryError(f"单个关键词不能超过{MAX_TERM_CHARS}个字。")
    terms = [term for term in map(_term, raw) if term is not None]
    if terms and not any(term.lookup for term in terms):
        # DESIGN-NOTES: single characters only inside an already narrowed set.
        raise QueryError("单个汉字无法检索，请输入两个字以上的词语，或与其他关键词一起使用。")
    return terms


def query_tokens(q: str) -> list[str]:
    """Each term as the phrase of tokens it stands for (换届选举 → "换届 届选 选举")."""
    return [" ".join(_pieces(t)) for t in (q or "").split() if _PIECE.search(normalize(t))]
