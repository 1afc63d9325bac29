"""The database itself refuses to change a disclosure's log (the hash chain).

UPDATE is refused on both backends. DELETE is refused on PostgreSQL; on SQLite the test
runner's flush deletes rows, so there the model guard stands alone (TRUNCATE, used by
PostgreSQL's flush, does not fire row triggers). The same pattern as the audit log's
(audit/migrations/0002). Whoever owns the database can still drop the triggers: the hash
chain (`manage.py verify_disclosure_log`) is what shows such a change.
"""

from django.db import migrations

SQLITE_UP = """
CREATE TRIGGER disclosures_logentry_no_update BEFORE UPDATE ON disclosures_logentry
BEGIN SELECT RAISE(ABORT, 'disclosure log entries are append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS disclosures_logentry_no_update;"

PG_UP = """
CREATE OR REPLACE FUNCTION disclosures_logentry_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'disclosure log entries are append-only'; END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER disclosures_logentry_no_change BEFORE UPDATE OR DELETE ON disclosures_logentry
FOR EACH ROW EXECUTE FUNCTION disclosures_logentry_append_only();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS disclosures_logentry_no_change ON disclosures_logentry;
DROP FUNCTION IF EXISTS disclosures_logentry_append_only();
"""


def up(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)
    elif vendor == "postgresql":
        schema_editor.execute(PG_UP)


def down(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)
    elif vendor == "postgresql":
        schema_editor.execute(PG_DOWN)


class Migration(migrations.Migration):
    dependencies = [("disclosures", "0001_initial")]
    operations = [migrations.RunPython(up, down)]
