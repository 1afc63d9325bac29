"""The audit log: what is recorded, and that nobody — not even the database's owner
through the ORM — can change or remove an entry."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from dwgk.accounts.actions import role_grant, role_revoke
from dwgk.accounts.models import Role
from dwgk.audit.models import AppendOnlyError, AuditEntry, record
from tests.cast import make_user

LOGIN = reverse("login")


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


# --- what is recorded -----------------------------------------------------------------------


def test_a_successful_sign_in_is_recorded_with_who_and_where(db):
    user = make_user("ann", name="安")
    Client().post(LOGIN, {"username": "ann", "password": "test-pass-123"})
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor == user and entry.actor_label == "安（ann）"
    assert entry.ip == "127.0.0.1"


def test_each_failed_sign_in_is_recorded_with_the_username_tried(db):
    make_user("ann")
    client = Client()
    for _ in range(3):
        client.post(LOGIN, {"username": "ann", "password": "wrong-password"})
    failures = AuditEntry.objects.filter(action="auth.login_failed")
    assert failures.count() == 3
    assert {(e.actor, e.actor_label, e.ip) for e in failures} == {(None, "ann", "127.0.0.1")}
    # The password is never written down.
    assert all("password" not in e.data for e in failures)


def test_attempts_while_locked_out_are_recorded_as_failures_too(db):
    make_user("ann")
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "ann", "password": "wrong-password"})
    client.post(LOGIN, {"username": "ann", "password": "test-pass-123"})
    assert actions().count("auth.login_failed") == settings.AXES_FAILURE_LIMIT + 1
    assert "auth.login" not in actions()


def test_signing_out_is_recorded(db):
    user = make_user("ann")
    client = Client()
    client.post(LOGIN, {"username": "ann", "password": "test-pass-123"})
    client.post(reverse("logout"))
    assert actions() == ["auth.login", "auth.logout"]
    assert AuditEntry.objects.get(action="auth.logout").actor == user


def test_granting_and_revoking_a_role_are_recorded(cast):
    grant = role_grant(cast.bob, cast.branch1, Role.CLERK, actor=cast.olga)
    role_revoke(grant, actor=cast.olga)
    granted = AuditEntry.objects.get(action="role.grant", object_id=str(grant.pk))
    revoked = AuditEntry.objects.get(action="role.revoke", object_id=str(grant.pk))
    for entry in (granted, revoked):
        assert entry.actor == cast.olga
        assert entry.org_id_at_time == cast.branch1.pk
        assert entry.object_type == "accounts.rolegrant"
        assert entry.data["role"] == Role.CLERK and entry.data["user"] == "bob"
    assert granted.data["inherit"] is False


def test_the_system_itself_is_named_as_the_actor_of_operator_commands(db):
    entry = record(None, "demo.load")
    assert entry.actor is None and entry.actor_label == "系统"


# --- append-only ----------------------------------------------------------------------------


@pytest.fixture
def entry(db: None) -> AuditEntry:
    return record(None, "test.entry", note="原始")


def test_an_entry_cannot_be_saved_again(entry):
    entry.action = "test.changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.entry"


def test_entries_cannot_be_updated_or_deleted_in_bulk(entry):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="test.changed")
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.all().delete()
    entry.action = "test.changed"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEntry.objects.bulk_update([entry], ["action"])
    assert AuditEntry.objects.filter(action="test.entry").count() == 1


def test_the_database_refuses_a_raw_update(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditentry SET action = %s WHERE id = %s", ["test.changed", entry.pk]
        )
    assert AuditEntry.objects.get(pk=entry.pk).action == "test.entry"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite keeps DELETE for the test runner's flush; the ORM guards stand alone there",
)
def test_the_database_refuses_a_raw_delete_on_postgresql(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry WHERE id = %s", [entry.pk])
    assert AuditEntry.objects.filter(pk=entry.pk).exists()
