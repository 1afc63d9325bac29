from __future__ import annotations

from typing import Any

from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "dwgk.search"
    verbose_name = "全文检索"

    def ready(self) -> None:
        from dwgk.disclosures.signals import disclosure_changed

        disclosure_changed.connect(_reindex, dispatch_uid="search.reindex")


def _reindex(sender: Any, item: Any, **kwargs: Any) -> None:
    """Every step re-derives the item's search row inside its own transaction, so the
    search can never show what the item page no longer does."""
    from dwgk.search.index import index_disclosure

    index_disclosure(item)
