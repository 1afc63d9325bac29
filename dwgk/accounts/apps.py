from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dwgk.accounts"
    verbose_name = "人员与角色"
