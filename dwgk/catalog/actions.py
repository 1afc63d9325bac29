"""Every step in a catalog's life is one function here (CAT-3 … CAT-7), called the same way
from views, commands and tests. Each is atomic, checks the version's state against the
transition table and the actor's right (actor None = the operator's own command), records a
CatalogEvent where the history matters, and writes the audit log."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from dwgk.audience.keys import Audience
from dwgk.audit.models import record
from dwgk.catalog import policy
from dwgk.catalog.approval import RouteError, route_from_json
from dwgk.catalog.channels import Channel
from dwgk.catalog.models import Catalog, CatalogEntry, CatalogEvent, CatalogVersion
from dwgk.catalog.rulesets import current_ruleset
from dwgk.catalog.timing import Timing, TimingError
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.orgs.models import Organization

S = CatalogVersion.Status

# The transition table: which states each step starts from, and where it leads.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "adopt": ((S.DRAFT, S.RETURNED), S.ADOPTED),
    "file": ((S.ADOPTED,), S.FILED),
    "acknowledge": ((S.FILED,), S.ACKNOWLEDGED),
    "return": ((S.FILED,), S.RETURNED),
    # A root organization has nobody to file with: it publishes once adopted.
    "publish": ((S.ACKNOWLEDGED, S.ADOPTED), S.PUBLISHED),
}

ENTRY_FIELDS = (
    "content",
    "category",
    "basis",
    "audience",
    "audience_note",
    "approval",
    "channels",
    "timing",
    "responsible",
    "co_units",
    "remarks",
)


def _allow(ok: bool, message: str) -> None:
    if not ok:
        raise NotAllowed(message)


def _lock(version: CatalogVersion) -> CatalogVersion:
    return (
        CatalogVersion.objects.select_for_update().select_related("catalog__org").get(pk=version.pk)
    )


def _move(version: CatalogVersion, step: str) -> str:
    sources, target = TRANSITIONS[step]
    if version.status not in sources:
        raise ActionError(f"目录当前状态为“{version.get_status_display()}”，不能执行此操作。")
    return target


def _event(version: CatalogVersion, kind: str, actor: Any, text: str = "", org: Any = None) -> None:
    CatalogEvent.objects.create(
        version=version, kind=kind, actor=actor if actor else None, actor_org=org, text=text
    )


def _catalog_for(org: Organization) -> Catalog:
    catalog, _ = Catalog.objects.get_or_create(
        org=org, defaults={"ruleset": current_ruleset().code}
    )
    return catalog


def _open_version(catalog: Catalog) -> CatalogVersion | None:
    return catalog.versions.exclude(status__in=[S.PUBLISHED, S.SUPERSEDED]).first()


def _new_version(
    catalog: Catalog, actor: Any, based_on: CatalogVersion | None, note: str
) -> CatalogVersion:
    number = (catalog.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = CatalogVersion.objects.create(
        catalog=catalog,
        number=number,
        based_on=based_on,
        change_note=note,
        created_by=actor if actor else None,
        audience=Audience(party=(catalog.org_id,)).to_json(),
    )
    _event(version, CatalogEvent.Kind.CREATED, actor, note)
    return version


@transaction.atomic
def catalog_generate_draft(org: Organization, *, actor: Any) -> CatalogVersion:
    """Start an organization's first catalog from the template of its type (CAT-2)."""
    Organization.objects.select_for_update().filter(pk=org.pk).first()
    _allow(actor is None or policy.can_edit(actor, org), f"您无权编制“{org.name}”的党务公开目录。")
    if not org.is_active:
        raise ActionError(f"“{org.name}”已撤销或合并。")
    catalog = _catalog_for(org)
    if catalog.versions.exists():
        raise ActionError("该组织已有目录，请在现有目录基础上调整。")
    ruleset = current_ruleset()
    version = _new_version(catalog, actor, None, f"依据《{ruleset.name}》模板生成")
    template = org.org_type.template
    for position, entry in enumerate(ruleset.entries_for(template), 1):
        CatalogEntry.objects.create(
            version=version,
            position=position,
            content=entry.content,
            category=entry.category,
            basis=entry.basis,
            audience=entry.audience_for(org.pk).to_json(),
            audience_note=entry.scope_note,
            approval=[step.to_json() for step in entry.route],
            channels=list(entry.channels),
            timing=entry.timing.to_json(),
            responsible=entry.responsible,
            co_units=entry.co_units,
            remarks=entry.remarks,
        )
    record(
        actor, "catalog.generate", version, org_id=org.pk, template=template, ruleset=ruleset.code
    )
    return version


@transaction.atomic
def catalog_adjust(org: Organization, *, actor: Any, note: str = "") -> CatalogVersion:
    """Open a new draft copied from the latest version (CAT-4: dynamic adjustment)."""
    Organization.objects.select_for_update().filter(pk=org.pk).first()
    _allow(actor is None or policy.can_edit(actor, org), f"您无权调整“{org.name}”的党务公开目录。")
    catalog = _catalog_for(org)
    if _open_version(catalog) is not None:
        raise ActionError("已有正在办理的目录版本，请先完成或继续编辑该版本。")
    base = catalog.published_version() or catalog.latest_version()
    if base is None:
        raise ActionError("该组织还没有目录，请先依据模板生成。")
    version = _new_version(catalog, actor, base, note)
    for entry in base.entries.all():
        entry.pk = None
        entry.version = version
        entry.save()
    version.audience = base.audience
    version.save(update_fields=["audience"])
    record(actor, "catalog.adjust", version, org_id=org.pk, based_on=base.number)
    return version


# --- entries -----------------------------------------------------------------------------


def _editable(version: CatalogVersion, actor: Any) -> CatalogVersion:
    version = _lock(version)
    org = version.org
    _allow(actor is None or policy.can_edit(actor, org), f"您无权编辑“{org.name}”的党务公开目录。")
    if not version.is_editable:
        raise ActionError(
            f"目录当前状态为“{version.get_status_display()}”，不能修改；如需调整请新建版本。"
        )
    if version.status == S.RETURNED:
        # A returned catalog that is changed must be adopted again before it is re-filed.
        version.status = S.DRAFT
        version.save()
    return version


def clean_entry_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate entry fields; raise ActionError in Chinese on the first problem."""
    unknown = set(fields) - set(ENTRY_FIELDS)
    if unknown:
        raise ActionError(f"未知的目录字段：{'、'.join(sorted(unknown))}")
    if "content" in fields and not str(fields["content"]).strip():
        raise ActionError("公开内容不能为空。")
    try:
        if "timing" in fields:
            fields["timing"] = Timing.from_json(fields["timing"]).to_json()
        if "approval" in fields:
            fields["approval"] = [s.to_json() for s in route_from_json(fields["approval"])]
        if "audience" in fields:
            audience = Audience.from_json(fields["audience"])
            if audience.is_empty:
                raise ActionError("请选择公开范围。")
            fields["audience"] = audience.to_json()
    except (TimingError, RouteError, TypeError) as error:
        raise ActionError(str(error)) from None
    if "channels" in fields:
        bad = [c for c in fields["channels"] if c not in Channel.values]
        if bad:
            raise ActionError(f"未知的公开方式：{'、'.join(bad)}")
        if not fields["channels"]:
            raise ActionError("请至少选择一种公开方式。")
    return fields


def _fresh(entry: CatalogEntry) -> CatalogEntry:
    """Positions move under other edits: always work on the row as it is now."""
    return CatalogEntry.objects.select_related("version__catalog__org").get(pk=entry.pk)


@transaction.atomic
def entry_add(version: CatalogVersion, *, actor: Any, **fields: Any) -> CatalogEntry:
    version = _editable(version, actor)
    fields = clean_entry_fields(fields)
    position = (version.entries.aggregate(n=Max("position"))["n"] or 0) + 1
    entry = CatalogEntry.objects.create(version=version, position=position, **fields)
    record(actor, "catalog.entry_add", entry, org_id=version.catalog.org_id)
    return entry


@transaction.atomic
def entry_update(entry: CatalogEntry, *, actor: Any, **fields: Any) -> CatalogEntry:
    _editable(entry.version, actor)
    entry = _fresh(entry)
    fields = clean_entry_fields(fields)
    for name, value in fields.items():
        setattr(entry, name, value)
    entry.save()
    record(
        actor,
        "catalog.entry_update",
        entry,
        org_id=entry.version.catalog.org_id,
        fields=sorted(fields),
    )
    return entry


@transaction.atomic
def entry_duplicate(entry: CatalogEntry, *, actor: Any) -> CatalogEntry:
    version = _editable(entry.version, actor)
    entry = _fresh(entry)
    copy = _fresh(entry)
    version.entries.filter(position__gt=entry.position).update(position=F("position") + 1)
    copy.pk = None
    copy.lineage = uuid.uuid4()
    copy.position = entry.position + 1
    copy.save()
    record(actor, "catalog.entry_duplicate", copy, org_id=version.catalog.org_id)
    return copy


@transaction.atomic
def entry_delete(entry: CatalogEntry, *, actor: Any) -> None:
    version = _editable(entry.version, actor)
    entry = _fresh(entry)
    position = entry.position
    record(
        actor, "catalog.entry_delete", entry, org_id=version.catalog.org_id, content=entry.content
    )
    entry.delete()
    version.entries.filter(position__gt=position).update(position=F("position") - 1)


@transaction.atomic
def entry_move(entry: CatalogEntry, *, actor: Any, to_position: int) -> None:
    """Put an entry at another place in the list (1 = first)."""
    version = _editable(entry.version, actor)
    ids = list(version.entries.order_by("position").values_list("pk", flat=True))
    if entry.pk not in ids:
        raise ActionError("条目不在该目录中。")
    ids.remove(entry.pk)
    ids.insert(max(0, min(to_position - 1, len(ids))), entry.pk)
    for position, pk in enumerate(ids, 1):
        CatalogEntry.objects.filter(pk=pk).update(position=position)
    record(actor, "catalog.entry_move", entry, org_id=version.catalog.org_id, to=to_position)


# --- the lifecycle -------------------------------------------------------------------------


@transaction.atomic
def catalog_adopt(
    version: CatalogVersion, *, actor: Any, meeting: str, decided_on: datetime.date
) -> CatalogVersion:
    """Record that the organization discussed and adopted the catalog (NM 14)."""
    version = _lock(version)
    org = version.org
    _allow(
        actor is None or policy.can_adopt(actor, org), "只有本组织主要负责人可以记录目录审议通过。"
    )
    target = _move(version, "adopt")
    if not version.entries.exists():
        raise ActionError("目录没有任何条目，不能审议通过。")
    if not meeting.strip():
        raise ActionError("请填写审议目录的会议（如：党委会、支委会）。")
    if decided_on > timezone.localdate():
        raise ActionError("审议日期不能晚于今天。")
    version.status = target
    version.adopted_by = actor if actor else None
    version.adopted_at = timezone.now()
    version.adopted_meeting = meeting.strip()
    version.adopted_on = decided_on
    version.leader_name = actor.name if actor else version.leader_name
    version.save()
    _event(
        version,
        CatalogEvent.Kind.ADOPTED,
        actor,
        f"{meeting.strip()}（{decided_on:%Y-%m-%d}）",
        org,
    )
    record(actor, "catalog.adopt", version, org_id=org.pk, meeting=meeting)
    return version


@transaction.atomic
def catalog_file(version: CatalogVersion, *, actor: Any) -> CatalogVersion:
    """File (备案) the adopted catalog with the upper-level organization (CAT-3)."""
    version = _lock(version)
    org = version.org
    _allow(actor is None or policy.can_file(actor, org), f"您无权报备“{org.name}”的目录。")
    target = _move(version, "file")
    if org.parent is None:
        raise ActionError("顶级组织没有上级组织，审议通过后可直接公开目录。")
    version.status = target
    version.filed_by = actor if actor else None
    version.filed_at = timezone.now()
    version.save()
    _event(version, CatalogEvent.Kind.FILED, actor, f"报{org.parent.name}备案", org)
    record(actor, "catalog.file", version, org_id=org.pk, parent=org.parent.code)
    return version


def _review(version: CatalogVersion, actor: Any, step: str, comment: str) -> CatalogVersion:
    version = _lock(version)
    org = version.org
    _allow(
        actor is None or policy.can_review_filing(actor, org),
        "只有上级组织可以确认或退回报备的目录。",
    )
    target = _move(version, step)
    version.status = target
    version.reviewed_by = actor if actor else None
    version.reviewed_at = timezone.now()
    version.save()
    kind = CatalogEvent.Kind.ACKNOWLEDGED if step == "acknowledge" else CatalogEvent.Kind.RETURNED
    _event(version, kind, actor, comment.strip(), org.parent)
    record(actor, f"catalog.{step}", version, org_id=org.pk, comment=comment)
    return version


@transaction.atomic
def catalog_acknowledge(
    version: CatalogVersion, *, actor: Any, comment: str = ""
) -> CatalogVersion:
    return _review(version, actor, "acknowledge", comment)


@transaction.atomic
def catalog_return(version: CatalogVersion, *, actor: Any, comment: str) -> CatalogVersion:
    if not comment.strip():
        raise ActionError("退回修改须写明意见。")
    return _review(version, actor, "return", comment)


@transaction.atomic
def catalog_publish(
    version: CatalogVersion, *, actor: Any, audience: Audience | None = None
) -> CatalogVersion:
    """Disclose the catalog itself, within the party or to society (CAT-5); the version it
    replaces stays readable, marked as superseded."""
    version = _lock(version)
    org = version.org
    _allow(actor is None or policy.can_publish(actor, org), f"您无权公开“{org.name}”的目录。")
    if version.status == S.ADOPTED and org.parent is not None:
        raise ActionError("目录须报上级组织备案并经确认后才能公开。")
    target = _move(version, "publish")
    audience = audience or Audience.from_json(version.audience)
    if audience.is_empty:
        raise ActionError("请选择目录的公开范围。")
    now = timezone.now()
    for old in CatalogVersion.objects.select_for_update().filter(
        catalog=version.catalog, status=S.PUBLISHED
    ):
        old.status = S.SUPERSEDED
        old.superseded_at = now
        old.save()
    version.status = target
    version.published_by = actor if actor else None
    version.published_at = now
    version.set_audience(audience)
    version.save()
    _event(version, CatalogEvent.Kind.PUBLISHED, actor, audience.describe(), org)
    record(actor, "catalog.publish", version, org_id=org.pk, audience=audience.to_json())
    return version


@transaction.atomic
def catalog_comment(version: CatalogVersion, *, actor: Any, text: str) -> CatalogEvent:
    org = version.org
    _allow(actor is None or policy.can_comment(actor, org), "您无权对该目录提出意见。")
    if not text.strip():
        raise ActionError("意见不能为空。")
    event = CatalogEvent.objects.create(
        version=version,
        kind=CatalogEvent.Kind.COMMENT,
        actor=actor if actor else None,
        text=text.strip(),
    )
    record(actor, "catalog.comment", version, org_id=org.pk)
    return event


@transaction.atomic
def entry_set_state(
    entry: CatalogEntry, *, actor: Any, state: str, explanation: str
) -> CatalogEntry:
    """Withhold, change, revoke, end or restore a published entry (CAT-7, QJ 9(2)): with
    the catalog-setting organization's approval and a public explanation."""
    entry = (
        CatalogEntry.objects.select_for_update()
        .select_related("version__catalog__org")
        .get(pk=entry.pk)
    )
    org = entry.version.org
    _allow(
        actor is None or policy.can_decide_entry_state(actor, org),
        "条目的暂缓、变更、撤销或终止须经目录制定组织（上级组织）主要负责人批准。",
    )
    if entry.version.status != S.PUBLISHED:
        raise ActionError("只能调整已公开目录中条目的状态；草稿中的条目可直接修改。")
    if state not in CatalogEntry.State.values:
        raise ActionError(f"未知的条目状态：{state}")
    if state == entry.state:
        raise ActionError("条目已是该状态。")
    if not explanation.strip():
        raise ActionError("请填写向公开对象说明的理由。")
    old = entry.state
    entry.state = state
    entry.state_note = explanation.strip()
    entry.save(update_fields=["state", "state_note"])
    _event(
        entry.version,
        CatalogEvent.Kind.ENTRY_STATE,
        actor,
        f"“{entry.content}”：{CatalogEntry.State(state).label}。{explanation.strip()}",
        org.parent or org,
    )
    record(actor, "catalog.entry_state", entry, org_id=org.pk, old=old, new=state)
    return entry
