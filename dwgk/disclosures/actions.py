"""Every step of a disclosure's procedure is one function here, called the same way from
views, commands, the worker and tests (PROC-1 … PROC-8, MECH-1 … MECH-7, TIME-1, SCOPE-2).

Each function is atomic; locks the item; checks its state against TRANSITIONS and the
actor's right (actor None = the system: the worker or an operator's command); changes the
item; writes a hash-chained LogEntry and the audit log; and syncs the item's tasks. When
any check fails an ActionError (in Chinese) is raised and nothing has changed.

Publication re-checks the whole record, not just the state: a passed review of the current
revision, every co-unit's agreement to it and an approval of every route step for exactly
that content. So no sequence of calls publishes anything that skipped a required step.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import logging
import re
from html import escape, unescape
from typing import Any

import nh3
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, OuterRef, Subquery, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone

from dwgk.accounts.models import Role
from dwgk.audience.keys import Audience
from dwgk.audit.models import entry as audit_entry
from dwgk.audit.models import record, record_all
from dwgk.catalog.channels import Channel
from dwgk.catalog.models import CatalogEntry, CatalogVersion
from dwgk.catalog.rulesets import current_ruleset
from dwgk.disclosures import policy, prescreen
from dwgk.disclosures.models import (
    CONTENT_FIELDS,
    GENESIS,
    RISK_ASPECTS,
    RISK_LEVELS,
    SCREENED_FIELDS,
    Approval,
    Attachment,
    CoConfirmation,
    Disclosure,
    IndexCounter,
    LogEntry,
    Review,
    Revision,
    ScopeChange,
    canonical_json,
)
from dwgk.disclosures.signals import disclosure_changed
from dwgk.inbox.models import Task
from dwgk.inbox.services import Want, notify, notify_each, people_for, sync_tasks
from dwgk.lib import files
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.orgs.models import Organization

S = Disclosure.Status
logger = logging.getLogger(__name__)

# The transition table: the states each step starts from, and the states it may lead to.
TRANSITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "edit": ((S.DRAFT, S.RETURNED), (S.DRAFT, S.RETURNED)),
    # Editing after submission sends the item back to review: every opinion, co-unit
    # answer and approval names the revision it was given for, so they no longer count.
    "edit_submitted": (
        (S.SUBMITTED, S.CONFIRMING, S.APPROVING, S.APPROVED, S.SCHEDULED),
        (S.SUBMITTED,),
    ),
    "submit": ((S.DRAFT, S.RETURNED), (S.SUBMITTED,)),
    "start_review": ((S.SUBMITTED,), (S.REVIEWING,)),
    "redact": ((S.REVIEWING,), (S.REVIEWING,)),
    "refer": ((S.REVIEWING,), (S.REFERRED,)),
    "referral_answer": ((S.REFERRED,), (S.REVIEWING, S.REJECTED)),
    "pass_review": ((S.REVIEWING,), (S.CONFIRMING, S.APPROVING, S.APPROVED)),
    "return": ((S.REVIEWING, S.APPROVING), (S.RETURNED,)),
    "reject": ((S.REVIEWING, S.APPROVING), (S.REJECTED,)),
    "confirm": ((S.CONFIRMING,), (S.CONFIRMING, S.APPROVING, S.APPROVED, S.RETURNED)),
    "approve": ((S.APPROVING,), (S.APPROVING, S.APPROVED)),
    "schedule": ((S.APPROVED, S.SCHEDULED), (S.SCHEDULED,)),
    "delay": ((S.APPROVED, S.SCHEDULED), (S.SCHEDULED,)),
    "publish": ((S.APPROVED, S.SCHEDULED), (S.PUBLISHED,)),
    "expire": ((S.PUBLISHED,), (S.EXPIRED,)),
    "close": ((S.PUBLISHED,), (S.CLOSED,)),
    "withdraw": ((S.PUBLISHED, S.EXPIRED, S.CLOSED), (S.WITHDRAWN,)),
    "correct": ((S.PUBLISHED, S.EXPIRED, S.CLOSED, S.WITHDRAWN), ()),
    "widen": ((S.PUBLISHED, S.EXPIRED, S.CLOSED), ()),
    "archive": ((S.EXPIRED, S.CLOSED, S.WITHDRAWN, S.REJECTED), (S.ARCHIVED,)),
}

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup", "h2", "h3", "h4",
    "ul", "ol", "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td", "a", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Days a task may take before it shows as overdue (calendar days; holidays not modelled).
DUE_DAYS = {"review": 3, "referral": 15, "confirm": 5, "approve": 3, "publish": 2, "scope": 5}


_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*[\s/>]")


def sanitize_html(html: str) -> str:
    """The body as stored: only structural tags, links without script, nothing inline.
    Text typed without any markup keeps its lines as paragraphs."""
    html = html or ""
    if not _TAG.search(html):
        lines = [line.strip() for line in html.replace("\r\n", "\n").split("\n")]
        html = "".join(f"<p>{escape(line)}</p>" for line in lines if line)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


# --- helpers -------------------------------------------------------------------------------


def _allow(ok: bool, message: str) -> None:
    if not ok:
        raise NotAllowed(message)


def _lock(item: Disclosure) -> Disclosure:
    return (
        Disclosure.objects.select_for_update(of=("self",))
        .select_related("org", "org__parent")
        .get(pk=item.pk)
    )


def _check(item: Disclosure, step: str) -> None:
    sources, _targets = TRANSITIONS[step]
    if item.status not in sources:
        raise ActionError(f"该事项当前状态为“{item.get_status_display()}”，不能执行此操作。")


def _move(item: Disclosure, step: str, target: str) -> None:
    _check(item, step)
    assert target in TRANSITIONS[step][1], (step, target)
    item.status = target


def _is_system(actor: Any) -> bool:
    return actor is None


def item_url(item: Disclosure) -> str:
    return reverse("disclosures:detail", args=[item.pk])


def content_hash(item: Disclosure) -> str:
    """The digest an approval is bound to: everything the item will publish. The time of
    publication is left out: it is set afterwards by scheduling (MECH-3) or by a recorded
    delay with consent (TIME-1), each its own logged step; so is the planned date of a
    phased item's next stage, which only reminds the clerk."""
    content = item.content()
    del content["publish_at"], content["next_stage_at"]
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _log(item: Disclosure, action: str, actor: Any, **data: Any) -> LogEntry:
    """Append to the item's hash chain (the item row is locked, so seq cannot race)."""
    entry = _log_entry(item, item.log.order_by("-seq").first(), action, actor, **data)
    entry.save()
    return entry


def _log_entry(
    item: Disclosure, last: LogEntry | None, action: str, actor: Any, **data: Any
) -> LogEntry:
    """The entry that follows `last` (None: the first) in the item's chain, not yet saved."""
    entry = LogEntry(
        disclosure=item,
        seq=(last.seq + 1) if last else 1,
        at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=_label(actor),
        action=action,
        status=item.status,
        revision=item.revision,
        data=data,
        prev_hash=last.hash if last else GENESIS,
    )
    entry.hash = entry.compute_hash()
    return entry


def _label(actor: Any) -> str:
    if actor is None:
        return "系统"
    return f"{getattr(actor, 'name', '') or ''}（{actor.get_username()}）"[:150]


def _done(item: Disclosure, action: str, actor: Any, **data: Any) -> None:
    """Save, log, audit and re-sync tasks: the end of every step."""
    item.save()
    _log(item, action, actor, **data)
    record(actor, f"disclosure.{action}", item, org_id=item.org_id, status=item.status, **data)
    sync_tasks(f"disclosure:{item.pk}", wanted_tasks(item), actor=actor)
    disclosure_changed.send(sender=Disclosure, item=item)


def _snapshot(item: Disclosure, actor: Any, note: str) -> None:
    Revision.objects.create(
        disclosure=item, number=item.revision, content=item.content(), by=actor, note=note
    )


def _due(kind: str) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=DUE_DAYS[kind])


def wanted_tasks(item: Disclosure, pending_scope: bool | None = None) -> list[Want]:
    """The tasks an item in its current state needs (opened and closed by sync_tasks).
    `pending_scope`: whether a scope change waits, when the caller already knows."""
    url, title, org = item_url(item), item.title, item.org
    if item.status == S.DRAFT:
        return [Want(Task.Kind.PROPOSE, org, title, url, assignee=item.author)]
    if item.status == S.RETURNED:
        return [Want(Task.Kind.REVISE, org, title, url, assignee=item.author)]
    if item.status in (S.SUBMITTED, S.REVIEWING):
        return [
            Want(
                Task.Kind.REVIEW, org, title, url, roles=policy.REVIEW_ROLES, due_at=_due("review")
            )
        ]
    if item.status == S.REFERRED:
        return [
            Want(
                Task.Kind.REFERRAL,
                org,
                title,
                url,
                roles=policy.REVIEW_ROLES,
                due_at=_due("referral"),
            )
        ]
    if item.status == S.CONFIRMING:
        pending = item.co_confirmations.filter(
            revision=item.revision, answer=CoConfirmation.Answer.PENDING
        ).select_related("org")
        return [
            Want(
                Task.Kind.CONFIRM,
                c.org,
                title,
                url,
                roles=policy.CONFIRM_ROLES,
                due_at=_due("confirm"),
            )
            for c in pending
        ]
    if item.status == S.APPROVING:
        step = item.current_step()
        assert step is not None
        if step["kind"] == "parent":
            return [
                Want(
                    Task.Kind.APPROVE,
                    item.org.parent,  # type: ignore[arg-type]
                    f"{item.org.name}：{title}",
                    url,
                    roles=policy.PARENT_SIGN_ROLES + policy.RECORD_ROLES,
                    due_at=_due("approve"),
                )
            ]
        roles: tuple[str, ...] = (step["role"],) if step["kind"] == "role" else ()
        if step["kind"] == "body" or step.get("role") == Role.PRINCIPAL:
            roles = tuple(dict.fromkeys((*roles, *policy.RECORD_ROLES)))
        return [Want(Task.Kind.APPROVE, org, title, url, roles=roles, due_at=_due("approve"))]
    if item.status == S.APPROVED:
        return [
            Want(
                Task.Kind.PUBLISH,
                org,
                title,
                url,
                roles=policy.PUBLISH_ROLES,
                due_at=_due("publish"),
            )
        ]
    wants = []
    if pending_scope is None:
        pending_scope = item.scope_changes.filter(status=ScopeChange.Status.PENDING).exists()
    if pending_scope:
        decider = item.org.parent if any(s["kind"] == "parent" for s in item.route) else org
        roles = policy.PARENT_SIGN_ROLES if decider != org else (Role.PRINCIPAL,)
        wants.append(Want(Task.Kind.SCOPE, decider, title, url, roles=roles, due_at=_due("scope")))  # type: ignore[arg-type]
    if item.catalog_update_pending:
        wants.append(
            Want(Task.Kind.CATALOG_UPDATE, org, title, url, roles=(Role.CLERK, Role.PRINCIPAL))
        )
    return wants


# --- creating and editing ------------------------------------------------------------------


def in_force_entries(org: Organization) -> list[CatalogEntry]:
    """The entries an item can fulfil: those of the organization's published catalog that
    are not withheld, changed, revoked or ended (CAT-7)."""
    return list(
        CatalogEntry.objects.filter(
            version__catalog__org=org,
            version__status=CatalogVersion.Status.PUBLISHED,
            state=CatalogEntry.State.ACTIVE,
        ).order_by("position")
    )


def _clean(fields: dict[str, Any], org: Organization) -> dict[str, Any]:
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ActionError(f"未知的字段：{'、'.join(sorted(unknown))}")
    if "title" in fields:
        fields["title"] = str(fields["title"]).strip()
        if not fields["title"]:
            raise ActionError("标题不能为空。")
    if "body" in fields:
        fields["body"] = sanitize_html(str(fields["body"]))
    if "audience" in fields:
        audience = Audience.from_json(fields["audience"])
        if audience.is_empty:
            raise ActionError("请选择公开范围。")
        fields["audience"] = audience.to_json()
    if "channels" in fields:
        bad = [c for c in fields["channels"] if c not in Channel.values]
        if bad:
            raise ActionError(f"未知的公开方式：{'、'.join(bad)}")
    if "timing_kind" in fields and fields["timing_kind"] not in Disclosure.TimingKind.values:
        raise ActionError("未知的公开时间类型。")
    publish_at = fields.get("publish_at")
    expire_at = fields.get("expire_at")
    if publish_at and expire_at and expire_at <= publish_at:
        raise ActionError("公开截止时间须晚于发布时间。")
    if "co_units" in fields:
        ids = sorted({int(x) for x in fields["co_units"]})
        if org.pk in ids:
            raise ActionError("会签单位不能是本组织。")
        found = Organization.objects.filter(pk__in=ids, status=Organization.Status.ACTIVE).count()
        if found != len(ids):
            raise ActionError("会签单位不存在或已撤销。")
        fields["co_units"] = ids
    return fields


@transaction.atomic
def disclosure_create(
    org: Organization,
    *,
    actor: Any,
    entry: CatalogEntry | None = None,
    out_of_catalog_reason: str = "",
    **fields: Any,
) -> Disclosure:
    """Draft an item (PROC-1). Under a catalog entry, its category, audience, channels and
    timing kind start from the entry; out of catalog, a reason is required (PROC-7)."""
    _allow(policy.can_propose(actor, org), f"您无权在“{org.name}”提出公开事项。")
    if not org.is_active:
        raise ActionError(f"“{org.name}”已撤销或合并。")
    if entry is not None:
        if entry.pk not in {e.pk for e in in_force_entries(org)}:
            raise ActionError("所选目录条目不属于本组织现行公开目录，或已暂缓、变更、撤销。")
        defaults: dict[str, Any] = {
            "category": entry.category,
            "audience": entry.audience,
            "channels": list(entry.channels),
            "timing_kind": entry.get_timing().kind,
        }
        out_of_catalog_reason = ""
    else:
        if len(out_of_catalog_reason.strip()) < 4:
            raise ActionError("目录外事项须写明公开理由（PROC-7）。")
        defaults = {"audience": Audience(party=(org.pk,)).to_json(), "channels": ["platform"]}
    fields = _clean({**defaults, **fields}, org)
    if "title" not in fields:
        raise ActionError("标题不能为空。")
    item = Disclosure(
        org=org,
        entry=entry,
        out_of_catalog=entry is None,
        out_of_catalog_reason=out_of_catalog_reason.strip(),
        author=actor,
        **fields,
    )
    item.save()
    _snapshot(item, actor, "起草")
    _done(item, "create", actor, entry=str(entry.lineage) if entry else None)
    return item


@transaction.atomic
def disclosure_edit(item: Disclosure, *, actor: Any, note: str = "", **fields: Any) -> Disclosure:
    """Change the content. Before submission it is plain editing; after it, the item goes
    back to review and every earlier opinion and approval stops counting."""
    item = _lock(item)
    _allow(policy.can_edit(actor, item), "您无权修改该事项。")
    fields = _clean(fields, item.org)
    changed = {k: v for k, v in fields.items() if getattr(item, k) != v}
    if not changed:
        return item
    was = item.status
    if item.status in TRANSITIONS["edit"][0]:
        _check(item, "edit")
    else:
        _move(item, "edit_submitted", S.SUBMITTED)
        item.step = 0
        # Consent to a delay was given for the content as it was.
        item.delay_consent_by = None
        item.delay_consent_at = None
    for name, value in changed.items():
        setattr(item, name, value)
    item.revision += 1
    item.save()
    _snapshot(item, actor, note or "修改")
    action = "edit" if was == item.status else "edit_after_submission"
    _done(item, action, actor, fields=sorted(changed), from_status=was)
    return item


def _attachment_editable(item: Disclosure, actor: Any) -> None:
    _allow(policy.can_edit(actor, item), "您无权修改该事项的附件。")
    if item.status not in Disclosure.EDITABLE:
        raise ActionError("只有草稿或退回修改的事项可以增删附件。")


@transaction.atomic
def attachment_add(item: Disclosure, *, actor: Any, name: str, data: bytes) -> Attachment:
    """Attach a file, accepted by its content (lib.files): never by its name."""
    item = _lock(item)
    _attachment_editable(item, actor)
    try:
        kind = files.sniff(data, name)
        text = files.extract_text(data, kind)
    except files.FileRejected as error:
        raise ActionError(error.message) from None
    from django.core.files.base import ContentFile

    attachment = Attachment(
        disclosure=item,
        name=files.download_name(kind, name)[:200],
        kind=kind.code,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        text=text,
        uploaded_by=actor,
    )
    attachment.file.save("upload", ContentFile(data), save=False)
    attachment.save()
    item.revision += 1
    item.save()
    _snapshot(item, actor, f"上传附件：{attachment.name}")
    _done(item, "attachment_add", actor, name=attachment.name, sha256=attachment.sha256)
    return attachment


@transaction.atomic
def attachment_remove(attachment: Attachment, *, actor: Any) -> None:
    item = _lock(attachment.disclosure)
    _attachment_editable(item, actor)
    attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if attachment.removed:
        raise ActionError("该附件已移除。")
    attachment.removed = True
    attachment.save(update_fields=["removed"])
    item.revision += 1
    item.save()
    _snapshot(item, actor, f"移除附件：{attachment.name}")
    _done(item, "attachment_remove", actor, name=attachment.name, sha256=attachment.sha256)


# --- submission and review -----------------------------------------------------------------


def build_route(item: Disclosure) -> list[dict[str, Any]]:
    """The approval steps the item must pass (PROC-3): its catalog entry's route; for an
    out-of-catalog item the deployment's rule (PROC-7: BJ 15, CMU 12 the principal leader or
    a collective decision; NM 19, QJ 6(2) also the upper organization's consent)."""
    if item.entry is not None:
        return [dict(step) for step in item.entry.approval or []]
    rule = str(current_ruleset().extra.get("out_of_catalog", "principal_or_collective"))
    route: list[dict[str, Any]] = [
        {
            "kind": "role",
            "role": Role.PRINCIPAL,
            "label": "目录外事项：主要负责人审批或领导班子集体决定",
        }
    ]
    if rule == "parent_consent":
        route.append({"kind": "parent", "label": "目录外事项：报上级党组织同意"})
    return route


def _require_text(value: str, what: str, min_len: int = 2) -> str:
    value = (value or "").strip()
    if len(value) < min_len:
        raise ActionError(f"请填写{what}。")
    return value


@transaction.atomic
def disclosure_submit(item: Disclosure, *, actor: Any) -> Disclosure:
    """提出 (PROC-1): the plan goes to review with its content, scope, time and channels."""
    item = _lock(item)
    _allow(policy.can_edit(actor, item), "只有承办人或本组织党务公开工作人员可以提出该事项。")
    _check(item, "submit")
    missing = [
        label
        for name, label in (("body", "正文"), ("channels", "公开方式"))
        if not getattr(item, name)
    ]
    if item.get_audience().is_empty:
        missing.append("公开范围")
    if missing:
        raise ActionError(f"提出前请填写：{'、'.join(missing)}。")
    if item.timing_kind == "phased" and not item.stage:
        raise ActionError("分期公开的事项请写明本期所处阶段。")
    route = build_route(item)
    if any(step["kind"] == "parent" for step in route) and item.org.parent is None:
        raise ActionError("审批程序要求报上级党组织审批，但本组织没有上级组织。")
    item.route = route
    item.step = 0
    if item.status == S.RETURNED:
        # Every round is its own revision, even when nothing was changed: the opinions,
        # co-unit answers and approvals of the last round must not count for this one.
        item.revision += 1
        item.save()
        _snapshot(item, actor, "退回后重新提出")
    _move(item, "submit", S.SUBMITTED)
    item.submitted_at = timezone.now()
    findings = prescreen_item(item)
    _done(
        item,
        "submit",
        actor,
        route=[s.get("label") or s["kind"] for s in route],
        prescreen=_counts(findings),
    )
    return item


def screen_extra_terms() -> tuple[str, ...]:
    return tuple(getattr(settings, "SENSITIVE_TERMS", ()))


def prescreen_item(item: Disclosure) -> list[dict[str, Any]]:
    """Run the pre-screen over the screened fields and the attachments' text (PROC-2).
    Each finding says where it is (`field` or `attachment`), what, and how it would be masked."""
    extra = screen_extra_terms()
    found: list[dict[str, Any]] = []
    for name in SCREENED_FIELDS:
        text = getattr(item, name) or ""
        for f in prescreen.scan(text, extra_terms=extra):
            found.append(_finding_row(f, text, field=name))
    for attachment in item.attachments.filter(removed=False, withheld=False):
        for f in prescreen.scan(attachment.text, extra_terms=extra):
            found.append(
                _finding_row(f, attachment.text, attachment=attachment.pk, name=attachment.name)
            )
    return found


_MARKUP = re.compile(r"<[^<>]*>|<[^<>]*$|^[^<>]*>")


def _plain(fragment: str) -> str:
    """A piece of the sanitized body as the reader sees it: tags, even cut-off ones, gone."""
    return " ".join(unescape(_MARKUP.sub(" ", fragment)).split())


def _finding_row(f: prescreen.Finding, text: str, **where: Any) -> dict[str, Any]:
    """A finding with a few characters of context each side, for the reviewer's screen."""
    return {
        **where,
        "kind": f.kind,
        "label": f.label,
        "severity": f.severity,
        "start": f.start,
        "end": f.end,
        "text": f.text,
        "masked": f.masked,
        "before": _plain(text[max(0, f.start - 60) : f.start])[-12:],
        "after": _plain(text[f.end : f.end + 60])[:12],
    }


def _counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["label"]] = counts.get(f["label"], 0) + 1
    return counts


def _reviewer(item: Disclosure, actor: Any) -> None:
    _allow(
        policy.can_review(actor, item),
        "您无权审核该事项（审核人须为本组织审核人员，且不能审核自己提出的事项）。",
    )


@transaction.atomic
def disclosure_start_review(item: Disclosure, *, actor: Any) -> Disclosure:
    item = _lock(item)
    _reviewer(item, actor)
    _move(item, "start_review", S.REVIEWING)
    _done(item, "start_review", actor)
    return item


@transaction.atomic
def disclosure_redact(
    item: Disclosure, *, actor: Any, field: str, start: int, end: int
) -> Disclosure:
    """脱敏 one pre-screen finding in one field (BJ 23(1)). The original stays in the
    previous revision, which only staff ever see; only the redacted text is published."""
    item = _lock(item)
    _reviewer(item, actor)
    _check(item, "redact")
    if field not in SCREENED_FIELDS:
        raise ActionError("该字段不能脱敏。")
    text = getattr(item, field) or ""
    match = [
        f
        for f in prescreen.scan(text, extra_terms=screen_extra_terms())
        if (f.start, f.end) == (start, end)
    ]
    if not match:
        raise ActionError("该预检结果已不存在（内容可能已被修改），请刷新页面后重试。")
    setattr(item, field, prescreen.redact(text, match))
    item.revision += 1
    item.save()
    _snapshot(item, actor, f"脱敏：{match[0].label}")
    _done(item, "redact", actor, field=field, kind=match[0].kind, masked=match[0].masked)
    return item


@transaction.atomic
def attachment_withhold(attachment: Attachment, *, actor: Any, reason: str) -> None:
    """The reviewer keeps an attachment out of publication (personal or classified content
    that cannot be redacted in the file); the author may attach a cleaned copy after a return."""
    item = _lock(attachment.disclosure)
    _reviewer(item, actor)
    _check(item, "redact")
    attachment = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if attachment.withheld or attachment.removed:
        raise ActionError("该附件已不予公开。")
    attachment.withheld = True
    attachment.save(update_fields=["withheld"])
    item.revision += 1
    item.save()
    _snapshot(item, actor, f"附件不予公开：{attachment.name}")
    _done(
        item,
        "attachment_withhold",
        actor,
        name=attachment.name,
        reason=_require_text(reason, "理由"),
    )


def _clean_risks(risks: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for code, label in RISK_ASPECTS.items():
        value = risks.get(code) or {}
        level = value.get("level", "")
        if level not in RISK_LEVELS:
            raise ActionError(f"请评估“{label}”的风险等级（低、中、高）。")
        cleaned[code] = {"level": level, "note": str(value.get("note", "")).strip()}
    return cleaned


def _review(item: Disclosure, actor: Any, outcome: str, opinions: dict[str, Any]) -> Review:
    known = {
        "confidentiality",
        "necessity",
        "accuracy",
        "normativity",
        "risks",
        "prevention_plan",
        "comment",
    }
    unknown = set(opinions) - known
    if unknown:
        raise ActionError(f"未知的审核字段：{'、'.join(sorted(unknown))}")
    return Review.objects.create(
        disclosure=item,
        revision=item.revision,
        reviewer=actor,
        outcome=outcome,
        findings=_counts(prescreen_item(item)),
        **opinions,
    )


@transaction.atomic
def disclosure_pass_review(
    item: Disclosure,
    *,
    actor: Any,
    confidentiality: str,
    necessity: str,
    accuracy: str,
    normativity: str,
    risks: dict[str, Any],
    prevention_plan: str = "",
    comment: str = "",
) -> Disclosure:
    """The review passes (PROC-2, MECH-1, MECH-2): a written opinion on each of the four
    questions and a risk assessment on each of the seven aspects; a plan where any risk is
    not low. Blocking findings (secrecy markings) must be redacted or referred first."""
    item = _lock(item)
    _reviewer(item, actor)
    _check(item, "pass_review")
    opinions: dict[str, Any] = {
        "confidentiality": _require_text(confidentiality, "保密审查意见"),
        "necessity": _require_text(necessity, "必要性意见"),
        "accuracy": _require_text(accuracy, "准确性意见"),
        "normativity": _require_text(normativity, "规范性意见"),
        "risks": _clean_risks(risks),
        "prevention_plan": (prevention_plan or "").strip(),
        "comment": (comment or "").strip(),
    }
    if (
        any(v["level"] != "low" for v in opinions["risks"].values())
        and len(opinions["prevention_plan"]) < 4
    ):
        raise ActionError("存在中、高风险时须制定风险防范预案（MECH-2）。")
    blocking = [f for f in prescreen_item(item) if f["severity"] == "block"]
    cleared = item.reviews.filter(revision=item.revision, outcome=Review.Outcome.CLEARED)
    if blocking and not cleared.exists():
        raise ActionError(
            f"预检发现涉密标识“{blocking[0]['text']}”：请脱密处理，或报保密部门确定密级后再通过审核。"
        )
    _review(item, actor, Review.Outcome.PASSED, opinions)
    if item.co_units:
        CoConfirmation.objects.bulk_create(
            [
                CoConfirmation(disclosure=item, org_id=org_id, revision=item.revision)
                for org_id in item.co_units
            ],
            ignore_conflicts=True,
        )
        _move(item, "pass_review", S.CONFIRMING)
    else:
        _enter_approval(item, "pass_review")
    _done(item, "pass_review", actor)
    return item


def _enter_approval(item: Disclosure, step: str) -> None:
    item.step = 0
    if item.route:
        _move(item, step, S.APPROVING)
    else:
        _move(item, step, S.APPROVED)
        item.approved_at = timezone.now()


@transaction.atomic
def disclosure_refer(item: Disclosure, *, actor: Any, question: str) -> Disclosure:
    """Unclear classification goes to the secrecy administration (NM 18(2))."""
    item = _lock(item)
    _reviewer(item, actor)
    _move(item, "refer", S.REFERRED)
    question = _require_text(question, "需确定密级的内容和理由", 4)
    Review.objects.create(
        disclosure=item,
        revision=item.revision,
        reviewer=actor,
        outcome=Review.Outcome.REFERRED,
        comment=question,
    )
    _done(item, "refer", actor, question=question)
    return item


@transaction.atomic
def disclosure_referral_answer(
    item: Disclosure, *, actor: Any, may_disclose: bool, answer: str
) -> Disclosure:
    """Record the secrecy administration's answer: back to review, or not disclosed."""
    item = _lock(item)
    _reviewer(item, actor)
    answer = _require_text(answer, "保密部门的答复", 4)
    _move(item, "referral_answer", S.REVIEWING if may_disclose else S.REJECTED)
    # The answer is bound to the revision the office saw: it lifts the secrecy-marking
    # block for that content only (a later edit needs review again).
    Review.objects.create(
        disclosure=item,
        revision=item.revision,
        reviewer=actor,
        outcome=Review.Outcome.CLEARED if may_disclose else Review.Outcome.REJECTED,
        comment=answer,
    )
    _done(item, "referral_answer", actor, may_disclose=may_disclose, answer=answer)
    if not may_disclose:
        notify([item.author], f"《{item.title}》经保密部门确定不予公开。", item_url(item))
    return item


def _decider(item: Disclosure, actor: Any) -> str:
    """Who is returning or rejecting: 'review' (the reviewer) or 'approval' (the step's)."""
    if item.status == S.REVIEWING:
        _reviewer(item, actor)
        return "review"
    step = item.current_step()
    assert step is not None
    _allow(policy.can_act_on_step(actor, item, step), "您无权处理该审批环节。")
    return "approval"


@transaction.atomic
def disclosure_return(item: Disclosure, *, actor: Any, opinion: str, **review: Any) -> Disclosure:
    """Back to the author with opinions (from review or from any approval step)."""
    item = _lock(item)
    _check(item, "return")
    who = _decider(item, actor)
    opinion = _require_text(opinion, "退回意见", 4)
    if who == "review":
        _review(item, actor, Review.Outcome.RETURNED, {**review, "comment": opinion})
    else:
        _approval_row(
            item, actor, Approval.Decision.RETURNED, Approval.Form.SIGNED, comment=opinion
        )
    _move(item, "return", S.RETURNED)
    _done(item, "return", actor, opinion=opinion, by=who)
    notify([item.author], f"《{item.title}》被退回修改：{opinion}", item_url(item))
    return item


@transaction.atomic
def disclosure_reject(item: Disclosure, *, actor: Any, reason: str) -> Disclosure:
    """Not to be disclosed (PROC-10), with the reason recorded."""
    item = _lock(item)
    _check(item, "reject")
    who = _decider(item, actor)
    reason = _require_text(reason, "不予公开的理由", 4)
    if who == "review":
        _review(item, actor, Review.Outcome.REJECTED, {"comment": reason})
    else:
        _approval_row(item, actor, Approval.Decision.REJECTED, Approval.Form.SIGNED, comment=reason)
    _move(item, "reject", S.REJECTED)
    _done(item, "reject", actor, reason=reason, by=who)
    notify([item.author], f"《{item.title}》决定不予公开：{reason}", item_url(item))
    return item


# --- co-confirmation and approval ----------------------------------------------------------


@transaction.atomic
def disclosure_confirm(
    item: Disclosure, *, actor: Any, org: Organization, agree: bool, comment: str = ""
) -> Disclosure:
    """A co-unit answers (PROC-8). All agree: on to approval. One disagrees: back to the
    author with its comment, once every co-unit has answered the round."""
    item = _lock(item)
    _check(item, "confirm")
    _allow(policy.can_confirm(actor, org), f"您无权代表“{org.name}”会签。")
    row = (
        CoConfirmation.objects.select_for_update()
        .filter(disclosure=item, org=org, revision=item.revision)
        .first()
    )
    if row is None:
        raise ActionError(f"“{org.name}”不是该事项的会签单位。")
    if row.answer != CoConfirmation.Answer.PENDING:
        raise ActionError(f"“{org.name}”已答复过本轮会签。")
    if not agree:
        comment = _require_text(comment, "不同意的理由", 4)
    row.answer = CoConfirmation.Answer.AGREED if agree else CoConfirmation.Answer.DISAGREED
    row.comment = (comment or "").strip()
    row.by = actor
    row.at = timezone.now()
    row.save()
    answers = list(
        item.co_confirmations.filter(revision=item.revision).values_list("answer", flat=True)
    )
    if CoConfirmation.Answer.PENDING not in answers:
        if CoConfirmation.Answer.DISAGREED in answers:
            _move(item, "confirm", S.RETURNED)
            notify(
                [item.author], f"《{item.title}》会签单位有不同意见，已退回修改。", item_url(item)
            )
        else:
            _enter_approval(item, "confirm")
    _done(item, "confirm", actor, org=org.pk, agree=agree, comment=row.comment)
    return item


def _approval_row(
    item: Disclosure, actor: Any, decision: str, form: str, **details: Any
) -> Approval:
    step = item.current_step()
    assert step is not None
    acting = policy.step_org(item, step)
    assert acting is not None
    try:
        with transaction.atomic():
            return Approval.objects.create(
                disclosure=item,
                revision=item.revision,
                content_sha256=content_hash(item),
                step=item.step,
                step_label=step.get("label") or step["kind"],
                decision=decision,
                form=form,
                by=actor,
                acting_org=acting,
                **details,
            )
    except IntegrityError:
        raise ActionError("该审批环节已由他人处理，请刷新页面。") from None


@transaction.atomic
def disclosure_approve(
    item: Disclosure,
    *,
    actor: Any,
    comment: str = "",
    collective: bool = False,
    meeting: str = "",
    meeting_date: datetime.date | None = None,
    minutes: str = "",
) -> Disclosure:
    """Approve the current route step (PROC-3): signed by the step's role holder, or a
    collective decision recorded with its meeting. A parent step is decided by the upper
    organization (escalation: the task sits in its queue)."""
    item = _lock(item)
    _check(item, "approve")
    step = item.current_step()
    assert step is not None
    if step["kind"] == "body":
        collective = True
    details: dict[str, Any] = {"comment": (comment or "").strip()}
    if collective:
        _allow(policy.can_record_collective(actor, item, step), "您无权登记该环节的集体决定。")
        details["meeting"] = _require_text(meeting or step.get("body", ""), "会议名称")
        if meeting_date is None:
            raise ActionError("请填写会议日期。")
        if meeting_date > timezone.localdate():
            raise ActionError("会议日期不能晚于今天。")
        details["meeting_date"] = meeting_date
        details["minutes"] = _require_text(minutes, "会议记录摘要（研究意见）", 4)
    else:
        _allow(policy.can_sign(actor, item, step), "您无权审批该环节。")
    _approval_row(
        item,
        actor,
        Approval.Decision.APPROVED,
        Approval.Form.COLLECTIVE if collective else Approval.Form.SIGNED,
        **details,
    )
    label = step.get("label") or step["kind"]
    if item.step + 1 < len(item.route):
        item.step += 1
        _move(item, "approve", S.APPROVING)
    else:
        _move(item, "approve", S.APPROVED)
        item.approved_at = timezone.now()
    _done(
        item,
        "approve",
        actor,
        step=label,
        collective=collective,
        meeting=details.get("meeting", ""),
    )
    if item.status == S.APPROVED:
        notify([item.author], f"《{item.title}》已批准，待发布。", item_url(item))
    return item


@dataclasses.dataclass
class _Record:
    """What publication re-checks of one item's procedure, read for its current revision."""

    passed_review: bool = False  # the last review of the revision passed
    agreed: set[int] = dataclasses.field(default_factory=set)  # co-units that agreed to it
    # (step, content_sha256) of every approving decision on the revision
    approvals: set[tuple[int, str]] = dataclasses.field(default_factory=set)


def _records(items: list[Disclosure]) -> dict[int, _Record]:
    """The records of several items, three queries for all of them (two without co-units)."""
    revision = {item.pk: item.revision for item in items}
    found = {pk: _Record() for pk in revision}
    last: dict[int, tuple[datetime.datetime, int]] = {}
    # order_by(): the default orderings would join the items table to sort by theirs.
    reviews = Review.objects.filter(disclosure__in=list(revision)).order_by()
    for pk, rev, outcome, at, review_id in reviews.values_list(
        "disclosure_id", "revision", "outcome", "at", "id"
    ):
        # The last review (by time, then id) of the current revision decides.
        if rev == revision[pk] and (pk not in last or (at, review_id) > last[pk]):
            last[pk] = (at, review_id)
            found[pk].passed_review = outcome == Review.Outcome.PASSED
    with_co_units = [item.pk for item in items if item.co_units]
    if with_co_units:
        agreed = CoConfirmation.objects.filter(
            disclosure__in=with_co_units, answer=CoConfirmation.Answer.AGREED
        ).order_by()
        for pk, rev, org_id in agreed.values_list("disclosure_id", "revision", "org_id"):
            if rev == revision[pk]:
                found[pk].agreed.add(org_id)
    approvals = Approval.objects.filter(
        disclosure__in=list(revision), decision=Approval.Decision.APPROVED
    ).order_by()
    for pk, rev, step, digest in approvals.values_list(
        "disclosure_id", "revision", "step", "content_sha256"
    ):
        if rev == revision[pk]:
            found[pk].approvals.add((step, digest))
    return found


def clearance_problems(item: Disclosure, record: _Record | None = None) -> list[str]:
    """Why the item's current content may not be published (empty when it may): the whole
    procedure is checked again from the record, whatever the state says. `record`: the
    item's record when the caller read it already (`_records`)."""
    if record is None:
        record = _records([item])[item.pk]
    problems = []
    if not record.passed_review:
        problems.append("当前内容未经审核通过")
    if item.co_units and set(item.co_units) - record.agreed:
        problems.append("会签单位尚未全部同意当前内容")
    digest = content_hash(item)
    for n, step in enumerate(item.route or []):
        if (n, digest) not in record.approvals:
            problems.append(f"“{step.get('label') or step['kind']}”环节未批准当前内容")
    if item.timing_kind == "delayed" and item.delay_consent_at is None:
        problems.append("延期公开事项尚未经组织同意延期")
    return problems


# --- publication and after ------------------------------------------------------------------


@transaction.atomic
def disclosure_schedule(
    item: Disclosure, *, actor: Any, publish_at: datetime.datetime
) -> Disclosure:
    """MECH-3: set when the approved item goes out; the worker publishes it then."""
    item = _lock(item)
    _allow(policy.can_publish(actor, item), "您无权安排发布该事项。")
    _check(item, "schedule")
    if publish_at < timezone.now() - datetime.timedelta(minutes=1):
        raise ActionError("发布时间不能早于现在。")
    if item.expire_at and item.expire_at <= publish_at:
        raise ActionError("发布时间须早于公开截止时间。")
    if item.timing_kind == "delayed" and item.delay_consent_at is None:
        raise ActionError("延期公开事项须先经组织同意延期（TIME-1）。")
    item.publish_at = publish_at
    _move(item, "schedule", S.SCHEDULED)
    _done(item, "schedule", actor, publish_at=publish_at.isoformat())
    return item


@transaction.atomic
def disclosure_delay(
    item: Disclosure, *, actor: Any, until: datetime.datetime, reason: str
) -> Disclosure:
    """延期公开 (TIME-1: BJ 18, NM 17): a major complex matter waits, with the organization's
    consent recorded — who consented, when, why, until when."""
    item = _lock(item)
    _allow(policy.can_consent_delay(actor, item), "延期公开须经本组织主要负责人同意。")
    _check(item, "delay")
    reason = _require_text(reason, "延期理由", 4)
    if until <= timezone.now():
        raise ActionError("延期后的发布时间须晚于现在。")
    if item.expire_at and item.expire_at <= until:
        raise ActionError("延期后的发布时间须早于公开截止时间。")
    item.publish_at = until
    item.delay_reason = reason
    item.delay_consent_by = actor
    item.delay_consent_at = timezone.now()
    _move(item, "delay", S.SCHEDULED)
    _done(item, "delay", actor, until=until.isoformat(), reason=reason)
    return item


def _next_index_no(item: Disclosure, when: datetime.datetime) -> str:
    return _next_index_nos([item], when)[0]


def _next_index_nos(items: list[Disclosure], when: datetime.datetime) -> list[str]:
    """The next 索引号 of each item, in order: `<org code>/<year>-<serial>`, the serial
    counted per organization and year under the counter's row lock."""
    year = timezone.localtime(when).year
    org_ids = sorted({item.org_id for item in items})

    def locked() -> dict[int, IndexCounter]:
        # In one order of rows, so that two workers' batches cannot deadlock on them.
        counters = IndexCounter.objects.select_for_update().filter(org_id__in=org_ids, year=year)
        return {c.org_id: c for c in counters.order_by("org_id")}

    counters = locked()
    if len(counters) < len(org_ids):
        # The first item of an organization this year: the counter is made (another
        # worker may make it at the same moment: the unique constraint keeps one).
        IndexCounter.objects.bulk_create(
            [IndexCounter(org_id=o, year=year) for o in org_ids if o not in counters],
            ignore_conflicts=True,
        )
        counters = locked()
    numbers = []
    for item in items:
        counter = counters[item.org_id]
        counter.last += 1
        numbers.append(f"{item.org.code}/{year}-{counter.last:05d}")
    if len(counters) == 1:
        (counter,) = counters.values()
        counter.save(update_fields=["last"])
    else:
        IndexCounter.objects.bulk_update(list(counters.values()), ["last"])
    return numbers


def _check_publishable(
    item: Disclosure, *, system: bool, now: datetime.datetime, record: _Record | None = None
) -> None:
    """Raise ActionError unless the item may be published now (the item row is locked)."""
    _check(item, "publish")
    if system and (item.status != S.SCHEDULED or not item.publish_at or item.publish_at > now):
        raise ActionError("该事项未到发布时间。")
    problems = clearance_problems(item, record)
    if problems:
        raise ActionError("不能发布：" + "；".join(problems) + "。")
    if item.expire_at and item.expire_at <= now:
        raise ActionError("公开截止时间已过，请修改后重新报批。")


def _mark_published(item: Disclosure, now: datetime.datetime) -> None:
    _move(item, "publish", S.PUBLISHED)
    item.published_at = now
    item.published_revision = item.revision
    if item.out_of_catalog:
        item.catalog_update_pending = True  # PROC-7: "then the catalog is updated"


def _published_notice(item: Disclosure) -> str:
    return f"《{item.title}》已公开，索引号 {item.index_no}。"


@transaction.atomic
def disclosure_publish(
    item: Disclosure, *, actor: Any, now: datetime.datetime | None = None
) -> Disclosure:
    """实施 (PROC-4): publish exactly what was approved, to exactly its audience. The
    worker (actor None) publishes scheduled items when due (`now`: the worker's clock);
    staff may publish at once."""
    item = _lock(item)
    if not _is_system(actor):
        _allow(policy.can_publish(actor, item), "您无权发布该事项。")
    now = now if _is_system(actor) and now is not None else timezone.now()
    _check_publishable(item, system=_is_system(actor), now=now)
    _mark_published(item, now)
    if not item.index_no:
        item.index_no = _next_index_no(item, now)
    _done(item, "publish", actor, index_no=item.index_no, audience=item.audience)
    notify([item.author], _published_notice(item), item_url(item))
    return item


@transaction.atomic
def disclosure_expire(
    item: Disclosure, *, actor: Any, now: datetime.datetime | None = None
) -> Disclosure:
    """The disclosure period ended (TIME-2): still visible, marked 已过公开期限."""
    item = _lock(item)
    if not _is_system(actor):
        _allow(policy.can_publish(actor, item), "您无权变更该事项。")
    _check(item, "expire")
    now = now if _is_system(actor) and now is not None else timezone.now()
    if _is_system(actor) and (item.expire_at is None or item.expire_at > now):
        raise ActionError("该事项未到公开截止时间。")
    _move(item, "expire", S.EXPIRED)
    item.ended_at = timezone.now()
    _done(item, "expire", actor)
    return item


@transaction.atomic
def disclosure_close(item: Disclosure, *, actor: Any, note: str = "") -> Disclosure:
    """The matter is finished (a 公示 period over, the last stage of phased work)."""
    item = _lock(item)
    _allow(policy.can_publish(actor, item), "您无权结束该事项。")
    _move(item, "close", S.CLOSED)
    item.ended_at = timezone.now()
    item.next_stage_at = None
    _done(item, "close", actor, note=(note or "").strip())
    return item


def _stamp(text: str) -> str:
    return f"{timezone.localdate():%Y年%m月%d日}：{text}"


@transaction.atomic
def disclosure_withdraw(item: Disclosure, *, actor: Any, notice: str) -> Disclosure:
    """Emergency withdrawal (MECH-7). The content is taken down; the item and its correction
    notice (MECH-5) stay visible to the same audience, so readers learn what changed."""
    item = _lock(item)
    _allow(policy.can_withdraw(actor, item), "紧急撤回须由本组织主要负责人或党务公开协调人员决定。")
    notice = _require_text(notice, "更正说明（将向原公开范围公布）", 8)
    _move(item, "withdraw", S.WITHDRAWN)
    item.withdrawn_at = timezone.now()
    item.correction_notice = "\n".join(filter(None, [item.correction_notice, _stamp(notice)]))
    _done(item, "withdraw", actor, notice=notice)
    return item


@transaction.atomic
def disclosure_correct(item: Disclosure, *, actor: Any, notice: str) -> Disclosure:
    """MECH-5 opinion guidance: a dated correction notice shown with the item."""
    item = _lock(item)
    _allow(policy.can_correct(actor, item), "您无权发布更正说明。")
    _check(item, "correct")
    notice = _require_text(notice, "更正说明", 8)
    item.correction_notice = "\n".join(filter(None, [item.correction_notice, _stamp(notice)]))
    _done(item, "correct", actor, notice=notice)
    return item


@transaction.atomic
def disclosure_archive(item: Disclosure, *, actor: Any, feedback_summary: str = "") -> Disclosure:
    """归档 (PROC-6): freeze the item. Nothing in the transition table leaves ARCHIVED."""
    item = _lock(item)
    _allow(policy.can_archive(actor, item), "您无权归档该事项。")
    _move(item, "archive", S.ARCHIVED)
    item.archived_at = timezone.now()
    item.catalog_update_pending = False
    ScopeChange.objects.filter(disclosure=item, status=ScopeChange.Status.PENDING).update(
        status=ScopeChange.Status.REFUSED, comment="事项已归档"
    )
    _done(
        item,
        "archive",
        actor,
        revisions=item.revisions.count(),
        reviews=item.reviews.count(),
        approvals=item.approvals.count(),
        feedback_summary=(feedback_summary or "").strip(),
    )
    return item


# --- scope widening and catalog update -----------------------------------------------------


@transaction.atomic
def scope_widen_propose(
    item: Disclosure, *, actor: Any, audience: Audience, reason: str
) -> ScopeChange:
    """SCOPE-2 先党内后党外: propose a wider audience for a disclosed item."""
    item = _lock(item)
    _allow(policy.can_publish(actor, item), "您无权提出调整公开范围。")
    _check(item, "widen")
    old = item.get_audience()
    if audience.is_empty or not _covers(audience, old) or audience == old:
        raise ActionError("只能扩大公开范围：新的范围须包含原有范围并增加新的对象。")
    if item.scope_changes.filter(status=ScopeChange.Status.PENDING).exists():
        raise ActionError("已有待批准的公开范围调整。")
    change = ScopeChange.objects.create(
        disclosure=item,
        old_audience=old.to_json(),
        new_audience=audience.to_json(),
        reason=_require_text(reason, "扩大公开范围的理由", 4),
        proposed_by=actor,
    )
    _done(item, "widen_propose", actor, new_audience=audience.to_json(), reason=change.reason)
    return change


def _covers(new: Audience, old: Audience) -> bool:
    if new.society:
        return True
    return (
        set(old.party) <= set(new.party)
        and set(old.units) <= set(new.units)
        and set(old.orgs) <= set(new.orgs)
        and set(old.people) <= set(new.people)
        and not (old.society and not new.society)
    )


@transaction.atomic
def scope_widen_decide(
    change: ScopeChange, *, actor: Any, approve: bool, comment: str = ""
) -> ScopeChange:
    item = _lock(change.disclosure)
    change = ScopeChange.objects.select_for_update().get(pk=change.pk)
    _allow(policy.can_decide_scope(actor, item), "您无权批准调整该事项的公开范围。")
    if change.status != ScopeChange.Status.PENDING:
        raise ActionError("该调整已处理。")
    _check(item, "widen")
    change.status = ScopeChange.Status.APPROVED if approve else ScopeChange.Status.REFUSED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.comment = (comment or "").strip()
    change.save()
    if approve:
        item.audience = change.new_audience
    _done(
        item, "widen_decide", actor, approve=approve, audience=item.audience, comment=change.comment
    )
    return change


@transaction.atomic
def disclosure_catalog_update(item: Disclosure, *, actor: Any, add_entry: bool = True) -> Any:
    """PROC-7 "then the catalog is updated": put a published out-of-catalog item's kind of
    disclosure into the organization's catalog — as a new entry of the draft being worked
    on, opening an adjustment if there is none — or record that it stays a one-off."""
    from dwgk.catalog import actions as catalog_actions
    from dwgk.catalog.models import Catalog

    item = _lock(item)
    _allow(
        any(policy.any_role(actor, (r,), item.org) for r in (Role.CLERK, Role.PRINCIPAL)),
        "您无权调整本组织目录。",
    )
    if not item.catalog_update_pending:
        raise ActionError("该事项没有待处理的目录调整。")
    entry = None
    if add_entry:
        catalog = Catalog.objects.filter(org=item.org).first()
        version = None
        if catalog is not None:
            version = catalog.versions.filter(status__in=CatalogVersion.EDITABLE).first()
        if version is None:
            version = catalog_actions.catalog_adjust(
                item.org, actor=actor, note=f"纳入目录外事项《{item.title}》"
            )
        route = [s for s in item.route if s["kind"] != "parent"] or [
            {"kind": "role", "role": Role.PRINCIPAL}
        ]
        entry = catalog_actions.entry_add(
            version,
            actor=actor,
            content=item.title,
            category=item.category,
            audience=item.audience,
            channels=list(item.channels),
            approval=[{k: v for k, v in s.items() if k != "label"} for s in route],
            remarks=f"由目录外事项（索引号 {item.index_no}）纳入",
        )
    item.catalog_update_pending = False
    _done(item, "catalog_update", actor, added=entry is not None)
    return entry


# --- the worker's jobs ------------------------------------------------------------------------


def _claim(queryset: Any, limit: int) -> list[int]:
    """Ids of due items, claimed with row locks that other workers skip (PostgreSQL)."""
    with transaction.atomic():
        return list(
            queryset.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit]
        )


# Due items the worker publishes per transaction (see publish_due).
PUBLISH_BATCH = 100


def publish_due(now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """Publish every scheduled item whose time has come (at most `limit` of them). Safe on
    several machines at once; one item that fails, whatever the reason, never holds up the
    others. Returns the ids published.

    The items go in batches of PUBLISH_BATCH. One transaction locks a batch of due items
    (rows that another worker holds are skipped), checks each exactly as disclosure_publish
    does, and writes the items that pass together: their rows, audience keys, log entries,
    audit entries and notifications, one statement each for the whole batch. An item that
    fails its checks is left as it was and its staff are told. If writing the batch fails,
    it is rolled back and its items are published one by one by disclosure_publish, each
    in its own transaction, as if there were no batches."""
    now = now or timezone.now()
    done: list[int] = []
    tried: set[int] = set()
    while len(tried) < limit:
        size = min(PUBLISH_BATCH, limit - len(tried))
        claimed, published, failed = _publish_batch(now, size, tried)
        tried.update(claimed)
        if published is None:
            done.extend(pk for pk in claimed if _publish_one(pk, now))
        else:
            done.extend(published)
            for pk, reason in failed:
                _note_failure(pk, reason, now)
        if len(claimed) < size:
            break  # nothing more is due (or the rest is locked by another worker)
    return done


def _publish_one(pk: int, now: datetime.datetime) -> bool:
    """Publish one due item in its own transaction; False (and the staff told) if it fails."""
    try:
        disclosure_publish(Disclosure(pk=pk), actor=None, now=now)
        return True
    except ActionError as error:
        _note_failure(pk, error.message, now)
    except Exception:
        logger.exception("publishing disclosure %s failed", pk)
        _note_failure(pk, "系统错误，请联系系统管理员。", now)
    return False


def _publish_batch(
    now: datetime.datetime, size: int, skip: set[int]
) -> tuple[list[int], list[int] | None, list[tuple[int, str]]]:
    """One batch in one transaction: (the ids locked, those published, (id, reason) of those
    that failed their checks); published is None when the batch was rolled back."""
    claimed: list[int] = []
    try:
        with transaction.atomic():
            items = list(
                Disclosure.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("org", "org__parent", "author")
                .filter(status=S.SCHEDULED, publish_at__lte=now)
                .exclude(pk__in=skip)
                .order_by("publish_at", "pk")[:size]
            )
            claimed = [item.pk for item in items]
            published, failed = _publish_locked(items, now)
    except Exception:
        if not claimed:
            raise
        logger.exception("publishing a batch of %s items failed: one by one now", len(claimed))
        return claimed, None, []
    return claimed, published, failed


def _publish_locked(
    items: list[Disclosure], now: datetime.datetime
) -> tuple[list[int], list[tuple[int, str]]]:
    """disclosure_publish(item, actor=None, now=now) for each of these locked items, with
    the reads and writes of all of them together; those that fail a check are untouched."""
    records = _records(items)
    prefetch_related_objects(items, "attachments")  # content_hash, then the search row
    ready: list[Disclosure] = []
    failed: list[tuple[int, str]] = []
    for item in items:
        try:
            _check_publishable(item, system=True, now=now, record=records[item.pk])
        except ActionError as error:
            failed.append((item.pk, error.message))
        else:
            ready.append(item)
    if not ready:
        return [], failed
    for item in ready:
        _mark_published(item, now)
    unnumbered = [item for item in ready if not item.index_no]
    if unnumbered:
        for item, number in zip(unnumbered, _next_index_nos(unnumbered, now), strict=True):
            item.index_no = number
    _done_together(
        ready,
        _PUBLISH_FIELDS,
        "publish",
        lambda item: {"index_no": item.index_no, "audience": item.audience},
    )
    notify_each((item.author, _published_notice(item), item_url(item)) for item in ready)
    return [item.pk for item in ready], failed


def _update_rows(items: list[Disclosure], names: list[str]) -> None:
    """Write these fields of these items with one UPDATE ... FROM a VALUES list (both
    databases). Django's bulk_update builds a CASE WHEN per field and item, which cost more
    CPU than everything else the batch does."""
    meta = Disclosure._meta
    columns: list[Field[Any, Any]] = [meta.pk, *(meta.get_field(n) for n in names)]  # type: ignore[list-item]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(columns[0].column)
    params = [
        f.get_db_prep_save(getattr(item, f.attname), connection) for item in items for f in columns
    ]
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    assigned = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    sql = (
        f"WITH v ({', '.join(quote(f.column) for f in columns)}) AS "  # noqa: S608 — names quoted, values params
        f"(VALUES {', '.join([row] * len(items))}) "
        f"UPDATE {table} SET {assigned} FROM v WHERE {table}.{pk} = v.{pk}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The fields publication changes (_mark_published and the 索引号).
_PUBLISH_FIELDS = [
    "status",
    "published_at",
    "published_revision",
    "index_no",
    "catalog_update_pending",
]


def _done_together(items: list[Disclosure], fields: list[str], action: str, data: Any) -> None:
    """`_done(item, action, None, **data(item))` for several items of one system step (the
    worker's) that changed only `fields`, each statement once for all of them: the same
    rows, in the same order (row and keys, log, audit, tasks, then the signal)."""
    stamp = timezone.now()
    for item in items:
        item.updated_at = stamp  # as save() would set it (auto_now)
    _update_rows(items, [*fields, "updated_at"])
    Disclosure.sync_audience_keys_of(items)
    newest = LogEntry.objects.filter(disclosure=OuterRef("disclosure")).order_by("-seq")
    last = {
        entry.disclosure_id: entry
        for entry in LogEntry.objects.filter(
            disclosure__in=items, seq=Subquery(newest.values("seq")[:1])
        ).order_by()
    }
    details = {item.pk: data(item) for item in items}
    LogEntry.objects.bulk_create(
        [_log_entry(item, last.get(item.pk), action, None, **details[item.pk]) for item in items]
    )
    record_all(
        [
            audit_entry(
                None,
                f"disclosure.{action}",
                item,
                org_id=item.org_id,
                status=item.status,
                **details[item.pk],
            )
            for item in items
        ]
    )
    pending_scope = set(
        ScopeChange.objects.filter(disclosure__in=items, status=ScopeChange.Status.PENDING)
        .order_by()
        .values_list("disclosure_id", flat=True)
    )
    subjects = {f"disclosure:{item.pk}": item for item in items}
    with_open = set(
        Task.objects.open()
        .filter(subject__in=list(subjects))
        .order_by()
        .values_list("subject", flat=True)
    )
    for subject, item in subjects.items():
        wanted = wanted_tasks(item, pending_scope=item.pk in pending_scope)
        # Nothing open and nothing wanted: sync_tasks would do nothing. (The item rows are
        # locked, and only a step of an item opens its tasks: none can appear meanwhile.)
        if wanted or subject in with_open:
            sync_tasks(subject, wanted, actor=None)
    for item in items:
        disclosure_changed.send(sender=Disclosure, item=item)


def expire_due(now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """Mark every published item whose period has ended as expired (still visible)."""
    now = now or timezone.now()
    done = []
    due = Disclosure.objects.filter(status=S.PUBLISHED, expire_at__lte=now).order_by("expire_at")
    for pk in _claim(due, limit):
        try:
            disclosure_expire(Disclosure(pk=pk), actor=None, now=now)
            done.append(pk)
        except ActionError:
            continue  # another worker got there first
        except Exception:
            logger.exception("expiring disclosure %s failed", pk)
    return done


def open_due_stages(now: datetime.datetime | None = None) -> list[int]:
    """分期逐段 (TIME-1): when a phased item's next stage is due, ask its organization's
    clerks to propose the next stage's disclosure (a PROPOSE task, once — decided under the
    item's row lock, so two workers cannot both open it)."""
    now = now or timezone.now()
    opened = []
    due = Disclosure.objects.filter(
        status=S.PUBLISHED, timing_kind="phased", next_stage_at__lte=now
    )
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            item = _lock(Disclosure(pk=pk))
            subject = f"stage:{item.pk}:{item.next_stage_at:%Y%m%d%H%M}"
            if item.status != S.PUBLISHED or Task.objects.filter(subject=subject).exists():
                continue
            sync_tasks(
                subject,
                [
                    Want(
                        Task.Kind.PROPOSE,
                        item.org,
                        f"{item.title}（下一阶段）",
                        item_url(item),
                        roles=policy.PROPOSE_ROLES,
                        due_at=now + datetime.timedelta(days=DUE_DAYS["publish"]),
                    )
                ],
            )
        opened.append(pk)
    return opened


# The staff are told again about a due item that still cannot be published after this long.
FAILURE_NOTICE_INTERVAL = datetime.timedelta(days=1)


def _note_failure(pk: int, reason: str, now: datetime.datetime) -> None:
    """A due item that cannot be published (e.g. its approval was invalidated) is left as
    it is; its staff are told, once a day at most, under the item's row lock."""
    from dwgk.inbox.models import Notification

    with transaction.atomic():
        item = _lock(Disclosure(pk=pk))
        if item.status != S.SCHEDULED:
            return
        text = f"《{item.title}》未能按时发布：{reason}"[:300]
        people = people_for(item.org, policy.PUBLISH_ROLES)
        told = Notification.objects.filter(
            text=text, user__in=people, created_at__gt=now - FAILURE_NOTICE_INTERVAL
        ).exists()
        if not told:
            notify(people, text, item_url(item))
