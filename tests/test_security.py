"""Signed links, keyed hashes, passwords, redirects and the headers every answer carries: each
checked on a bare Flask app with a secret key, without the service, its database or a network."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, request

from campaign import security
from campaign.security import (
    TokenError,
    hash_password,
    hide_signed_links,
    is_safe_redirect,
    keyed_hash,
    sign,
    unsign,
    verify_password,
)
from campaign.timing import FixedClock
from tests.urls import staff

SIGNED_AT = datetime(2014, 3, 3, 9, 0, tzinfo=UTC)
HIDDEN = "[dold länk]"


def bare_app(secret: str = "test-secret-key", **settings: object) -> Flask:
    """A Flask app with only what security.py reads: a secret key and a clock to move."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret, CAMPAIGN_BASE_URL="http://localhost", CAMPAIGN_TRUSTED_PROXIES=0
    )
    app.config.update(settings)
    app.extensions["campaign.clock"] = FixedClock(SIGNED_AT)  # the one place the clock is put
    return app


@pytest.fixture
def app() -> Iterator[Flask]:
    app = bare_app()
    with app.app_context():
        yield app


def move_clock(app: Flask, by: timedelta) -> None:
    app.extensions["campaign.clock"].set(SIGNED_AT + by)


PAYLOADS = [
    7,
    0,
    "a",
    None,
    [1, 2, 3],
    {"participant": 12, "questionnaire": 3},
    {"email": "åsa@öckerö.se"},
    "x" * 500,  # long and repetitive: compressed, the token begins with "."
    10**30,
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_signed_payload_comes_back_unchanged(app: Flask, payload: object) -> None:
    assert unsign("unsubscribe", sign("unsubscribe", payload), max_age_seconds=60) == payload


def test_a_token_is_url_safe(app: Flask) -> None:
    for payload in PAYLOADS:
        token = sign("unsubscribe", payload)
        assert token.replace("-", "").replace("_", "").replace(".", "").isalnum(), token


def test_a_token_made_for_one_purpose_is_refused_for_another(app: Flask) -> None:
    token = sign("unsubscribe", 7)
    with pytest.raises(TokenError) as refused:
        unsign("password-reset", token, max_age_seconds=60)
    assert refused.value.expired is False and str(refused.value) == "invalid"


def test_a_token_made_under_another_key_is_refused() -> None:
    with bare_app("another key").app_context():
        token = sign("unsubscribe", 7)
    with bare_app().app_context(), pytest.raises(TokenError) as refused:
        unsign("unsubscribe", token, max_age_seconds=60)
    assert refused.value.expired is False


@pytest.mark.parametrize("part", [0, 1, 2])
def test_a_token_altered_anywhere_is_refused(app: Flask, part: int) -> None:
    pieces = sign("unsubscribe", {"participant": 12}).split(".")
    pieces[part] = pieces[part][:-1] + ("A" if pieces[part][-1] != "A" else "B")
    with pytest.raises(TokenError) as refused:
        unsign("unsubscribe", ".".join(pieces), max_age_seconds=60)
    assert refused.value.expired is False


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "..", "ümlaut.x.y"])
def test_something_that_is_not_a_token_is_refused(app: Flask, token: str) -> None:
    with pytest.raises(TokenError):
        unsign("unsubscribe", token, max_age_seconds=60)


def test_a_token_lasts_exactly_its_age(app: Flask) -> None:
    token = sign("unsubscribe", 7)
    move_clock(app, timedelta(hours=1))
    assert unsign("unsubscribe", token, max_age_seconds=3600) == 7
    move_clock(app, timedelta(hours=1, seconds=1))
    with pytest.raises(TokenError) as refused:
        unsign("unsubscribe", token, max_age_seconds=3600)
    assert refused.value.expired is True and str(refused.value) == "expired"


def test_a_token_signed_later_than_now_counts_as_expired(app: Flask) -> None:
    token = sign("unsubscribe", 7)
    move_clock(app, -timedelta(minutes=1))
    with pytest.raises(TokenError) as refused:
        unsign("unsubscribe", token, max_age_seconds=3600)
    assert refused.value.expired is True


def test_a_keyed_hash_is_the_same_in_every_version(app: Flask) -> None:
    # Stored hashes (of erased addresses) are compared with new ones: the construction is fixed.
    assert keyed_hash("erase", "a@b.se") == (
        "07f4b69ed0fe29abdc50619d936dac4852a34d101d45e197e95b9db1a1cbd9a1"
    )


def test_a_keyed_hash_depends_on_the_key_the_purpose_and_the_value(app: Flask) -> None:
    first = keyed_hash("erase", "a@b.se")
    assert keyed_hash("erase", "a@b.se") == first
    assert keyed_hash("join", "a@b.se") != first
    assert keyed_hash("erase", "A@b.se") != first
    with bare_app("another key").app_context():
        assert keyed_hash("erase", "a@b.se") != first


LINK_FORMS = [
    "Öppna https://k.example.se/u/{t} för att pausa",
    "Öppna http://k.example.se/q/{t}?s=1#x för att svara",
    '<a href="https://k.example.se/join/{t}">Gå med</a>',
    "[länk](https://k.example.se/u/{t})",
    "List-Unsubscribe: <https://k.example.se/u/{t}>",
    "URL:https://k.example.se/u/{t}/confirm",
    "bara token {t} här",
    "{t}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("form", LINK_FORMS)
def test_every_signed_link_is_hidden(app: Flask, payload: object, form: str) -> None:
    token = sign("unsubscribe", payload)
    shown = hide_signed_links(form.format(t=token), HIDDEN)
    assert token not in shown and "k.example.se" not in shown and HIDDEN in shown, shown


def test_hiding_keeps_the_text_around_a_link(app: Flask) -> None:
    token = sign("questionnaire", {"participant": 12})
    text = f'Svara <a href="https://k.example.se/q/{token}">här</a> före fredag.'
    assert hide_signed_links(text, HIDDEN) == f'Svara <a href="{HIDDEN}">här</a> före fredag.'
    markdown = f"Svara [här](https://k.example.se/q/{token}) före fredag."
    assert hide_signed_links(markdown, HIDDEN) == f"Svara [här]({HIDDEN}) före fredag."


def test_each_of_several_links_is_hidden_once(app: Flask) -> None:
    first, second = sign("unsubscribe", 1), sign("join", 2)
    text = f"<https://k.se/u/{first}>, <mailto:u@k.se>, <https://k.se/join/{second}>"
    assert hide_signed_links(text, "X") == "<X>, <mailto:u@k.se>, <X>"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hej Åsa! Läs mer på https://k.example.se/om/kampanjen.html.",
        "Mötet är 2014-03-03 kl. 09.00, version 1.2.3.",
        "mailto:kampanj@kungalv.se?subject=Fråga",
    ],
)
def test_text_without_a_signed_link_is_left_alone(text: str) -> None:
    assert hide_signed_links(text, HIDDEN) == text


def test_a_password_hash_is_salted_scrypt() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt:") and first != second


def test_only_the_right_password_matches() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password(stored, "correct horse battery") is True
    assert verify_password(stored, "correct horse batter") is False
    assert verify_password(stored, "") is False


@pytest.mark.parametrize("missing", [None, ""])
def test_without_a_hash_no_password_matches(missing: str | None) -> None:
    assert verify_password(missing, "") is False
    assert verify_password(missing, "anything") is False


@pytest.mark.parametrize(
    "target", ["/", staff("/dashboard"), staff("/report?as_of=2014-06-30"), "/ö/ä"]
)
def test_a_path_on_this_site_is_a_safe_redirect(target: str) -> None:
    assert is_safe_redirect(target) is True


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "dashboard",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\t/evil.example",
        "/a\r\nSet-Cookie: x=1",
        "/a b",
        "/\u200b/evil.example",
        "/\x00",
    ],
)
def test_anything_else_is_not_a_safe_redirect(target: str | None) -> None:
    assert is_safe_redirect(target) is False


def served(**settings: object) -> Flask:
    """A bare app with security.init_app and one page that echoes what it was given."""
    app = bare_app(**settings)
    security.init_app(app)

    @app.route("/echo", methods=["GET", "POST"])
    def echo() -> dict[str, object]:
        upload = request.files.get("file")
        return {
            "q": request.args.get("q"),
            "name": request.form.get("name"),
            "file": upload.filename if upload else None,
            "addr": request.remote_addr,
            "scheme": request.scheme,
        }

    @app.route("/preview")
    def preview() -> object:
        return security.mail_preview("<p style='color:red'>x</p>")

    return app


def test_every_answer_carries_the_security_headers() -> None:
    answer = served().test_client().get("/echo")
    for name, value in security.SECURITY_HEADERS.items():
        assert answer.headers[name] == value
    assert "Strict-Transport-Security" not in answer.headers
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]


def test_https_sites_ask_browsers_to_stay_on_https() -> None:
    client = served(CAMPAIGN_BASE_URL="https://kampanj.example.se").test_client()
    assert client.get("/echo").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_mail_preview_keeps_its_own_narrower_policy() -> None:
    answer = served().test_client().get("/preview")
    policy = answer.headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'") and "script-src" not in policy
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_nul_characters_are_removed_from_parameters() -> None:
    client = served().test_client()
    assert client.get("/echo?q=a%00b").json["q"] == "ab"
    assert client.post("/echo", data={"name": "Å\x00sa"}).json["name"] == "Åsa"


def test_a_path_with_a_nul_is_a_bad_request() -> None:
    assert served().test_client().get("/echo%00").status_code == 400


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("lista\t\x0b.csv", "lista .csv"),
        ("\x1b\x07", "file"),
        ("x" * 300 + ".xlsx", "x" * 250 + ".xlsx"),
        ("Åsa Öberg.csv", "Åsa Öberg.csv"),
    ],
)
def test_an_uploaded_file_name_is_cleaned(name: str, kept: str) -> None:
    client = served().test_client()
    data = {"file": (io.BytesIO(b"x"), name)}
    answer = client.post("/echo", data=data, content_type="multipart/form-data")
    assert answer.json["file"] == kept


def test_forwarded_headers_count_only_behind_a_trusted_proxy() -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    direct = served().test_client().get("/echo", headers=forwarded).json
    assert direct == {**direct, "addr": "127.0.0.1", "scheme": "http"}
    proxied = served(CAMPAIGN_TRUSTED_PROXIES=1).test_client().get("/echo", headers=forwarded)
    assert proxied.json == {**proxied.json, "addr": "203.0.113.9", "scheme": "https"}
