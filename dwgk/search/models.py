"""The search index: one row per disclosed item, with its audience keys copied on.

DESIGN-NOTES "Search ∩ visibility": joining search hits to the audience table took 0.5–1.8 s,
keys copied onto the search row 7–9 ms. The rows are written only by `dwgk.search.index`
from the item's own audience key rows, so the search sees exactly what `visible_to` shows
through an item's audience.

Besides the table, each database gets its own full-text index over `search_text`
(migration 0002): PostgreSQL a stored column tsv = to_tsvector('simple', search_text) with
a GIN index, and a GIN index on the keys as an array; SQLite an FTS5 table (unicode61) kept in step by triggers.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from dwgk.disclosures.models import Disclosure
from dwgk.orgs.models import Organization

FTS_TABLE = "search_searchdoc_fts"  # SQLite only


class SearchDoc(models.Model):
    disclosure = models.OneToOneField(
        Disclosure, on_delete=models.CASCADE, related_name="search_doc", verbose_name=_("公开事项")
    )
    org = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("组织")
    )
    published_at = models.DateTimeField(_("发布时间"))
    title = models.CharField(_("标题"), max_length=200)
    # The readable text shown in snippets (NFKC, without the title).
    text = models.TextField(_("正文文字"), blank=True)
    # dwgk.search.text.tokens() of title and text: what the full-text indexes read.
    search_text = models.TextField(_("检索词"))
    # The item's audience keys, space-separated ("members:12 person:3").
    keys = models.TextField(_("公开范围键"))
    indexed_at = models.DateTimeField(_("索引时间"), auto_now=True)

    class Meta:
        verbose_name = _("检索索引")
        verbose_name_plural = _("检索索引")
        indexes = [
            models.Index(fields=["published_at", "disclosure"], name="searchdoc_order"),
            models.Index(fields=["org", "published_at"], name="searchdoc_org"),
        ]

    def __str__(self) -> str:
        return self.title
