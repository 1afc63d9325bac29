"""Feeds, sitemap and the public JSON API (included at the site root: full paths here)."""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from dwgk.public import views_feeds as views

app_name = "feeds"
urlpatterns: list[URLPattern] = [
    path("feeds/org/<int:org_pk>.atom", views.org_feed, name="org"),
    # The category is the item's 内容类别 as typed (Chinese, URL-quoted in the link; `path`
    # so that a category with a slash in it still has its feed).
    path("feeds/org/<int:org_pk>/<path:category>.atom", views.org_category_feed, name="category"),
    path("feeds/me/", views.my_feed, name="me"),
    path("feeds/me/issue/", views.my_feed_issue, name="me_issue"),
    path("feeds/me/revoke/", views.my_feed_revoke, name="me_revoke"),
    # Any segment reaches the view, so that no malformed token takes Django's logged 404.
    re_path(r"^feeds/me/(?P<token>[^/]+)\.atom$", views.private_feed, name="private"),
    path("sitemap.xml", views.sitemap_index, name="sitemap"),
    path("sitemap-orgs-<int:page>.xml", views.sitemap_orgs, name="sitemap_orgs"),
    path(
        "sitemap-disclosures-<int:page>.xml",
        views.sitemap_disclosures,
        name="sitemap_disclosures",
    ),
    path("robots.txt", views.robots_txt, name="robots"),
    path("api/disclosures/<int:pk>.json", views.api_disclosure, name="api_disclosure"),
    path("api/orgs/<int:org_pk>/disclosures.json", views.api_org_disclosures, name="api_org"),
]
