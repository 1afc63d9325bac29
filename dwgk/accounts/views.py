"""Management pages for organization admins: roster import and export.

Every view here is for the admins of one organization (policy.can_manage_org) and works
on that organization's subtree. Rosters hold personal data (phone, e-mail), so exports
are audited too, and never cached."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from dwgk.accounts import rosters
from dwgk.accounts.policy import can_manage_org
from dwgk.audit.models import record
from dwgk.lib import sheets
from dwgk.lib.errors import NotAllowed
from dwgk.orgs.models import Organization


def _managed_org(request: HttpRequest, pk: int) -> Organization:
    org = get_object_or_404(Organization.objects.select_related("org_type"), pk=pk)
    if not can_manage_org(request.user, org):
        raise PermissionDenied("您无权管理该组织的名册。")
    return org


def _check_file_kind(kind: str, fmt: str) -> None:
    if kind not in rosters.KINDS or fmt not in rosters.FORMATS:
        raise Http404("没有这种名册。")


def _page(
    request: HttpRequest,
    org: Organization,
    *,
    result: rosters.ImportResult | None = None,
    upload_error: str = "",
    status: int = 200,
) -> HttpResponse:
    kinds = [
        {"key": key, "label": label, "columns": rosters.COLUMNS[key]}
        for key, label in rosters.KINDS.items()
    ]
    context: dict[str, Any] = {
        "org": org,
        "kinds": kinds,
        "formats": rosters.FORMATS,
        "result": result,
        "upload_error": upload_error,
        "max_size": sheets.human_size(settings.ROSTER_MAX_BYTES),
        "max_rows": settings.ROSTER_MAX_ROWS,
    }
    return render(request, "accounts/roster.html", context, status=status)


@login_required
@require_GET
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    """The page with the two upload forms, the export links and the templates."""
    return _page(request, _managed_org(request, pk))


@login_required
@require_POST
def roster_import(request: HttpRequest, pk: int) -> HttpResponse:
    """Import one roster file; the page shows the counts or every bad row."""
    org = _managed_org(request, pk)
    kind = request.POST.get("kind", "")
    upload = request.FILES.get("file")
    if kind not in rosters.KINDS:
        return _page(request, org, upload_error="请选择名册种类。", status=400)
    if upload is None:
        return _page(request, org, upload_error="请选择要导入的文件。", status=400)
    if upload.size is not None and upload.size > settings.ROSTER_MAX_BYTES:
        return _page(request, org, upload_error=sheets.too_big_message(), status=400)
    # Read at most one byte over the limit: the import reports an oversize file itself.
    data = upload.read(settings.ROSTER_MAX_BYTES + 1)
    try:
        result = rosters.import_roster(
            data,
            kind=kind,
            actor=request.user,
            within=org,
            filename=upload.name or "",
            request=request,
        )
    except NotAllowed as e:
        raise PermissionDenied(e.message) from e
    # Re-posting the same file changes nothing, so the result is shown directly.
    return _page(request, org, result=result, status=200 if result.ok else 400)


def _download(body: bytes, fmt: str, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=rosters.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def roster_export(request: HttpRequest, pk: int, kind: str, fmt: str) -> HttpResponse:
    """The current roster of the organization's subtree, in the columns an import reads."""
    org = _managed_org(request, pk)
    _check_file_kind(kind, fmt)
    rows = rosters.export_rows(kind, org)
    record(
        request.user,
        "roster.export",
        org,
        org_id=org.pk,
        request=request,
        kind=kind,
        format=fmt,
        rows=len(rows),
    )
    body = rosters.render(kind, fmt, rows)
    return _download(body, fmt, rosters.download_name(kind, fmt, org))


@login_required
@require_GET
def roster_template(request: HttpRequest, pk: int, kind: str, fmt: str) -> HttpResponse:
    """An empty roster: the header row and one sample row, which imports skip."""
    org = _managed_org(request, pk)
    _check_file_kind(kind, fmt)
    body = rosters.render(kind, fmt, rosters.template_rows(kind, org))
    return _download(body, fmt, rosters.download_name(kind, fmt, org, template=True))
