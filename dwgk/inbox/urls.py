from __future__ import annotations

from django.urls import path

from dwgk.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.tasks, name="tasks"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read-all/", views.read_all, name="read_all"),
    path("notifications/<int:pk>/read/", views.read, name="read"),
]
