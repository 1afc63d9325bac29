"""The write path (issue 6): the worker publishes due items in batches, and an item saved
through the model path costs a few queries. What each still guarantees: a batch publishes
every item exactly as `disclosure_publish` does (row, audience keys, hash-chained log,
audit entry, tasks, search row, notice), an item that fails is left as it was while the
others are published, and validation and key rows are what Django and `to_keys()` say."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dwgk.audience.keys import Audience
from dwgk.audit.models import AuditEntry
from dwgk.disclosures import actions
from dwgk.disclosures.archive import verify_chain
from dwgk.disclosures.models import Disclosure, DisclosureAudience, LogEntry
from dwgk.disclosures.signals import disclosure_changed
from dwgk.inbox.models import Notification, Task
from dwgk.search.index import document, index_disclosure
from dwgk.search.models import SearchDoc
from dwgk.search.text import tokens
from tests.disclosure_cast import approved, draft, through_review

S = Disclosure.Status
REASON = "社区疫情防控捐款情况，群众普遍关心"


def scheduled(dw: Any, **fields: Any) -> Disclosure:
    if fields.get("entry") == dw.open:  # no approval step: approved once reviewed
        item = through_review(dw, draft(dw, **fields))
    else:
        item = approved(dw, **fields)
    return actions.disclosure_schedule(item, actor=dw.bob, publish_at=timezone.now())


def search_row(item: Disclosure) -> dict[str, Any]:
    """The search row `search.index` defines for the item as it is now."""
    title, text = document(item)
    return {
        "org_id": item.org_id,
        "published_at": item.published_at,
        "title": item.title,
        "text": text,
        "search_text": tokens(f"{title}\n{text}\n{item.index_no or ''}\n{item.doc_number}"),
        "keys": " ".join(sorted(item.get_audience().to_keys())),
    }


def assert_published_as_the_procedure_says(item: Disclosure, now: datetime.datetime) -> None:
    item.refresh_from_db()
    assert item.status == S.PUBLISHED
    assert item.published_at == now
    assert item.published_revision == item.revision
    keys = DisclosureAudience.objects.filter(obj=item)
    assert sorted(keys.values_list("key", flat=True)) == sorted(item.get_audience().to_keys())
    assert set(keys.values_list("sort_at", flat=True)) == {now}
    assert verify_chain(item) == []
    last = item.log.order_by("-seq").first()
    assert last is not None
    assert (last.action, last.actor_id, last.actor_label) == ("publish", None, "系统")
    assert last.data == {"index_no": item.index_no, "audience": item.audience}
    audit = AuditEntry.objects.get(action="disclosure.publish", object_id=str(item.pk))
    assert (audit.actor_id, audit.actor_label, audit.org_id_at_time) == (None, "系统", item.org_id)
    assert audit.data == {
        "status": S.PUBLISHED,
        "index_no": item.index_no,
        "audience": item.audience,
    }
    assert audit.object_label == item.title
    row = SearchDoc.objects.filter(disclosure=item).values(*search_row(item)).get()
    assert row == search_row(item)
    notice = Notification.objects.get(user=item.author, text__contains=f"《{item.title}》已公开")
    assert notice.text == f"《{item.title}》已公开，索引号 {item.index_no}。"
    assert notice.url == actions.item_url(item)


def serial(item: Disclosure) -> int:
    item.refresh_from_db()
    match = re.fullmatch(rf"{re.escape(item.org.code)}/\d{{4}}-(\d{{5}})", item.index_no or "")
    assert match, item.index_no
    return int(match.group(1))


def not_touched(item: Disclosure) -> None:
    """The item is as scheduling left it: nothing of a publication was written."""
    item.refresh_from_db()
    assert item.status == S.SCHEDULED
    assert item.published_at is None
    assert item.index_no is None
    assert not item.log.filter(action="publish").exists()
    assert not AuditEntry.objects.filter(action="disclosure.publish", object_id=str(item.pk))
    assert not DisclosureAudience.objects.filter(obj=item).exists()
    assert not SearchDoc.objects.filter(disclosure=item).exists()
    assert verify_chain(item) == []


# --- the worker's batches ------------------------------------------------------------------------


def test_a_batch_publishes_each_item_exactly_as_disclosure_publish_does(dw, settings):
    settings.CATALOG_RULESET = "bj"  # an out-of-catalog item needs only the principal
    alone = scheduled(dw, title="第1期党费收缴使用情况")
    batch = [
        scheduled(dw, title="第2期党费收缴使用情况"),
        scheduled(dw, title="社区党员自愿捐款情况", out_of_catalog_reason=REASON),
        scheduled(dw, title="支部工作计划", entry=dw.open),
    ]
    now = timezone.now()

    actions.disclosure_publish(alone, actor=None, now=now)  # one item, one transaction
    assert actions.publish_due(now) == [i.pk for i in batch]

    for item in [alone, *batch]:
        assert_published_as_the_procedure_says(item, now)
    assert [serial(i) for i in [alone, *batch]] == [1, 2, 3, 4]
    # PROC-7: the out-of-catalog item asks its clerk to update the catalog, as alone.
    ooc = batch[1]
    ooc.refresh_from_db()
    assert ooc.catalog_update_pending
    task = Task.objects.open().get(subject=f"disclosure:{ooc.pk}")
    assert task.kind == Task.Kind.CATALOG_UPDATE
    assert not Task.objects.open().filter(subject__in=[f"disclosure:{i.pk}" for i in batch[::2]])


def test_publishing_many_items_costs_a_few_queries_per_batch_and_one_per_item(dw):
    items = [scheduled(dw, title=f"第{n}期党费收缴使用情况") for n in range(13)]
    now = timezone.now()
    assert actions.publish_due(now, limit=1) == [items[0].pk]  # the year's counter is made

    with CaptureQueriesContext(connection) as two:
        assert len(actions.publish_due(now, limit=2)) == 2
    with CaptureQueriesContext(connection) as ten:
        assert len(actions.publish_due(now, limit=10)) == 10

    # Per batch (17): its savepoint here (2), lock and load, the record (reviews,
    # approvals), attachments, counter (read, write), rows, keys (delete, insert), last log
    # entries, log, audit, scope changes, tasks, notifications. Per item only the search
    # row, written by the signal's receiver.
    assert len(two) <= 17 + 2
    assert len(ten) - len(two) <= 8
    assert LogEntry.objects.filter(action="publish").count() == 13


def test_an_item_that_fails_its_checks_is_left_as_it_was_and_the_others_are_published(
    dw, monkeypatch
):
    monkeypatch.setattr(actions, "PUBLISH_BATCH", 2)  # the failure falls inside a batch
    items = [scheduled(dw, title=f"第{n}期党费收缴使用情况") for n in range(5)]
    bad = items[1]
    # The content changes behind the procedure's back: the approval no longer covers it.
    Disclosure.objects.filter(pk=bad.pk).update(body="<p>未经批准的内容</p>")
    now = timezone.now()

    assert actions.publish_due(now) == [i.pk for i in items if i != bad]
    assert actions.publish_due(now) == []  # tried again, still left as it was

    not_touched(bad)
    for item in items:
        if item != bad:
            assert_published_as_the_procedure_says(item, now)
    assert sorted(serial(i) for i in items if i != bad) == [1, 2, 3, 4]
    told = Notification.objects.filter(text__contains="未能按时发布")
    assert sorted(told.values_list("user__username", flat=True)) == ["alice", "bob"]
    assert "当前内容" in told.first().text  # type: ignore[union-attr]


def test_when_writing_a_batch_fails_it_is_rolled_back_and_its_items_go_one_by_one(dw, caplog):
    items = [scheduled(dw, title=f"第{n}期党费收缴使用情况") for n in range(3)]
    bad = items[1]

    def broken(sender: Any, item: Disclosure, **kwargs: Any) -> None:
        if item.pk == bad.pk:
            raise RuntimeError("a receiver fails for this one item")

    disclosure_changed.connect(broken, dispatch_uid="test.broken")
    try:
        now = timezone.now()
        assert actions.publish_due(now) == [items[0].pk, items[2].pk]
    finally:
        disclosure_changed.disconnect(dispatch_uid="test.broken")

    not_touched(bad)
    for item in (items[0], items[2]):
        assert_published_as_the_procedure_says(item, now)
    # The batch's numbers were rolled back with it: none is skipped.
    assert [serial(items[0]), serial(items[2])] == [1, 2]
    assert "one by one" in caplog.text
    told = Notification.objects.filter(text__contains="未能按时发布")
    assert set(told.values_list("text", flat=True)) == {
        f"《{bad.title}》未能按时发布：系统错误，请联系系统管理员。"
    }


def test_the_limit_counts_items_across_batches_oldest_first(dw, monkeypatch):
    monkeypatch.setattr(actions, "PUBLISH_BATCH", 2)
    items = [scheduled(dw, title=f"第{n}期党费收缴使用情况") for n in range(5)]
    now = timezone.now()

    assert actions.publish_due(now, limit=3) == [i.pk for i in items[:3]]
    assert actions.publish_due(now) == [i.pk for i in items[3:]]
    assert not Notification.objects.filter(text__contains="未能按时发布").exists()


# --- creating through the model path -------------------------------------------------------------


def new_item(dw: Any, **fields: Any) -> Disclosure:
    values: dict[str, Any] = {
        "org": dw.branch1,
        "entry": dw.open,
        "title": "支部工作计划",
        "body": "<p>2026年支部工作计划。</p>",
        "author": dw.bob,
        "audience": Audience(society=True).to_json(),
        "status": S.PUBLISHED,
        "published_at": timezone.now(),
        "published_revision": 1,
    }
    values.update(fields)
    return Disclosure(**values)


def django_errors(check: Any, item: Disclosure, **kwargs: Any) -> dict[str, list[str]]:
    try:
        check(item, **kwargs)
    except ValidationError as error:
        return error.message_dict
    return {}


def test_full_clean_checks_every_foreign_key_with_one_query(dw, django_assert_num_queries):
    item = new_item(dw, delay_consent_by=dw.alice)  # four foreign keys set

    with django_assert_num_queries(1):
        item.full_clean()


@pytest.mark.parametrize("field", ["org", "entry", "author", "delay_consent_by"])
def test_a_missing_foreign_key_is_refused_as_django_refuses_it(dw, field):
    item = new_item(dw, delay_consent_by=dw.alice)
    setattr(item, f"{field}_id", 987654)

    ours = django_errors(Disclosure.clean_fields, item)
    assert ours == django_errors(models.Model.clean_fields, item)
    assert list(ours) == [field]
    with pytest.raises(ValidationError):
        item.full_clean()


@pytest.mark.parametrize("out_of_catalog", [True, False])
@pytest.mark.parametrize("with_entry", [True, False])
@pytest.mark.parametrize("exclude", [None, ["entry"], ["out_of_catalog"]])
def test_the_entry_or_out_of_catalog_check_decides_as_the_database_would(
    dw, out_of_catalog, with_entry, exclude
):
    item = new_item(dw, out_of_catalog=out_of_catalog, entry=dw.open if with_entry else None)

    ours = django_errors(Disclosure.validate_constraints, item, exclude=exclude)

    # Django's own validation asks the database (the CHECK constraint's condition).
    assert ours == django_errors(models.Model.validate_constraints, item, exclude=exclude)
    assert bool(ours) == (exclude is None and out_of_catalog == with_entry)


def test_a_new_published_item_writes_its_key_rows_and_the_search_reads_them_without_a_query(dw):
    item = new_item(dw, audience=Audience(party=(dw.branch1.pk,), people=(dw.alice.pk,)).to_json())

    with CaptureQueriesContext(connection) as saving:
        item.save(force_insert=True)
    with CaptureQueriesContext(connection) as indexing:
        index_disclosure(item)

    assert len(saving) == 2  # the row, its key rows: a new row has none to delete
    stored = sorted(DisclosureAudience.objects.filter(obj=item).values_list("key", flat=True))
    assert stored == sorted(item.get_audience().to_keys())
    assert not any("disclosures_disclosureaudience" in q["sql"] for q in indexing)
    assert len(indexing) == 2  # its attachments, the search row
    assert SearchDoc.objects.filter(disclosure=item).values(*search_row(item)).get() == (
        search_row(item)
    )


def test_saving_again_replaces_the_key_rows_and_reindexing_updates_the_same_search_row(dw):
    item = new_item(dw, audience=Audience(party=(dw.branch1.pk,)).to_json())
    item.save()
    first = index_disclosure(item)
    assert first is not None

    item.audience = Audience(society=True).to_json()
    item.body = "<p>换届选举工作安排。</p>"
    item.save()
    again = index_disclosure(item)

    assert list(DisclosureAudience.objects.filter(obj=item).values_list("key", flat=True)) == [
        "public"
    ]
    assert [row.key for row in item.audience_keys.all()] == ["public"]
    assert again is not None and again.pk == first.pk
    assert SearchDoc.objects.filter(disclosure=item).count() == 1
    row = SearchDoc.objects.get(disclosure=item)
    assert {f: getattr(row, f) for f in search_row(item)} == search_row(item)
    # The full-text index followed the update (SQLite: the FTS trigger; PostgreSQL: tsv).
    from django.contrib.auth.models import AnonymousUser

    from dwgk.search.backend import get_backend

    found = get_backend().search(AnonymousUser(), "换届选举").results
    assert [r.title for r in found] == [item.title]


def test_an_unpublished_item_has_no_key_rows_and_a_new_one_asks_nothing_about_them(dw):
    item = new_item(dw, status=S.DRAFT, published_at=None, published_revision=None)

    with CaptureQueriesContext(connection) as saving:
        item.save()

    assert len(saving) == 1  # the row only
    assert not DisclosureAudience.objects.filter(obj=item).exists()
    assert list(item.audience_keys.all()) == []
    assert index_disclosure(item) is None

    # Published later (a direct save of an existing row): its old rows are deleted first.
    DisclosureAudience.objects.create(obj=item, key="person:1", sort_at=timezone.now())
    item.status, item.published_at = S.PUBLISHED, timezone.now()
    item.save()
    assert list(DisclosureAudience.objects.filter(obj=item).values_list("key", flat=True)) == [
        "public"
    ]
