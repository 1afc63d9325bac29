"""A small audience-bearing model used by the audience tests and the scale benchmark
until the disclosure models exist."""

from __future__ import annotations

import datetime

from django.db import models

from dwgk.audience.models import AudiencedModel, AudienceKeyBase, AudienceQuerySet
from dwgk.orgs.models import Organization


class Bulletin(AudiencedModel):
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    published_at = models.DateTimeField(null=True, blank=True)

    objects = AudienceQuerySet.as_manager()

    def __str__(self) -> str:
        return self.title

    def audience_sort_value(self) -> datetime.datetime | None:
        return self.published_at


class BulletinAudience(AudienceKeyBase):
    obj = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="audience_keys")

    class Meta:
        indexes = [models.Index(fields=["key", "sort_at", "obj"], name="bulletin_aud_feed")]
        constraints = [models.UniqueConstraint(fields=["obj", "key"], name="bulletin_aud_uniq")]
