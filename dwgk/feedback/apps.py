from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "dwgk.feedback"
    verbose_name = "意见反馈"

    def ready(self) -> None:
        from dwgk.feedback.forms import renew_token
        from dwgk.public.pagecache import renew_field

        # The opinion form on a cached item page carries a token issued for this answer.
        renew_field("token", lambda request, old: renew_token(old))
