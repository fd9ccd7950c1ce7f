"""An OAuth2 access token for the inbound mailbox (Microsoft 365's XOAUTH2): the client-credentials
flow, the token kept until shortly before it expires, and the SASL string IMAP sends it in."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from campaign.jobs import CannotRun

EARLY_SECONDS = 120  # a token is renewed this long before it expires, so none runs out mid-run


@dataclass(frozen=True)
class Client:
    """Where the token comes from and as which application."""

    token_url: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str


# The tokens by client, with the monotonic time they expire at: a token's life is wall time on
# this machine, not the campaign's clock (a `tick --now` in the past must not keep a dead one).
_tokens: dict[Client, tuple[str, float]] = {}
_lock = threading.Lock()


def access_token(client: Client) -> str:
    """Return a valid access token for `client`, asking the token endpoint only when needed."""
    with _lock:
        kept = _tokens.get(client)
        if kept is not None and time.monotonic() < kept[1]:
            return kept[0]
        token, lifetime = _request(client)
        _tokens[client] = (token, time.monotonic() + max(0, lifetime - EARLY_SECONDS))
        return token


def forget(client: Client) -> None:
    """Drop the kept token (the server refused it), so that the next run asks for a new one."""
    with _lock:
        _tokens.pop(client, None)


def xoauth2(user: str, token: str) -> bytes:
    """Return the SASL XOAUTH2 initial response for `user` with `token`."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _request(client: Client) -> tuple[str, int]:
    """Ask the token endpoint for a token by the client-credentials grant; return it and its
    lifetime in seconds."""
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "scope": client.scope,
        }
    ).encode()
    try:
        with urllib.request.urlopen(client.token_url, data=form, timeout=30) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        raise CannotRun(_refused(client, error)) from None
    except (OSError, ValueError) as error:
        said = f"The OAuth2 token endpoint {client.token_url} gave no token: {_reason(error)}."
        raise CannotRun(said) from None
    return _token_in(client, answer)


def _token_in(client: Client, answer: object) -> tuple[str, int]:
    """Return the token and its lifetime from the endpoint's JSON answer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str):
        raise CannotRun(f"The OAuth2 token endpoint {client.token_url} answered without a token.")
    return answer["access_token"], int(answer.get("expires_in") or 0)


def _refused(client: Client, error: urllib.error.HTTPError) -> str:
    """Say why the token endpoint refused the client, in its own words when it gives them."""
    try:
        body = json.loads(error.read() or b"{}")
        reason = body.get("error_description") or body.get("error") or error.reason
    except (ValueError, AttributeError):
        reason = error.reason
    return (
        f"The OAuth2 token endpoint {client.token_url} refused client {client.client_id}"
        f" (HTTP {error.code}: {str(reason)[:300]})."
    )


def _reason(error: Exception) -> str:
    """Return what went wrong in a request, without urllib's <urlopen error ...> wrapping."""
    reason = getattr(error, "reason", error)
    return getattr(reason, "strerror", None) or str(reason)
