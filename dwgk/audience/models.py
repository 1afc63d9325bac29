"""Reusable pieces for every model that has an audience.

A model with an audience subclasses `AudiencedModel`, uses `AudienceQuerySet` for its
manager, and declares a companion key table (a subclass of `AudienceKeyBase` with a
foreign key `obj` to it, related_name "audience_keys"). Saving the object rewrites its key
rows. Visibility is then decided in one place:

    Model.objects.visible_to(user)          every list, export, feed, search, API
    Model.objects.newest_visible(user, 20)  "the newest 20 I can see", index-driven
    can_see(user, obj)                      a single object: the same query as the list

An object whose `audience_sort_value()` is None (not yet published, withdrawn ...) has no
key rows, so nobody sees it through its audience, whatever the audience says.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from dwgk.audience.keys import Audience, viewer_keys

OBJ_FIELD = "obj"  # the foreign key every key table has to its owner


class AudienceKeyBase(models.Model):
    """One audience key of one object; `sort_at` copies the owner's feed order."""

    key = models.CharField(max_length=32)
    sort_at = models.DateTimeField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.key


class AudiencedModel(models.Model):
    """Abstract base for anything disclosed to an audience."""

    audience = models.JSONField(_("公开范围"), default=dict, blank=True)

    audience_key_related_name: ClassVar[str] = "audience_keys"

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A row that did not exist before this save has no key rows to delete: its id is
        # new (or forced in), and key rows can only point at an existing object.
        new = self.pk is None or bool(kwargs.get("force_insert"))
        # No savepoint: inside a caller's transaction a failure here fails the caller's
        # whole step anyway (as Model.save_base itself does); alone, this is one transaction.
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            self.sync_audience_keys(new=new)

    @classmethod
    def audience_key_model(cls) -> type[AudienceKeyBase]:
        field = cls._meta.get_field(cls.audience_key_related_name)
        model: type[AudienceKeyBase] = field.related_model  # type: ignore[assignment]
        return model

    def audience_sort_value(self) -> datetime.datetime | None:
        """When the object became visible (the feed order), or None while it must not be."""
        raise NotImplementedError

    def get_audience(self) -> Audience:
        return Audience.from_json(self.audience)

    def set_audience(self, audience: Audience) -> None:
        self.audience = audience.to_json()

    def sync_audience_keys(self, *, new: bool = False) -> None:
        """Rewrite this object's key rows from its audience and sort value (`new`: the row
        was just inserted, so it has none yet). The rows written are kept as the object's
        prefetched `audience_keys`, so whatever reads them next in this step (the search
        index) copies exactly these rows without reading them back."""
        key_model = self.audience_key_model()
        if not new:
            key_model._default_manager.filter(**{OBJ_FIELD: self}).delete()
        sort_at = self.audience_sort_value()
        rows: list[AudienceKeyBase] = []
        if sort_at is not None:
            rows = key_model._default_manager.bulk_create(
                [
                    key_model(**{OBJ_FIELD: self}, key=key, sort_at=sort_at)
                    for key in self.get_audience().to_keys()
                ]
            )
        self._remember_keys(rows)

    @classmethod
    def sync_audience_keys_of(cls, objects: list[Any]) -> None:
        """`sync_audience_keys` for several saved objects of this model with two statements
        (the worker's batches, which write the rows with bulk_update): the same rows."""
        key_model = cls.audience_key_model()
        key_model._default_manager.filter(**{f"{OBJ_FIELD}__in": objects}).delete()
        wanted: list[tuple[AudiencedModel, list[AudienceKeyBase]]] = []
        for obj in objects:
            sort_at = obj.audience_sort_value()
            keys = obj.get_audience().to_keys() if sort_at is not None else []
            rows = [key_model(**{OBJ_FIELD: obj}, key=key, sort_at=sort_at) for key in keys]
            wanted.append((obj, rows))
        key_model._default_manager.bulk_create([row for _, rows in wanted for row in rows])
        for obj, rows in wanted:
            obj._remember_keys(rows)

    def _remember_keys(self, rows: list[AudienceKeyBase]) -> None:
        # As prefetch_related would (django.db.models.query.prefetch_one_level).
        cache = self.__dict__.setdefault("_prefetched_objects_cache", {})
        cache.pop(self.audience_key_related_name, None)
        queryset = getattr(self, self.audience_key_related_name).get_queryset()
        queryset._result_cache = rows
        queryset._prefetch_done = True
        cache[self.audience_key_related_name] = queryset


M = TypeVar("M", bound=AudiencedModel)


@dataclass(frozen=True)
class Cursor:
    """Keyset position in a feed: the sort value and id of the last row seen."""

    sort_at: datetime.datetime
    pk: int

    def encode(self) -> str:
        return f"{self.sort_at.timestamp():.6f}_{self.pk}"

    @classmethod
    def decode(cls, value: str) -> Cursor | None:
        try:
            stamp, pk = value.split("_", 1)
            return cls(datetime.datetime.fromtimestamp(float(stamp), tz=datetime.UTC), int(pk))
        except (ValueError, OverflowError, OSError):
            return None


class AudienceQuerySet(models.QuerySet[M], Generic[M]):
    def visible_to(self, user: Any) -> AudienceQuerySet[M]:
        """Only the objects this user may see: THE visibility rule of the platform."""
        keys = viewer_keys(user)
        key_model = self.model.audience_key_model()
        rows = key_model._default_manager.filter(**{OBJ_FIELD: OuterRef("pk")}, key__in=keys)
        return self.filter(Exists(rows))

    def newest_visible(
        self, user: Any, limit: int = 20, after: Cursor | None = None
    ) -> tuple[list[M], Cursor | None]:
        """The newest `limit` objects visible to `user` (after `after`), newest first, and
        the cursor of the next page (None at the end).

        One indexed top-N per viewer key, merged: the global top N is always inside the
        union of the per-key top Ns. Each key contributes limit + 1 rows, so that whether
        a further page exists is known exactly (with only `limit` per key, a lone key with
        limit + 1 objects lost its last one). Works on the whole table only: filter
        afterwards would silently shorten pages, so a filtered queryset is refused.
        """
        if self.query.has_filters():
            raise TypeError("newest_visible() works on the unfiltered table; use visible_to()")
        key_model = self.model.audience_key_model()
        table = connection.ops.quote_name(key_model._meta.db_table)
        obj_col = connection.ops.quote_name(f"{OBJ_FIELD}_id")
        keys = viewer_keys(user)
        params: list[Any] = []
        parts = []
        for i, key in enumerate(keys):
            where = "key = %s"
            params.append(key)
            if after is not None:
                sort_value = connection.ops.adapt_datetimefield_value(after.sort_at)
                # The redundant `sort_at <= %s` is what the index range uses: both databases
                # then start the (key, sort_at, obj) scan at the cursor instead of reading
                # and discarding every newer row of the key, page after page.
                where += f" AND sort_at <= %s AND (sort_at < %s OR {obj_col} < %s)"
                params += [sort_value, sort_value, after.pk]
            parts.append(
                f"SELECT * FROM (SELECT {obj_col} AS obj, sort_at FROM {table} WHERE {where} "
                f"ORDER BY sort_at DESC, {obj_col} DESC LIMIT %s) AS k{i}"
            )
            params.append(limit + 1)
        sql = (
            f"SELECT obj, MAX(sort_at) AS s FROM ({' UNION ALL '.join(parts)}) AS u "
            "GROUP BY obj ORDER BY s DESC, obj DESC LIMIT %s"
        )
        params.append(limit + 1)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        page_rows, more = rows[:limit], len(rows) > limit
        by_pk = self.in_bulk([pk for pk, _ in page_rows])
        objects = [by_pk[pk] for pk, _ in page_rows if pk in by_pk]
        next_cursor = None
        if more and page_rows:
            last = objects[-1]
            sort_at = last.audience_sort_value()
            assert sort_at is not None
            next_cursor = Cursor(sort_at, last.pk)
        return objects, next_cursor


def can_see(user: Any, obj: AudiencedModel) -> bool:
    """Whether `user` may see `obj`: the very query every list uses, for one row."""
    manager = type(obj)._default_manager
    return bool(manager.all().visible_to(user).filter(pk=obj.pk).exists())  # type: ignore[attr-defined]
