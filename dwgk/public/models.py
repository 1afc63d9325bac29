"""The public site's one piece of state: the stamp that says when what anonymous visitors
may see last changed (see `dwgk.public.pagecache`)."""

from __future__ import annotations

from django.db import models


class PageStamp(models.Model):
    """A single row whose value goes up by one after every change that may alter a public
    page: every step of a disclosure item (the worker's included) and every successful
    POST. Cached anonymous pages are filed under the value they were rendered at, so a
    change makes all of them unreachable at once."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = "公开页面版本"
        verbose_name_plural = "公开页面版本"

    def __str__(self) -> str:
        return str(self.value)
