"""THE organisation scope: who may reach which route, and which rows a representative sees.

Every view declares its access with `@access(...)`; `enforce_access` runs before each request
and refuses anything undeclared. A route with an `<org>` parameter is reachable by the lead
administrator and by that organisation's own representatives only; list queries go through
`scoped()`. Nothing else in the code decides who sees what.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, select

from campaign import db
from campaign.accounts.models import Role, User
from campaign.network.models import Organisation


class Access(enum.Enum):
    """Who may call a view."""

    PUBLIC = "public"  # anyone, no login (login page, health check, signed participant links)
    STAFF = "staff"  # any signed-in staff account
    LEAD_ADMIN = "lead_admin"  # the lead administrator only
    ORGANISATION = "organisation"  # lead admin, or a representative of the <org> in the URL


F = TypeVar("F", bound=Callable[..., Any])


def access(policy: Access) -> Callable[[F], F]:
    """Declare who may call a view."""

    def mark(view: F) -> F:
        """Note the policy on the view, where enforce_access finds it."""
        view.access = policy  # type: ignore[attr-defined]  # a mark read by the route matrix
        return view

    return mark


def init_app(app: Flask) -> None:
    """Check every request against its view's declared access before the view runs."""
    app.before_request(enforce_access)


def enforce_access() -> ResponseReturnValue | None:
    """Refuse the request unless the view's declared access admits the current user."""
    if request.endpoint is None:  # 404 and 405 are answered by Flask itself
        return None
    view = current_app.view_functions[request.endpoint]
    policy = getattr(view, "access", None)
    if request.endpoint == "static":
        return None
    if policy is None:
        abort(403)  # deny by default: a view that forgot to declare is closed
    if policy is Access.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]  # set by Flask-Login
    if policy is Access.LEAD_ADMIN and current_user.role is not Role.LEAD_ADMIN:
        abort(403)
    if policy is Access.ORGANISATION or "org" in (request.view_args or {}):
        # Like Flask's url_value_preprocessor: the view receives g.organisation, not the slug.
        g.organisation = organisation_in_scope((request.view_args or {}).pop("org", ""))
    return None


def organisation_in_scope(slug: str) -> Organisation:
    """Return the organisation named in the URL if the user may see it, else answer 404."""
    organisation = db.session().scalar(select(Organisation).where(Organisation.slug == slug))
    if organisation is None or not may_see(current_user, organisation.id):
        abort(404)  # the same answer for "not yours" and "does not exist": nothing leaks
    return organisation


def may_see(user: User, organisation_id: int | None) -> bool:
    """Return whether `user` may read and change data of `organisation_id`."""
    if user.role is Role.LEAD_ADMIN:
        return True
    return organisation_id is not None and organisation_id == user.organisation_id


S = TypeVar("S", bound="Select[*tuple[Any, ...]]")  # a select of any columns


def scoped(statement: S, organisation_column: Any, user: User | None = None) -> S:
    """Restrict a query to the rows the user may see, by the given organisation column."""
    user = user or current_user
    if user.role is Role.LEAD_ADMIN:
        return statement
    return statement.where(organisation_column == user.organisation_id)
