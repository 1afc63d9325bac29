from __future__ import annotations

from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    name = "dwgk.synthetic"
    verbose_name = "合成测试数据"
