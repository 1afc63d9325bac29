"""Keeping the search index in step with the disclosure items.

`index_disclosure(item)` is called at the end of every step that changes what an item shows
or to whom (dwgk.disclosures.actions); `rebuild()` redoes everything (management command
rebuild_search_index). An item is in the index exactly while it is disclosed to an audience:
`audience_sort_value()` is not None and it has audience key rows, which are copied as they
are, so the search filters by the very keys `visible_to` reads.
"""

from __future__ import annotations

from django.db import transaction

from dwgk.disclosures.models import Disclosure
from dwgk.search.models import SearchDoc
from dwgk.search.text import readable_text, tokens


def document(item: Disclosure) -> tuple[str, str]:
    """(title, text) of what an item makes searchable, as written: the tokens are folded
    (NFKC, lower case) when they are cut, the stored text stays readable for snippets.

    A withdrawn item's content was taken down (MECH-7): only its title and the correction
    notice stay, as on its page. Withheld and removed attachments were never published."""
    if item.is_taken_down:
        return item.title, item.correction_notice
    # .all() then filtering in Python: uses rebuild()'s prefetch, one query otherwise.
    attachments = sorted(item.attachments.all(), key=lambda a: a.pk)
    parts = [
        readable_text(item.body),
        item.background,
        item.significance,
        item.key_points,
        item.correction_notice,
        *(a.text for a in attachments if not (a.withheld or a.removed)),
    ]
    return item.title, "\n".join(p.strip() for p in parts if p and p.strip())


# Written on every step: everything but the row's identity.
_UPDATED = ("org", "published_at", "title", "text", "search_text", "keys", "indexed_at")


@transaction.atomic(savepoint=False)
def index_disclosure(item: Disclosure) -> SearchDoc | None:
    """Write (or drop) the item's search row from its current state; the row, if any.

    The keys are the item's key rows as `audience_keys.all()` gives them: the rows its save
    just wrote (kept on the instance), or read. The row is written by one upsert. No
    savepoint: called inside a step, a failure fails the whole step (disclosures.signals)."""
    sort_at = item.audience_sort_value()
    keys = sorted({row.key for row in item.audience_keys.all()}) if sort_at is not None else []
    if sort_at is None or not keys:
        remove(item)
        return None
    title, text = document(item)
    doc = SearchDoc(
        disclosure=item,
        org_id=item.org_id,
        published_at=sort_at,
        title=item.title,
        text=text,
        # 索引号 and 文号 are found but kept out of the snippet text.
        search_text=tokens(f"{title}\n{text}\n{item.index_no or ''}\n{item.doc_number}"),
        keys=" ".join(keys),
    )
    SearchDoc.objects.bulk_create(
        [doc], update_conflicts=True, unique_fields=["disclosure"], update_fields=_UPDATED
    )
    return doc


def remove(item: Disclosure) -> None:
    """Take the item out of the search."""
    SearchDoc.objects.filter(disclosure_id=item.pk).delete()


def rebuild(batch: int = 500) -> int:
    """Index every disclosed item anew and drop rows of items no longer disclosed; the
    number of items indexed."""
    done = 0
    items = (
        Disclosure.objects.filter(published_at__isnull=False)
        .order_by("pk")
        .prefetch_related("attachments", "audience_keys")
    )
    for item in items.iterator(chunk_size=batch):
        if index_disclosure(item) is not None:
            done += 1
    # Every item with published_at went through index_disclosure; the others never belong.
    SearchDoc.objects.filter(disclosure__published_at__isnull=True).delete()
    return done
