"""The archive package of an archived item as a download (PROC-6), for its staff.

The item comes through `Disclosure.objects.visible_to(request.user)` like everywhere else
(404 for an item this person was never shown); only the item's staff may take the package,
because it holds the working record — reviews, drafts, withheld attachments — that the
item's audience never sees (403). Each download is written to the audit log with the
package's SHA-256, so what left the platform can be matched later.
"""

from __future__ import annotations

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from dwgk.audit.models import record
from dwgk.disclosures import archive, policy
from dwgk.disclosures.models import Disclosure
from dwgk.lib import files

ZIP = files.FileKind("zip", "ZIP 压缩包", ".zip", "application/zip")


@login_required
@require_GET
def export(request: HttpRequest, pk: int) -> HttpResponse:
    """归档材料下载: the zip of `archive.export_package`."""
    item: Disclosure = get_object_or_404(
        Disclosure.objects.visible_to(request.user).select_related("org__parent"), pk=pk
    )
    if not policy.is_staff(request.user, item):
        return render(
            request,
            ["disclosures/forbidden.html", "catalog/forbidden.html"],
            {"message": "只有该事项所属组织及上级组织的党务公开工作人员可以导出归档材料。"},
            status=403,
        )
    if item.status != Disclosure.Status.ARCHIVED:
        messages.error(
            request,
            f"该事项当前状态为“{item.get_status_display()}”，尚未归档：归档后才能导出归档材料。",
        )
        return redirect("disclosures:detail", pk=item.pk)
    data = archive.export_package(item)
    record(
        request.user,
        "disclosure.export",
        item,
        org_id=item.org_id,
        request=request,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
    response = HttpResponse(data)
    for name, value in files.safe_download_headers(ZIP, archive.package_filename(item)).items():
        response[name] = value
    # The sniffed kinds of lib.files do not include zip, so it would say octet-stream.
    response["Content-Type"] = ZIP.mime
    response["Content-Length"] = str(len(data))
    response["Cache-Control"] = "private, no-store"
    return response
