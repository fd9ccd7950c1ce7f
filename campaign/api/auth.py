"""Who calls the API: the bearer token of each request, never the session cookie.

`authenticate` runs before the access check of accounts/scope.py: it finds the token, checks
that its scopes cover the operation's resource, counts the request against the token's rate
limit, audits the use, and makes the token's account the request's user, so that the access
rules of the web pages decide what it may see. A request without a usable token gets 401; the
session cookie a browser may send along is ignored, so no page can make a browser call the API
(the API needs no CSRF token).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import case, update

from campaign import audit, db
from campaign.api.problems import Problem
from campaign.api.tokens import ApiToken, find
from campaign.timing import current_clock

WINDOW = timedelta(minutes=1)


def authenticate() -> None:
    """Admit an API request with a usable token whose scopes cover the operation."""
    if request.endpoint is None:
        return
    view = current_app.view_functions[request.endpoint]
    resource = getattr(view, "api_resource", None)
    if resource is None:
        return  # a page, or a public document of the API
    now = current_clock().now()
    token = _bearer_token(now)
    write = request.method not in ("GET", "HEAD")
    if not token.allows(resource, write):
        needed = f"{resource}:{'write' if write else 'read'}"
        raise Problem(
            403,
            _("This token's scopes do not allow this: it needs %(scope)s.", scope=needed),
            code="insufficient_scope",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    remaining = _count(token, now)
    g.api_token = token
    g.stateless = True  # nothing of the request goes into a session cookie
    g._login_user = token.user  # Flask-Login's current_user for this request
    g.api_rate = remaining


def _bearer_token(now: datetime) -> ApiToken:
    """Return the usable token of the Authorization header, or answer 401."""
    scheme, _sep, plaintext = request.headers.get("Authorization", "").partition(" ")
    token = find(db.session(), plaintext.strip(), now) if scheme.lower() == "bearer" else None
    if token is None:
        raise Problem(
            401,
            _("Send a valid API token in the Authorization header: Bearer <token>."),
            code="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="campaign"'},
        )
    return token


def _count(token: ApiToken, now: datetime) -> tuple[int, int, int]:
    """Count the request in the token's minute and audit it, in one commit; answer 429 over
    the limit. Return the limit, the requests left, and the seconds until the minute ends."""
    limit = int(current_app.config["CAMPAIGN_API_RATE_LIMIT"])
    new_window = ApiToken.window_started_at.is_(None) | (ApiToken.window_started_at <= now - WINDOW)
    session = db.session()
    row = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token.id)
        .values(
            window_started_at=case((new_window, now), else_=ApiToken.window_started_at),
            window_requests=case((new_window, 1), else_=ApiToken.window_requests + 1),
            last_used_at=now,
        )
        .returning(ApiToken.window_started_at, ApiToken.window_requests)
        .execution_options(synchronize_session=False)
    ).one()
    started, used = row
    started = started or now
    audit.record(
        session, token.user, "api.request", now=now,
        target=f"{request.method} {request.path}"[:200], token=token.id, name=token.name,
    )  # fmt: skip
    session.commit()
    if used > limit:
        wait = max(int((started + WINDOW - now).total_seconds()) + 1, 1)
        raise Problem(
            429,
            _("Too many requests with this token: wait %(seconds)s seconds.", seconds=wait),
            code="rate_limited",
            headers={"Retry-After": str(wait), **_rate_headers(limit, 0, wait)},
        )
    return limit, limit - used, int((started + WINDOW - now).total_seconds())


def _rate_headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(max(remaining, 0)),
        "RateLimit-Reset": str(reset),
    }


def add_rate_headers(response: Response) -> Response:
    """Tell the client how many requests its token has left in this minute."""
    if "api_rate" in g and "RateLimit-Limit" not in response.headers:
        response.headers.update(_rate_headers(*g.api_rate))
    return response
