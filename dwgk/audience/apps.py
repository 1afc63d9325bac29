from django.apps import AppConfig


class AudienceConfig(AppConfig):
    name = "dwgk.audience"
    verbose_name = "公开范围"
