"""Single sign-on: which account an identity from the OpenID provider is, and what it may do.

An identity is found by its link (issuer and subject); else by its verified e-mail address, an
enabled account's (then linked); else an account is created for it, but only when its address
is of a configured domain and the role mapping gives it a role and an organisation. At each
sign-in the mapped claim's values set the account's role and organisation again, by the rules
of every other change of a role (roles.reassign: audited, the account's other sessions ended);
a person the mapping says nothing of keeps theirs. A claim that would leave a campaign without
a lead administrator who can sign in, or change an operator, changes nothing: the sign-in goes
on with the role kept (audited; the view tells the person). A disabled account is refused. The
caller commits; what the provider said is checked before (views/sso.py).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import config_sso
from campaign.accounts import roles
from campaign.accounts.models import IdentityLink, Role, User
from campaign.audit import record
from campaign.network.models import Organisation


class Refusal(enum.Enum):
    """Why a signed-in identity gets no session here."""

    NO_ACCOUNT = "no_account"  # nothing links, matches or may be created
    DISABLED = "disabled"  # the account is disabled
    NO_SUBJECT = "no_subject"  # the provider named no one


class SignInRefused(Exception):
    """The identity may not sign in here; `refusal` says why."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str | None  # only an address the provider has verified
    name: str
    values: tuple[str, ...]  # the mapped claim's values


@dataclass(frozen=True)
class Rules:
    """What the deployment allows: the role mapping and the domains of new accounts."""

    grants: dict[str, tuple[str, str]]  # claim value -> (role, organisation slug)
    domains: frozenset[str]
    claim: str = "groups"  # the name of the claim the mapping reads

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Rules:
        """Return the rules the settings give."""
        return cls(
            config_sso.roles(config.get("CAMPAIGN_OIDC_ROLES") or ""),
            config_sso.domains(config.get("CAMPAIGN_OIDC_DOMAINS") or ""),
            config.get("CAMPAIGN_OIDC_CLAIM") or "groups",
        )


@dataclass(frozen=True)
class Grant:
    """What the mapping gives an identity, and the claim's value that gave it."""

    role: Role
    organisation: Organisation
    value: str


@dataclass(frozen=True)
class Regrant:
    """What a sign-in's claim asked of an account that had another role or organisation."""

    grant: Grant
    former: Organisation | None  # the organisation it had before the sign-in
    kept: roles.Refused | None  # why it kept its role and organisation, or None: it changed

    @property
    def moved(self) -> bool:
        """Whether the account now belongs to another organisation."""
        former = self.former.id if self.former else None
        return self.kept is None and former != self.grant.organisation.id


@dataclass(frozen=True)
class SignIn:
    """The account an identity signs in to, and what its claim changed (None: nothing)."""

    user: User
    regrant: Regrant | None


def identity_of(claims: Mapping[str, Any], claim: str) -> Identity:
    """Return the identity a verified ID token's claims describe."""
    email = str(claims.get("email") or "").strip().lower()
    verified = claims.get("email_verified") is True or claims.get("xms_edov") is True
    values = claims.get(claim) or ()
    return Identity(
        issuer=str(claims.get("iss") or ""),
        subject=str(claims.get("sub") or ""),
        email=email if email and verified else None,
        name=str(claims.get("name") or "").strip()[:200],
        values=(values,) if isinstance(values, str) else tuple(str(v) for v in values),
    )


def account_for(db_session: Session, identity: Identity, rules: Rules, now: datetime) -> SignIn:
    """Return the enabled account the identity signs in to, linked and with the role its claim
    gives where the rules of roles allow; raise SignInRefused when there is none."""
    if not identity.subject:
        raise SignInRefused(Refusal.NO_SUBJECT)
    grant = _grant(db_session, identity, rules)
    link = _link_of(db_session, identity)
    user = link.user if link else _by_email(db_session, identity)
    if user is None:
        user = _created(db_session, identity, rules, grant, now)
    if not user.is_enabled:
        raise SignInRefused(Refusal.DISABLED)
    if link is None:
        link = _linked(db_session, user, identity, now)
    link.last_used_at = now
    regrant = _regrant(db_session, user, grant, rules, now) if grant is not None else None
    return SignIn(user, regrant)


def _link_of(db_session: Session, identity: Identity) -> IdentityLink | None:
    """Return the stored link of this identity, if any."""
    return db_session.scalar(
        select(IdentityLink).where(
            IdentityLink.issuer == identity.issuer, IdentityLink.subject == identity.subject
        )
    )


def _by_email(db_session: Session, identity: Identity) -> User | None:
    """Return the account with the identity's verified address, if any."""
    if identity.email is None:
        return None
    return db_session.scalar(select(User).where(User.email == identity.email))


def _grant(db_session: Session, identity: Identity, rules: Rules) -> Grant | None:
    """Return the role and organisation the first mapped value the identity holds gives (an
    organisation that does not exist gives nothing)."""
    for value, (role, slug) in rules.grants.items():
        if value in identity.values:
            found = db_session.scalar(select(Organisation).where(Organisation.slug == slug))
            return Grant(Role(role), found, value) if found is not None else None
    return None


def _created(
    db_session: Session,
    identity: Identity,
    rules: Rules,
    grant: Grant | None,
    now: datetime,
) -> User:
    """Create the identity's account, if its domain is allowed and the mapping gives it a
    role and an organisation; else refuse."""
    domain = (identity.email or "").rpartition("@")[2]
    if identity.email is None or domain not in rules.domains or grant is None:
        raise SignInRefused(Refusal.NO_ACCOUNT)
    role, organisation = grant.role, grant.organisation
    user = User(
        email=identity.email, name=identity.name or identity.email, role=role,
        organisation=organisation, password_hash=None, created_at=now,
    )  # fmt: skip
    db_session.add(user)
    db_session.flush()
    record(db_session, user, "account.created_by_sso", organisation_id=organisation.id,
           target=f"user:{user.id}", role=role.value)  # fmt: skip
    return user


def _linked(db_session: Session, user: User, identity: Identity, now: datetime) -> IdentityLink:
    """Link the account to the identity (audited)."""
    link = IdentityLink(
        user=user, issuer=identity.issuer, subject=identity.subject, created_at=now,
        last_used_at=now,
    )  # fmt: skip
    db_session.add(link)
    record(db_session, user, "account.sso_linked", organisation_id=user.organisation_id,
           target=f"user:{user.id}", issuer=identity.issuer)  # fmt: skip
    return link


def _regrant(
    db_session: Session, user: User, grant: Grant, rules: Rules, now: datetime
) -> Regrant | None:
    """Give the account the role and organisation of its claim, if they changed, as any change
    of a role is made (roles.reassign); where its rules refuse, keep them and audit that.

    A refused change does not refuse the sign-in: the last lead administrator of a campaign
    whose group the identity provider has changed must still get in, to name another lead
    administrator (or hand the lead over) before the claim can take effect; refused at the
    door, the campaign would be left with nobody to lead it.
    """
    if user.role is grant.role and user.organisation_id == grant.organisation.id:
        return None
    former, claimed = user.organisation, {"claim": rules.claim, "claim_value": grant.value}
    try:
        roles.reassign(db_session, user, grant.organisation, grant.role, actor=user, now=now,
                       action="account.sso_role_changed", **claimed)  # fmt: skip
    except roles.Refused as refused:
        _audit_kept(db_session, user, grant, refused, now, **claimed)
        return Regrant(grant, former, refused)
    return Regrant(grant, former, None)


def _audit_kept(
    db_session: Session, user: User, grant: Grant, refused: roles.Refused, now: datetime,
    **claimed: str,
) -> None:  # fmt: skip
    """Audit, in each campaign that refused it, that the account kept its role and organisation
    against its claim."""
    wanted = f"{grant.role.value}@{grant.organisation.slug}"
    campaign_ids: list[int | None] = [campaign.id for campaign in refused.campaigns]
    for campaign_id in campaign_ids or [None]:
        record(
            db_session, user, "account.sso_role_kept", now=now, campaign_id=campaign_id,
            organisation_id=user.organisation_id, target=f"user:{user.id}",
            kept=roles.described(user), claimed=wanted, kept_because=refused.reason, **claimed,
        )  # fmt: skip
