"""Screens of the feedback on disclosed items (意见反馈, PROC-5): leaving an opinion on an
item, the organization's handling inbox, recording an opinion that came by hotline or
letter, one opinion's page with its handling steps, and "我的意见".

Items come through `Disclosure.objects.visible_to(request.user)` (whoever can see the item
page may comment on it), opinions through `Opinion.objects.visible_to` / `followed_by`:
an opinion page nobody handles for this person, and that is not their own, is a 404. Each
step then checks the policy (a refused right is a 403 page) and calls its function in
`feedback.actions`, which decides again under a lock; an ActionError comes back as a
Chinese message on the re-rendered page (HTTP 400) with what was typed kept and nothing
changed. Who submitted an opinion is shown on the handling screens only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dwgk.accounts.models import User
from dwgk.disclosures.models import Disclosure
from dwgk.disclosures.policy import STAFF_ROLES
from dwgk.feedback import actions, policy
from dwgk.feedback.forms import (
    HONEYPOT,
    AssignForm,
    OpinionForm,
    RecordForm,
    TextForm,
    issue_token,
    token_problem,
)
from dwgk.feedback.models import OPEN_FOR_OPINIONS, Opinion, accepts_opinions, shows_opinions
from dwgk.inbox.services import people_for
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.lib.views import first_error, forbidden
from dwgk.orgs.models import Organization

S = Opinion.Status
PER_PAGE = 50
# The inbox's extra filter besides the states: answered, but the named submitter still has
# to be told offline (QJ 9(4)).
TELL = "tell"


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return forbidden(request, message, "disclosures/forbidden.html")


def _client_ip(request: HttpRequest) -> str:
    # Only the address the connection came from: a forwarded header is typed by the client.
    return str(request.META.get("REMOTE_ADDR") or "")


def _item_url(item: Disclosure, anchor: str = "feedback") -> str:
    return reverse("disclosures:detail", args=[item.pk]) + (f"#{anchor}" if anchor else "")


def _detail_url(op: Opinion) -> str:
    return reverse("feedback:detail", args=[op.pk])


# --- leaving an opinion on an item ----------------------------------------------------------


def _open_item(request: HttpRequest, item_pk: int) -> Disclosure:
    """The item, if this person can see it and it takes opinions now; else a 404."""
    item: Disclosure = get_object_or_404(
        Disclosure.objects.visible_to(request.user).select_related("org"), pk=item_pk
    )
    if not accepts_opinions(item):
        raise Http404("该事项当前不接受意见。")
    return item


def _submit_page(
    request: HttpRequest, item: Disclosure, form: OpinionForm, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "feedback/submit.html",
        {"item": item, "org": item.org, "form": form, "error": error, "honeypot": HONEYPOT},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def submit(request: HttpRequest, item_pk: int) -> HttpResponse:
    """网络留言: the opinion form of an item (also shown on the item page) and its post.
    A refused post comes back here with the reason and the text as typed."""
    item = _open_item(request, item_pk)
    user = request.user
    if request.method == "GET":
        return _submit_page(request, item, OpinionForm(item=item, user=user))
    form = OpinionForm(request.POST, item=item, user=user)
    if not form.is_valid():
        return _submit_page(request, item, form, error=first_error(form), status=400)
    honeypot = form.cleaned_data[HONEYPOT]
    # A filled honeypot goes to the action, which refuses it without saying why; a bot
    # learns nothing from the timing check either.
    if not honeypot:
        problem, renew = token_problem(form.cleaned_data["token"], item.pk)
        if problem:
            if renew:
                data = request.POST.copy()
                data["token"] = issue_token(item.pk)
                form = OpinionForm(data, item=item, user=user)
                form.is_valid()
            return _submit_page(request, item, form, error=problem, status=400)
    try:
        op = actions.opinion_submit(
            item,
            user_or_anonymous=user,
            text=form.cleaned_data["text"],
            named=form.is_named,
            ip=_client_ip(request),
            honeypot=honeypot,
        )
    except NotAllowed as error:
        return _forbidden(request, error.message)
    except ActionError as error:
        return _submit_page(request, item, form, error=error.message, status=400)
    if op.named:
        messages.success(request, "您的意见已提交。办理结果将通知您，也可在“我的意见”中查看。")
    else:
        messages.success(request, "您的意见已提交，感谢您的参与。")
    return redirect(_item_url(item))


# --- the organization's handling inbox ------------------------------------------------------


def _org(pk: int) -> Organization:
    org: Organization = get_object_or_404(Organization, pk=pk)
    return org


@login_required
@require_GET
def org_inbox(request: HttpRequest, org_pk: int) -> HttpResponse:
    """The organization's opinions, by state, with who submitted them (only here and on
    each opinion's page), for its disclosure staff."""
    org = _org(org_pk)
    user = request.user
    if not policy.is_handling_staff(user, org.pk):
        return _forbidden(request, "只有本组织的党务公开工作人员可以查看和办理意见。")
    ops = Opinion.objects.visible_to(user).filter(org=org)
    counts = dict(ops.order_by().values_list("status").annotate(n=Count("id")))
    tell_count = ops.tell_due().count()
    status = request.GET.get("status", "")
    if status == TELL:
        shown = ops.tell_due()
    elif status in S.values:
        shown = ops.filter(status=status)
    else:
        status = ""
        shown = ops
    shown = shown.select_related("disclosure", "submitter", "assignee")
    page = Paginator(shown, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/org.html",
        {
            "org": org,
            "page": page,
            "rows": [(op, op.for_viewer(user)) for op in page.object_list],
            "status": status,
            "statuses": [(s.value, s.label, counts.get(s.value, 0)) for s in S],
            "tell_count": tell_count,
            "total": sum(counts.values()),
            "can_record": policy.can_handle(user, org),
        },
    )


# --- recording an opinion that came by hotline, letter … ------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def record(request: HttpRequest, org_pk: int) -> HttpResponse:
    """The clerk records an offline opinion for one of the organization's disclosed items."""
    org = _org(org_pk)
    user = request.user
    if not policy.can_handle(user, org):
        return _forbidden(
            request, "只有本组织的党务公开工作人员、办公室统筹协调人员或主要负责人可以登记意见。"
        )
    items = (
        Disclosure.objects.visible_to(user)
        .filter(org=org, status__in=OPEN_FOR_OPINIONS, withdrawn_at__isnull=True)
        .order_by("-published_at", "-id")
    )
    error = ""
    if request.method == "POST":
        form = RecordForm(request.POST, items=items)
        if form.is_valid():
            data = form.cleaned_data
            try:
                op = actions.opinion_record(
                    data["item"],
                    actor=user,
                    channel=data["channel"],
                    text=data["text"],
                    submitter_name=data["submitter_name"],
                    contact=data["contact"],
                )
            except NotAllowed as e:
                return _forbidden(request, e.message)
            except ActionError as e:
                error = e.message
            else:
                messages.success(request, "已登记该意见，请及时办理。")
                return redirect(_detail_url(op))
        else:
            error = first_error(form)
    else:
        form = RecordForm(items=items, initial={"item": request.GET.get("item") or None})
    return render(
        request,
        "feedback/record.html",
        {"org": org, "form": form, "error": error, "has_items": items.exists()},
        status=400 if error else 200,
    )


# --- one opinion ----------------------------------------------------------------------------


def _followed(request: HttpRequest, pk: int) -> Opinion:
    op: Opinion = get_object_or_404(
        Opinion.objects.followed_by(request.user).select_related(
            "disclosure__org", "org", "submitter", "assignee", "recorded_by", "replied_by"
        ),
        pk=pk,
    )
    return op


def _colleagues(op: Opinion) -> Any:
    """Whom the opinion may be assigned to: the organization's disclosure staff."""
    return User.objects.filter(pk__in=[u.pk for u in people_for(op.org, STAFF_ROLES)]).order_by(
        "name", "username"
    )


def _make_form(key: str, op: Opinion, data: Any = None) -> forms.Form:
    """The form of one step, unbound for the page or bound to a post."""
    if key == "assign":
        initial = {"assignee": op.assignee_id} if op.assignee_id else None
        return AssignForm(data, colleagues=_colleagues(op), initial=initial)
    if key == "reply":
        return TextForm(data, label="办理结果（答复意见）", key="reply")
    if key == "reject":
        return TextForm(data, label="不予受理理由", key="reject")
    if key == "tell":
        return TextForm(data, label="告知方式（如：电话告知、回信告知、当面告知）", key="tell")
    if key == "publish":
        return TextForm(
            data, label="随事项公开的办理结果", key="publish", initial={"text": op.reply}
        )
    raise KeyError(key)


def _steps(user: Any, op: Opinion) -> dict[str, bool]:
    """The steps this person may take on the opinion in its state (what is shown; the
    action decides again)."""
    handle = policy.can_handle(user, op.org)
    open_ = op.status in (S.NEW, S.ASSIGNED)
    handled = op.status in (S.REPLIED, S.CLOSED)
    return {
        "assign": handle and open_,
        "reply": policy.can_reply(user, op) and open_,
        "reject": handle and open_,
        "tell": handle and op.status == S.REPLIED and op.must_tell,
        "close": handle and op.status == S.REPLIED and not op.must_tell,
        "publish": handle and handled and not op.published and shows_opinions(op.disclosure),
        "unpublish": handle and op.published,
    }


FORM_STEPS = ("assign", "reply", "reject", "tell", "publish")


def _detail(
    request: HttpRequest,
    op: Opinion,
    *,
    error: str = "",
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    staff = policy.can_handle_view(user, op)
    steps = _steps(user, op) if staff else {}
    page_forms = {key: _make_form(key, op) for key in FORM_STEPS if steps.get(key)}
    page_forms.update(bound or {})
    own = op.submitter_id is not None and op.submitter_id == getattr(user, "pk", None)
    unread = own and op.outcome_unread
    if own and status == 200:
        actions.opinion_outcome_seen(op, user=user)
    return render(
        request,
        "feedback/detail.html",
        {
            "op": op,
            "view": op.for_viewer(user),
            "item": op.disclosure,
            "org": op.org,
            "staff": staff,
            "own": own,
            "unread": unread,
            "steps": steps,
            "any_step": any(steps.values()),
            "forms": page_forms,
            "error": error,
        },
        status=status,
    )


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One opinion: everything, with the handling steps, for the organization's disclosure
    staff; the opinion, its state and the outcome for its named submitter; a 404 for
    everybody else."""
    return _detail(request, _followed(request, pk))


def _step(
    request: HttpRequest,
    pk: int,
    *,
    may: Callable[[Any, Opinion], bool],
    denied: str,
    run: Callable[[Opinion, Any], Opinion],
    done: str,
    key: str = "",
) -> HttpResponse:
    """One step: who may see the opinion (404), the right (403), the form (400), the
    action (400 or 403), then back to the opinion with a message."""
    op = _followed(request, pk)
    if not may(request.user, op):
        return _forbidden(request, denied)
    form = _make_form(key, op, request.POST) if key else None
    bound = {key: form} if form is not None else None
    if form is not None and not form.is_valid():
        return _detail(request, op, error=first_error(form), bound=bound, status=400)
    try:
        run(op, form)
    except NotAllowed as error:
        return _forbidden(request, error.message)
    except ActionError as error:
        return _detail(request, op, error=error.message, bound=bound, status=400)
    messages.success(request, done)
    return redirect(_detail_url(op))


def _handles(user: Any, op: Opinion) -> bool:
    return policy.can_handle(user, op.org)


HANDLE_DENIED = "只有本组织的党务公开工作人员、办公室统筹协调人员或主要负责人可以办理意见。"


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    """Hand the opinion to a colleague among the organization's disclosure staff."""
    return _step(
        request,
        pk,
        may=_handles,
        denied=HANDLE_DENIED,
        run=lambda op, f: actions.opinion_assign(
            op, actor=request.user, assignee=f.cleaned_data["assignee"]
        ),
        done="已分办，承办人将在待办中看到该意见。",
        key="assign",
    )


@login_required
@require_POST
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """答复: record the outcome; a named platform submitter is told at once."""
    return _step(
        request,
        pk,
        may=policy.can_reply,
        denied="只有承办人或本组织的党务公开工作人员可以答复该意见。",
        run=lambda op, f: actions.opinion_reply(
            op, actor=request.user, reply=f.cleaned_data["text"]
        ),
        done="已答复。署名反映的，须将处理结果告知反映人。",
        key="reply",
    )


@login_required
@require_POST
def tell(request: HttpRequest, pk: int) -> HttpResponse:
    """Record how a named offline submitter was told the outcome (QJ 9(4))."""
    return _step(
        request,
        pk,
        may=_handles,
        denied=HANDLE_DENIED,
        run=lambda op, f: actions.opinion_confirm_told(
            op, actor=request.user, how=f.cleaned_data["text"]
        ),
        done="已登记告知情况，可以办结。",
        key="tell",
    )


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    """办结 an answered opinion whose submitter, if named, has been told."""
    return _step(
        request,
        pk,
        may=_handles,
        denied=HANDLE_DENIED,
        run=lambda op, _: actions.opinion_close(op, actor=request.user),
        done="已办结。",
    )


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    """不予受理: spam or abuse, with a reason."""
    return _step(
        request,
        pk,
        may=_handles,
        denied=HANDLE_DENIED,
        run=lambda op, f: actions.opinion_reject(
            op, actor=request.user, reason=f.cleaned_data["text"]
        ),
        done="已不予受理。",
        key="reject",
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publish the opinion and its reply (as edited here) with the item."""
    return _step(
        request,
        pk,
        may=_handles,
        denied=HANDLE_DENIED,
        run=lambda op, f: actions.opinion_publish(
            op, actor=request.user, published=True, reply=f.cleaned_data["text"]
        ),
        done="已随事项公开该意见及办理结果（不显示反映人）。",
        key="publish",
    )


@login_required
@require_POST
def unpublish(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a published opinion off the item page again."""
    return _step(
        request,
        pk,
        may=_handles,
        denied=HANDLE_DENIED,
        run=lambda op, _: actions.opinion_publish(op, actor=request.user, published=False),
        done="已取消公开。",
    )


# --- my opinions ----------------------------------------------------------------------------


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的意见: what I submitted under my name, its state and the outcome, with outcomes I
    have not opened yet marked."""
    user = request.user
    assert isinstance(user, User)
    ops = Opinion.objects.followed_by(user).filter(submitter=user).select_related("disclosure")
    page = Paginator(ops, PER_PAGE).get_page(request.GET.get("page"))
    unread = ops.filter(
        outcome_seen_at__isnull=True, status__in=(S.REPLIED, S.CLOSED, S.REJECTED)
    ).count()
    return render(
        request,
        "feedback/mine.html",
        {
            "page": page,
            "rows": [(op, op.for_viewer(user)) for op in page.object_list],
            "unread": unread,
        },
    )
