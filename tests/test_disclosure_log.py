"""An item's log is a hash chain the database will not let anyone change, and whose every
change — by someone who can get past the database — `verify_disclosure_log` finds."""

from __future__ import annotations

import contextlib
import importlib
import io
from collections.abc import Iterator

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet

from dwgk.disclosures import actions
from dwgk.disclosures.archive import check_chain, verify_all, verify_chain
from dwgk.disclosures.models import Disclosure, LogEntry
from tests.disclosure_cast import published

TRIGGERS = importlib.import_module("dwgk.disclosures.migrations.0002_log_append_only")
POSTGRES = connection.vendor == "postgresql"


@contextlib.contextmanager
def triggers_dropped() -> Iterator[None]:
    """What someone with the database owner's rights can do: switch the guard off."""
    with connection.cursor() as cursor:
        if POSTGRES:
            # ALTER TABLE waits for no deferred foreign-key check of this transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE disclosures_logentry DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER disclosures_logentry_no_update")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if POSTGRES:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("ALTER TABLE disclosures_logentry ENABLE TRIGGER USER")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            else:
                cursor.execute(TRIGGERS.SQLITE_UP)


def entry(item: Disclosure, seq: int) -> LogEntry:
    return LogEntry.objects.get(disclosure=item, seq=seq)


@pytest.fixture
def item(dw) -> Disclosure:
    """A published, closed and archived item: 8 log entries."""
    item = actions.disclosure_close(published(dw), actor=dw.bob)
    return actions.disclosure_archive(item, actor=dw.bob)


# --- the chain ------------------------------------------------------------------------------


def test_the_chain_of_a_whole_procedure_is_intact(item):
    assert verify_chain(item) == []
    report = check_chain(item)
    assert report.ok and report.entries == item.log.count() >= 8
    assert report.last_hash == item.log.latest("seq").hash


def test_changing_one_byte_of_the_data_breaks_the_chain(item):
    publish = item.log.get(action="publish")
    data = dict(publish.data)
    data["index_no"] = data["index_no"][:-1] + ("2" if data["index_no"][-1] != "2" else "3")
    with triggers_dropped():
        QuerySet(LogEntry).filter(pk=publish.pk).update(data=data)
    problems = verify_chain(item)
    assert problems == [f"第 {publish.seq} 条：内容与摘要不符（记录被改动）"]
    assert check_chain(item).first_bad_seq == publish.seq


def test_changing_one_byte_of_the_actor_label_breaks_the_chain(item):
    first = entry(item, 1)
    assert first.actor_label == "鲍勃（bob）"
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disclosures_logentry SET actor_label = %s WHERE id = %s",
            ["鲍勃（bod）", first.pk],
        )
    assert check_chain(item).first_bad_seq == 1
    assert verify_chain(item)[0].startswith("第 1 条：内容与摘要不符")


def test_a_rewritten_entry_with_its_hash_recomputed_breaks_the_link_after_it(item):
    second = entry(item, 2)
    second.actor_label = "艾丽（alice）"
    forged = second.compute_hash()
    with triggers_dropped():
        QuerySet(LogEntry).filter(pk=second.pk).update(actor_label=second.actor_label, hash=forged)
    assert verify_chain(item) == ["第 3 条：前序摘要与第 2 条的摘要不符（记录被删除、插入或调换）"]


def test_deleting_an_entry_breaks_the_chain(item):
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM disclosures_logentry WHERE id = %s", [entry(item, 3).pk])
    report = check_chain(item)
    assert report.first_bad_seq == 3
    assert report.messages[0] == "第 3 条：缺失或序号被改动（此处是第 4 条）"


def test_cutting_off_the_last_entry_breaks_the_chain(item):
    last = item.log.latest("seq")
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM disclosures_logentry WHERE id = %s", [last.pk])
    report = check_chain(item)
    assert report.first_bad_seq == last.seq
    assert "记录可能被截去" in report.messages[0]


def test_swapping_two_entries_breaks_the_chain(item):
    a, b = entry(item, 4), entry(item, 5)
    with triggers_dropped():
        QuerySet(LogEntry).filter(pk=a.pk).update(seq=10_000)
        QuerySet(LogEntry).filter(pk=b.pk).update(seq=4)
        QuerySet(LogEntry).filter(pk=a.pk).update(seq=5)
    report = check_chain(item)
    assert report.first_bad_seq == 4
    assert not report.ok


def test_the_first_entry_must_follow_genesis(item):
    with triggers_dropped():
        QuerySet(LogEntry).filter(pk=entry(item, 1).pk).update(prev_hash="f" * 64)
    assert verify_chain(item)[0] == "第 1 条：第一条记录的前序摘要不是起始值"


def test_verify_all_reports_each_item(dw, item):
    other = published(dw, title="2026年11月党费收缴使用情况")
    with triggers_dropped():
        QuerySet(LogEntry).filter(pk=entry(other, 2).pk).update(action="approve")
    reports = verify_all(Disclosure.objects.all())
    assert list(reports) == sorted([item.pk, other.pk])
    assert reports[item.pk].ok
    assert reports[other.pk].first_bad_seq == 2


# --- the database guard ---------------------------------------------------------------------


def test_the_database_refuses_to_update_an_entry(item):
    first = entry(item, 1)
    with pytest.raises(DatabaseError), transaction.atomic():
        QuerySet(LogEntry).filter(pk=first.pk).update(actor_label="别人")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE disclosures_logentry SET data = %s WHERE id = %s", ["{}", first.pk])
    assert entry(item, 1).actor_label == "鲍勃（bob）"


@pytest.mark.skipif(
    not POSTGRES,
    reason="SQLite keeps DELETE for the test runner's flush; the hash chain shows a deletion",
)
def test_the_database_refuses_to_delete_an_entry_on_postgresql(item):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM disclosures_logentry WHERE id = %s", [entry(item, 1).pk])
    assert item.log.filter(seq=1).exists()


def test_the_model_refuses_to_save_an_entry_again(item):
    first = entry(item, 1)
    first.action = "edit"
    with pytest.raises(ValueError):
        first.save()


# --- the command ----------------------------------------------------------------------------


def test_the_command_passes_an_intact_log_then_fails_a_changed_one(dw, item):
    out = io.StringIO()
    call_command("verify_disclosure_log", stdout=out)
    assert f"事项 {item.pk}《{item.title}》" in out.getvalue()
    assert "记录均完整" in out.getvalue()

    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE disclosures_logentry SET actor_label = %s WHERE id = %s",
            ["鲍勃（bod）", entry(item, 6).pk],
        )
    out = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_disclosure_log", stdout=out)
    assert f"事项 {item.pk}《{item.title}》第 6 条" in str(failed.value)
    assert "自第 6 条起不完整" in out.getvalue()
    assert "第 6 条：内容与摘要不符" in out.getvalue()


def test_the_command_exits_with_status_1_when_broken(item):
    with triggers_dropped(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM disclosures_logentry WHERE id = %s", [entry(item, 2).pk])
    with pytest.raises(SystemExit) as exited:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "verify_disclosure_log", "--item", str(item.pk)])
    assert exited.value.code == 1


def test_the_command_checks_one_item(dw, item):
    other = published(dw, title="2026年11月党费收缴使用情况")
    with triggers_dropped():
        QuerySet(LogEntry).filter(pk=entry(other, 1).pk).update(action="edit")
    out = io.StringIO()
    call_command("verify_disclosure_log", "--item", str(item.pk), stdout=out)
    assert "已校验 1 个事项" in out.getvalue()
    with pytest.raises(CommandError, match="第 1 条"):
        call_command("verify_disclosure_log", "--item", str(other.pk), stdout=io.StringIO())
    with pytest.raises(CommandError, match="没有编号为 999999"):
        call_command("verify_disclosure_log", "--item", "999999")
