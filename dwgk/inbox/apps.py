from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "dwgk.inbox"
    verbose_name = "待办与通知"
