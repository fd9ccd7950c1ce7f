"""The Standard Webhooks signature: HMAC-SHA256 of `id.timestamp.body` with a `whsec_` secret.

    webhook-signature: v1,<base64 signature> [v1,<base64 signature of the previous secret>]

A rotated secret keeps signing beside the new one for a grace period, so that a receiver can
change its secret at its own pace (either verifies).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from campaign.webhooks.models import WebhookSubscription

PREFIX = "whsec_"
ROTATION_GRACE = timedelta(hours=24)


def new_secret() -> str:
    """Return a new random secret in the Standard Webhooks format (24 bytes, base64)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """Return one `v1,<base64>` signature of the message with `secret`."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signing_secrets(subscription: WebhookSubscription, now: datetime) -> list[str]:
    """Return the secrets that sign at `now`: the current one, and the previous in its grace."""
    found = [subscription.secret]
    until = subscription.previous_secret_until
    if subscription.previous_secret and until is not None and now < until:
        found.append(subscription.previous_secret)
    return found


def headers(
    subscription: WebhookSubscription, webhook_id: str, body: bytes, now: datetime
) -> dict[str, str]:
    """Return the Standard Webhooks headers of a body sent at `now`."""
    timestamp = int(now.timestamp())
    signed = (signature(s, webhook_id, timestamp, body) for s in signing_secrets(subscription, now))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signed),
    }


def rotate(subscription: WebhookSubscription, now: datetime) -> str:
    """Give the subscription a new secret, the old one signing beside it for a day; return it."""
    subscription.previous_secret = subscription.secret
    subscription.previous_secret_until = now + ROTATION_GRACE
    subscription.secret = new_secret()
    return subscription.secret
