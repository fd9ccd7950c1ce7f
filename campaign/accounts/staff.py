"""What happens to a staff account: signing in, its holder's details and password, and what the
lead administrator does to it (a new invitation, its access, a lifted sign-in lock); each is
audited. The caller commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts import invitations, throttle
from campaign.accounts.models import Role, User
from campaign.audit import record


def signed_in(db_session: Session, user: User, now: datetime) -> None:
    """Note that the user signed in."""
    user.last_login_at = now
    record(db_session, user, "login", organisation_id=user.organisation_id)


def change_details(db_session: Session, user: User, *, name: str, language: str) -> None:
    """Store the user's own name and language."""
    user.name, user.language = name, language
    record(db_session, user, "account.profile_changed")


def change_password(db_session: Session, user: User, password: str) -> None:
    """Store the user's new password; every session of the account ends."""
    user.set_password(password)
    record(db_session, user, "account.password_changed")


def set_password_by_link(
    db_session: Session, user: User, purpose: str, password: str, now: datetime
) -> None:
    """Store the password chosen through an invitation or reset link; the holder signs in."""
    user.set_password(password)  # ends every session signed in before
    user.last_login_at = now
    record(db_session, user, f"account.password_set_by_{purpose}")


def resend_invitation(
    db_session: Session, user: User, actor: Any, now: datetime, campaign_id: int | None = None
) -> None:
    """Queue a new invitation link for an account that has no password yet, from the campaign
    `campaign_id`."""
    invitations.send_link(db_session, user, "invitation", now, campaign_id)
    invited = "lead_admin" if user.role is Role.LEAD_ADMIN else "representative"
    _record(db_session, actor, f"{invited}.invitation_resent", user, campaign_id)


def set_access(
    db_session: Session, user: User, enabled: bool, actor: Any, campaign_id: int | None = None
) -> None:
    """Let a representative sign in, or no longer (which ends their sessions at once)."""
    user.is_enabled = enabled
    if not enabled:
        user.end_sessions()  # enabling the account again does not revive them
    action = "representative.enabled" if enabled else "representative.disabled"
    _record(db_session, actor, action, user, campaign_id)


def lift_lock(
    db_session: Session, kind: throttle.LockKind, value: str, actor: Any, now: datetime
) -> None:
    """Let a locked address or client try to sign in again."""
    failures = throttle.unlock(db_session, kind, value, now)
    account = db_session.scalar(select(User).where(User.email == value))
    record(
        db_session, actor, f"sign_in.{kind.value}_unlocked",
        organisation_id=account.organisation_id if account else None, target=value,
        failures=failures,
    )  # fmt: skip


def _record(db_session: Session, actor: Any, action: str, user: User, campaign: int | None) -> None:
    """Audit a change of a staff account, done from the campaign `campaign`."""
    record(db_session, actor, action, campaign_id=campaign, organisation_id=user.organisation_id,
           target=f"user:{user.id}")  # fmt: skip
