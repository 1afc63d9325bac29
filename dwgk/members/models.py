"""What the member portal keeps for a person: the secret of their private feed (CHAN-2).

A private feed URL lets a feed reader, which cannot sign in, fetch what was disclosed to
one person. Whoever holds the URL reads that person's feed, so the URL is a credential:
only its SHA-256 digest is stored (a copy of the database does not reveal any URL), a new
one replaces the old, and either can be revoked at once.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def token_digest(secret: str) -> str:
    """The stored form of a feed secret: its SHA-256, hex. The secret is 256 random bits,
    so a plain hash (no salt, no slow hash) cannot be reversed by guessing."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class FeedTokenQuerySet(models.QuerySet["FeedToken"]):
    def current(self) -> FeedTokenQuerySet:
        """Tokens that still open their feed."""
        return self.filter(revoked_at__isnull=True)


class FeedToken(models.Model):
    """One private feed secret of one person. Revoked rows stay, for the record; at most
    one row per person is current (the constraint enforces it under concurrency too)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="feed_tokens",
    )
    digest = models.CharField(_("令牌摘要（SHA-256）"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True)

    objects = FeedTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("订阅令牌")
        verbose_name_plural = _("订阅令牌")
        ordering = ["user", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(revoked_at__isnull=True),
                name="feed_token_one_current",
            )
        ]

    def __str__(self) -> str:
        # Never the digest: the label lands in the audit log and the admin.
        return f"订阅令牌 #{self.pk}"

    @property
    def is_current(self) -> bool:
        return self.revoked_at is None
