"""Changes a person makes to their own portal settings, one function each, called the same
way from views, commands and tests. Each is atomic, checks who may do it and writes the
audit log.

The private feed secret (CHAN-2) is handed out exactly once, by `feed_token_issue`; after
that only its digest exists. Neither the secret nor its digest is ever written to the
audit log or any other log.
"""

from __future__ import annotations

import datetime
import secrets
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from dwgk.accounts.models import User
from dwgk.audit.models import record
from dwgk.lib.errors import ActionError, NotAllowed
from dwgk.members.models import FeedToken, token_digest

# 32 bytes = 256 bits from the OS's CSPRNG, 43 URL-safe characters.
TOKEN_BYTES = 32
# How stale `last_used_at` may get before a fetch writes it again.
USED_PRECISION = datetime.timedelta(minutes=10)


def _require_own_active_account(user: Any) -> User:
    # Only a signed-in, active person holds a feed of their own: the feed shows what was
    # disclosed to them, so nobody else may mint or end it for them.
    if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
        raise NotAllowed("只有已登录的有效账号才能管理自己的订阅地址。")
    return user


@transaction.atomic
def feed_token_issue(user: Any, *, request: HttpRequest | None = None) -> tuple[FeedToken, str]:
    """Give `user` a new private feed secret and revoke the previous one, if any.

    Returns the stored row and the secret itself. The caller shows the secret once and then
    forgets it: only its SHA-256 is kept, so it can never be shown again.
    """
    user = _require_own_active_account(user)
    # Lock the person's row: two issues at once must not both revoke and insert.
    User.objects.select_for_update().filter(pk=user.pk).first()
    now = timezone.now()
    previous = list(FeedToken.objects.current().filter(user=user).values_list("pk", flat=True))
    FeedToken.objects.filter(pk__in=previous).update(revoked_at=now)
    secret = secrets.token_urlsafe(TOKEN_BYTES)
    token = FeedToken.objects.create(user=user, digest=token_digest(secret))
    record(user, "feed_token.issue", token, request=request, replaced=previous)
    return token, secret


@transaction.atomic
def feed_token_revoke(user: Any, *, request: HttpRequest | None = None) -> FeedToken:
    """End `user`'s current private feed URL: from now on it answers 404."""
    user = _require_own_active_account(user)
    token = FeedToken.objects.current().select_for_update().filter(user=user).first()
    if token is None:
        raise ActionError("您当前没有有效的订阅地址。")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(user, "feed_token.revoke", token, request=request)
    return token


def feed_token_user(secret: str) -> tuple[FeedToken, User] | None:
    """The current token and its active owner for a presented secret, or None.

    Marks the token as used, at most once every USED_PRECISION: feed readers poll often, and
    a write on every poll would buy nothing. Not audited: reading is not a change, and an
    audit row per poll would bury the entries that matter.
    """
    if not secret or len(secret) > 200:
        return None
    token = (
        FeedToken.objects.current()
        .select_related("user")
        .filter(digest=token_digest(secret), user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    stale = now - USED_PRECISION
    if token.last_used_at is None or token.last_used_at < stale:
        FeedToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token, token.user
