from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "dwgk.orgs"
    verbose_name = "党组织"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from dwgk.orgs.types import sync_org_types_after_migrate

        post_migrate.connect(sync_org_types_after_migrate, sender=self)
