"""Password hashing, signed expiring tokens, keyed hashes and safe redirects: one place for each."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, Response, abort, current_app, request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode, int_to_bytes, want_bytes
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.security import check_password_hash, generate_password_hash

from campaign.plaintext import one_line

MIN_PASSWORD_LENGTH = 12
MAX_FILE_NAME = 255  # characters of an uploaded file's name kept: what file systems allow


def hash_password(password: str) -> str:
    """Return a salted scrypt hash of `password`."""
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return whether `password` matches; without a hash (an account that has no password yet,
    or no account) nothing matches, after the same work, so the time tells nobody which."""
    if not password_hash:
        check_password_hash(_STAND_IN_HASH, password)
        return False
    return check_password_hash(password_hash, password)


# A hash of a password nobody knows, made like every real one (the same scrypt cost); made at
# import, so that not even the first check after a start costs more than the others.
_STAND_IN_HASH = hash_password(secrets.token_urlsafe(32))


class TokenError(Exception):
    """A signed token is forged, altered, meant for something else, or expired."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


class _ClockSigner(TimestampSigner):
    """Stamps and checks token ages with the app's clock, so tests can let links expire."""

    def get_timestamp(self) -> int:
        """Return the app's clock's moment, in whole seconds."""
        from campaign.timing import current_clock

        return int(current_clock().now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    """Return the signer of tokens for `purpose`, under the app's secret key."""
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"campaign.{purpose}", signer=_ClockSigner
    )


def sign(purpose: str, payload: Any) -> str:
    """Return a URL-safe token carrying `payload`, valid only for `purpose`."""
    return _serializer(purpose).dumps(payload)


class Signing:
    """Signs many payloads for one purpose at one moment, as sign() would, ten times faster:
    the serializer and its key are made once (for a fan-out's thousands of links)."""

    def __init__(self, purpose: str) -> None:
        serializer = _serializer(purpose)
        signer = serializer.make_signer()
        assert isinstance(signer, _ClockSigner)  # the serializer's signer class
        self._dump, self._json = serializer.dump_payload, serializer.serializer
        self._mac = hmac.new(signer.derive_key(), digestmod=hashlib.sha1)
        stamp = base64_encode(int_to_bytes(signer.get_timestamp()))
        self._sep = want_bytes(signer.sep)
        self._stamp = self._sep + stamp

    def __call__(self, payload: Any) -> str:
        """Return the token of `payload`, the same as sign(purpose, payload) now."""
        value = self._payload(payload) + self._stamp
        mac = self._mac.copy()
        mac.update(value)
        return (value + self._sep + base64_encode(mac.digest())).decode()

    def _payload(self, payload: Any) -> bytes:
        """Return the payload as the serializer writes it: a short one (a number, a pair of
        numbers) is never compressed, since zlib's output alone is longer."""
        if type(payload) is int:  # what JSON writes for a number, without its encoder
            json = str(payload).encode()
        else:
            json = want_bytes(self._json.dumps(payload))
        return base64_encode(json) if len(json) <= 9 else want_bytes(self._dump(payload))


def unsign(purpose: str, token: str, max_age_seconds: int) -> Any:
    """Return the payload of a token made by sign(purpose, ...), or raise TokenError."""
    try:
        return _serializer(purpose).loads(token, max_age=max_age_seconds)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except BadSignature:
        raise TokenError(expired=False) from None


def keyed_hash(purpose: str, value: str) -> str:
    """Return an HMAC-SHA256 of `value` under the app's secret key: comparable, not reversible."""
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"campaign.{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def keyed_hasher(purpose: str) -> Callable[[str], str]:
    """Return `keyed_hash` for one purpose with the key prepared once, for hashing many values."""
    secret = current_app.config["SECRET_KEY"].encode()
    prepared = hmac.new(secret, f"campaign.{purpose}:".encode(), hashlib.sha256)

    def hashed(value: str) -> str:
        mac = prepared.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    return hashed


# The shape of what sign() returns: the payload in base64url (a compressed one begins with "."),
# the moment of signing and the signature (27 characters of HMAC-SHA1 or more), joined by dots.
# The look-behind lets a match begin only where a run of such characters begins: linear time.
_B64 = r"A-Za-z0-9_\-"
SIGNED_TOKEN = re.compile(
    rf"(?<![{_B64}.])\.?[{_B64}]+\.[{_B64}]{{2,12}}\.[{_B64}]{{27,}}(?![{_B64}])"
)
_URL_END = re.compile(r"[\s<>\"'()\[\]]")  # what ends a link in text, HTML, headers, Markdown
_LONGEST_URL = 4096


def hide_signed_links(text: str, marker: str) -> str:
    """Replace each link that carries a signed token, and each bare token, by `marker`.

    A signed link acts for the one it was made for: whoever reads it can act as them.
    """
    pieces, done = [], 0
    for token in SIGNED_TOKEN.finditer(text):
        if token.start() < done:  # inside the link hidden just before
            continue
        start, end = _link_around(text, token.start(), token.end())
        pieces += [text[done:start], marker]
        done = end
    return "".join(pieces) + text[done:]


def _link_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a token's span to the link it is part of: from its http(s):// to its end."""
    before = text[max(start - _LONGEST_URL, 0) : start]
    run = len(before) - next(
        (i for i, c in enumerate(reversed(before)) if _URL_END.match(c)), len(before)
    )
    scheme = max(before.rfind("http://", run), before.rfind("https://", run))
    if scheme >= 0:
        start -= len(before) - scheme
    after = _URL_END.search(text, end, end + _LONGEST_URL)
    return start, after.start() if after else min(len(text), end + _LONGEST_URL)


def is_safe_redirect(target: str | None) -> bool:
    """Return whether `target` is a plain path on this site: no scheme, host or
    protocol-relative start, no backslash, and no control or other invisible character (a
    CR/LF would split the Location header; browsers drop a tab, so "/\t/x" is "//x")."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if not target.isprintable() or " " in target or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


SECURITY_HEADERS = {
    # No inline scripts or styles anywhere: the UI uses only its own vendored files.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Send the security headers with every response; believe only the configured proxies."""
    headers = _headers_for(app.config["CAMPAIGN_BASE_URL"])
    _trust_proxies(app, int(app.config["CAMPAIGN_TRUSTED_PROXIES"]))
    app.request_class = _Request
    app.before_request(_refuse_nul_in_path)

    @app.after_request
    def _headers(response: Response) -> Response:
        """Add each security header the response does not set itself."""
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response


def _headers_for(base_url: str) -> dict[str, str]:
    """Return the security headers, with HSTS when the site is served over HTTPS."""
    headers = dict(SECURITY_HEADERS)
    if base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def _trust_proxies(app: Flask, proxies: int) -> None:
    """Believe the forwarding headers of the nearest `proxies` proxies (none: no proxy).

    Behind nginx the client's address (for the sign-in limits and consent records) and the
    scheme come from the proxy's headers; from anyone else they would be forged.
    """
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask documents wrapping it
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


class _Parameters(ImmutableMultiDict[str, Any]):
    """Query and form parameters without NUL characters: nobody types one, and PostgreSQL
    can neither store nor compare it (every view would answer 500 there). An uploaded file's
    name is cleaned further, since nobody is asked to correct it: on one line, without any
    control character, its end kept (the extension) within MAX_FILE_NAME characters."""

    def __init__(self, mapping: Any = None) -> None:
        if isinstance(mapping, list):  # the parsed pairs of a query, a form or its files
            mapping = [(_without_nul(key), _cleaned(value)) for key, value in mapping]
        super().__init__(mapping)


class _Request(Request):
    """A request whose parameters are cleaned as they are parsed."""

    parameter_storage_class = _Parameters


def _without_nul(value: Any) -> Any:
    """Return a text without its NUL characters (anything else as it is)."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def _cleaned(value: Any) -> Any:
    """Return a parameter without NULs, an uploaded file with its name cleaned."""
    if isinstance(value, FileStorage) and value.filename:
        value.filename = one_line(value.filename)[-MAX_FILE_NAME:].strip() or "file"
        return value
    return _without_nul(value)


def _refuse_nul_in_path() -> None:
    """A path with a NUL names no page (and cannot be looked up in PostgreSQL): 400."""
    if "\x00" in request.path:
        abort(400)


def mail_preview(html: str) -> Response:
    """Serve a mail's HTML for a sandboxed preview frame: its inline styles, nothing else."""
    response = Response(html, mimetype="text/html")
    # Images only from the service itself (a member's logo), never a tracker elsewhere.
    own = urlsplit(current_app.config["CAMPAIGN_BASE_URL"])
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self'"
        f" {own.scheme}://{own.netloc}; frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
