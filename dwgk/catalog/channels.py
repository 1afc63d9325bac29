"""Disclosure channels (CHAN-1) as codes, with the words offices write for them."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    # Within the party (BJ 16; NM 20)
    MEETING = "meeting", _("召开会议")
    DOCUMENT = "document", _("制发文件")
    PAPER = "paper", _("纸质印发")
    BRIEFING = "briefing", _("编发简报、情况通报")
    INTRANET = "intranet", _("内网（办公网）发布")
    # The unified platform (CHAN-2; BJ 17; NM 21)
    PLATFORM = "platform", _("党务公开平台")
    # To society (BJ 16)
    COMMUNIQUE = "communique", _("发布公报")
    PRESS = "press", _("新闻发布会")
    INTERVIEW = "interview", _("接受采访")
    NEWSPAPER = "newspaper", _("报刊")
    BROADCAST = "broadcast", _("广播电视")
    WEBSITE = "website", _("互联网站")
    NEW_MEDIA = "new_media", _("新媒体")
    BOARD = "board", _("公开栏")
    # Also named by QJ 7
    SCREEN = "screen", _("电子显示屏")
    PHONE = "phone", _("公开电话")
    MOBILE = "mobile", _("手机短信")
    FORUM = "forum", _("民情访谈会")
    # To one person (QJ 7)
    FACE_TO_FACE = "face_to_face", _("当面告知")
    LETTER = "letter", _("公函、信函")
    EMAIL = "email", _("电子邮件")


# Words found in hand-typed sheets, most specific first. Each maps to one channel.
CHANNEL_WORDS: list[tuple[str, str]] = [
    ("党务公开平台", Channel.PLATFORM),
    ("新闻发布", Channel.PRESS),
    ("发布会", Channel.PRESS),
    ("电子显示屏", Channel.SCREEN),
    ("显示屏", Channel.SCREEN),
    ("公开栏", Channel.BOARD),
    ("宣传栏", Channel.BOARD),
    ("公示栏", Channel.BOARD),
    ("办公网", Channel.INTRANET),
    ("内网", Channel.INTRANET),
    ("局域网", Channel.INTRANET),
    ("校园网", Channel.WEBSITE),
    ("网站", Channel.WEBSITE),
    ("互联网", Channel.WEBSITE),
    ("网上", Channel.WEBSITE),
    ("公众号", Channel.NEW_MEDIA),
    ("微信", Channel.NEW_MEDIA),
    ("微博", Channel.NEW_MEDIA),
    ("新媒体", Channel.NEW_MEDIA),
    ("纸质", Channel.PAPER),
    ("印发", Channel.PAPER),
    ("文件", Channel.DOCUMENT),
    ("发文", Channel.DOCUMENT),
    ("简报", Channel.BRIEFING),
    ("通报", Channel.BRIEFING),
    ("会议", Channel.MEETING),
    ("大会", Channel.MEETING),
    ("会上", Channel.MEETING),
    ("公报", Channel.COMMUNIQUE),
    ("采访", Channel.INTERVIEW),
    ("报刊", Channel.NEWSPAPER),
    ("党报", Channel.NEWSPAPER),
    ("党刊", Channel.NEWSPAPER),
    ("电台", Channel.BROADCAST),
    ("面谈", Channel.FACE_TO_FACE),
    ("书信", Channel.LETTER),
    ("报纸", Channel.NEWSPAPER),
    ("广播", Channel.BROADCAST),
    ("电视", Channel.BROADCAST),
    ("电话", Channel.PHONE),
    ("短信", Channel.MOBILE),
    ("手机", Channel.MOBILE),
    ("访谈会", Channel.FORUM),
    ("当面", Channel.FACE_TO_FACE),
    ("面告", Channel.FACE_TO_FACE),
    ("信函", Channel.LETTER),
    ("公函", Channel.LETTER),
    ("邮件", Channel.EMAIL),
]


def parse_channels(text: str) -> list[str]:
    """Channels named in free text ("纸质印发、办公网发布"), in order; [] when none is known."""
    found: list[str] = []
    rest = text
    for word, channel in CHANNEL_WORDS:
        if word in rest:
            rest = rest.replace(word, " ")
            if channel not in found:
                found.append(channel)
    return sorted(found, key=lambda c: text.find(_first_word(c, text)))


def _first_word(channel: str, text: str) -> str:
    for word, ch in CHANNEL_WORDS:
        if ch == channel and word in text:
            return word
    return ""


def describe_channels(channels: list[str]) -> str:
    labels = dict(Channel.choices)
    return "、".join(str(labels.get(c, c)) for c in channels)
