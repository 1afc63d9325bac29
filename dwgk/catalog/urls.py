"""Catalog URLs: the screens (views.py) and the 目录表 sheet exports/imports (views_sheet.py)
each keep their own list, so the two can grow without touching the same file."""

from dwgk.catalog import views, views_sheet

app_name = "catalog"
urlpatterns = [*views.urlpatterns, *views_sheet.urlpatterns]
