from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "dwgk.public"
    verbose_name = "公开网站"

    def ready(self) -> None:
        from dwgk.disclosures.signals import disclosure_changed
        from dwgk.public.pagecache import on_disclosure_changed

        # Every step of every item, the worker's included, makes cached pages stale.
        disclosure_changed.connect(on_disclosure_changed, dispatch_uid="public.pagecache")
