from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dwgk.audit"
    verbose_name = "审计"

    def ready(self) -> None:
        from dwgk.audit import signals  # noqa: F401  (login/logout/failure entries)
