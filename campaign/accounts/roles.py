"""Who leads a campaign and who represents its members, and the lead administrator's changes.

Rights derive from the organisation: an account with role LEAD_ADMIN whose organisation leads
the campaign is its lead administrator; a LEAD_ADMIN without organisation is an operator of
every campaign; any other account of a member organisation is that member's representative.
A change here (another lead administrator, the role taken away, a representative moved, the
lead handed to another member, or the role and organisation the single sign-on's claim gives:
`reassign`) is audited and ends every session of the accounts it changes, so that nobody keeps
rights they lost, or gains some in a session signed in before. The caller commits.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from campaign.accounts import invitations
from campaign.accounts.models import IdentityLink, Role, User
from campaign.accounts.scope import is_operator, leads
from campaign.audit import record
from campaign.network.models import Campaign, Membership, Organisation


class Standing(enum.Enum):
    """What an account is in one campaign (its role, read against the campaign's lead)."""

    LEAD_ADMIN = "lead_admin"
    OPERATOR = "operator"
    REPRESENTATIVE = "representative"


class Refused(Exception):
    """A change the campaign cannot take; `reason` is a key of REFUSALS, `campaigns` those
    that cannot take it (when the change is not of one campaign's page: `reassign`)."""

    def __init__(self, reason: str, campaigns: Sequence[Campaign] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.campaigns = list(campaigns)


REFUSALS = {
    "last_lead_admin": _l(
        "The campaign needs a lead administrator who can sign in: make somebody else lead"
        " administrator first."
    ),
    "not_member": _l("That organisation is not a member of this campaign."),
    "lead_outside_lead": _l(
        "Only people of the lead organisation can be lead administrators. To give the lead to"
        " another member, hand it over."
    ),
    "not_lead_admin": _l("This person is not a lead administrator of this campaign."),
    "not_here": _l(
        "This account leads another campaign or runs every campaign: it is changed there or"
        " from the command line."
    ),
    "own_organisation": _l("Choose a person of another member organisation."),
    "cannot_sign_in": _l(
        "This person cannot sign in (invited without a password yet, or disabled): the lead"
        " passes only to somebody who can."
    ),
}


def standing(user: User, campaign: Campaign) -> Standing:
    """Return what an account of the campaign's staff is in it (scope's rule, told apart)."""
    if is_operator(user):
        return Standing.OPERATOR
    return Standing.LEAD_ADMIN if leads(user, campaign) else Standing.REPRESENTATIVE


def is_changeable(user: User, campaign: Campaign) -> bool:
    """Return whether the campaign's lead may change the account: an operator, or a lead
    administrator of another campaign, is changed there (or from the command line)."""
    return user.role is not Role.LEAD_ADMIN or standing(user, campaign) is Standing.LEAD_ADMIN


def member_ids(campaign: Campaign) -> Select[int]:
    """A query of the ids of the campaign's member organisations."""
    return select(Membership.organisation_id).where(Membership.campaign_id == campaign.id)


def staff(campaign: Campaign) -> Select[User]:
    """A query of the campaign's staff: its members' accounts and the operators."""
    operator = (User.role == Role.LEAD_ADMIN) & User.organisation_id.is_(None)
    return select(User).where(or_(User.organisation_id.in_(member_ids(campaign)), operator))


def staff_of(db_session: Session, campaign: Campaign) -> list[User]:
    """Return the campaign's staff: lead administrators first, then by organisation and name."""
    users = db_session.scalars(staff(campaign)).all()
    order = list(Standing)
    return sorted(users, key=lambda u: (order.index(standing(u, campaign)), _sort_key(u)))


def _sort_key(user: User) -> tuple[str, str]:
    """Return the key that orders accounts by organisation, then name."""
    return (user.organisation.short_name if user.organisation else "", user.name.lower())


def lead_admins(db_session: Session, campaign: Campaign, *, lock: bool = False) -> list[User]:
    """Return the campaign's lead administrators (operators not counted); with `lock`, hold
    their rows until the caller commits (PostgreSQL), read afresh."""
    statement = select(User).where(
        User.role == Role.LEAD_ADMIN, User.organisation_id == campaign.lead_organisation_id
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return list(db_session.scalars(statement.order_by(User.name, User.id)))


def can_sign_in(db_session: Session, user: User) -> bool:
    """Return whether the account can sign in now: enabled, with a password or linked to an
    identity at the OpenID provider (an account the single sign-on made has no password)."""
    if not user.is_enabled:
        return False
    if user.password_hash is not None:
        return True
    linked = select(IdentityLink.id).where(IdentityLink.user_id == user.id).limit(1)
    return db_session.scalar(linked) is not None


def other_campaigns_led(db_session: Session, organisation_id: int, campaign: Campaign) -> list[str]:
    """Return the names of the other campaigns the organisation leads."""
    statement = select(Campaign.name).where(
        Campaign.lead_organisation_id == organisation_id, Campaign.id != campaign.id
    )
    return list(db_session.scalars(statement.order_by(Campaign.name)))


def is_member(db_session: Session, campaign: Campaign, organisation: Organisation) -> bool:
    """Return whether the organisation is a member of the campaign."""
    return organisation.id in db_session.scalars(member_ids(campaign)).all()


def member_named(db_session: Session, campaign: Campaign, slug: str) -> Organisation:
    """Return the member organisation with this slug; refuse one that is none."""
    statement = select(Organisation).where(
        Organisation.slug == slug, Organisation.id.in_(member_ids(campaign))
    )
    organisation = db_session.scalar(statement)
    if organisation is None:
        raise Refused("not_member")
    return organisation


def members(db_session: Session, campaign: Campaign) -> list[Organisation]:
    """Return the campaign's member organisations, by name."""
    statement = select(Organisation).where(Organisation.id.in_(member_ids(campaign)))
    return list(db_session.scalars(statement.order_by(Organisation.name)))


def _keep_a_lead(db_session: Session, campaign: Campaign, leaving: User) -> None:
    """Refuse unless another lead administrator who can sign in stays."""
    if not _another_lead(db_session, campaign, leaving):
        raise Refused("last_lead_admin", [campaign])


def _another_lead(db_session: Session, campaign: Campaign, leaving: User) -> bool:
    """Return whether a lead administrator who can sign in stays when `leaving` goes. Their
    rows stay locked: two leads who each take their own role away at once (a directory that
    moves the whole group) wait for each other, and the second finds the first gone."""
    others = [u for u in lead_admins(db_session, campaign, lock=True) if u.id != leaving.id]
    return any(can_sign_in(db_session, u) for u in others)


def invite_lead_admin(
    db_session: Session,
    campaign: Campaign,
    newcomer: invitations.Newcomer,
    actor: Any,
    now: datetime,
) -> User:
    """Create a lead administrator's account in the lead organisation; the caller sends the link."""
    user = invitations.new_account(campaign.lead_organisation, newcomer, Role.LEAD_ADMIN, now)
    db_session.add(user)
    db_session.flush()
    _audit(db_session, actor, "lead_admin.invited", campaign, user, now)
    return user


def remove_lead_admin(
    db_session: Session, campaign: Campaign, user: User, actor: Any, now: datetime
) -> None:
    """Take the lead role away: the account becomes a representative of the lead organisation.

    It keeps its history and its organisation's pages; disabling it is one step further.
    """
    check_removal(db_session, campaign, user)
    _set_role(user, Role.MEMBER_REP)
    _audit(db_session, actor, "lead_admin.removed", campaign, user, now)


def check_removal(db_session: Session, campaign: Campaign, user: User) -> None:
    """Refuse to take the lead role from somebody without it, or from the last who has it."""
    if standing(user, campaign) is not Standing.LEAD_ADMIN:
        raise Refused("not_lead_admin")
    _keep_a_lead(db_session, campaign, user)


def _set_role(user: User, role: Role) -> bool:
    """Give the account a role; end its sessions if that changed it. Return whether it did."""
    if user.role is role:
        return False
    user.role = role
    user.end_sessions()
    return True


def _audit(
    db_session: Session,
    actor: Any,
    action: str,
    campaign: Campaign,
    user: User,
    now: datetime,
    **details: Any,
) -> None:
    """Audit a change of a staff account in the campaign."""
    record(
        db_session, actor, action, now=now, campaign_id=campaign.id,
        organisation_id=user.organisation_id, target=f"user:{user.id}", **details,
    )  # fmt: skip


def change(
    db_session: Session,
    campaign: Campaign,
    user: User,
    organisation: Organisation,
    role: Role,
    *,
    actor: Any,
    now: datetime,
) -> list[str]:
    """Move an account to another member and/or role; return what changed (organisation, role)."""
    check_change(db_session, campaign, user, organisation, role)
    changed = [name for name, same in _sameness(user, organisation, role) if not same]
    if changed:
        before = described(user)
        user.organisation, user.organisation_id, user.role = organisation, organisation.id, role
        user.end_sessions()
        _audit(
            db_session, actor, "staff.changed", campaign, user, now, before=before,
            after=described(user),
        )  # fmt: skip
    return changed


def _sameness(user: User, organisation: Organisation, role: Role) -> list[tuple[str, bool]]:
    """Return, for organisation and role, whether the account has it already."""
    return [("organisation", user.organisation_id == organisation.id), ("role", user.role is role)]


def described(user: User) -> str:
    """Return an account's role and organisation for the audit, e.g. 'member_rep@alpha'."""
    return f"{user.role.value}@{user.organisation.slug if user.organisation else '-'}"


def check_change(
    db_session: Session, campaign: Campaign, user: User, organisation: Organisation, role: Role
) -> None:
    """Refuse a change that leaves the campaign without a lead or gives a lead to a non-lead."""
    if not is_changeable(user, campaign):
        raise Refused("not_here")
    if not is_member(db_session, campaign, organisation):
        raise Refused("not_member")
    if role is Role.LEAD_ADMIN and organisation.id != campaign.lead_organisation_id:
        raise Refused("lead_outside_lead")
    stays_lead = role is Role.LEAD_ADMIN and organisation.id == campaign.lead_organisation_id
    if standing(user, campaign) is Standing.LEAD_ADMIN and not stays_lead:
        _keep_a_lead(db_session, campaign, user)


def reassign(
    db_session: Session,
    user: User,
    organisation: Organisation,
    role: Role,
    *,
    actor: Any,
    now: datetime,
    action: str,
    **details: Any,
) -> bool:
    """Give the account a role and organisation in every campaign at once (what the single
    sign-on's claim says), by the rules `change` keeps in one (check_reassign); end its
    sessions; audit it in each campaign of the organisation it leaves or joins (`before`,
    `after`, `details`). Return whether anything changed."""
    if user.role is role and user.organisation_id == organisation.id:
        return False
    check_reassign(db_session, user, organisation, role)
    before, former = described(user), user.organisation_id
    user.organisation, user.organisation_id, user.role = organisation, organisation.id, role
    user.end_sessions()
    campaign_ids: list[int | None] = [*_campaign_ids_of(db_session, former, organisation.id)]
    for campaign_id in campaign_ids or [None]:
        record(
            db_session, actor, action, now=now, campaign_id=campaign_id,
            organisation_id=organisation.id, target=f"user:{user.id}", before=before,
            after=described(user), **details,
        )  # fmt: skip
    return True


def check_reassign(db_session: Session, user: User, organisation: Organisation, role: Role) -> None:
    """Refuse to change an operator (done from the command line), or to take a lead
    administrator from a campaign their organisation leads that keeps no other who can sign in
    (`Refused.campaigns` names those)."""
    if is_operator(user):
        raise Refused("not_here")
    if role is Role.LEAD_ADMIN and organisation.id == user.organisation_id:
        return
    led = [] if user.role is not Role.LEAD_ADMIN else led_by(db_session, user.organisation_id)
    orphaned = [c for c in led if not _another_lead(db_session, c, user)]
    if orphaned:
        raise Refused("last_lead_admin", orphaned)


def led_by(db_session: Session, organisation_id: int | None) -> list[Campaign]:
    """Return the campaigns the organisation leads, by name."""
    statement = select(Campaign).where(Campaign.lead_organisation_id == organisation_id)
    return list(db_session.scalars(statement.order_by(Campaign.name)))


def _campaign_ids_of(db_session: Session, *organisation_ids: int | None) -> list[int]:
    """Return the ids of the campaigns the organisations lead or are members of."""
    ids = [i for i in organisation_ids if i is not None]
    joined = select(Membership.campaign_id).where(Membership.organisation_id.in_(ids))
    statement = select(Campaign.id).where(
        or_(Campaign.id.in_(joined), Campaign.lead_organisation_id.in_(ids))
    )
    return list(db_session.scalars(statement.order_by(Campaign.id)))


def check_successor(db_session: Session, campaign: Campaign, successor: User) -> None:
    """Refuse a successor who is not of another member, or cannot sign in."""
    if standing(successor, campaign) is not Standing.REPRESENTATIVE:
        raise Refused("own_organisation" if successor.organisation else "not_here")
    organisation = successor.organisation
    if organisation is None or organisation.id == campaign.lead_organisation_id:
        raise Refused("own_organisation")
    if not is_member(db_session, campaign, organisation):
        raise Refused("not_member")
    if not can_sign_in(db_session, successor):
        raise Refused("cannot_sign_in")


def hand_over(
    db_session: Session, campaign: Campaign, successor: User, actor: Any, now: datetime
) -> list[User]:
    """Make the successor's organisation the campaign's lead and them its lead administrator.

    The lead administrators of the former lead become its representatives in this campaign:
    their role becomes MEMBER_REP, unless their organisation still leads another campaign,
    where they stay lead administrators (and here, by the organisation, are representatives).
    Return the accounts whose role changed (their sessions have ended).
    """
    check_successor(db_session, campaign, successor)
    former_lead, former = campaign.lead_organisation, lead_admins(db_session, campaign)
    _move_lead(campaign, successor)
    changed = [successor] if _set_role(successor, Role.LEAD_ADMIN) else []
    if not other_campaigns_led(db_session, former_lead.id, campaign):
        changed += [user for user in former if _set_role(user, Role.MEMBER_REP)]
    record(
        db_session, actor, "campaign.lead_handed_over", now=now, campaign_id=campaign.id,
        organisation_id=successor.organisation_id, target=f"user:{successor.id}",
        former_lead=former_lead.slug, new_lead=campaign.lead_organisation.slug,
        roles_changed=[user.email for user in changed],
    )  # fmt: skip
    return changed


def _move_lead(campaign: Campaign, successor: User) -> None:
    """Make the successor's organisation the campaign's lead organisation."""
    assert successor.organisation is not None, "check_successor refuses accounts without one"
    campaign.lead_organisation = successor.organisation
    campaign.lead_organisation_id = successor.organisation.id


def successors(db_session: Session, campaign: Campaign) -> Sequence[User]:
    """Return the accounts the lead can pass to: of other members, able to sign in."""
    return [
        user
        for user in staff_of(db_session, campaign)
        if user.organisation_id not in (None, campaign.lead_organisation_id)
        and can_sign_in(db_session, user)
    ]
