"""Who calls the API: the bearer token of each request, never the session cookie.

`authenticate` runs before the access check of accounts/scope.py: it finds the token, checks
that its scopes cover the operation's resource, counts the request against the token's rate
limit, and makes the token's account the request's user, so that the access rules of the web
pages decide what it may see. A request without a usable token gets 401; the session cookie a
browser may send along is ignored, so no page can make a browser call the API (the API needs no
CSRF token).

Every use of a real token is audited, the token itself never: an admitted request
(`api.request`), one its scopes do not cover (`api.scope_refused`, with the scope it needed) and
one with a revoked or expired token or a disabled account's (`api.token_refused`, with why). The
caller of a refused token gets the very 401 of an unknown one, so nothing tells it which.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from campaign import audit, db
from campaign.api.problems import Problem
from campaign.api.tokens import PREFIX, ApiToken, digest
from campaign.timing import current_clock

WINDOW = timedelta(minutes=1)
# Failed tokens (unknown or refused) a client may send a minute before it gets 429: counted in
# each web worker's memory, per app (a guess at a 256-bit token is hopeless anyway; the limit
# keeps the log and the database's work bounded), about CLIENTS_KEPT clients at most.
FAILURES_PER_MINUTE = 30
CLIENTS_KEPT = 10_000
log = logging.getLogger(__name__)


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
        _count(token, now, "api.scope_refused", needed=needed)
        raise Problem(
            403,
            _("This token's scopes do not allow this: it needs %(scope)s.", scope=needed),
            code="insufficient_scope",
            headers={"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
        )
    remaining = _count(token, now, "api.request")
    g.api_token = token
    g.stateless = True  # nothing of the request goes into a session cookie
    g._login_user = token.user  # Flask-Login's current_user for this request
    g.api_rate = remaining


def _bearer_token(now: datetime) -> ApiToken:
    """Return the usable token of the Authorization header, or answer 401 (429 to a client
    that keeps sending failed tokens)."""
    scheme, _sep, plaintext = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        raise _unauthorized()
    token = _stored(plaintext.strip())
    if token is not None and token.is_usable(now):
        return token
    raise _failure(token, now)


def _failure(token: ApiToken | None, now: datetime) -> Problem:
    """Audit a real token refused, log an unknown one, and return the answer: 401, or 429 to
    a client over its limit of failed tokens (alike for both, so neither tells them apart)."""
    limited = _failed_too_often(now)
    if token is not None:
        _refuse(token, now)
    elif not limited:
        # An unknown token names no account: it is logged (never the token), not audited, or
        # anyone could fill the audit table with guesses.
        log.warning("API request with an unknown token from %s: %s %s", request.remote_addr,
                    request.method, request.path)  # fmt: skip
    if not limited:
        return _unauthorized()
    return Problem(
        429,
        _("Too many requests with invalid tokens from your address: wait a minute."),
        code="rate_limited",
        headers={"Retry-After": str(int(WINDOW.total_seconds()))},
    )


def _unauthorized() -> Problem:
    return Problem(
        401,
        _("Send a valid API token in the Authorization header: Bearer <token>."),
        code="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="campaign"'},
    )


def _stored(plaintext: str) -> ApiToken | None:
    """Return the token `plaintext` names, whatever its state, or None if there is none."""
    if not plaintext.startswith(PREFIX) or len(plaintext) > 100:
        return None
    return db.session().scalar(select(ApiToken).where(ApiToken.secret_hash == digest(plaintext)))


def _refuse(token: ApiToken, now: datetime) -> None:
    """Audit the use of a revoked or expired token, or a disabled account's, and commit."""
    if token.revoked_at is not None:
        reason = "token revoked"
    elif now >= token.expires_at:
        reason = "token expired"
    else:
        reason = "account disabled"
    session = db.session()
    _audit(session, token, now, "api.token_refused", reason=reason)
    session.commit()


def _failed_too_often(now: datetime) -> bool:
    """Count a failed token from this client; return whether it has sent more this minute
    than the limit allows."""
    client = request.remote_addr or ""
    failures: dict[str, tuple[datetime, int]]
    failures = current_app.extensions.setdefault("campaign.api.failed_tokens", {})
    started, failed = failures.get(client, (now, 0))
    if started <= now - WINDOW or started > now:
        started, failed = now, 0
    if len(failures) >= CLIENTS_KEPT:
        failures.clear()  # forget the counts rather than grow without end
    failures[client] = (started, failed + 1)
    return failed + 1 > FAILURES_PER_MINUTE


def _audit(session: Session, token: ApiToken, now: datetime, action: str, **details: Any) -> None:
    """Record a use of `token` (never the token itself: its number and name)."""
    audit.record(
        session, token.user, action, now=now, organisation_id=token.user.organisation_id,
        target=f"{request.method} {request.path}"[:200],
        token=token.id, name=token.name, **details,
    )  # fmt: skip


def _count(token: ApiToken, now: datetime, action: str, **details: Any) -> tuple[int, int, int]:
    """Count the request in the token's minute and audit it as `action`, in one commit; answer
    429 over the limit. Return the limit, the requests left, and the seconds until the minute
    ends."""
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
    _audit(session, token, now, action, **details)
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
