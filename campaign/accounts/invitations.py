"""Setting a password through a signed e-mail link: invitations of representatives, and resets.

No password is ever sent or typed by somebody else. The lead administrator invites a
representative by address; the mail carries a link that lets its holder choose a password. A
link works once: it carries a fingerprint of the password hash it was made for, so setting a
password (or any later change) makes it useless. Invitations last 14 days, resets 2 hours.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.audit import record
from campaign.i18n import load_catalog
from campaign.network.models import Organisation
from campaign.outbox.compose import Footer, render
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import enqueue
from campaign.security import TokenError, sign, unsign

LIFETIMES = {"invitation": timedelta(days=14), "reset": timedelta(hours=2)}


def _fingerprint(user: User) -> str:
    return hashlib.sha256((user.password_hash or "no password").encode()).hexdigest()[:20]


def token_for(user: User, purpose: str) -> str:
    return sign(purpose, [user.id, _fingerprint(user)])


def user_for(db_session: Session, purpose: str, token: str) -> User:
    """Return the account a link is for; raise TokenError if bad, expired or already used."""
    user_id, fingerprint = unsign(purpose, token, int(LIFETIMES[purpose].total_seconds()))
    user = db_session.get(User, user_id)
    if user is None or not user.is_enabled or fingerprint != _fingerprint(user):
        raise TokenError(expired=False)
    return user


def send_link(
    db_session: Session, user: User, purpose: str, now: datetime, *, base_url: str, sender: str
) -> int | None:
    """Queue the mail with a set-password link (at most one of each kind an hour)."""
    _ = load_catalog(user.language).gettext
    path = "invitation" if purpose == "invitation" else "password/reset"
    link = f"{base_url.rstrip('/')}/{path}/{token_for(user, purpose)}"
    if purpose == "invitation":
        subject = _("You are invited as a representative of {{ organisation }}")
        body = _(
            "Hello {{ name }},\n\nyou are invited to represent {{ organisation }} in the"
            " campaign's service for travel-free meetings: you enrol your organisation's pilot"
            " users, follow their e-mails and report what you have done.\n\nChoose your"
            " password with this link within 14 days:\n\n{{ link }}\n\nYou then sign in with"
            " {{ email }}."
        )
        kind = MessageKind.STAFF_INVITATION
    else:
        subject = _("Choose a new password")
        body = _(
            "Hello {{ name }},\n\nsomeone, probably you, asked to choose a new password for"
            " {{ email }}. Use this link within 2 hours:\n\n{{ link }}\n\nIf it was not you,"
            " do nothing: your password stays as it is."
        )
        kind = MessageKind.LOGIN_LINK
    organisation = user.organisation.name if user.organisation else ""
    rendered = render(
        subject,
        body,
        {"name": user.name, "organisation": organisation, "link": link, "email": user.email},
        language=user.language,
        footer=Footer(_("You receive this because of your account in the campaign service.")),
    )
    return enqueue(
        db_session,
        now=now,
        source_key=f"{purpose}:{user.id}:{_fingerprint(user)}:{now:%Y%m%d%H}",
        recipient=user.email,
        kind=kind,
        rendered=rendered,
        due_at=now,
        sender=sender,
        organisation_id=user.organisation_id,
        user_id=user.id,
    )


def invite(
    db_session: Session,
    organisation: Organisation,
    *,
    name: str,
    email: str,
    language: str,
    actor: Any,
    now: datetime,
) -> User:
    """Create a representative's account without a password; the caller sends the link."""
    user = User(
        email=email,
        name=name,
        role=Role.MEMBER_REP,
        organisation_id=organisation.id,
        organisation=organisation,
        language=language,
        password_hash=None,
        created_at=now,
    )
    db_session.add(user)
    db_session.flush()
    record(
        db_session,
        actor,
        "representative.invited",
        now=now,
        organisation_id=organisation.id,
        target=f"user:{user.id}",
    )
    return user
