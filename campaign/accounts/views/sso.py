"""Signing in through the deployment's OpenID provider (single sign-on), with Authlib's client.

The authorization code flow with PKCE, state and nonce: `sso_start` sends the browser to the
provider; `sso_callback` takes the code back once. Authlib keeps the state's data in the
session and drops it at its first use, so a replayed state finds nothing; the ID token's
signature, issuer, audience, expiry (by the service's clock) and nonce are checked before the
identity is read (accounts/sso.py). Every refusal is one sentence of ours: the provider's own
error text and its tokens reach neither a page nor, unescaped, the log. When the claim changed
the person's role or organisation, or asked for a change the rules of roles refuse, the
person is told so; a move to another organisation revokes their API tokens (audited).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from authlib.oidc.core import CodeIDToken
from flask import Flask, current_app, flash, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from joserfc.errors import JoseError

from campaign import db
from campaign.accounts import sso, throttle
from campaign.accounts.forms import LoginForm
from campaign.accounts.scope import Access, access
from campaign.accounts.views.base import SSO, bp, provider_name, redirect_within
from campaign.accounts.views.signin import login_page, signed_in
from campaign.api.tokens import tokens_of, withdraw
from campaign.labels import label
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
        signin = sso.account_for(
            db.session(), identity, sso.Rules.from_config(current_app.config), now
        )
    except sso.SignInRefused as refused:
        return _failed(address, refused, _refusal_text(refused.refusal), 403)
    except requests.RequestException as error:
        return _failed(address, error, _unreachable(), 502)
    except (AuthlibBaseError, JoseError, KeyError, ValueError) as error:
        return _failed(address, error, _unverified(), 400)
    stopped = _stop_tokens(signin, now)
    throttle.note(db.session(), signin.user.email, address, now, succeeded=True)
    answer = signed_in(signin.user, now, session.pop("sso_next", None))
    _tell(signin.regrant, stopped)  # after signed_in, which clears the session
    return answer


MOVED = "moved by single sign-on"  # how the audit says a token was revoked


def _stop_tokens(signin: sso.SignIn, now: datetime) -> int:
    """Revoke the API tokens of an account the claim moved to another organisation (audited);
    return how many. Each was made for the data of the member it left: a token follows its
    account, so it would read the new member's data in the hands of the old one's systems.
    A change of role alone keeps them: they reach no further than the account does."""
    if signin.regrant is None or not signin.regrant.moved:
        return 0
    tokens = tokens_of(db.session(), signin.user)
    live = [token for token in tokens if token.revoked_at is None and now < token.expires_at]
    for token in live:
        withdraw(db.session(), token, actor=signin.user, now=now, how=MOVED)
    return len(live)


def _tell(regrant: sso.Regrant | None, stopped: int) -> None:
    """Tell the person what their claim changed, or why it changed nothing."""
    if regrant is None:
        return
    role, organisation = label(regrant.grant.role).lower(), regrant.grant.organisation.name
    names = {"name": provider_name() or "SSO", "role": role, "organisation": organisation}
    if regrant.kept is None:
        flash(_("%(name)s has made you %(role)s, %(organisation)s.", **names), "info")
    elif regrant.kept.reason == "last_lead_admin":
        campaigns = ", ".join(c.name for c in regrant.kept.campaigns)
        flash(_kept_as_last_lead_text(campaigns, **names), "error")
    else:
        flash(_("%(name)s makes you %(role)s, %(organisation)s, but your account runs every"
                " campaign: it is changed from the command line, and stays as it is.", **names),
              "error")  # fmt: skip
    if stopped:
        flash(_stopped_text(stopped, regrant), "info")


def _kept_as_last_lead_text(campaigns: str, **names: str) -> str:
    return _(
        "%(name)s now makes you %(role)s, %(organisation)s, but you are the last lead"
        " administrator who can sign in of %(campaigns)s. You stay lead administrator until you"
        " make somebody else lead administrator there, or hand the lead over.",
        campaigns=campaigns,
        **names,
    )


def _stopped_text(stopped: int, regrant: sso.Regrant) -> str:
    former = regrant.former.name if regrant.former else "–"
    return ngettext(
        "Your API token no longer works: it was made for %(organisation)s. Make a new one.",
        "Your API tokens no longer work: they were made for %(organisation)s. Make new ones.",
        stopped,
        organisation=former,
    )


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
