from __future__ import annotations

from django.urls import path

from dwgk.members import views

app_name = "members"
urlpatterns = [
    path("", views.home, name="home"),
    path("feed/", views.feed, name="feed"),
    path("published/", views.published, name="published"),
]
