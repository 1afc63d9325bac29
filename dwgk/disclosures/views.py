"""Screens of the disclosure procedure: an organization's items, drafting and editing, the
item page with its record, attachments, and one POST view per step (PROC-1 … PROC-8,
MECH-1 … MECH-7, TIME-1, SCOPE-2).

Every item comes through `Disclosure.objects.visible_to(request.user)`: an item nobody
showed this person is a 404, whoever asks. Each step then checks the policy for that step
(a refused right is a 403 page, in whatever state the item is) and calls its function in
`disclosures.actions`, which decides again under a lock; an ActionError comes back as a
Chinese message on the re-rendered page (HTTP 400) with what was typed kept and nothing
changed. Which steps a page offers is worked out from `actions.TRANSITIONS` and
`disclosures.policy`: that only decides what is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from dwgk.accounts.models import Role
from dwgk.audience.keys import Audience
from dwgk.catalog.channels import describe_channels
from dwgk.disclosures import actions, policy
from dwgk.disclosures.forms import (
    AttachmentForm,
    CollectiveForm,
    ConfirmForm,
    DelayForm,
    DisclosureForm,
    ReasonForm,
    RedactForm,
    ReferralAnswerForm,
    ReviewForm,
    ScheduleForm,
    SignForm,
    WidenForm,
)
from dwgk.disclosures.models import (
    GENESIS,
    Approval,
    Attachment,
    CoConfirmation,
    Disclosure,
    DisclosureQuerySet,
    LogEntry,
    ScopeChange,
    mark_read,
)
from dwgk.lib import files
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.lib.http import set_last_modified
from dwgk.lib.sheets import human_size
from dwgk.lib.views import first_error, forbidden
from dwgk.orgs.models import Organization
from dwgk.public.pagecache import public_page

S = Disclosure.Status
PER_PAGE = 50

# What happens next, for the people working on the item.
NEXT_STEP = {
    S.DRAFT: "草稿。内容准备好后由承办人提出，交审核。",
    S.RETURNED: "已退回修改。按意见修改后重新提出。",
    S.SUBMITTED: "已提出，等待审核人员开始审核。",
    S.REVIEWING: "审核中：保密审查、必要性、准确性、规范性审核和风险评估。",
    S.REFERRED: "已报保密部门确定密级，等待登记答复。",
    S.CONFIRMING: "沟通会签中，等待各会签单位答复。",
    S.APPROVING: "审批中。",
    S.APPROVED: "已批准，待发布：可立即发布或定时发布。",
    S.SCHEDULED: "已定时，到时自动发布。",
    S.PUBLISHED: "已公开。",
    S.EXPIRED: "已过公开期限，仍可查阅。",
    S.CLOSED: "已结束。",
    S.WITHDRAWN: "已紧急撤回，更正说明向原公开范围公布。",
    S.REJECTED: "不予公开。",
    S.ARCHIVED: "已归档。",
}
# Where a pre-screen finding is (actions.SCREENED_FIELDS), in the words of the form.
FIELD_LABELS = {
    "title": "标题",
    "body": "正文",
    "background": "出台背景",
    "significance": "重要意义",
    "key_points": "主要内容和要点",
}


# --- lookups --------------------------------------------------------------------------------


def _visible(request: HttpRequest) -> DisclosureQuerySet:
    return Disclosure.objects.visible_to(request.user).select_related(
        "org__parent", "entry", "author"
    )


def _item(request: HttpRequest, pk: int) -> Disclosure:
    item: Disclosure = get_object_or_404(_visible(request), pk=pk)
    return item


def _org(pk: int) -> Organization:
    org: Organization = get_object_or_404(Organization.objects.select_related("parent"), pk=pk)
    return org


def _org_staff(user: Any, org: Organization) -> bool:
    return policy.works_on_org(user, org)


def _in(item: Disclosure, step: str) -> bool:
    return item.status in actions.TRANSITIONS[step][0]


def _url(item: Disclosure, anchor: str = "") -> str:
    return reverse("disclosures:detail", args=[item.pk]) + (f"#{anchor}" if anchor else "")


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return forbidden(request, message, "disclosures/forbidden.html")


# --- the forms of the item page -------------------------------------------------------------


def _make_form(key: str, item: Disclosure, data: Any = None, upload: Any = None) -> forms.Form:
    """The form of one step, unbound for the page or bound to a post; each has its own id
    prefix because many are on one page."""
    if key == "attachment":
        return AttachmentForm(data, upload, auto_id="attach-%s")
    if key == "redact":
        return RedactForm(data, auto_id="redact-%s")
    if key == "withhold":
        return ReasonForm(data, label="不予公开的理由", auto_id="withhold-%s")
    if key == "review":
        return ReviewForm(data, auto_id="review-%s")
    if key == "referral":
        return ReferralAnswerForm(data, auto_id="referral-%s")
    if key == "sign":
        return SignForm(data, auto_id="sign-%s")
    if key == "collective":
        step = item.current_step() or {}
        initial = {"meeting": step.get("body", ""), "meeting_date": timezone.localdate()}
        return CollectiveForm(data, auto_id="collective-%s", initial=initial)
    if key == "send_back":
        return ReasonForm(data, label="退回意见", auto_id="return-%s")
    if key == "reject":
        return ReasonForm(data, label="不予公开的理由", auto_id="reject-%s")
    if key == "schedule":
        return ScheduleForm(data, auto_id="schedule-%s")
    if key == "delay":
        return DelayForm(data, auto_id="delay-%s")
    if key == "withdraw":
        return ReasonForm(data, label="更正说明（将向原公开范围公布）", auto_id="withdraw-%s")
    if key == "correct":
        return ReasonForm(data, label="更正说明", auto_id="correct-%s")
    if key == "close":
        return ReasonForm(data, label="结束说明（可不填）", auto_id="close-%s")
    if key == "archive":
        return ReasonForm(data, label="反馈意见汇总（可不填）", auto_id="archive-%s")
    if key == "widen":
        return WidenForm(data, item=item, auto_id="widen-%s")
    if key == "scope_decide":
        return ReasonForm(data, label="审批意见", auto_id="scope-%s")
    if key.startswith("confirm:"):
        org_id = key.removeprefix("confirm:")
        return ConfirmForm(data, auto_id=f"confirm{org_id}-%s", initial={"org": org_id})
    raise KeyError(key)


# --- what this person may do here -----------------------------------------------------------


@dataclass
class Panel:
    """The steps this person may take on the item in its current state."""

    staff: bool = False
    edit: bool = False
    edit_resets: bool = False  # editing sends a submitted item back to review
    attachments: bool = False
    submit: bool = False
    start_review: bool = False
    review: bool = False
    referral_answer: bool = False
    confirm: list[CoConfirmation] = field(default_factory=list)
    step: dict[str, Any] | None = None
    step_org: Organization | None = None
    sign: bool = False
    collective: bool = False
    decide_step: bool = False
    schedule: bool = False
    publish: bool = False
    delay: bool = False
    withdraw: bool = False
    correct: bool = False
    close: bool = False
    archive: bool = False
    widen: bool = False
    scope_change: ScopeChange | None = None
    scope_decide: bool = False
    catalog_update: bool = False

    def form_keys(self) -> list[str]:
        """The forms the page needs."""
        wanted = {
            "attachment": self.attachments,
            "review": self.review,
            "referral": self.referral_answer,
            "sign": self.sign,
            "collective": self.collective,
            "send_back": self.decide_step,
            "reject": self.decide_step,
            "schedule": self.schedule,
            "delay": self.delay,
            "withdraw": self.withdraw,
            "correct": self.correct,
            "close": self.close,
            "archive": self.archive,
            "widen": self.widen,
            "scope_decide": self.scope_decide,
        }
        keys = [key for key, on in wanted.items() if on]
        return keys + [f"confirm:{row.org_id}" for row in self.confirm]

    @property
    def any_step(self) -> bool:
        return bool(self.form_keys()) or any(
            (self.edit, self.submit, self.start_review, self.publish, self.catalog_update)
        )


def _panel(user: Any, item: Disclosure) -> Panel:
    panel = Panel()
    if not getattr(user, "is_authenticated", False):
        return panel
    panel.staff = policy.is_staff(user, item)
    if not panel.staff:
        return panel
    status = item.status
    can_edit = policy.can_edit(user, item)
    panel.edit = can_edit and (_in(item, "edit") or _in(item, "edit_submitted"))
    panel.edit_resets = panel.edit and not _in(item, "edit")
    panel.attachments = can_edit and item.is_editable
    panel.submit = can_edit and _in(item, "submit")
    can_review = policy.can_review(user, item)
    panel.start_review = can_review and _in(item, "start_review")
    panel.review = can_review and status == S.REVIEWING
    panel.referral_answer = can_review and _in(item, "referral_answer")
    if _in(item, "confirm"):
        panel.confirm = [
            row
            for row in item.co_confirmations.filter(
                revision=item.revision, answer=CoConfirmation.Answer.PENDING
            ).select_related("org")
            if policy.can_confirm(user, row.org)
        ]
    if _in(item, "approve"):
        panel.step = item.current_step()
        if panel.step is not None:
            panel.step_org = policy.step_org(item, panel.step)
            panel.sign = panel.step["kind"] != "body" and policy.can_sign(user, item, panel.step)
            panel.collective = policy.can_record_collective(user, item, panel.step)
            panel.decide_step = panel.sign or panel.collective
    can_publish = policy.can_publish(user, item)
    panel.schedule = can_publish and _in(item, "schedule")
    panel.publish = can_publish and _in(item, "publish")
    panel.delay = policy.can_consent_delay(user, item) and _in(item, "delay")
    panel.withdraw = policy.can_withdraw(user, item) and _in(item, "withdraw")
    panel.correct = policy.can_correct(user, item) and _in(item, "correct")
    panel.close = can_publish and _in(item, "close")
    panel.archive = policy.can_archive(user, item) and _in(item, "archive")
    if _in(item, "widen"):
        panel.scope_change = item.scope_changes.filter(status=ScopeChange.Status.PENDING).first()
        panel.widen = can_publish and panel.scope_change is None
        panel.scope_decide = panel.scope_change is not None and policy.can_decide_scope(user, item)
    panel.catalog_update = item.catalog_update_pending and _may_update_catalog(user, item)
    return panel


def _may_update_catalog(user: Any, item: Disclosure) -> bool:
    return policy.any_role(user, (Role.CLERK, Role.PRINCIPAL), item.org)


def _may_approve(user: Any, item: Disclosure) -> bool:
    """Decides the current step; out of approval, could decide one of the route's steps
    (so that the state, not the person, is what a refusal is about)."""
    step = item.current_step() if item.status == S.APPROVING else None
    if step is not None:
        return policy.can_act_on_step(user, item, step)
    return any(policy.can_act_on_step(user, item, s) for s in item.route or [])


def _may_decide(user: Any, item: Disclosure) -> bool:
    """Returns and rejections come from the reviewer, or from whoever decides a step."""
    return policy.can_review(user, item) or _may_approve(user, item)


_STEP_DENIED = "您无权处理该审批环节。"


# --- the item page --------------------------------------------------------------------------


@dataclass
class RouteRow:
    n: int
    label: str
    org: Organization | None
    state: str
    approval: Approval | None = None


def _route_rows(item: Disclosure) -> list[RouteRow]:
    route = item.route or (actions.build_route(item) if item.is_editable else [])
    approved = {
        a.step: a
        for a in item.approvals.filter(
            revision=item.revision, decision=Approval.Decision.APPROVED
        ).select_related("by")
    }
    rows = []
    for n, step in enumerate(route):
        approval = approved.get(n) if item.route else None
        if approval is not None:
            state = "已批准"
        elif item.status == S.APPROVING and item.step == n:
            state = "当前环节"
        else:
            state = "待审批"
        label = step.get("label") or step.get("body") or step["kind"]
        rows.append(RouteRow(n + 1, label, policy.step_org(item, step), state, approval))
    return rows


def _findings(item: Disclosure) -> list[dict[str, Any]]:
    rows = []
    for finding in actions.prescreen_item(item):
        where = (
            FIELD_LABELS.get(finding["field"], finding["field"])
            if "field" in finding
            else f"附件：{finding['name']}"
        )
        rows.append({**finding, "where": where})
    return rows


def _log(item: Disclosure) -> tuple[list[tuple[LogEntry, str]], bool]:
    """The item's log with labels, and whether its hash chain is intact."""
    entries = list(item.log.all())
    ok, prev = True, GENESIS
    for entry in entries:
        ok = ok and entry.prev_hash == prev and entry.compute_hash() == entry.hash
        prev = entry.hash
    return [(e, e.label) for e in entries], ok


def _detail(
    request: HttpRequest,
    item: Disclosure,
    *,
    error: str = "",
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    panel = _panel(user, item)
    staff = panel.staff
    taken_down = item.withdrawn_at is not None
    attachments = list(item.attachments.order_by("id"))
    if not staff:
        attachments = [a for a in attachments if not (a.withheld or a.removed)]
    page_forms = {key: _make_form(key, item) for key in panel.form_keys()}
    page_forms.update(bound or {})
    audience = item.get_audience()
    context: dict[str, Any] = {
        "item": item,
        "org": item.org,
        "panel": panel,
        "staff": staff,
        "org_staff": staff and _org_staff(user, item.org),
        "forms": page_forms,
        "error": error,
        "taken_down": taken_down,
        "show_content": staff or not taken_down,
        "attachments": attachments,
        "audience_text": audience.describe(),
        "audience_note": audience.note,
        "channels_text": describe_channels(list(item.channels)),
        "next_step": NEXT_STEP.get(S(item.status), ""),
    }
    if panel.review:
        context["findings"] = _findings(item)
    context["confirm_rows"] = [(row, page_forms[f"confirm:{row.org_id}"]) for row in panel.confirm]
    if panel.scope_change is not None:
        context["scope_change_text"] = Audience.from_json(
            panel.scope_change.new_audience
        ).describe()
    if staff:
        log, chain_ok = _log(item)
        context.update(
            route_rows=_route_rows(item),
            reviews=list(item.reviews.select_related("reviewer")),
            confirmations=list(item.co_confirmations.select_related("org", "by")),
            approvals=list(item.approvals.select_related("by", "acting_org")),
            scope_changes=list(item.scope_changes.select_related("proposed_by", "decided_by")),
            revisions=list(item.revisions.select_related("by")),
            log=log,
            chain_ok=chain_ok,
        )
    return render(request, "disclosures/detail.html", context, status=status)


@require_GET
@public_page
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The item as its audience reads it; for the people working on it, also its state,
    the steps they may take now and its whole record. Opening it clears its unread mark."""
    item = _item(request, pk)
    mark_read(request.user, item)
    response = _detail(request, item)
    set_last_modified(response, item.updated_at)
    return response


@require_GET
def revision(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """One revision's content as it was snapshotted (staff only: it may hold what was
    redacted before publication)."""
    item = _item(request, pk)
    if not policy.is_staff(request.user, item):
        return _forbidden(request, "只有本事项的工作人员可以查看内容版本。")
    rev = get_object_or_404(item.revisions.select_related("by"), number=number)
    content = rev.content or {}
    return render(
        request,
        "disclosures/revision.html",
        {
            "item": item,
            "org": item.org,
            "rev": rev,
            "content": content,
            "audience_text": Audience.from_json(content.get("audience")).describe(),
            "channels_text": describe_channels(list(content.get("channels") or [])),
        },
    )


@require_GET
def attachment_download(request: HttpRequest, pk: int, att_pk: int) -> HttpResponseBase:
    """An attachment, always as a download. Withheld and removed files — and every file of
    a withdrawn item — are served to the item's staff only."""
    item = _item(request, pk)
    attachment = get_object_or_404(Attachment, pk=att_pk, disclosure=item)
    hidden = attachment.withheld or attachment.removed or item.withdrawn_at is not None
    if hidden and not policy.is_staff(request.user, item):
        raise Http404("没有这个附件。")
    try:
        kind = files.kind_for_code(attachment.kind)
    except KeyError:
        raise Http404("附件类型未知。") from None
    response = FileResponse(attachment.file.open("rb"))
    for name, value in files.safe_download_headers(kind, attachment.name).items():
        response[name] = value
    return response


# --- an organization's items ----------------------------------------------------------------


@login_required
@require_GET
def org_list(request: HttpRequest, org_pk: int) -> HttpResponse:
    """Every item of an organization, in every state, for the people who work on them."""
    org = _org(org_pk)
    if not _org_staff(request.user, org):
        return _forbidden(request, "只有本组织及上级组织的党务公开工作人员可以查看全部公开事项。")
    items = _visible(request).filter(org=org)
    counts = dict(items.order_by().values_list("status").annotate(n=Count("id")))
    status = request.GET.get("status", "")
    if status not in S.values:
        status = ""
    shown = items.filter(status=status) if status else items
    page = Paginator(shown.order_by("-updated_at", "-id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "disclosures/org.html",
        {
            "org": org,
            "page": page,
            "status": status,
            "statuses": [(s.value, s.label, counts.get(s.value, 0)) for s in S],
            "total": sum(counts.values()),
            "can_propose": policy.can_propose(request.user, org),
        },
    )


# --- drafting and editing -------------------------------------------------------------------


@login_required
def create(request: HttpRequest, org_pk: int) -> HttpResponse:
    """Draft an item under an entry of the organization's catalog, or out of catalog with a
    reason (PROC-1, PROC-7). `?entry=<pk>` fills the form from that entry."""
    org = _org(org_pk)
    if not policy.can_propose(request.user, org):
        return _forbidden(request, f"您无权在“{org.name}”提出公开事项。")
    entries = actions.in_force_entries(org)
    initial: dict[str, Any] = {}
    wanted = request.GET.get("entry", "")
    picked = next((e for e in entries if str(e.pk) == wanted), None)
    if picked is not None:
        initial = DisclosureForm.initial_for_entry(picked)
    elif wanted == "out":
        initial = {"entry": "out"}
    form = DisclosureForm(request.POST or None, org=org, entries=entries, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                item = actions.disclosure_create(
                    org,
                    actor=request.user,
                    entry=form.chosen_entry(),
                    out_of_catalog_reason=form.reason(),
                    **form.content_fields(),
                )
            except NotAllowed as error:
                return _forbidden(request, error.message)
            except ActionError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "草稿已保存。可继续上传附件，准备好后提出。")
                return redirect(_url(item))
    return render(
        request,
        "disclosures/form.html",
        {"org": org, "form": form, "entries": entries, "picked": picked, "item": None},
        status=status,
    )


@login_required
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change the content. After submission this sends the item back to review: every
    opinion, co-unit answer and approval names the revision it was given for."""
    item = _item(request, pk)
    if not policy.can_edit(request.user, item):
        return _forbidden(request, "您无权修改该事项。")
    if not (_in(item, "edit") or _in(item, "edit_submitted")):
        messages.error(request, f"该事项当前状态为“{item.get_status_display()}”，不能修改。")
        return redirect(_url(item))
    resets = not _in(item, "edit")
    form = DisclosureForm(request.POST or None, org=item.org, item=item)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            fields = form.content_fields()
            if not fields:
                messages.info(request, "内容没有变化。")
                return redirect(_url(item))
            try:
                item = actions.disclosure_edit(
                    item, actor=request.user, note=form.cleaned_data.get("note", ""), **fields
                )
            except NotAllowed as error:
                return _forbidden(request, error.message)
            except ActionError as error:
                form.add_error(None, error.message)
            else:
                done = f"已保存为第{item.revision}版。"
                if resets:
                    done += "事项已回到“已提出，待审核”，须重新审核、会签和审批。"
                messages.success(request, done)
                return redirect(_url(item))
    return render(
        request,
        "disclosures/form.html",
        {"org": item.org, "form": form, "item": item, "resets": resets},
        status=status,
    )


# --- steps ----------------------------------------------------------------------------------


def _act(
    request: HttpRequest,
    item: Disclosure,
    *,
    may: Callable[[Any, Disclosure], bool],
    denied: str,
    run: Callable[[Any], Any],
    done: str | Callable[[Any], str],
    key: str = "",
    anchor: str = "",
) -> HttpResponse:
    """One step: the right (403), the form (400), the action (400 or 403), then back to
    the item with a message. `run` gets the valid bound form (None for a bare button)."""
    if not may(request.user, item):
        return _forbidden(request, denied)
    form = _make_form(key, item, request.POST, request.FILES) if key else None
    bound = {key: form} if form is not None else None
    if form is not None and not form.is_valid():
        return _detail(request, item, error=first_error(form), bound=bound, status=400)
    try:
        result = run(form)
    except NotAllowed as error:
        return _forbidden(request, error.message)
    except ActionError as error:
        return _detail(request, item, error=error.message, bound=bound, status=400)
    messages.success(request, done if isinstance(done, str) else done(result))
    return redirect(_url(item, anchor))


def _now_status(result: Any) -> str:
    return f"当前状态：{result.get_status_display()}。"


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)

    def run(form: AttachmentForm) -> Attachment:
        upload = form.cleaned_data["file"]
        if upload.size > files.max_attachment_bytes():
            raise ActionError(f"文件超过大小上限（{human_size(files.max_attachment_bytes())}）。")
        return actions.attachment_add(
            item, actor=request.user, name=upload.name, data=upload.read()
        )

    return _act(
        request,
        item,
        may=policy.can_edit,
        denied="您无权修改该事项的附件。",
        run=run,
        done=lambda a: f"已上传附件“{a.name}”。",
        key="attachment",
        anchor="attachments",
    )


@login_required
@require_POST
def attachment_remove(request: HttpRequest, pk: int, att_pk: int) -> HttpResponse:
    item = _item(request, pk)
    attachment = get_object_or_404(Attachment, pk=att_pk, disclosure=item)
    return _act(
        request,
        item,
        may=policy.can_edit,
        denied="您无权修改该事项的附件。",
        run=lambda _: actions.attachment_remove(attachment, actor=request.user),
        done=f"已移除附件“{attachment.name}”。",
        anchor="attachments",
    )


@login_required
@require_POST
def attachment_withhold(request: HttpRequest, pk: int, att_pk: int) -> HttpResponse:
    item = _item(request, pk)
    attachment = get_object_or_404(Attachment, pk=att_pk, disclosure=item)
    return _act(
        request,
        item,
        may=policy.can_review,
        denied="只有审核人员可以决定附件不予公开。",
        run=lambda f: actions.attachment_withhold(
            attachment, actor=request.user, reason=f.cleaned_data["text"]
        ),
        done=f"附件“{attachment.name}”不予公开，仅存档备查。",
        key="withhold",
        anchor="review",
    )


@login_required
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_edit,
        denied="只有承办人或本组织党务公开工作人员可以提出该事项。",
        run=lambda _: actions.disclosure_submit(item, actor=request.user),
        done="已提出，交审核人员审核。",
    )


@login_required
@require_POST
def start_review(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_review,
        denied="您无权审核该事项（审核人须为本组织审核人员，且不能审核自己提出的事项）。",
        run=lambda _: actions.disclosure_start_review(item, actor=request.user),
        done="已开始审核。请查看预检结果，脱敏后填写审核意见。",
        anchor="review",
    )


@login_required
@require_POST
def redact(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_review,
        denied="只有审核人员可以脱敏。",
        run=lambda f: actions.disclosure_redact(
            item,
            actor=request.user,
            field=f.cleaned_data["field"],
            start=f.cleaned_data["start"],
            end=f.cleaned_data["end"],
        ),
        done="已脱敏，原文保存在上一内容版本中。",
        key="redact",
        anchor="review",
    )


@login_required
@require_POST
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The reviewer's decision (PROC-2): pass, return, refer to the secrecy office, reject."""
    item = _item(request, pk)
    decision = request.POST.get("decision", "")
    user = request.user

    def run(form: ReviewForm) -> Disclosure:
        data = form.cleaned_data
        note = data.get("comment", "")
        if decision == "pass":
            return actions.disclosure_pass_review(
                item,
                actor=user,
                **form.opinions(),
                risks=form.risks(),
                prevention_plan=data.get("prevention_plan", ""),
                comment=note,
            )
        if decision == "return":
            return actions.disclosure_return(
                item,
                actor=user,
                opinion=note,
                **form.opinions(),
                risks=form.risks(only_assessed=True),
                prevention_plan=data.get("prevention_plan", ""),
            )
        if decision == "refer":
            return actions.disclosure_refer(item, actor=user, question=note)
        if decision == "reject":
            return actions.disclosure_reject(item, actor=user, reason=note)
        raise ActionError("请选择审核结论。")

    done = {
        "pass": "审核通过。",
        "return": "已退回修改，意见已送达承办人。",
        "refer": "已报保密部门确定密级。",
        "reject": "已决定不予公开。",
    }.get(decision, "")
    return _act(
        request,
        item,
        may=policy.can_review,
        denied="您无权审核该事项（审核人须为本组织审核人员，且不能审核自己提出的事项）。",
        run=run,
        done=lambda r: done + _now_status(r),
        key="review",
    )


@login_required
@require_POST
def referral_answer(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_review,
        denied="只有审核人员可以登记保密部门的答复。",
        run=lambda f: actions.disclosure_referral_answer(
            item,
            actor=request.user,
            may_disclose=f.cleaned_data["may_disclose"],
            answer=f.cleaned_data["answer"],
        ),
        done=lambda r: "已登记保密部门的答复。" + _now_status(r),
        key="referral",
    )


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """A co-unit's answer (PROC-8): agree, or disagree with a reason."""
    item = _item(request, pk)
    user = request.user
    try:
        org_id = int(request.POST.get("org", ""))
    except ValueError:
        org_id = 0
    co_orgs = {o.pk: o for o in Organization.objects.filter(pk__in=item.co_units)}
    if not any(policy.can_confirm(user, o) for o in co_orgs.values()):
        return _forbidden(request, "只有会签单位的党务公开工作人员可以会签。")
    org = co_orgs.get(org_id)
    if org is None:
        return _detail(request, item, error="请选择会签单位。", status=400)
    agree = request.POST.get("agree") == "1"
    return _act(
        request,
        item,
        may=lambda u, _: policy.can_confirm(u, org),
        denied=f"您无权代表“{org.name}”会签。",
        run=lambda f: actions.disclosure_confirm(
            item, actor=user, org=org, agree=agree, comment=f.cleaned_data["comment"]
        ),
        done=lambda r: (
            f"已代表“{org.name}”{'同意' if agree else '提出不同意见'}。" + _now_status(r)
        ),
        key=f"confirm:{org.pk}",
    )


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve the current route step: signed, or a collective decision recorded."""
    item = _item(request, pk)
    collective = request.POST.get("form") == "collective"

    def run(form: forms.Form) -> Disclosure:
        data = form.cleaned_data
        if collective:
            return actions.disclosure_approve(
                item,
                actor=request.user,
                collective=True,
                meeting=data["meeting"],
                meeting_date=data["meeting_date"],
                minutes=data["minutes"],
                comment=data["comment"],
            )
        return actions.disclosure_approve(item, actor=request.user, comment=data["comment"])

    return _act(
        request,
        item,
        may=_may_approve,
        denied=_STEP_DENIED,
        run=run,
        done=lambda r: "已记录审批意见。" + _now_status(r),
        key="collective" if collective else "sign",
    )


@login_required
@require_POST
def send_back(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=_may_decide,
        denied=_STEP_DENIED,
        run=lambda f: actions.disclosure_return(
            item, actor=request.user, opinion=f.cleaned_data["text"]
        ),
        done="已退回修改，意见已送达承办人。",
        key="send_back",
    )


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=_may_decide,
        denied=_STEP_DENIED,
        run=lambda f: actions.disclosure_reject(
            item, actor=request.user, reason=f.cleaned_data["text"]
        ),
        done="已决定不予公开。",
        key="reject",
    )


@login_required
@require_POST
def schedule(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_publish,
        denied="您无权安排发布该事项。",
        run=lambda f: actions.disclosure_schedule(
            item, actor=request.user, publish_at=f.cleaned_data["publish_at"]
        ),
        done=lambda r: f"已定时于{timezone.localtime(r.publish_at):%Y年%m月%d日 %H:%M:%S}发布。",
        key="schedule",
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_publish,
        denied="您无权发布该事项。",
        run=lambda _: actions.disclosure_publish(item, actor=request.user),
        done=lambda r: f"已发布，索引号 {r.index_no}。",
    )


@login_required
@require_POST
def delay(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_consent_delay,
        denied="延期公开须经本组织主要负责人同意。",
        run=lambda f: actions.disclosure_delay(
            item, actor=request.user, until=f.cleaned_data["until"], reason=f.cleaned_data["reason"]
        ),
        done=lambda r: f"已同意延期，至{timezone.localtime(r.publish_at):%Y年%m月%d日 %H:%M}发布。",
        key="delay",
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_withdraw,
        denied="紧急撤回须由本组织主要负责人或党务公开协调人员决定。",
        run=lambda f: actions.disclosure_withdraw(
            item, actor=request.user, notice=f.cleaned_data["text"]
        ),
        done="已撤回，更正说明已向原公开范围公布。",
        key="withdraw",
    )


@login_required
@require_POST
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_correct,
        denied="您无权发布更正说明。",
        run=lambda f: actions.disclosure_correct(
            item, actor=request.user, notice=f.cleaned_data["text"]
        ),
        done="更正说明已发布。",
        key="correct",
    )


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_publish,
        denied="您无权结束该事项。",
        run=lambda f: actions.disclosure_close(
            item, actor=request.user, note=f.cleaned_data["text"]
        ),
        done="事项已结束。",
        key="close",
    )


@login_required
@require_POST
def archive(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    return _act(
        request,
        item,
        may=policy.can_archive,
        denied="您无权归档该事项。",
        run=lambda f: actions.disclosure_archive(
            item, actor=request.user, feedback_summary=f.cleaned_data["text"]
        ),
        done="已归档。",
        key="archive",
    )


@login_required
@require_POST
def widen_propose(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)

    def run(form: WidenForm) -> ScopeChange:
        return actions.scope_widen_propose(
            item, actor=request.user, audience=form.audience(), reason=form.cleaned_data["reason"]
        )

    return _act(
        request,
        item,
        may=policy.can_publish,
        denied="您无权提出调整公开范围。",
        run=run,
        done="已提出扩大公开范围，待批准。",
        key="widen",
    )


@login_required
@require_POST
def widen_decide(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    change = item.scope_changes.filter(status=ScopeChange.Status.PENDING).first()
    approve_it = request.POST.get("approve") == "1"

    def run(form: ReasonForm) -> ScopeChange:
        if change is None:
            raise ActionError("没有待批准的公开范围调整。")
        return actions.scope_widen_decide(
            change, actor=request.user, approve=approve_it, comment=form.cleaned_data["text"]
        )

    return _act(
        request,
        item,
        may=policy.can_decide_scope,
        denied="您无权批准调整该事项的公开范围。",
        run=run,
        done="已批准扩大公开范围。" if approve_it else "已决定不扩大公开范围。",
        key="scope_decide",
    )


@login_required
@require_POST
def catalog_update(request: HttpRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    add = request.POST.get("add") == "1"
    return _act(
        request,
        item,
        may=_may_update_catalog,
        denied="您无权调整本组织目录。",
        run=lambda _: actions.disclosure_catalog_update(item, actor=request.user, add_entry=add),
        done="已在目录调整草稿中新增条目，请到本组织目录完成审议和公开。"
        if add
        else "已记录：该事项不纳入目录。",
    )
