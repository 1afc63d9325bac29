"""公开栏 posters and screen pages (CHAN-1): /posters/org/<org>/ …"""

from __future__ import annotations

from django.urls import path

from dwgk.public import views_posters

app_name = "posters"
urlpatterns = [
    path("org/<int:org_pk>/", views_posters.org_posters, name="org"),
    path("org/<int:org_pk>/<str:period>.pdf", views_posters.pdf, name="pdf"),
    path("org/<int:org_pk>/<str:period>/screen/", views_posters.screen, name="screen"),
]
