"""`{% item_feedback item %}`: the feedback section of an item page (意见反馈, PROC-5).

The item page has already decided that this person may see the item. The section shows the
opinions published with it and their replies — never who submitted them, not even to the
staff, who see that on the handling screens — and the form to leave an opinion.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import AnonymousUser

from dwgk.disclosures.models import Disclosure
from dwgk.feedback import policy
from dwgk.feedback.forms import HONEYPOT, OpinionForm
from dwgk.feedback.models import Opinion, accepts_opinions, shows_opinions

register = template.Library()


@register.inclusion_tag("feedback/_item.html", takes_context=True)
def item_feedback(context: template.Context, item: Disclosure) -> dict[str, Any]:
    """The published opinions of a disclosed item and the opinion form, for whoever sees
    the page; nothing for an item not (or no longer) disclosed."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user") or AnonymousUser()
    if not shows_opinions(item):
        return {"shown": False}
    opinions = list(
        Opinion.objects.visible_to(user)
        .filter(disclosure=item, published=True)
        .order_by("-published_at", "-id")
    )
    signed_in = bool(getattr(user, "is_authenticated", False))
    handling = signed_in and policy.is_handling_staff(user, item.org_id)
    open_ = accepts_opinions(item)
    return {
        "shown": True,
        "item": item,
        "user": user,
        "opinions": [(op.get_channel_display(), op) for op in opinions],
        "open": open_,
        "form": OpinionForm(item=item, user=user) if open_ else None,
        "honeypot": HONEYPOT,
        "signed_in": signed_in,
        "handling": handling,
        "can_record": handling and open_ and policy.can_handle(user, item.org),
        "pending": (
            Opinion.objects.visible_to(user)
            .filter(disclosure=item, status__in=(Opinion.Status.NEW, Opinion.Status.ASSIGNED))
            .count()
            if handling
            else 0
        ),
        "mine": (
            Opinion.objects.visible_to(user)
            .filter(disclosure=item, submitter_id=getattr(user, "pk", None))
            .count()
            if signed_in
            else 0
        ),
    }
