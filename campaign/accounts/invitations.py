"""Setting a password through a signed e-mail link: invitations of staff, and resets.

No password is ever sent or typed by somebody else. The lead administrator invites a
representative, or another lead administrator, by address; the mail carries a link that lets
its holder choose a password. A link works once: it carries a fingerprint of the password hash
it was made for, so setting a password (or any later change) makes it useless. Invitations
last 14 days, resets 2 hours.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.audit import record
from campaign.network.models import Organisation
from campaign.outbox.mail import Recipient, mail_settings, queue_staff_mail
from campaign.outbox.models import MessageKind
from campaign.outbox.texts import greeting
from campaign.outbox.wording import campaign_letter
from campaign.security import TokenError, sign, unsign

LIFETIMES = {"invitation": timedelta(days=14), "reset": timedelta(hours=2)}


def _fingerprint(user: User) -> str:
    """Return a short hash of the account's password hash: a new password changes it."""
    return hashlib.sha256((user.password_hash or "no password").encode()).hexdigest()[:20]


def token_for(user: User, purpose: str) -> str:
    """Return the signed token of a set-password link, good until the password changes."""
    return sign(purpose, [user.id, _fingerprint(user)])


def user_for(db_session: Session, purpose: str, token: str) -> User:
    """Return the account a link is for; raise TokenError if bad, expired or already used."""
    user_id, fingerprint = unsign(purpose, token, int(LIFETIMES[purpose].total_seconds()))
    user = db_session.get(User, user_id)
    if user is None or not user.is_enabled or fingerprint != _fingerprint(user):
        raise TokenError(expired=False)
    return user


def send_link(
    db_session: Session, user: User, purpose: str, now: datetime, campaign_id: int | None = None
) -> int | None:
    """Queue the mail with a set-password link (at most one of each kind an hour), in the outbox
    of the campaign it was sent from (a reset belongs to none)."""
    invited = purpose == "invitation"
    return queue_staff_mail(
        db_session,
        Recipient.of(user, campaign_id),
        campaign_letter(db_session, campaign_id, _template(user, purpose), user.language),
        _link_context(user, purpose),
        kind=MessageKind.STAFF_INVITATION if invited else MessageKind.LOGIN_LINK,
        source_key=f"{purpose}:{user.id}:{_fingerprint(user)}:{now:%Y%m%d%H}",
        due_at=now,
        now=now,
    )


def _template(user: User, purpose: str) -> str:
    """Return the name of the mail template of a link: an invitation says to what role."""
    if purpose != "invitation":
        return "password-reset"
    return "lead-admin-invitation" if user.role is Role.LEAD_ADMIN else "representative-invitation"


def _link_context(user: User, purpose: str) -> dict[str, str]:
    """Return the placeholders of a link's mail: the person, their member, and the link."""
    path = "invitation" if purpose == "invitation" else "password/reset"
    return {
        "greeting": greeting(user.name, user.language),
        "organisation": user.organisation.name if user.organisation else "",
        "link": mail_settings().link(f"/{path}/{token_for(user, purpose)}"),
        "email": user.email,
    }


@dataclass(frozen=True)
class Newcomer:
    """A person to invite, as the lead administrator entered them."""

    name: str
    email: str
    language: str


def invite(
    db_session: Session,
    organisation: Organisation,
    newcomer: Newcomer,
    *,
    actor: Any,
    now: datetime,
    campaign_id: int | None = None,
) -> User:
    """Create a representative's account without a password, audited in the campaign it was
    invited from; the caller sends the link."""
    user = new_account(organisation, newcomer, Role.MEMBER_REP, now)
    db_session.add(user)
    db_session.flush()
    record(
        db_session,
        actor,
        "representative.invited",
        now=now,
        campaign_id=campaign_id,
        organisation_id=organisation.id,
        target=f"user:{user.id}",
    )
    return user


def new_account(organisation: Organisation, newcomer: Newcomer, role: Role, now: datetime) -> User:
    """Return the new account of a person of the organisation, without a password."""
    return User(
        email=newcomer.email,
        name=newcomer.name,
        role=role,
        organisation_id=organisation.id,
        organisation=organisation,
        language=newcomer.language,
        password_hash=None,
        created_at=now,
    )
