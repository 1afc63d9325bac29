from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "dwgk.feedback"
    verbose_name = "意见反馈"
