"""The append-only audit log.

Entries are written by explicit calls to `record()` with dotted action names
(`org.move`, `role.grant`, `auth.login_failed`), never by signals on model saves.
The database itself refuses UPDATE (both backends) and DELETE (PostgreSQL; SQLite's test
flush needs DELETE) on the table: see migration 0002.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    pass


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("audit entries cannot be changed")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Kept as text too, so the entry still reads right if the account is renamed.
    actor_label = models.CharField(_("操作人（记录时）"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=64, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_label = models.CharField(_("对象"), max_length=255, blank=True)
    org_id_at_time = models.BigIntegerField(_("所属组织编号"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit entries cannot be deleted")


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def entry(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    org_id: int | None = None,
    request: HttpRequest | None = None,
    **data: Any,
) -> AuditEntry:
    """One audit entry, not yet written (`record` writes it; `record_all` writes several)."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    label = ""
    if is_user:
        label = f"{getattr(actor, 'name', '') or ''}（{actor.get_username()}）"
    elif "username" in data:
        label = str(data["username"])
    else:
        label = "系统" if actor is None else "匿名"
    return AuditEntry(
        actor=actor if is_user else None,
        actor_label=label[:150],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_label=str(obj)[:255] if obj is not None else "",
        org_id_at_time=org_id,
        ip=client_ip(request),
        data=data,
    )


def record(
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    *,
    org_id: int | None = None,
    request: HttpRequest | None = None,
    **data: Any,
) -> AuditEntry:
    """Write one audit entry. `actor` is a user, an anonymous user or None (the system)."""
    written = entry(actor, action, obj, org_id=org_id, request=request, **data)
    written.save(force_insert=True)
    return written


def record_all(entries: list[AuditEntry]) -> list[AuditEntry]:
    """Write entries made by `entry` with one statement (the worker's batches)."""
    return AuditEntry.objects.bulk_create(entries)
