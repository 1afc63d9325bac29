from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "dwgk.search"
    verbose_name = "全文检索"
