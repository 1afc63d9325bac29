from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("", include("dwgk.public.urls")),
    path("", include("dwgk.public.urls_feeds")),  # Atom feeds, sitemap, item JSON
    path("posters/", include("dwgk.public.urls_posters")),  # 公开栏 posters, screen pages
    path("feedback/", include("dwgk.feedback.urls")),
    path("orgs/", include("dwgk.orgs.urls")),
    path("manage/", include("dwgk.accounts.urls")),
    path("catalog/", include("dwgk.catalog.urls")),
    path("disclosures/", include("dwgk.disclosures.urls")),
    path("inbox/", include("dwgk.inbox.urls")),
    path("me/", include("dwgk.members.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
]
