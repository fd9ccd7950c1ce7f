"""THE scope: who may reach which route, in which campaign, and which rows they see.

Every view declares its access with `@access(...)`; `enforce_access` runs before each request
and refuses anything undeclared. A view declared STAFF, LEAD_ADMIN or ORGANISATION is a page of
one campaign: its rule is put under `/campaigns/<campaign>` (`rule_of`), the URL processors take
the slug out of the view's arguments and fill it into every `url_for` of the request.

Rights are derived per campaign from the user's organisation (`standing`): in campaign C, a
lead_admin of C's lead organisation is C's lead administrator; a lead_admin without an
organisation is an operator who administers every campaign; any other account whose
organisation is a member of C is that member's representative in C; anyone else gets 404 for
everything of C. A route with an `<org>` parameter is reachable by the campaign's lead
administrator and by that member's own representatives; list queries go through `scoped()`.
Nothing else in the code decides who sees what.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request, session
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from campaign import db
from campaign.accounts.models import Role, User
from campaign.network.models import Campaign, Membership, Organisation


class Access(enum.Enum):
    """Who may call a view."""

    PUBLIC = "public"  # anyone, no login (login page, health check, signed participant links)
    SIGNED_IN = "signed_in"  # any signed-in staff account, outside every campaign (own account)
    ANY_LEAD_ADMIN = "any_lead_admin"  # the lead administrator of at least one campaign
    STAFF = "staff"  # anyone with a part in the URL's campaign
    LEAD_ADMIN = "lead_admin"  # the lead administrator of the URL's campaign only
    ORGANISATION = "organisation"  # that lead admin, or a representative of the <org> in the URL


# The policies of a campaign's pages: their URLs start with CAMPAIGN_PREFIX.
IN_CAMPAIGN = frozenset({Access.STAFF, Access.LEAD_ADMIN, Access.ORGANISATION})
CAMPAIGN_PREFIX = "/campaigns/<campaign>"

F = TypeVar("F", bound=Callable[..., Any])


def access(policy: Access) -> Callable[[F], F]:
    """Declare who may call a view."""

    def mark(view: F) -> F:
        """Note the policy on the view, where enforce_access finds it."""
        view.access = policy  # type: ignore[attr-defined]  # a mark read by the route matrix
        return view

    return mark


def rule_of(rule: str, view: Callable[..., Any] | None) -> str:
    """Return the URL rule a view is served at: a campaign's page under its campaign's prefix,
    both after the view's own `rule_prefix` (the API's /api/v1)."""
    prefix = getattr(view, "rule_prefix", "")
    if getattr(view, "access", None) in IN_CAMPAIGN:
        return prefix + CAMPAIGN_PREFIX + rule
    return prefix + rule


def init_app(app: Flask) -> None:
    """Check each request's access; take the campaign out of URLs and put it into those built."""
    app.url_value_preprocessor(_take_campaign)
    app.url_defaults(_fill_campaign)
    app.before_request(enforce_access)
    app.context_processor(lambda: {"is_lead_admin": is_lead_admin()})
    app.jinja_env.globals["my_campaigns"] = lambda: campaigns_of(current_user)


def _take_campaign(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Keep the URL's campaign slug for enforce_access; the views never see it."""
    if values and "campaign" in values:
        g.campaign_slug = values.pop("campaign")


def _fill_campaign(endpoint: str, values: dict[str, Any]) -> None:
    """Name the request's campaign in a URL of a campaign's page, unless one is named."""
    if "campaign" in values or "campaign" not in g:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "campaign"):
        values["campaign"] = g.campaign.slug


def enforce_access() -> ResponseReturnValue | None:
    """Refuse the request unless the view's declared access admits the current user."""
    if request.endpoint is None or request.endpoint == "static":
        return None  # 404 and 405 are answered by Flask itself
    policy = getattr(current_app.view_functions[request.endpoint], "access", None)
    if policy is None:
        abort(403)  # deny by default: a view that forgot to declare is closed
    if policy is Access.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]  # set by Flask-Login
    _admit(policy)
    return None


def _admit(policy: Access) -> None:
    """Answer 404 or 403 unless the signed-in user may call a view of this policy; like the
    campaign's slug, the <org> of a URL reaches the view as g.organisation."""
    if policy in IN_CAMPAIGN:
        enter_campaign(g.pop("campaign_slug", ""))
    if not _ranks_for(policy):
        abort(403)
    if policy is Access.ORGANISATION or "org" in (request.view_args or {}):
        g.organisation = organisation_in_scope((request.view_args or {}).pop("org", ""))


def _ranks_for(policy: Access) -> bool:
    """Whether the user is a lead administrator where the policy asks for one."""
    if policy is Access.ANY_LEAD_ADMIN:
        return leads_any(current_user)
    return policy is not Access.LEAD_ADMIN or is_lead_admin()


def enter_campaign(slug: str) -> None:
    """Make the campaign `slug` the request's (g.campaign, g.role); 404 unless the user's."""
    campaign = db.session().scalar(select(Campaign).where(Campaign.slug == slug))
    role = standing(current_user, campaign) if campaign is not None else None
    if campaign is None or role is None:
        abort(404)  # the same answer for "not yours" and "does not exist": nothing leaks
    g.campaign, g.role = campaign, role
    _remember(slug)


def _remember(slug: str) -> None:
    """Remember the campaign as the one used last in this session (for the start page); a
    stateless request (the API's) has no session to remember it in."""
    if not g.get("stateless") and session.get("campaign") != slug:
        session["campaign"] = slug


def standing(user: User, campaign: Campaign) -> Role | None:
    """Return the user's role in the campaign, None for no part in it (the module's rule)."""
    if leads(user, campaign):
        return Role.LEAD_ADMIN
    member = user.organisation_id is not None and is_member(user.organisation_id, campaign.id)
    return Role.MEMBER_REP if member else None


def leads(user: User, campaign: Campaign) -> bool:
    """Return whether the user is the campaign's lead administrator: a lead_admin of its lead
    organisation, or an operator (of no organisation)."""
    in_lead = user.organisation_id in (None, campaign.lead_organisation_id)
    return user.role is Role.LEAD_ADMIN and in_lead


def representing(campaign: Campaign) -> ColumnElement[bool]:
    """The condition of the accounts that, being of a member, are its representatives in the
    campaign (standing's rule in SQL): all but the lead administrators of its lead organisation."""
    return and_(
        User.organisation_id.is_not(None),
        or_(User.role != Role.LEAD_ADMIN, User.organisation_id != campaign.lead_organisation_id),
    )


def is_member(organisation_id: int, campaign_id: int) -> bool:
    """Return whether the organisation is a member of the campaign."""
    query = select(Membership.id).where(
        Membership.organisation_id == organisation_id, Membership.campaign_id == campaign_id
    )
    return db.session().scalar(query) is not None


def is_operator(user: User) -> bool:
    """Return whether the user is an operator: a lead_admin of no organisation, who administers
    every campaign (and sees what belongs to none, such as password links)."""
    return user.role is Role.LEAD_ADMIN and user.organisation_id is None


LATEST_FIRST = (Campaign.starts_on.desc(), Campaign.name)


def campaigns_of(user: User) -> list[tuple[Campaign, Role]]:
    """Return the campaigns the user has a part in, the latest first, with their role in each."""
    if not getattr(user, "is_authenticated", False):
        return []
    query = select(Campaign).where(_maybe_part_in(user)).order_by(*LATEST_FIRST)
    found = ((c, standing(user, c)) for c in db.session().scalars(query))
    return [(c, role) for c, role in found if role is not None]


def _maybe_part_in(user: User) -> ColumnElement[bool]:
    """The condition of the campaigns led by, or with a membership of, the user's organisation
    (every one for an operator)."""
    if is_operator(user):
        return true()
    member_of = select(Membership.campaign_id).where(
        Membership.organisation_id == user.organisation_id
    )
    return or_(Campaign.id.in_(member_of), Campaign.lead_organisation_id == user.organisation_id)


def leads_any(user: User) -> bool:
    """Return whether the user is the lead administrator of at least one campaign."""
    return any(role is Role.LEAD_ADMIN for _c, role in campaigns_of(user))


def is_lead_admin() -> bool:
    """Return whether the signed-in user is the lead administrator of the request's campaign."""
    return g.get("role") is Role.LEAD_ADMIN


def role_here(user: User) -> Role | None:
    """Return the user's role in the request's campaign (None outside one)."""
    if user.id == getattr(current_user, "id", None):
        role: Role | None = g.get("role")
        return role
    campaign = g.get("campaign")
    return standing(user, campaign) if campaign is not None else None


def organisation_in_scope(slug: str) -> Organisation:
    """Return the organisation named in the URL if the user may see it and it is a member of
    the request's campaign, else answer 404."""
    found = db.session().scalar(select(Organisation).where(Organisation.slug == slug))
    if found is None or not (
        may_see(current_user, found.id) and is_member(found.id, g.campaign.id)
    ):
        abort(404)  # the same answer for "not yours", "no member here" and "does not exist"
    return found


def may_see(user: User, organisation_id: int | None) -> bool:
    """Return whether `user` may see and change the data of `organisation_id` in the campaign."""
    role = role_here(user)
    own = organisation_id is not None and organisation_id == user.organisation_id
    return role is Role.LEAD_ADMIN or (role is Role.MEMBER_REP and own)


def of_member(model: Any) -> ColumnElement[bool]:
    """The condition of the rows of `model` (with campaign_id and organisation_id) that are the
    URL's member's (g.organisation) in the URL's campaign."""
    return and_(model.campaign_id == g.campaign.id, model.organisation_id == g.organisation.id)


def in_campaign(campaign_column: Any, organisation_column: Any) -> ColumnElement[bool]:
    """The condition of the rows of the request's campaign, and of those of none (an account's
    own: sign-ins, password links) of its members' staff; an operator's: of none, all."""
    here, of_none = campaign_column == g.campaign.id, campaign_column.is_(None)
    if is_operator(current_user):
        return or_(here, of_none)
    members = select(Membership.organisation_id).where(Membership.campaign_id == g.campaign.id)
    return or_(here, and_(of_none, organisation_column.in_(members)))


S = TypeVar("S", bound="Select[*tuple[Any, ...]]")  # a select of any columns


def scoped(statement: S, organisation_column: Any, *, campaign_column: Any = None) -> S:
    """Restrict a query to the rows the user sees: by organisation, and with `campaign_column`
    to those of the request's campaign (in_campaign)."""
    if campaign_column is not None:
        statement = statement.where(in_campaign(campaign_column, organisation_column))
    return statement.where(_own(organisation_column, current_user))


def _own(organisation_column: Any, user: User) -> ColumnElement[bool]:
    """The condition of the rows the user sees in the request's campaign, by organisation."""
    role = role_here(user)
    if role is Role.LEAD_ADMIN:
        return true()
    return organisation_column == user.organisation_id if role else false()
