"""The public front page: what the platform is, and the way into the organization directory."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dwgk.orgs.models import Organization
from dwgk.orgs.views import MAX_ROOTS, with_child_counts


def home(request: HttpRequest) -> HttpResponse:
    roots = with_child_counts(
        Organization.objects.active().filter(parent__isnull=True).select_related("org_type")
    ).order_by("sort_order", "path")[:MAX_ROOTS]
    return render(
        request,
        "public/home.html",
        {"roots": roots, "org_count": Organization.objects.active().count()},
    )
