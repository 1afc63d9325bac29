"""Catalog screens: an organization's catalog, a version with its entries, entry editing,
the lifecycle steps (CAT-3 … CAT-7), comparing versions, and the parent's overview of its
subordinates (CAT-6).

Every object comes through `CatalogVersion.objects.visible_to(request.user)` — a version
nobody showed this person is a 404, whoever asks — and every change goes through the
functions in `catalog.actions`: a refused right (NotAllowed) is a 403 page, any other
ActionError comes back as a Chinese message with nothing changed. Which buttons a page
offers is worked out with `catalog.policy`; that only decides what is shown, the action
decides again on every post.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from dwgk.catalog import actions, overview, policy
from dwgk.catalog.diff import AudienceTexts, VersionDiff, diff_versions
from dwgk.catalog.forms import (
    AdoptForm,
    EntryForm,
    EntryStateForm,
    publish_audience,
    publish_choices,
    publish_scope_of,
)
from dwgk.catalog.models import (
    CatalogEntry,
    CatalogEvent,
    CatalogVersion,
    CatalogVersionQuerySet,
)
from dwgk.catalog.rulesets import current_ruleset
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.lib.views import forbidden
from dwgk.orgs.models import Organization

S = CatalogVersion.Status
OPEN = (S.DRAFT, S.ADOPTED, S.FILED, S.RETURNED, S.ACKNOWLEDGED)
# What someone outside the catalog's staff may read of its history: the publication and
# the public explanations of entry exceptions (CAT-7: "announced with an explanation").
PUBLIC_EVENT_KINDS = (CatalogEvent.Kind.PUBLISHED, CatalogEvent.Kind.ENTRY_STATE)
SUBTREE_PER_PAGE = 100
HISTORY_LIMIT = 50


# --- lookups --------------------------------------------------------------------------------


def _visible(request: HttpRequest) -> CatalogVersionQuerySet:
    return CatalogVersion.objects.visible_to(request.user).select_related(
        "catalog__org__parent", "catalog__org__org_type"
    )


def _version(request: HttpRequest, pk: int) -> CatalogVersion:
    version: CatalogVersion = get_object_or_404(_visible(request), pk=pk)
    return version


def _entry(request: HttpRequest, pk: int) -> CatalogEntry:
    visible = CatalogVersion.objects.visible_to(request.user)
    entry: CatalogEntry = get_object_or_404(
        CatalogEntry.objects.select_related(
            "version__catalog__org__parent", "version__catalog__org__org_type"
        ),
        pk=pk,
        version__in=visible,
    )
    return entry


def _org(pk: int) -> Organization:
    org: Organization = get_object_or_404(
        Organization.objects.select_related("org_type", "parent"), pk=pk
    )
    return org


def _is_staff(user: Any, org: Organization) -> bool:
    """Whether the person works on this catalog: its own or its parent's catalog staff —
    the people `visible_to` shows every version to."""
    staff = policy.catalog_staff_orgs_q(user)
    if staff is None:
        return False
    ids = [org.pk] + ([org.parent_id] if org.parent_id else [])
    return Organization.objects.filter(staff, pk__in=ids).exists()


# --- responses ------------------------------------------------------------------------------


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return forbidden(request, message, "catalog/forbidden.html")


def _next(request: HttpRequest, default: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


def _run(
    request: HttpRequest,
    step: Callable[[], Any],
    *,
    done: str,
    back: str,
    to: Callable[[Any], str] | None = None,
) -> HttpResponse:
    """Run one action; NotAllowed → 403 page, ActionError → message; then go `back` (or,
    after a success, to `to(result)`)."""
    try:
        result = step()
    except NotAllowed as error:
        return _forbidden(request, error.message)
    except ActionError as error:
        messages.error(request, error.message)
        return redirect(_next(request, back))
    messages.success(request, done)
    return redirect(to(result) if to else _next(request, back))


def org_url(org: Organization | int) -> str:
    return reverse("catalog:org", args=[org if isinstance(org, int) else org.pk])


def version_url(version: CatalogVersion | int) -> str:
    return reverse("catalog:version", args=[version if isinstance(version, int) else version.pk])


# --- what this person may do here -----------------------------------------------------------


@dataclass
class Panel:
    """The catalog's state and the steps this person may take on it now."""

    org: Organization
    versions: list[CatalogVersion]
    staff: bool = False
    current: CatalogVersion | None = None  # the version in progress
    published: CatalogVersion | None = None
    generate: bool = False
    adjust: bool = False
    edit: bool = False
    adopt: bool = False
    file: bool = False
    review: bool = False
    publish: bool = False
    comment: bool = False
    decide_state: bool = False
    overview: bool = False
    last_return: CatalogEvent | None = None
    adopt_form: AdoptForm | None = None
    publish_choices: list[tuple[str, str]] = field(default_factory=list)
    publish_initial: str = ""

    @property
    def comment_target(self) -> CatalogVersion | None:
        return self.current or self.published

    @property
    def any_step(self) -> bool:
        return any((self.generate, self.adjust, self.adopt, self.file, self.review, self.publish))


def _panel(user: Any, org: Organization, versions: list[CatalogVersion]) -> Panel:
    panel = Panel(org=org, versions=versions)
    panel.current = next((v for v in versions if v.status in OPEN), None)
    panel.published = next((v for v in versions if v.status == S.PUBLISHED), None)
    if not user.is_authenticated:
        return panel
    current = panel.current
    panel.staff = _is_staff(user, org)
    can_edit = policy.can_edit(user, org)
    panel.generate = can_edit and not versions
    panel.adjust = can_edit and bool(versions) and current is None
    panel.edit = can_edit and current is not None and current.is_editable
    if current is not None:
        status = current.status
        panel.adopt = status in (S.DRAFT, S.RETURNED) and policy.can_adopt(user, org)
        panel.file = (
            status == S.ADOPTED and org.parent_id is not None and policy.can_file(user, org)
        )
        panel.review = status == S.FILED and policy.can_review_filing(user, org)
        ready = status == S.ACKNOWLEDGED or (status == S.ADOPTED and org.parent_id is None)
        panel.publish = ready and policy.can_publish(user, org)
        if status == S.RETURNED:
            panel.last_return = (
                current.events.filter(kind=CatalogEvent.Kind.RETURNED)
                .select_related("actor", "actor_org")
                .order_by("-at", "-id")
                .first()
            )
    if panel.comment_target is not None:
        panel.comment = policy.can_comment(user, org)
    if panel.published is not None:
        panel.decide_state = policy.can_decide_entry_state(user, org)
    has_children = Organization.objects.active().filter(parent=org).exists()
    panel.overview = has_children and overview.can_view_overview(user, org)
    if panel.adopt:
        panel.adopt_form = AdoptForm()
    if panel.publish and current is not None:
        panel.publish_choices = publish_choices(org)
        panel.publish_initial = publish_scope_of(org, current.get_audience())
    return panel


def _history(panel: Panel) -> list[CatalogEvent]:
    ids = [v.pk for v in panel.versions]
    events = CatalogEvent.objects.filter(version_id__in=ids)
    if not panel.staff:
        events = events.filter(kind__in=PUBLIC_EVENT_KINDS)
    return list(
        events.select_related("actor", "actor_org", "version").order_by("-at", "-id")[
            :HISTORY_LIMIT
        ]
    )


# --- pages ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One entry with its 公开范围 text worked out (see diff.AudienceTexts)."""

    entry: CatalogEntry
    scope: str


@require_GET
def org_catalog(request: HttpRequest, org_pk: int) -> HttpResponse:
    """An organization's catalog: the version published to this person, and for the people
    who work on it the version in progress, the history and the next steps."""
    org = _org(org_pk)
    versions = list(_visible(request).filter(catalog__org=org).order_by("-number"))
    panel = _panel(request.user, org, versions)
    rows: list[Row] = []
    audience = ""
    if panel.published is not None:
        scope = AudienceTexts()
        rows = [Row(e, scope(e)) for e in panel.published.entries.all()]
        audience = panel.published.get_audience().describe()
    return render(
        request,
        "catalog/org.html",
        {
            "org": org,
            "panel": panel,
            "versions": versions,
            "events": _history(panel),
            "published_rows": rows,
            "published_audience": audience,
        },
    )


@require_GET
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One version as the 目录表: the nine columns for each entry, with category, basis and
    the state of withheld, changed, revoked or ended entries and its explanation (CAT-7)."""
    version = _version(request, pk)
    org = version.org
    versions = list(_visible(request).filter(catalog=version.catalog).order_by("-number"))
    panel = _panel(request.user, org, versions)
    scope = AudienceTexts()
    rows = [Row(e, scope(e)) for e in version.entries.all()]
    newer = next((v for v in versions if v.status == S.PUBLISHED and v.pk != version.pk), None)
    return render(
        request,
        "catalog/version.html",
        {
            "org": org,
            "here": f"第{version.number}版",
            "version": version,
            "rows": rows,
            "panel": panel,
            "editing": panel.edit and panel.current is not None and panel.current.pk == version.pk,
            "deciding": panel.decide_state and version.status == S.PUBLISHED,
            "is_current": panel.current is not None and panel.current.pk == version.pk,
            "newer": newer,
            "version_audience": (
                version.get_audience().describe()
                if version.status in (S.PUBLISHED, S.SUPERSEDED)
                else ""
            ),
            "based_on_visible": version.based_on_id in {v.pk for v in versions},
            "reviewed": (S.ACKNOWLEDGED, S.PUBLISHED, S.SUPERSEDED),
        },
    )


@require_GET
def version_diff(request: HttpRequest, org_pk: int) -> HttpResponse:
    """Any two versions side by side (CAT-4)."""
    org = _org(org_pk)
    versions: list[CatalogVersion] = list(
        _visible(request).filter(catalog__org=org).order_by("-number")
    )
    if not versions:
        raise Http404("没有可比较的目录版本。")
    by_pk = {v.pk: v for v in versions}

    def pick(name: str) -> CatalogVersion | None:
        raw = request.GET.get(name, "")
        if not raw:
            return None
        try:
            return by_pk[int(raw)]
        except (ValueError, KeyError):
            raise Http404("没有这个目录版本。") from None

    a, b = pick("a"), pick("b")
    if a is None and b is None and len(versions) >= 2:
        b = versions[0]
        a = by_pk.get(b.based_on_id or 0, versions[1])
    result: VersionDiff | None = None
    same = False
    if a is not None and b is not None:
        if a.pk == b.pk:
            same = True
        else:
            result = diff_versions(a, b)
    return render(
        request,
        "catalog/diff.html",
        {"org": org, "versions": versions, "a": a, "b": b, "diff": result, "same": same},
    )


@login_required
@require_GET
def subtree(request: HttpRequest, org_pk: int) -> HttpResponse:
    """The parent's view (CAT-6): each direct child's catalog state, filterable by state."""
    org = _org(org_pk)
    if not overview.can_view_overview(request.user, org):
        return _forbidden(request, "只有本组织的党务公开工作人员可以查看下级组织的目录情况。")
    children = overview.children_with_state(org, request.user)
    counts = overview.state_counts(children)
    state = request.GET.get("state", "")
    if state not in overview.STATES:
        state = ""
    page = Paginator(overview.filter_state(children, state), SUBTREE_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "catalog/subtree.html",
        {
            "org": org,
            "page": page,
            "state": state,
            "states": [(key, label, counts[key]) for key, label in overview.STATES.items()],
            "total": sum(counts.values()),
            "labels": overview.STATES,
            "may_comment": overview.can_guide_children(request.user, org),
            "stale_days": current_ruleset().stale_days,
        },
    )


# --- lifecycle steps ------------------------------------------------------------------------


@login_required
@require_POST
def generate(request: HttpRequest, org_pk: int) -> HttpResponse:
    org = _org(org_pk)
    return _run(
        request,
        lambda: actions.catalog_generate_draft(org, actor=request.user),
        done="已依据模板生成目录草稿。",
        back=org_url(org),
        to=version_url,
    )


@login_required
@require_POST
def adjust(request: HttpRequest, org_pk: int) -> HttpResponse:
    org = _org(org_pk)
    note = request.POST.get("note", "").strip()
    return _run(
        request,
        lambda: actions.catalog_adjust(org, actor=request.user, note=note),
        done="已新建目录调整草稿。",
        back=org_url(org),
        to=version_url,
    )


@login_required
@require_POST
def adopt(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    form = AdoptForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_next(request, org_url(version.org)))
    return _run(
        request,
        lambda: actions.catalog_adopt(
            version,
            actor=request.user,
            meeting=form.cleaned_data["meeting"],
            decided_on=form.decided(),
        ),
        done="已记录目录审议通过。",
        back=org_url(version.org),
    )


@login_required
@require_POST
def file(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    parent = version.org.parent
    return _run(
        request,
        lambda: actions.catalog_file(version, actor=request.user),
        done=f"目录已报{parent.name if parent else '上级组织'}备案。",
        back=org_url(version.org),
    )


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    return _run(
        request,
        lambda: actions.catalog_acknowledge(
            version, actor=request.user, comment=request.POST.get("comment", "")
        ),
        done="已确认备案。",
        back=org_url(version.org),
    )


@login_required
@require_POST
def send_back(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    return _run(
        request,
        lambda: actions.catalog_return(
            version, actor=request.user, comment=request.POST.get("comment", "")
        ),
        done="已退回修改，意见已送达。",
        back=org_url(version.org),
    )


@login_required
@require_POST
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    audience = publish_audience(version.org, request.POST.get("scope", ""))
    if audience is None:
        messages.error(request, "请选择目录的公开范围。")
        return redirect(_next(request, org_url(version.org)))
    return _run(
        request,
        lambda: actions.catalog_publish(version, actor=request.user, audience=audience),
        done=f"目录已公开（{audience.describe()}）。",
        back=org_url(version.org),
    )


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    version = _version(request, pk)
    return _run(
        request,
        lambda: actions.catalog_comment(
            version, actor=request.user, text=request.POST.get("text", "")
        ),
        done="意见已提交。",
        back=org_url(version.org),
    )


# --- entries --------------------------------------------------------------------------------


def _entry_form_page(
    request: HttpRequest, version: CatalogVersion, entry: CatalogEntry | None
) -> HttpResponse:
    """The add and edit page: GET shows the form, POST saves it through the action."""
    org = version.org
    if not policy.can_edit(request.user, org):
        return _forbidden(request, f"您无权编辑“{org.name}”的党务公开目录。")
    back = version_url(version)
    if not version.is_editable:
        messages.error(
            request,
            f"目录当前状态为“{version.get_status_display()}”，不能修改；如需调整请新建版本。",
        )
        return redirect(back)
    form = EntryForm(request.POST or None, org=org, entry=entry)
    if request.method == "POST" and form.is_valid():
        fields = form.fields_for_action
        try:
            if entry is None:
                saved = actions.entry_add(version, actor=request.user, **fields)
            else:
                saved = actions.entry_update(entry, actor=request.user, **fields)
        except NotAllowed as error:
            return _forbidden(request, error.message)
        except ActionError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "条目已保存。")
            return redirect(f"{back}#entry-{saved.pk}")
    return render(
        request,
        "catalog/entry_form.html",
        {"org": org, "version": version, "entry": entry, "form": form},
    )


@login_required
def entry_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _entry_form_page(request, _version(request, pk), None)


@login_required
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    return _entry_form_page(request, entry.version, entry)


@login_required
@require_POST
def entry_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    return _run(
        request,
        lambda: actions.entry_duplicate(entry, actor=request.user),
        done=f"已复制第{entry.position}条，副本排在其后。",
        back=f"{version_url(entry.version)}#entries",
    )


@login_required
@require_POST
def entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    return _run(
        request,
        lambda: actions.entry_delete(entry, actor=request.user),
        done=f"已删除第{entry.position}条“{entry.content[:20]}”。",
        back=f"{version_url(entry.version)}#entries",
    )


@login_required
@require_POST
def entry_move(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry(request, pk)
    up = request.POST.get("direction") == "up"
    to = entry.position - 1 if up else entry.position + 1
    return _run(
        request,
        lambda: actions.entry_move(entry, actor=request.user, to_position=max(1, to)),
        done=f"已将第{entry.position}条{'上移' if up else '下移'}。",
        back=f"{version_url(entry.version)}#entries",
    )


@login_required
def entry_state(request: HttpRequest, pk: int) -> HttpResponse:
    """CAT-7: the catalog-setting organization's principal withholds, changes, revokes,
    ends or restores a published entry, with the explanation its audience will read."""
    entry = _entry(request, pk)
    version = entry.version
    org = version.org
    if not policy.can_decide_entry_state(request.user, org):
        return _forbidden(
            request, "条目的暂缓、变更、撤销或终止须经目录制定组织（上级组织）主要负责人批准。"
        )
    form = EntryStateForm(
        request.POST or None, initial={"state": entry.state, "explanation": entry.state_note}
    )
    if request.method == "POST" and form.is_valid():
        try:
            actions.entry_set_state(
                entry,
                actor=request.user,
                state=form.cleaned_data["state"],
                explanation=form.cleaned_data["explanation"],
            )
        except NotAllowed as error:
            return _forbidden(request, error.message)
        except ActionError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "条目状态已调整，说明已向公开对象公布。")
            return redirect(f"{version_url(version)}#entry-{entry.pk}")
    return render(
        request,
        "catalog/entry_state.html",
        {"org": org, "version": version, "entry": entry, "form": form},
    )


urlpatterns: list[URLPattern] = [
    path("org/<int:org_pk>/", org_catalog, name="org"),
    path("org/<int:org_pk>/generate/", generate, name="generate"),
    path("org/<int:org_pk>/adjust/", adjust, name="adjust"),
    path("org/<int:org_pk>/diff/", version_diff, name="diff"),
    path("org/<int:org_pk>/subtree/", subtree, name="subtree"),
    path("versions/<int:pk>/", version_detail, name="version"),
    path("versions/<int:pk>/adopt/", adopt, name="adopt"),
    path("versions/<int:pk>/file/", file, name="file"),
    path("versions/<int:pk>/acknowledge/", acknowledge, name="acknowledge"),
    path("versions/<int:pk>/return/", send_back, name="return"),
    path("versions/<int:pk>/publish/", publish, name="publish"),
    path("versions/<int:pk>/comment/", comment, name="comment"),
    path("versions/<int:pk>/entries/new/", entry_add, name="entry_add"),
    path("entries/<int:pk>/edit/", entry_edit, name="entry_edit"),
    path("entries/<int:pk>/duplicate/", entry_duplicate, name="entry_duplicate"),
    path("entries/<int:pk>/delete/", entry_delete, name="entry_delete"),
    path("entries/<int:pk>/move/", entry_move, name="entry_move"),
    path("entries/<int:pk>/state/", entry_state, name="entry_state"),
]
