"""Export and import of the 目录表 sheet."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
