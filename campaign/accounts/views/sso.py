"""Signing in through the deployment's OpenID provider (single sign-on), with Authlib's client.

The authorization code flow with PKCE, state and nonce: `sso_start` sends the browser to the
provider; `sso_callback` takes the code back once. Authlib keeps the state's data in the
session and drops it at its first use, so a replayed state finds nothing; the ID token's
signature, issuer, audience, expiry (by the service's clock) and nonce are checked before the
identity is read (accounts/sso.py). Every refusal is one sentence of ours: the provider's own
error text and its tokens reach neither a page nor, unescaped, the log.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from authlib.oidc.core import CodeIDToken
from flask import Flask, current_app, flash, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from joserfc.errors import JoseError

from campaign import db
from campaign.accounts import sso, throttle
from campaign.accounts.forms import LoginForm
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import SSO, bp, provider_name, redirect_within
from campaign.accounts.views.signin import login_page, signed_in
from campaign.timing import current_clock

TIMEOUT = 10  # seconds for each call to the provider: discovery, keys, the token


def init_app(app: Flask) -> None:
    """Register the provider's client when the deployment names an issuer."""
    issuer = app.config.get("CAMPAIGN_OIDC_ISSUER")
    if not issuer:
        return
    oauth = OAuth(app)
    app.extensions[SSO] = oauth.register(
        "sso",
        client_id=app.config["CAMPAIGN_OIDC_CLIENT_ID"],
        client_secret=app.config["CAMPAIGN_OIDC_CLIENT_SECRET"],
        server_metadata_url=issuer.rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["CAMPAIGN_OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT,
        },
    )


def _client() -> Any:
    """Return the provider's client, None without single sign-on."""
    return current_app.extensions.get(SSO)


def _not_set_up() -> ResponseReturnValue:
    """Say, on the start page, that this deployment has no single sign-on."""
    flash(_("Single sign-on is not set up here."), "error")
    return redirect_within(None)


class _IdToken(CodeIDToken):
    """An ID token whose times are checked by the service's clock."""

    def validate(self, now: int | None = None, leeway: int = 0) -> None:
        """Check the claims at the service's time."""
        super().validate(now=int(current_clock().now().timestamp()), leeway=leeway)


def _expected(client: Any) -> dict[str, Any]:
    """The ID token's issuer and audience as they must be. Authlib checks the audience only
    when told to: by itself it takes a token for another client whose azp names ours."""
    issuer = client.load_server_metadata()["issuer"]
    return {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client.client_id},
    }


# A link, not a form: a form's POST answered by a redirect to the provider is what the
# Content-Security-Policy's form-action 'self' forbids. Starting a sign-in changes nothing but
# this browser's own session; the state ties the answer to it.
@bp.get("/login/sso")
@access(Access.PUBLIC)
def sso_start() -> ResponseReturnValue:
    client = _client()
    if client is None:
        return _not_set_up()
    session["sso_next"] = request.args.get("next") or ""
    callback = current_app.config["CAMPAIGN_BASE_URL"].rstrip("/") + url_for(
        "accounts.sso_callback"
    )
    try:
        return client.authorize_redirect(callback)
    except (requests.RequestException, ValueError, KeyError) as error:
        _log("could not start", error)
        return _refused(_unreachable(), 502)


@bp.get("/login/sso/callback")
@access(Access.PUBLIC)
def sso_callback() -> ResponseReturnValue:
    client, now = _client(), current_clock().now()
    if client is None:
        return _not_set_up()
    address = request.remote_addr or "unknown"
    if throttle.lock_end(db.session(), throttle.LockKind.CLIENT, address, now) is not None:
        return _refused(_("Too many failed attempts. Try again later."), 429)
    try:
        token = client.authorize_access_token(claims_cls=_IdToken, claims_options=_expected(client))
        claims = token.get("userinfo")
        if claims is None:
            raise KeyError("id_token")
        identity = sso.identity_of(claims, current_app.config["CAMPAIGN_OIDC_CLAIM"])
        user = sso.account_for(
            db.session(), identity, sso.Rules.from_config(current_app.config), now
        )
    except sso.SignInRefused as refused:
        return _failed(address, refused, _refusal_text(refused.refusal), 403)
    except requests.RequestException as error:
        return _failed(address, error, _unreachable(), 502)
    except (AuthlibBaseError, JoseError, KeyError, ValueError) as error:
        return _failed(address, error, _unverified(), 400)
    throttle.note(db.session(), user.email, address, now, succeeded=True)
    return signed_in(user, now, session.pop("sso_next", None))


def _failed(address: str, error: Exception, text: str, status: int) -> ResponseReturnValue:
    """Count the failed try against the client, log it escaped, and say why in our words."""
    db.session().rollback()
    throttle.note(db.session(), "", address, current_clock().now(), succeeded=False)
    db.session().commit()
    _log("refused", error)
    return _refused(text, status)


def _log(what: str, error: Exception) -> None:
    """Log a failed single sign-on: the error's kind and its text escaped and cut short."""
    current_app.logger.warning(
        "Single sign-on %s: %s %s", what, type(error).__name__, ascii(str(error))[:200]
    )


def _refused(text: str, status: int) -> ResponseReturnValue:
    """The sign-in page again, saying why in one sentence."""
    flash(text, "error")
    return login_page(LoginForm(), status)


def _unreachable() -> str:
    return _("%(name)s does not answer. Try again in a while.", name=provider_name())


def _unverified() -> str:
    return _(
        "The sign-in with %(name)s was refused: its answer could not be verified, or it had"
        " been used already. Start again.",
        name=provider_name(),
    )


def _refusal_text(refusal: sso.Refusal) -> str:
    """Say why a signed-in identity gets no session."""
    if refusal is sso.Refusal.DISABLED:
        return _("Your account here is disabled. Ask the lead administrator.")
    return _(
        "There is no account here for the person %(name)s signed in, and none may be created"
        " for them. Ask the lead administrator.",
        name=provider_name(),
    )
