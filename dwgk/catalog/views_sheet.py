"""Export and import of the 目录表 sheet.

Exports are for whoever may see the version (`CatalogVersion.objects.visible_to`, the one
visibility rule): anyone else gets a 404, as if there were no such version. Imports are for
whoever may edit the catalog (`policy.can_edit`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from dwgk.catalog import pdf, policy, sheet
from dwgk.catalog.models import CatalogVersion
from dwgk.lib.errors import NotAllowed
from dwgk.lib.sheets import human_size, too_big_message

EXPORTERS: dict[str, Callable[[CatalogVersion], bytes]] = {
    "xlsx": sheet.export_xlsx,
    "docx": sheet.export_docx,
    "pdf": pdf.export_pdf,
}


@require_GET
def sheet_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The version's 目录表 as .xlsx, .docx or .pdf."""
    versions = CatalogVersion.objects.visible_to(request.user).select_related("catalog__org")
    version = get_object_or_404(versions, pk=pk)
    response = HttpResponse(EXPORTERS[fmt](version), content_type=sheet.CONTENT_TYPES[fmt])
    filename = sheet.download_name(version, fmt)
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    # Only what anyone may read may sit in a shared cache.
    public = CatalogVersion.objects.visible_to(AnonymousUser()).filter(pk=pk).exists()
    response["Cache-Control"] = "public, max-age=300" if public else "private, no-cache"
    return response


def _page(
    request: HttpRequest,
    version: CatalogVersion,
    *,
    result: sheet.ImportResult | None = None,
    upload_error: str = "",
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "version": version,
        "org": version.org,
        "columns": [sheet.NUMBER_LABEL, *(c.label for c in sheet.COLUMNS)],
        "result": result,
        "upload_error": upload_error,
        "max_size": human_size(settings.ROSTER_MAX_BYTES),
    }
    return render(request, "catalog/sheet_import.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def sheet_import(request: HttpRequest, pk: int) -> HttpResponse:
    """The upload form (GET) and the import of one 目录表 workbook (POST)."""
    version = get_object_or_404(CatalogVersion.objects.select_related("catalog__org"), pk=pk)
    if not policy.can_edit(request.user, version.org):
        raise PermissionDenied("您无权编辑该组织的党务公开目录。")
    if request.method == "GET":
        return _page(request, version)
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, version, upload_error="请选择要导入的文件。", status=400)
    if upload.size is not None and upload.size > settings.ROSTER_MAX_BYTES:
        return _page(request, version, upload_error=too_big_message(), status=400)
    # One byte over the limit is enough for the import to report an oversize file.
    data = upload.read(settings.ROSTER_MAX_BYTES + 1)
    try:
        result = sheet.import_xlsx(
            version, data, actor=request.user, filename=upload.name or "", request=request
        )
    except NotAllowed as e:
        raise PermissionDenied(e.message) from e
    return _page(request, version, result=result, status=200 if result.ok else 400)


urlpatterns: list[URLPattern] = [
    path("versions/<int:pk>/sheet.xlsx", sheet_export, {"fmt": "xlsx"}, name="sheet_xlsx"),
    path("versions/<int:pk>/sheet.docx", sheet_export, {"fmt": "docx"}, name="sheet_docx"),
    path("versions/<int:pk>/sheet.pdf", sheet_export, {"fmt": "pdf"}, name="sheet_pdf"),
    path("versions/<int:pk>/import/", sheet_import, name="sheet_import"),
]
