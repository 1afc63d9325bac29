"""The automatic pre-screen a disclosure's text goes through before review (PROC-2, MECH-1).

It looks for personal information and secrecy or internal markings and shows the reviewer
what it found; one finding at a time can then be redacted (脱敏) — BJ 23(1) and CMU 21(1):
"classified content is removed, sensitive content desensitized, personal information
protected". The original text is kept by the caller for the record; only the redacted text
is ever published.

    findings = scan(text, extra_terms=settings_terms)
    published = redact(text, [f for f in findings if f in chosen])

Always redact the *original* text with the whole chosen subset (or scan again after each
redaction): a finding's offsets point into the text it was found in.

How ambiguous cases are decided:

- Detection runs on an NFKC copy of the text, so full-width digits (１３８…), letters and
  punctuation (（）：＠－, the ideographic space) count, but every offset points into the
  original text. NFKC is applied one character at a time, so each character of the copy
  traces back to exactly one original character, and only to characters whose NFKC form a
  detector can see (digits, Latin letters, the punctuation of the patterns): full-width
  commas and ellipses are left alone, which keeps a 20,000-character text to a few ms.
- A number is never cut out of a longer one: it must not touch another digit, directly or
  across a hyphen ("2018-13812345678" is not a mobile number). A number typed in
  space-separated groups ("6222 0212 3456 7890", "138 1234 5678") must not touch a further
  group across a space either — so two grouped numbers separated by one space only
  ("138 1234 5678 139 1234 5678") are not reported; with a comma between they are.
- Where findings overlap, the longer one wins, and at equal length the more specific kind
  (ID number > bank card > mobile > landline > e-mail > term): an 18-digit ID number that
  also passes Luhn is an ID number.
- Landlines need an area code (010 and 02x take 8-digit numbers, 03xx–09xx take 7 or 8) —
  written 010-62345678, (010)62345678, 010 6234 5678 or 01062345678 — or, without one, a cue
  word right before them (电话, 座机, 传真, 固话, Tel). A bare 7–8 digit number is too often an
  amount or a serial number to be reported. Local numbers never start with 0 or 1, so dates,
  years, 文号 and amounts do not match.
- The secrecy levels 绝密/机密/秘密 are "block" only in their marking form (GB/T 9704-2012
  7.2.3: 机密★1年, 秘密★, and 密级：绝密); anywhere else they are "warn", except inside the
  ordinary words listed in sensitive_terms.toml (秘密投票, 秘密写票 …), which are not reported.
"""

from __future__ import annotations

import bisect
import datetime
import functools
import re
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["Finding", "FindingMismatch", "Kind", "Severity", "redact", "scan", "summary"]

TERMS_FILE = Path(__file__).parent / "data" / "sensitive_terms.toml"

Kind = Literal["id_card", "mobile", "landline", "bank_card", "email", "term"]
Severity = Literal["block", "warn"]

# At equal length the more specific detector wins an overlap (lower is more specific).
_PRIORITY: dict[str, int] = {
    "id_card": 0,
    "bank_card": 1,
    "mobile": 2,
    "landline": 3,
    "email": 4,
    "term": 5,
}

LABELS: dict[str, str] = {
    "id_card": "居民身份证号码",
    "mobile": "手机号码",
    "landline": "固定电话",
    "bank_card": "银行卡号",
    "email": "电子邮箱",
}
CUSTOM_TERM_LABEL = "自定义敏感词"
SECRECY_LABEL = "涉密标识"
TERM_MASK = "■"


@dataclass(frozen=True)
class Finding:
    """One thing the pre-screen found: where it is in the scanned text and how to redact it.

    `text` is `scanned_text[start:end]`. `masked` replaces it on redaction: an ID number keeps
    its first 6 and last 4 characters, a mobile number its first 3 and last 4 digits, a
    landline its area code and last 2 digits, a bank card its first and last 4 digits, an
    e-mail address its first character and domain; a term becomes ■ for each character.
    `severity` is "block" for a secrecy marking (机密★1年), "warn" for everything else.
    """

    kind: Kind
    start: int
    end: int
    text: str
    label: str
    severity: Severity
    masked: str


class FindingMismatch(ValueError):
    """A finding does not fit the text it is applied to: the text changed since the scan."""


# --- Normalization ------------------------------------------------------------------------

# What the detectors look at. A character is folded to its NFKC form when that form holds a
# digit or a Latin letter (１ → 1, ⑽ → (10), ℡ → TEL) or is one of the punctuation marks the
# patterns use (full-width space, －, ＋, （）, ：, ．, ＠ …). Other compatibility characters
# (，！？…) never matter to a detector and are left alone, which keeps the copy cheap to make.
_PATTERN_PUNCTUATION = frozenset(" -+().:@_%")


_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class _FoldTable:
    table: dict[str, str]
    bmp: re.Pattern[str]  # the characters to fold below U+10000
    every: re.Pattern[str]  # all of them; much slower to search, so used only when needed


def _char_class(chars: Iterable[str]) -> str:
    ranges: list[str] = []
    codes = sorted(map(ord, chars))
    first = last = codes[0]
    for code in [*codes[1:], -1]:
        if code == last + 1:
            last = code
            continue
        ranges.append(re.escape(chr(first)) + ("-" + re.escape(chr(last)) if last > first else ""))
        first = last = code
    return "[" + "".join(ranges) + "]"


@functools.cache
def _fold_table() -> _FoldTable:
    table: dict[str, str] = {}
    for code in range(0x80, 0x30000):  # no character at or above U+30000 changes under NFKC
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        norm = unicodedata.normalize("NFKC", char)
        if norm != char and (
            any(c.isascii() and c.isalnum() for c in norm) or norm in _PATTERN_PUNCTUATION
        ):
            table[char] = norm
    bmp = _char_class(c for c in table if c <= "\uffff")
    astral = _char_class(c for c in table if c > "\uffff")
    return _FoldTable(table, re.compile(bmp), re.compile(f"{bmp}|{astral}"))


def _fold(text: str) -> str:
    """The folded form of a short text (a term), as the scanned text is folded."""
    table = _fold_table().table
    return "".join(table.get(c, c) for c in text)


class _Normalized:
    """A folded copy of a text that maps its offsets back to the original.

    Folding is done one character at a time, so each character of the copy traces back to
    exactly one original character (a whole-string NFKC could merge combining sequences).
    Most folded characters stay one character; the few that expand (⑽ → (10)) are recorded.
    """

    def __init__(self, original: str) -> None:
        fold = _fold_table()
        table = fold.table
        pattern = fold.every if _ASTRAL_RE.search(original) else fold.bmp
        # For each expanding character, in order: where its expansion starts in the copy
        # (also in _starts, for bisect), its index in the original, and the expansion's length.
        self._starts: list[int] = []
        self._spans: list[tuple[int, int, int]] = []
        if original.isascii() or pattern.search(original) is None:
            self.text = original
            return
        parts: list[str] = []
        position = shift = 0
        for m in pattern.finditer(original):
            norm = table[m.group()]
            parts.append(original[position : m.start()])
            parts.append(norm)
            position = m.end()
            if len(norm) != 1:
                self._starts.append(m.start() + shift)
                self._spans.append((m.start() + shift, m.start(), len(norm)))
                shift += len(norm) - 1
        parts.append(original[position:])
        self.text = "".join(parts)

    def _original_index(self, index: int) -> int:
        i = bisect.bisect_right(self._starts, index) - 1
        if i < 0:
            return index
        start, original, size = self._spans[i]
        if index < start + size:
            return original
        return index - (start - original + size - 1)

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) that the copy's non-empty [start, end) comes from."""
        if not self._spans:
            return start, end
        return self._original_index(start), self._original_index(end - 1) + 1


# --- Numbers ------------------------------------------------------------------------------

# Every number pattern starts with a character class so that the regex engine can skip ahead
# to candidates quickly; the look-behinds that follow it ("." is that first character) keep a
# number from being cut out of a longer one, directly or across a hyphen.
_START = r"(?<![0-9].)(?<![0-9]-.)"
_AFTER = r"(?![0-9])(?!-[0-9])"
_SEP = r"[ -]"


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isascii() and (c.isdigit() or c in "Xx")).upper()


def _is_digit(s: str) -> bool:
    return len(s) == 1 and "0" <= s <= "9"


def _glued_by_spaces(text: str, start: int, end: int, body_start: int | None = None) -> bool:
    """Whether a number typed in space-separated groups is only part of a longer such run.

    `body_start` is where the groups begin when a prefix (+86 ) comes before them.
    """
    if " " not in text[start if body_start is None else body_start : end]:
        return False
    before = text[max(0, start - 2) : start]
    after = text[end : end + 2]
    glued_before = before[-1:] == " " and _is_digit(before[:1])
    glued_after = after[:1] == " " and _is_digit(after[1:])
    return glued_before or glued_after


# GB 11643-1999: 6-digit region, 8-digit birth date, 3-digit sequence, check character;
# the first-generation card had 15 digits (2-digit year, no check character). Typed in
# groups (110101 19900307 1234) no further group may follow across a space.
_ID_RE = re.compile(
    rf"[0-9]{_START}(?:[0-9]{{16}}[0-9Xx]|[0-9]{{14}}"
    rf"|(?<![0-9] .)[0-9]{{5}}{_SEP}[0-9]{{8}}{_SEP}[0-9]{{3}}[0-9Xx](?! [0-9])"
    rf"|(?<![0-9] .)[0-9]{{5}}{_SEP}[0-9]{{6}}{_SEP}[0-9]{{3}}(?! [0-9])"
    r")(?![0-9Xx])(?!-[0-9])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# Province-level codes (GB/T 2260): 华北, 东北, 华东, 中南, 西南, 西北, 台湾, 香港, 澳门.
_PROVINCES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
    ]
)


def _birth_date_ok(year: int, month: int, day: int) -> bool:
    try:
        born = datetime.date(year, month, day)
    except ValueError:
        return False
    return year >= 1900 and born <= datetime.date.today()


def id_number_valid(number: str) -> bool:
    """Whether an 18- or 15-character resident ID number is well formed (GB 11643)."""
    number = number.upper()
    if not number[:-1].isdigit() or not number.isascii() or int(number[:2]) not in _PROVINCES:
        return False
    if len(number) == 18:
        if not _birth_date_ok(int(number[6:10]), int(number[10:12]), int(number[12:14])):
            return False
        total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
        return _ID_CHECK[total % 11] == number[17]
    if len(number) == 15 and number.isdigit():
        # First-generation cards were issued before 2000, so the two-digit year is 19xx.
        return _birth_date_ok(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    return False


def _id_cards(text: str) -> Iterator[tuple[int, int, Kind, str]]:
    for m in _ID_RE.finditer(text):
        number = _digits(m.group())
        if id_number_valid(number):
            middle = "*" * (len(number) - 10)
            yield m.start(), m.end(), "id_card", number[:6] + middle + number[-4:]


# 1[3-9] + 9 digits, as 11 digits or 3-4-4, optionally after +86 / 0086.
_MOBILE_RE = re.compile(
    rf"[+01]{_START}(?:(?<=\+)86{_SEP}?1|(?<=0)086{_SEP}?1|(?<=1))"
    rf"(?P<rest>[3-9][0-9](?:[0-9]{{8}}|{_SEP}[0-9]{{4}}{_SEP}[0-9]{{4}})){_AFTER}"
)


def _mobiles(text: str) -> Iterator[tuple[int, int, Kind, str]]:
    for m in _MOBILE_RE.finditer(text):
        if _glued_by_spaces(text, m.start(), m.end(), body_start=m.start("rest")):
            continue
        number = _digits(m.group())[-11:]
        prefix = "+86 " if m.group()[0] != "1" else ""
        yield m.start(), m.end(), "mobile", f"{prefix}{number[:3]}****{number[-4:]}"


# 010 and 02x are followed by 8 digits, 03xx–09xx by 7 or 8; local numbers start with 2–9.
_LOCAL8 = rf"[2-9][0-9]{{3}}{_SEP}?[0-9]{{4}}"
_LOCAL78 = rf"[2-9][0-9]{{2,3}}{_SEP}?[0-9]{{4}}"
_EXTENSION = r"(?:(?:-|转|分机)(?P<ext>[0-9]{1,5}))?"
_LANDLINE_RE = re.compile(
    rf"[(0]{_START}(?:"
    rf"(?<=\() ?0(?:10|2[0-9]) ?\) ?(?P<l8a>{_LOCAL8})"
    rf"|(?<=\() ?0[3-9][0-9]{{2}} ?\) ?(?P<l7a>{_LOCAL78})"
    rf"|(?<=0)(?:10|2[0-9]){_SEP}?(?P<l8b>{_LOCAL8})"
    rf"|(?<=0)[3-9][0-9]{{2}}{_SEP}?(?P<l7b>{_LOCAL78})"
    rf"){_EXTENSION}{_AFTER}"
)
_LOCAL_GROUPS = ("l8a", "l7a", "l8b", "l7b")
# Without an area code only right after a cue word: a bare 7–8 digit number is too often an
# amount or a serial number.
_CUED_LANDLINE_RE = re.compile(
    r"(?:电话|座机|传真|固话|TEL|Tel|tel)(?:号码)?\.? {0,2}:? {0,2}"
    rf"(?P<num>{_LOCAL78}){_EXTENSION}{_AFTER}"
)


def _landline_mask(area: str, local: str, ext: str | None) -> str:
    masked = ("*" * (len(local) - 2)) + local[-2:]
    if area:
        masked = f"{area}-{masked}"
    if ext:
        masked += "-" + "*" * len(ext)
    return masked


def _landlines(text: str) -> Iterator[tuple[int, int, Kind, str]]:
    for m in _LANDLINE_RE.finditer(text):
        if _glued_by_spaces(text, m.start(), m.end()):
            continue
        group = next(g for g in _LOCAL_GROUPS if m.group(g))
        area = _digits(text[m.start() : m.start(group)])
        mask = _landline_mask(area, _digits(m.group(group)), m.group("ext"))
        yield m.start(), m.end(), "landline", mask
    for m in _CUED_LANDLINE_RE.finditer(text):
        if _glued_by_spaces(text, m.start("num"), m.end()):
            continue
        mask = _landline_mask("", _digits(m.group("num")), m.group("ext"))
        yield m.start("num"), m.end(), "landline", mask


# 16–19 digits, or typed in groups: 4-4-4-4(-1..3) or 6 + the rest, no further group after.
_CARD_RE = re.compile(
    rf"[0-9]{_START}(?:[0-9]{{15,18}}{_AFTER}"
    rf"|(?<![0-9] .)[0-9]{{3}}(?:{_SEP}[0-9]{{4}}){{3}}(?:{_SEP}[0-9]{{1,3}})?(?!{_SEP}?[0-9])"
    rf"|(?<![0-9] .)[0-9]{{5}}{_SEP}[0-9]{{10,13}}(?!{_SEP}?[0-9])"
    r")"
)


def luhn_valid(number: str) -> bool:
    """Whether a digit string passes the Luhn check (ISO/IEC 7812)."""
    total = 0
    for i, char in enumerate(reversed(number)):
        d = int(char)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _bank_cards(text: str) -> Iterator[tuple[int, int, Kind, str]]:
    for m in _CARD_RE.finditer(text):
        number = _digits(m.group())
        # 62 UnionPay, 4 Visa, 5 Mastercard, 3 JCB / American Express.
        if (number[0] in "345" or number.startswith("62")) and luhn_valid(number):
            middle = "*" * (len(number) - 8)
            yield m.start(), m.end(), "bank_card", number[:4] + middle + number[-4:]


# --- E-mail -------------------------------------------------------------------------------

# The look-behind after the first character makes every start inside a run fail at once, so
# the scan stays linear however long the run.
_EMAIL_RE = re.compile(
    r"[A-Za-z0-9._%+-](?<![A-Za-z0-9._%+-].)[A-Za-z0-9._%+-]*"
    r"@(?P<domain>(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,})(?![A-Za-z0-9-])"
)


def _emails(text: str) -> Iterator[tuple[int, int, Kind, str]]:
    for m in _EMAIL_RE.finditer(text):
        local = text[m.start() : m.start("domain") - 1]
        stripped = local.lstrip(".-+%")  # leading punctuation belongs to the prose
        if not stripped or stripped.endswith("."):
            continue
        start = m.start() + len(local) - len(stripped)
        yield start, m.end(), "email", f"{stripped[0]}***@{m.group('domain')}"


# --- Terms --------------------------------------------------------------------------------

_LEVELS = ("绝密", "机密", "秘密")  # the three levels of the Law on Guarding State Secrets
_PERIOD = r"(?:[0-9一二三四五六七八九十两]{1,3} ?(?:年|个月|月)|长期)"
# GB/T 9704-2012 7.2.3 (密级和保密期限): "机密★1年", "秘密★"; also "密级：秘密". Each
# alternative starts with a literal so that the regex engine can skip ahead quickly.
_MARKING_RE = re.compile(
    rf"密级 ?:? ?(?:绝密|机密|秘密)(?: ?[★☆] ?{_PERIOD}?)?"
    + "".join(rf"|{level} ?[★☆] ?{_PERIOD}?" for level in _LEVELS)
)


@dataclass(frozen=True)
class _TermList:
    pattern: re.Pattern[str]
    # folded, casefolded term -> (label, severity); None for an ordinary word not reported
    entries: dict[str, tuple[str, Severity] | None]


def _term_key(term: str) -> str:
    return _fold(term.strip()).casefold()


@functools.cache
def _builtin_entries() -> tuple[tuple[str, tuple[str, Severity] | None], ...]:
    with TERMS_FILE.open("rb") as f:
        data = tomllib.load(f)
    entries: dict[str, tuple[str, Severity] | None] = {}
    for phrase in data.get("ordinary", {}).get("phrases", []):
        entries.setdefault(_term_key(phrase), None)
    for term_list in data["list"]:
        severity = term_list.get("severity", "warn")
        if severity not in ("warn", "block"):
            raise ValueError(f"{TERMS_FILE}: unknown severity {severity!r}")
        for term in term_list["terms"]:
            entries.setdefault(_term_key(term), (f"{term_list['label']}：{term}", severity))
    return tuple(entries.items())


@functools.lru_cache(maxsize=32)
def _term_list(extra_terms: tuple[str, ...]) -> _TermList:
    entries = dict(_builtin_entries())
    for term in extra_terms:
        key = _term_key(term)
        # The deployment's own term outranks an ordinary-word exemption, not a built-in label.
        if key and entries.get(key) is None:
            entries[key] = (f"{CUSTOM_TERM_LABEL}：{term.strip()}", "warn")
    # Longest first: the alternation takes the first alternative that matches.
    alternatives = sorted(entries, key=lambda k: (-len(k), k))
    pattern = re.compile("|".join(re.escape(k) for k in alternatives), re.IGNORECASE)
    return _TermList(pattern, entries)


def _terms(text: str, extra_terms: tuple[str, ...]) -> Iterator[tuple[int, int, str, Severity]]:
    if "★" in text or "☆" in text or "密级" in text:
        for m in _MARKING_RE.finditer(text):
            level = next(level for level in _LEVELS if level in m.group())
            yield m.start(), m.end(), f"{SECRECY_LABEL}：{level}", "block"
    terms = _term_list(extra_terms)
    for m in terms.pattern.finditer(text):
        entry = terms.entries.get(m.group().casefold())
        if entry is not None:
            yield m.start(), m.end(), entry[0], entry[1]


# --- The API ------------------------------------------------------------------------------

_NUMBER_DETECTORS: tuple[Callable[[str], Iterator[tuple[int, int, Kind, str]]], ...] = (
    _id_cards,
    _bank_cards,
    _mobiles,
    _landlines,
)


def scan(text: str, *, extra_terms: Iterable[str] = ()) -> list[Finding]:
    """Find personal information and sensitive terms in a text, sorted by position.

    Kinds: resident ID numbers (checksum, birth date and province checked), mobile and
    landline numbers, bank card numbers (Luhn), e-mail addresses, and terms from
    sensitive_terms.toml plus `extra_terms` (the deployment's own list). Findings never
    overlap; where candidates do, the longer one (then the more specific kind) wins.
    """
    norm = _Normalized(text)
    raw: list[tuple[int, int, Kind, str, Severity, str]] = []
    if any(digit in norm.text for digit in "0123456789"):
        for detect in _NUMBER_DETECTORS:
            for start, end, kind, masked in detect(norm.text):
                raw.append((start, end, kind, LABELS[kind], "warn", masked))
    if "@" in norm.text:
        for start, end, kind, masked in _emails(norm.text):
            raw.append((start, end, kind, LABELS[kind], "warn", masked))
    for start, end, label, severity in _terms(norm.text, tuple(extra_terms)):
        raw.append((start, end, "term", label, severity, ""))

    candidates: list[Finding] = []
    for start, end, kind, label, severity, masked in raw:
        o_start, o_end = norm.original_span(start, end)
        if kind == "term":
            masked = TERM_MASK * (o_end - o_start)
        found = text[o_start:o_end]
        candidates.append(Finding(kind, o_start, o_end, found, label, severity, masked))
    return _without_overlaps(candidates)


def _without_overlaps(candidates: list[Finding]) -> list[Finding]:
    candidates.sort(key=lambda f: (f.start - f.end, _PRIORITY[f.kind], f.start))
    starts: list[int] = []
    kept: list[Finding] = []
    for f in candidates:
        i = bisect.bisect_left(starts, f.start)
        if i > 0 and kept[i - 1].end > f.start:
            continue
        if i < len(kept) and kept[i].start < f.end:
            continue
        starts.insert(i, f.start)
        kept.insert(i, f)
    return kept


def redact(text: str, findings: Iterable[Finding]) -> str:
    """The text with exactly the given findings replaced by their masked form.

    Findings not given are left as they are, so the reviewer can redact one at a time.
    Raises FindingMismatch (a ValueError) if a finding does not match the text at its
    offsets — the text changed since the scan — or if two given findings overlap.
    """
    chosen = sorted(set(findings), key=lambda f: (f.start, f.end))
    parts: list[str] = []
    position = 0
    for f in chosen:
        if f.start < position:
            raise FindingMismatch(f"预检结果相互重叠：{f.label}（位置 {f.start}）")
        if not 0 <= f.start < f.end <= len(text) or text[f.start : f.end] != f.text:
            raise FindingMismatch(f"正文已更改，请重新预检：{f.label}（位置 {f.start}）")
        parts.append(text[position : f.start])
        parts.append(f.masked)
        position = f.end
    parts.append(text[position:])
    return "".join(parts)


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings there are per label, in order of first appearance."""
    counts: dict[str, int] = {}
    for f in sorted(findings, key=lambda f: f.start):
        counts[f.label] = counts.get(f.label, 0) + 1
    return counts
