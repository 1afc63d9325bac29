from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "dwgk.disclosures"
    verbose_name = "公开事项"
