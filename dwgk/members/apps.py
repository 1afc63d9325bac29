from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "dwgk.members"
    verbose_name = "个人中心"
