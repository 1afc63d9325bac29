"""Searching disclosed items: one small interface, the database behind it by default.

    get_backend().search(user, "换届选举", org=None, limit=20, after=None) -> Page
    get_backend().count(user, "换届选举") -> int

Only items disclosed to the searcher's audience are ever returned or counted: the filter is
the viewer's keys (`viewer_keys`) against the keys copied onto each search row. Staff find
their drafts through their work lists, not here. Results come newest first (published_at,
then id, with a keyset cursor): DESIGN-NOTES measured ranking big hit sets at 250–500 ms.

Another engine can be plugged in with the setting SEARCH_BACKEND (a dotted path to a
`SearchBackend` subclass); it must pass tests/test_search.py, counts included.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils.html import escape
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString, mark_safe

from dwgk.audience.keys import viewer_keys
from dwgk.audience.models import Cursor
from dwgk.search.models import FTS_TABLE, SearchDoc
from dwgk.search.text import QueryError, Term, normalize, query_terms

__all__ = ["DatabaseSearchBackend", "Page", "QueryError", "Result", "SearchBackend"]

DEFAULT_BACKEND = "dwgk.search.backend.DatabaseSearchBackend"
SNIPPET_CHARS = 120
SNIPPET_BEFORE = 30


@dataclass(frozen=True)
class Result:
    disclosure_id: int
    title: str
    org_id: int
    org_name: str
    published_at: datetime.datetime
    snippet: SafeString  # escaped text with the hits in <mark>
    title_marked: SafeString  # the whole title, escaped, hits in <mark>


@dataclass(frozen=True)
class Page:
    results: list[Result]
    next_cursor: Cursor | None


class SearchBackend:
    """What the search pages need from a search engine."""

    def search(
        self,
        user: Any,
        q: str,
        *,
        org: Any = None,
        limit: int = 20,
        after: Cursor | None = None,
    ) -> Page:
        """The `limit` newest items visible to `user` matching every term of `q` (after
        `after`), and the cursor of the next page. Raises QueryError for a query that cannot
        be searched (its message is for the user)."""
        raise NotImplementedError

    def count(self, user: Any, q: str, *, org: Any = None, limit: int | None = None) -> int:
        """How many items visible to `user` match `q`; with `limit`, counting stops at
        limit + 1 (the page then says "more than `limit`")."""
        raise NotImplementedError


def get_backend() -> SearchBackend:
    """The configured backend (setting SEARCH_BACKEND, default the database's own)."""
    path = getattr(settings, "SEARCH_BACKEND", DEFAULT_BACKEND)
    backend: SearchBackend = import_string(path)()
    return backend


def _org_id(org: Any) -> int | None:
    if org is None:
        return None
    return int(getattr(org, "pk", org))


class DatabaseSearchBackend(SearchBackend):
    """Own bigrams in the database: FTS5 on SQLite, GIN over to_tsvector on PostgreSQL.

    The full-text index narrows to the rows holding every looked-up token; a LIKE on the
    token string then decides phrases exactly (see dwgk.search.text). Both databases run
    the same checks on the same strings, so they return the same rows."""

    def _where(
        self, user: Any, terms: list[Term], org: Any, after: Cursor | None
    ) -> tuple[str, str, list[Any]]:
        """(FROM clause, WHERE clause, parameters)."""
        table = connection.ops.quote_name(SearchDoc._meta.db_table)
        lookup = " ".join(dict.fromkeys(t for term in terms for t in term.lookup))
        keys = viewer_keys(user)
        params: list[Any] = []
        if connection.vendor == "postgresql":
            source = f"{table} d"
            where = [
                "d.tsv @@ plainto_tsquery('simple', %s)",
                "string_to_array(d.keys, ' ') && %s::text[]",
            ]
            params += [lookup, keys]
        else:
            source = f"{FTS_TABLE} f JOIN {table} d ON d.id = f.rowid"
            match = " AND ".join(f'"{t}"' for t in lookup.split())
            key_checks = " OR ".join(["instr(' ' || d.keys || ' ', %s) > 0"] * len(keys))
            where = ["f.search_text MATCH %s", f"({key_checks})"]
            params += [match, *(f" {k} " for k in keys)]
        for term in terms:
            if term.pattern:
                where.append("d.search_text LIKE %s")
                params.append(term.pattern)
        org_id = _org_id(org)
        if org_id is not None:
            where.append("d.org_id = %s")
            params.append(org_id)
        if after is not None:
            stamp = connection.ops.adapt_datetimefield_value(after.sort_at)
            where.append("d.published_at <= %s AND (d.published_at < %s OR d.disclosure_id < %s)")
            params += [stamp, stamp, after.pk]
        return source, " AND ".join(where), params

    def search(
        self,
        user: Any,
        q: str,
        *,
        org: Any = None,
        limit: int = 20,
        after: Cursor | None = None,
    ) -> Page:
        terms = query_terms(q)
        if not terms:
            return Page([], None)
        source, where, params = self._where(user, terms, org, after)
        sql = (
            f"SELECT d.id FROM {source} WHERE {where} "  # noqa: S608 — names quoted, values params
            "ORDER BY d.published_at DESC, d.disclosure_id DESC LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit + 1])
            ids = [row[0] for row in cursor.fetchall()]
        more = len(ids) > limit
        ids = ids[:limit]
        docs = SearchDoc.objects.select_related("org").in_bulk(ids)
        results = [
            Result(
                disclosure_id=doc.disclosure_id,
                title=doc.title,
                org_id=doc.org_id,
                org_name=doc.org.display_name,
                published_at=doc.published_at,
                snippet=highlight(doc.text or doc.title, [t.literal for t in terms]),
                title_marked=highlight(doc.title, [t.literal for t in terms], size=None),
            )
            for doc in (docs[pk] for pk in ids if pk in docs)
        ]
        next_cursor = None
        if more and results:
            last = results[-1]
            next_cursor = Cursor(last.published_at, last.disclosure_id)
        return Page(results, next_cursor)

    def count(self, user: Any, q: str, *, org: Any = None, limit: int | None = None) -> int:
        terms = query_terms(q)
        if not terms:
            return 0
        source, where, params = self._where(user, terms, org, None)
        sql = f"SELECT COUNT(*) FROM {source} WHERE {where}"  # noqa: S608
        if limit is not None:
            # A word in a third of all items (党员) would otherwise be counted row by row
            # over the whole table (1.9 s at city scale) for a figure nobody reads exactly.
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT %s) AS c"  # noqa: S608
            params = [*params, limit + 1]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return int(row[0]) if row else 0


@functools.cache
def _fold_char(char: str) -> str:
    # A few thousand distinct characters at most: the cache stays small.
    return normalize(char).lower()


def _folded(text: str) -> tuple[str, list[int]]:
    """The text folded as the index folds it (NFKC, lower case) and, for every position of
    the folded text, the position in `text` it came from: hits found in the folded text are
    marked in the text as written."""
    pieces = [_fold_char(char) for char in text]
    folded = "".join(pieces)
    if len(folded) == len(text):  # every character folded to one: positions unchanged
        return folded, list(range(len(text) + 1))
    origin: list[int] = []
    for i, piece in enumerate(pieces):
        origin.extend([i] * len(piece))
    origin.append(len(text))
    return folded, origin


def highlight(text: str, literals: list[str], size: int | None = SNIPPET_CHARS) -> SafeString:
    """A window of `text` around the first hit (the whole text when `size` is None),
    HTML-escaped, every hit wrapped in <mark>.

    The text is escaped piece by piece and only our own <mark> tags are added, so whatever
    the source held (<script>, &) is shown as text."""
    words = sorted({normalize(w).lower() for w in literals if w}, key=len, reverse=True)
    folded, origin = _folded(text)
    pattern = re.compile("|".join(map(re.escape, words))) if words else None
    hits = (
        [(origin[m.start()], origin[m.end()]) for m in pattern.finditer(folded)] if pattern else []
    )
    start = max(0, hits[0][0] - SNIPPET_BEFORE) if hits and size is not None else 0
    end = len(text) if size is None else min(len(text), start + size)
    out: list[str] = ["…"] if start > 0 else []
    pos = start
    for hit_start, hit_end in hits:
        if hit_start < pos or hit_start >= end:
            continue
        hit_end = min(hit_end, end)
        out.append(escape(text[pos:hit_start]))
        out.append(f"<mark>{escape(text[hit_start:hit_end])}</mark>")
        pos = hit_end
    out.append(escape(text[pos:end]))
    if end < len(text):
        out.append("…")
    return mark_safe("".join(out))  # noqa: S308 — every piece of text went through escape()
