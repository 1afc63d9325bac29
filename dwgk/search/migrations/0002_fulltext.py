"""The full-text indexes, one kind per database (see dwgk/search/models.py)."""

from django.db import migrations

POSTGRES = [
    # Stored, not an expression index: a count over thousands of hits would otherwise
    # recompute to_tsvector for every row (measured 870 ms for 8k hits of 20k rows).
    (
        "ALTER TABLE search_searchdoc ADD COLUMN tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED",
        "ALTER TABLE search_searchdoc DROP COLUMN IF EXISTS tsv",
    ),
    (
        "CREATE INDEX searchdoc_tsv ON search_searchdoc USING gin (tsv)",
        "DROP INDEX IF EXISTS searchdoc_tsv",
    ),
    (
        "CREATE INDEX searchdoc_keys ON search_searchdoc "
        "USING gin (string_to_array(keys, ' '))",
        "DROP INDEX IF EXISTS searchdoc_keys",
    ),
]

# External-content FTS5: the text lives once, in search_searchdoc; the triggers are the
# documented way to keep such a table in step, whatever writes the rows (ORM, cascades).
# remove_diacritics 0: tokens must stay what dwgk.search.text made them, as on PostgreSQL.
SQLITE = [
    (
        "CREATE VIRTUAL TABLE search_searchdoc_fts USING fts5(search_text, "
        "content='search_searchdoc', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0')",
        "DROP TABLE IF EXISTS search_searchdoc_fts",
    ),
    (
        "CREATE TRIGGER search_searchdoc_ai AFTER INSERT ON search_searchdoc BEGIN "
        "INSERT INTO search_searchdoc_fts(rowid, search_text) VALUES (new.id, new.search_text); "
        "END",
        "DROP TRIGGER IF EXISTS search_searchdoc_ai",
    ),
    (
        "CREATE TRIGGER search_searchdoc_ad AFTER DELETE ON search_searchdoc BEGIN "
        "INSERT INTO search_searchdoc_fts(search_searchdoc_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "END",
        "DROP TRIGGER IF EXISTS search_searchdoc_ad",
    ),
    (
        "CREATE TRIGGER search_searchdoc_au AFTER UPDATE OF search_text ON search_searchdoc "
        "BEGIN "
        "INSERT INTO search_searchdoc_fts(search_searchdoc_fts, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO search_searchdoc_fts(rowid, search_text) VALUES (new.id, new.search_text); "
        "END",
        "DROP TRIGGER IF EXISTS search_searchdoc_au",
    ),
]


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, [up for up, _ in POSTGRES])
    elif vendor == "sqlite":
        _run(schema_editor, [up for up, _ in SQLITE])
    else:
        raise NotImplementedError(f"no full-text index for {vendor}")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    steps = POSTGRES if vendor == "postgresql" else SQLITE
    _run(schema_editor, [down for _, down in reversed(steps)])


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
