"""Comparing two versions of a catalog entry by entry (CAT-4: every version is kept, and the
differences are visible).

Entries are matched by `lineage`, which an adjustment copies from the version it starts
from: an entry whose lineage is only in the newer version was added, one only in the older
was removed, and a matched pair is compared column by column in the words of the 目录表
(the *_text() wording), so "公开方式：党员大会 → 党员大会、公开栏" reads as people write it.
An entry counts as moved when it changed place relative to the other common entries — not
merely because something was inserted above it.
"""

from __future__ import annotations

import difflib
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dwgk.catalog.models import CatalogEntry, CatalogVersion


class AudienceTexts:
    """The 公开范围 column for many entries with one lookup per distinct audience: a catalog
    uses a handful of audiences, and describing one reads organization names."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, entry: CatalogEntry) -> str:
        if entry.audience_note:
            return entry.audience_note
        key = json.dumps(entry.audience, sort_keys=True)
        if key not in self._cache:
            self._cache[key] = entry.get_audience().describe()
        return self._cache[key]


def _state_text(entry: CatalogEntry) -> str:
    label = str(CatalogEntry.State(entry.state).label)
    return f"{label}（{entry.state_note}）" if entry.state_note else label


def columns(audience_text: Callable[[CatalogEntry], str]) -> list[tuple[str, Callable[..., str]]]:
    """The compared columns: the nine of the 目录表 plus category, basis and entry state."""
    return [
        ("公开内容", lambda e: e.content),
        ("内容类别", lambda e: e.category),
        ("依据条款", lambda e: e.basis),
        ("公开范围", audience_text),
        ("审批程序", lambda e: e.approval_text()),
        ("公开方式", lambda e: e.channels_text()),
        ("公开起始时点", lambda e: e.start_text()),
        ("公开时长", lambda e: e.duration_text()),
        ("责任主体", lambda e: e.responsible),
        ("协同单位或人员", lambda e: e.co_units),
        ("备注", lambda e: e.remarks),
        ("条目状态", _state_text),
    ]


@dataclass(frozen=True)
class ColumnChange:
    column: str
    old: str
    new: str


@dataclass
class DiffRow:
    """One line of the side-by-side view: an entry in the older version, the newer, or both."""

    old: CatalogEntry | None
    new: CatalogEntry | None
    changes: list[ColumnChange] = field(default_factory=list)
    moved: bool = False

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        if self.changes:
            return "changed"
        return "moved" if self.moved else "unchanged"

    @property
    def content(self) -> str:
        """The entry's 公开内容, as the newer version has it."""
        entry = self.new or self.old
        assert entry is not None
        return entry.content

    @property
    def old_position(self) -> int | None:
        return self.old.position if self.old else None

    @property
    def new_position(self) -> int | None:
        return self.new.position if self.new else None


@dataclass
class VersionDiff:
    old: CatalogVersion
    new: CatalogVersion
    rows: list[DiffRow]

    def _of(self, test: Callable[[DiffRow], bool]) -> list[DiffRow]:
        return [row for row in self.rows if test(row)]

    @property
    def added(self) -> list[DiffRow]:
        return self._of(lambda r: r.old is None)

    @property
    def removed(self) -> list[DiffRow]:
        return self._of(lambda r: r.new is None)

    @property
    def changed(self) -> list[DiffRow]:
        return self._of(lambda r: bool(r.changes))

    @property
    def moved(self) -> list[DiffRow]:
        return self._of(lambda r: r.moved)

    @property
    def unchanged(self) -> int:
        return len(self._of(lambda r: r.kind == "unchanged"))

    @property
    def shown(self) -> list[DiffRow]:
        """Every row that differs, in reading order."""
        return self._of(lambda r: r.kind != "unchanged")

    @property
    def is_empty(self) -> bool:
        return not self.shown


def compare_entries(
    old: CatalogEntry, new: CatalogEntry, audience_text: Callable[[CatalogEntry], str]
) -> list[ColumnChange]:
    changes = []
    for label, text in columns(audience_text):
        before, after = text(old), text(new)
        if before != after:
            changes.append(ColumnChange(label, before, after))
    return changes


def _moved(old_order: list[uuid.UUID], new_order: list[uuid.UUID]) -> set[uuid.UUID]:
    """Common entries that left their place among the others: those outside the longest
    run of common entries kept in the same order."""
    matcher = difflib.SequenceMatcher(None, old_order, new_order, autojunk=False)
    kept = {
        lineage
        for block in matcher.get_matching_blocks()
        for lineage in old_order[block.a : block.a + block.size]
    }
    return set(old_order) - kept


def diff_entries(
    old_entries: Iterable[CatalogEntry],
    new_entries: Iterable[CatalogEntry],
    audience_text: Callable[[CatalogEntry], str] | None = None,
) -> list[DiffRow]:
    """Rows in the newer version's order; a removed entry follows the entry it came after."""
    audience_text = audience_text or AudienceTexts()
    olds = sorted(old_entries, key=lambda e: e.position)
    news = sorted(new_entries, key=lambda e: e.position)
    old_by = {e.lineage: e for e in olds}
    new_by = {e.lineage: e for e in news}
    common_old = [e.lineage for e in olds if e.lineage in new_by]
    common_new = [e.lineage for e in news if e.lineage in old_by]
    moved = _moved(common_old, common_new)

    rows: list[DiffRow] = []
    row_of: dict[uuid.UUID, DiffRow] = {}
    for entry in news:
        before = old_by.get(entry.lineage)
        row = DiffRow(before, entry, moved=entry.lineage in moved)
        if before is not None:
            row.changes = compare_entries(before, entry, audience_text)
        rows.append(row)
        row_of[entry.lineage] = row

    # Removed entries: after the row of the nearest earlier entry that is still there.
    anchor: uuid.UUID | None = None
    inserted_after: dict[uuid.UUID | None, list[DiffRow]] = {}
    for entry in olds:
        if entry.lineage in new_by:
            anchor = entry.lineage
        else:
            inserted_after.setdefault(anchor, []).append(DiffRow(entry, None))
    result = list(inserted_after.get(None, []))
    for row in rows:
        result.append(row)
        assert row.new is not None
        result.extend(inserted_after.get(row.new.lineage, []))
    return result


def diff_versions(a: CatalogVersion, b: CatalogVersion) -> VersionDiff:
    """Compare two versions of one catalog; the lower number is read as the older."""
    old, new = (a, b) if a.number <= b.number else (b, a)
    rows = diff_entries(old.entries.all(), new.entries.all())
    return VersionDiff(old, new, rows)
