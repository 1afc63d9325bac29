from __future__ import annotations

from django.urls import path

from dwgk.public import views

app_name = "public"
urlpatterns = [
    path("", views.home, name="home"),
    path("open/<int:pk>/", views.org_column, name="org"),
    path("search/", views.search, name="search"),
    path("display/", views.text_size, name="text_size"),
]
