"""Opinions on disclosed items (意见反馈, PROC-5).

Members and the public leave opinions on a disclosed item through the platform (网络留言);
the clerk records those that come by hotline, letter, opinion box or forum. The item's
organization handles them: assigns, answers, and closes them, and may publish a handled
opinion with its reply next to the item (BJ 14(4): "办理结果可以作为党务公开事项予以公开").
A named submitter is always told the outcome (QJ 9(4): "对署名反映的，要将处理结果告知").

Who submitted an opinion is personal data: only the handling staff see it. Everyone else gets
`Opinion.for_viewer(user)`, which blanks the identity; the raw IP address is never stored,
only a salted hash for rate limiting (`feedback.ratelimit`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dwgk.disclosures.models import Disclosure
from dwgk.orgs.models import Organization

USER = settings.AUTH_USER_MODEL

TEXT_MIN = 5
TEXT_MAX = 2000
# Calendar days the organization has to answer an opinion before its task shows as overdue
# (holidays are not modelled; the rules only say 及时). Settings: FEEDBACK_REPLY_DAYS.
DEFAULT_REPLY_DAYS = 15


def reply_days() -> int:
    """Days an opinion may wait for its answer (FEEDBACK_REPLY_DAYS, default 15)."""
    days: int = getattr(settings, "FEEDBACK_REPLY_DAYS", DEFAULT_REPLY_DAYS)
    return days


# New opinions are taken on an item that is disclosed and still stands: published, past its
# period or ended (its content stays readable). Not on a withdrawn item, whose content is
# gone, nor on an archived one, whose record is frozen (PROC-6).
OPEN_FOR_OPINIONS = (
    Disclosure.Status.PUBLISHED,
    Disclosure.Status.EXPIRED,
    Disclosure.Status.CLOSED,
)


def accepts_opinions(item: Disclosure) -> bool:
    """Whether new opinions may be left on (or recorded for) the item."""
    return item.status in OPEN_FOR_OPINIONS and item.withdrawn_at is None


def shows_opinions(item: Disclosure) -> bool:
    """Published opinions are shown with an item whose content is shown to its audience:
    disclosed and not withdrawn (a withdrawn item keeps only its title and correction)."""
    return item.is_disclosed and item.withdrawn_at is None


class OpinionQuerySet(models.QuerySet["Opinion"]):
    def visible_to(self, user: Any) -> OpinionQuerySet:
        """THE visibility rule for opinions: the disclosure staff of the handling
        organization see all of its opinions; a submitter sees their own; whoever can see
        the item sees its published opinions (their identity is still hidden from them, see
        `Opinion.for_viewer`)."""
        from dwgk.feedback.policy import staff_orgs

        shown = Disclosure.objects.visible_to(user).filter(withdrawn_at__isnull=True)
        q = Q(published=True, disclosure__in=shown.values("pk"))
        if user is not None and getattr(user, "is_authenticated", False) and user.is_active:
            q |= Q(submitter=user)
            orgs = staff_orgs(user)
            if orgs is not None:
                q |= Q(org__in=orgs)
        return self.filter(q)

    def followed_by(self, user: Any) -> OpinionQuerySet:
        """The opinions whose own page this person may open: all of an organization's for
        its disclosure staff, and a named submitter's own. Narrower than `visible_to`: a
        published opinion seen next to its item does not open its handling record."""
        from dwgk.feedback.policy import staff_orgs

        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        q = Q(submitter=user)
        orgs = staff_orgs(user)
        if orgs is not None:
            q |= Q(org__in=orgs)
        return self.visible_to(user).filter(q)

    def tell_due(self) -> OpinionQuerySet:
        """Answered opinions whose named submitter has not been told the outcome yet
        (QJ 9(4)): the clerk must tell them offline and confirm it."""
        return self.filter(named=True, status=Opinion.Status.REPLIED, told_at__isnull=True)


class Opinion(models.Model):
    class Channel(models.TextChoices):
        PLATFORM = "platform", _("网络留言")
        HOTLINE = "hotline", _("热线电话")
        LETTER = "letter", _("来信")
        BOX = "box", _("意见箱")
        MEETING = "meeting", _("座谈会")

    class Status(models.TextChoices):
        NEW = "new", _("待处理")
        ASSIGNED = "assigned", _("办理中")
        REPLIED = "replied", _("已答复")
        CLOSED = "closed", _("已办结")
        REJECTED = "rejected", _("不予受理")

    disclosure = models.ForeignKey(
        Disclosure, verbose_name=_("公开事项"), on_delete=models.PROTECT, related_name="opinions"
    )
    # The item's organization, which handles the opinion (kept on the row for the queues).
    org = models.ForeignKey(
        Organization, verbose_name=_("办理组织"), on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(_("收集渠道"), max_length=16, choices=Channel.choices)
    text = models.TextField(_("意见内容"))
    named = models.BooleanField(_("署名反映"), default=False)
    # The platform user who left a named opinion; None when anonymous or recorded by the clerk.
    submitter = models.ForeignKey(
        USER,
        verbose_name=_("反映人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # For opinions recorded from a hotline, letter …: who it was and how to reach them.
    submitter_name = models.CharField(_("反映人姓名"), max_length=60, blank=True)
    contact = models.CharField(_("联系方式"), max_length=120, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    reject_reason = models.CharField(_("不予受理理由"), max_length=255, blank=True)
    assignee = models.ForeignKey(
        USER,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        USER,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reply = models.TextField(_("办理结果"), blank=True)
    replied_by = models.ForeignKey(
        USER,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    # QJ 9(4): when and how the named submitter was told the outcome.
    told_at = models.DateTimeField(_("告知时间"), null=True, blank=True)
    told_how = models.CharField(_("告知方式"), max_length=120, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    published = models.BooleanField(_("随事项公开"), default=False)
    published_reply = models.TextField(_("公开的办理结果"), blank=True)
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)
    # HMAC-SHA-256 of the submitter's IP under SECRET_KEY: enough to rate-limit and spot
    # duplicates, never the address itself.
    ip_hash = models.CharField(_("来源标识"), max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    # When the named platform submitter opened the outcome (reply or refusal): until then
    # "我的意见" marks it unread.
    outcome_seen_at = models.DateTimeField(_("反映人查看结果时间"), null=True, blank=True)

    objects = OpinionQuerySet.as_manager()

    class Meta:
        verbose_name = _("意见")
        verbose_name_plural = _("意见")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["org", "status"], name="opinion_org_status"),
            models.Index(fields=["disclosure", "published"], name="opinion_item_published"),
        ]

    def __str__(self) -> str:
        return f"{self.disclosure.title}：{self.text[:20]}"

    @property
    def due_at(self) -> datetime.datetime:
        """By when the organization should have answered (FEEDBACK_REPLY_DAYS)."""
        return self.created_at + datetime.timedelta(days=reply_days())

    @property
    def is_overdue(self) -> bool:
        """Still waiting for an answer past its due date."""
        open_ = self.status in (Opinion.Status.NEW, Opinion.Status.ASSIGNED)
        return open_ and self.due_at < timezone.now()

    @property
    def has_outcome(self) -> bool:
        """Answered or refused: there is something to tell the submitter."""
        return self.status in (
            Opinion.Status.REPLIED,
            Opinion.Status.CLOSED,
            Opinion.Status.REJECTED,
        )

    @property
    def outcome_unread(self) -> bool:
        """The named platform submitter has not opened the outcome yet."""
        return self.submitter_id is not None and self.has_outcome and self.outcome_seen_at is None

    @property
    def must_tell(self) -> bool:
        """The named submitter still has to be told the outcome (QJ 9(4))."""
        return self.named and self.told_at is None

    def for_viewer(self, user: Any) -> OpinionView:
        """What `user` may see of this opinion: everything for the handling staff; for the
        submitter their own opinion and its reply; for everyone else the published text and
        reply only. Identity (name, contact, account) is blanked for all but the staff."""
        from dwgk.feedback.policy import can_handle_view

        if can_handle_view(user, self):
            return OpinionView(
                pk=self.pk,
                channel=self.get_channel_display(),
                status=self.get_status_display(),
                text=self.text,
                reply=self.reply,
                created_at=self.created_at,
                replied_at=self.replied_at,
                named=self.named,
                submitter_id=self.submitter_id,
                submitter_name=self.submitter_name
                or (getattr(self.submitter, "name", "") if self.submitter else ""),
                contact=self.contact,
                state=self.status,
                reject_reason=self.reject_reason,
            )
        own = self.submitter_id is not None and getattr(user, "pk", None) == self.submitter_id
        return OpinionView(
            pk=self.pk,
            channel=self.get_channel_display(),
            status=self.get_status_display(),
            text=self.text,
            reply=self.reply if own else (self.published_reply if self.published else ""),
            created_at=self.created_at,
            replied_at=self.replied_at,
            named=False,
            submitter_id=None,
            submitter_name="",
            contact="",
            state=self.status,
            # The submitter learns why their opinion was not taken up (QJ 9(4)).
            reject_reason=self.reject_reason if own else "",
        )


@dataclass(frozen=True)
class OpinionView:
    """An opinion as one viewer may see it (see `Opinion.for_viewer`)."""

    pk: int
    channel: str
    status: str
    text: str
    reply: str
    created_at: datetime.datetime
    replied_at: datetime.datetime | None
    named: bool
    submitter_id: int | None
    submitter_name: str
    contact: str
    state: str = ""  # the status value, for the badge's class
    reject_reason: str = ""
