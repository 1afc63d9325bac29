from __future__ import annotations

from django.urls import path

from dwgk.accounts import views

app_name = "accounts"
urlpatterns = [
    path("orgs/<int:pk>/roster/", views.roster, name="roster"),
    path("orgs/<int:pk>/roster/import/", views.roster_import, name="roster_import"),
    path(
        "orgs/<int:pk>/roster/export/<slug:kind>.<slug:fmt>",
        views.roster_export,
        name="roster_export",
    ),
    path(
        "orgs/<int:pk>/roster/template/<slug:kind>.<slug:fmt>",
        views.roster_template,
        name="roster_template",
    ),
]
