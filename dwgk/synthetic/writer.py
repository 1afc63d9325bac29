"""Bulk writing into the platform's tables: COPY on PostgreSQL, executemany on SQLite.

Rows are plain tuples in the order of the attribute names given for each model; values are
Python values (aware UTC datetimes, dates, booleans, ints, strings) and JSON fields are
passed already serialized. The writer turns them into what each database expects — the
very text Django itself stores on SQLite (naive UTC `YYYY-MM-DD HH:MM:SS`), COPY's own
formatting on PostgreSQL — so the ORM reads the rows back exactly as if it had written them.
"""

from __future__ import annotations

import datetime
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models


class Writer:
    """Writes rows of one model at a time, counting them per model.

    `write_later` hands a batch to a background thread that writes it on the same database
    connection (inside the same transaction) while the caller builds the next batch: the
    database's work — on PostgreSQL mostly computing the search column's tsvector — then
    overlaps with Python's instead of adding to it. Nothing else may use the connection
    until `wait()` returns."""

    def __init__(self) -> None:
        connection.ensure_connection()
        # The DB-API connection itself: Django's `connection` is per thread.
        self.raw: Any = connection.connection
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"no bulk loading for {self.vendor}")
        self.counts: dict[str, int] = {}
        # Seconds spent in each table's inserts, row building included (rows are streamed).
        self.seconds: dict[str, float] = {}
        self._sql: dict[tuple[type[models.Model], tuple[str, ...]], tuple[str, list[int]]] = {}
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _statement(
        self, model: type[models.Model], fields: tuple[str, ...]
    ) -> tuple[str, list[int]]:
        key = (model, fields)
        if key not in self._sql:
            meta = model._meta
            by_attname = {f.attname: f for f in meta.concrete_fields}
            missing = {
                f.attname
                for f in meta.concrete_fields
                if not f.null and not f.has_default() and f.attname not in fields
            }
            if missing:
                raise ValueError(f"{meta.label}: no value for {sorted(missing)}")
            columns = ", ".join(connection.ops.quote_name(by_attname[a].column) for a in fields)
            table = connection.ops.quote_name(meta.db_table)
            # The columns SQLite needs converted: datetimes and dates as Django writes them.
            temporal = [
                i
                for i, a in enumerate(fields)
                if isinstance(by_attname[a], models.DateField | models.DateTimeField)
            ]
            if self.vendor == "postgresql":
                sql = f"COPY {table} ({columns}) FROM STDIN"
            else:
                marks = ", ".join("?" * len(fields))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 — quoted names
            self._sql[key] = (sql, temporal)
        return self._sql[key]

    def write(
        self, model: type[models.Model], fields: tuple[str, ...], rows: Iterable[Sequence[Any]]
    ) -> int:
        """Insert `rows` (tuples in the order of `fields`) into `model`'s table."""
        sql, temporal = self._statement(model, fields)
        raw = self.raw
        began = time.perf_counter()
        n = 0
        if self.vendor == "postgresql":
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        else:

            def converted() -> Iterable[Sequence[Any]]:
                nonlocal n
                for row in rows:
                    n += 1
                    if temporal:
                        row = list(row)
                        for i in temporal:
                            row[i] = _sqlite_value(row[i])
                    yield row

            raw.executemany(sql, converted())
        label = model._meta.label
        self.counts[label] = self.counts.get(label, 0) + n
        self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - began
        return n

    def write_later(
        self, model: type[models.Model], fields: tuple[str, ...], rows: list[Sequence[Any]]
    ) -> None:
        """Queue `rows` (a list the caller no longer touches) for the background writer."""
        self._raise()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="synthetic-writer")
            self._thread.start()
        self._statement(model, fields)  # fail here, in the caller, on a missing column
        self._queue.put((model, fields, rows))

    def wait(self) -> None:
        """Until everything queued is written; then the connection is the caller's again."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        self._raise()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is None:
                try:
                    self.write(*job)
                except BaseException as error:  # handed to the caller by _raise()
                    self._error = error

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def defer_indexes(self, models_: list[type[models.Model]]) -> list[str]:
        """PostgreSQL: drop the secondary indexes of these tables (not the primary keys, not
        unique ones) and return their definitions, for `build_indexes` after the load.
        Building an index over the loaded table is much cheaper than keeping it up to date
        row by row (measured: the search table's GIN indexes 35 s incrementally against
        16 + 5 s for 100k rows). DDL is transactional: a load that fails restores them."""
        if self.vendor != "postgresql":
            return []
        definitions = []
        with connection.cursor() as cursor:
            for model in models_:
                cursor.execute(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary "
                    "AND NOT i.indisunique ORDER BY c.relname",
                    [model._meta.db_table],
                )
                for name, definition in cursor.fetchall():
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                    definitions.append(definition)
        return definitions

    def build_indexes(self, definitions: list[str]) -> None:
        with connection.cursor() as cursor:
            for definition in definitions:
                cursor.execute(definition)

    def reset_sequences(self, models_: list[type[models.Model]]) -> None:
        """Point the id sequences past the ids written (PostgreSQL; SQLite's AUTOINCREMENT
        follows explicit ids by itself)."""
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), models_):
                cursor.execute(sql)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime):
        # Django stores aware datetimes as naive UTC text on SQLite.
        return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value
