from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "dwgk.public"
    verbose_name = "公开网站"
