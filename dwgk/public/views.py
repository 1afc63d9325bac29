from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dwgk.orgs.models import Organization


def home(request: HttpRequest) -> HttpResponse:
    roots = Organization.objects.active().filter(parent__isnull=True).select_related("org_type")
    return render(request, "public/home.html", {"roots": roots})
