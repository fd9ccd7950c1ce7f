"""The imap job against a real Dovecot (tests/inbound/dovecot.py): messages put in by IMAP APPEND
are stored, then moved to the handled or the kept folder; nothing is read twice or lost; a
server that is down, a refused login and an untrusted certificate are one sentence in the job's
status; XOAUTH2 against Dovecot's own oauth2 passdb and a local token endpoint."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaign import create_app, db
from campaign.config import ConfigError
from campaign.inbound import classify, imap, oauth2
from campaign.inbound.mailbox import Fetched, Mailbox, _messages_in, settings_from_config
from campaign.inbound.parsed import Incoming
from campaign.jobs import JOBS, JobLease, run_job
from campaign.outbox.inbound import InboundKind, InboundMessage, InboundOutcome
from tests.conftest import START, close_app, make_app
from tests.inbound.conftest import sample
from tests.inbound.dovecot import Dovecot, OAuth2Server, dovecot_server, free_port, oauth2_server

IMAP_JOB = next(job for job in JOBS if job.name == "imap")
HANDLED, KEPT = "Campaign.Handled", "Campaign.Kept"  # the settings' / is Dovecot's . here
BOUNCE, HUMAN, BROKEN = "imap-bounce-postfix.eml", "imap-human-reply.eml", "imap-broken-mime.eml"


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with dovecot_server() as server:
        yield server


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stand in for the handlers (the other parts of issue 18): delivery reports are taken and
    recorded, the rest kept. Returns the subjects of the messages handled, once per handling."""
    seen: list[str] = []

    def reports(db_session: Session, incoming: Incoming) -> bool:
        seen.append(incoming.row.subject)
        if incoming.message.get_content_type() != "multipart/report":
            return False
        row = incoming.row
        row.kind, row.outcome, row.needs_attention = (
            InboundKind.HARD_BOUNCE, InboundOutcome.RECORDED, False,
        )  # fmt: skip
        return True

    monkeypatch.setattr(classify, "HANDLERS", (reports,))
    return seen


def job_app(database_url: str, folder: Path, **settings: str) -> Flask:
    return make_app(database_url, folder, **settings)


@pytest.fixture
def app(database_url: str, tmp_path: Path, dovecot: Dovecot) -> Iterator[Flask]:
    """The app, its imap job pointed at the Dovecot."""
    app = job_app(database_url, tmp_path, **dovecot.settings())
    yield app
    close_app(app)


def run(app: Flask, minutes: int = 0) -> str | None:
    """Run the imap job as the scheduler does; return its recorded error (None: it went well)."""
    run_job(app, IMAP_JOB, START + timedelta(minutes=minutes), release=True)
    with db.open_session(app) as db_session:
        lease = db_session.get(JobLease, "imap")
        assert lease is not None
        return lease.last_error


def rows(session: Session) -> list[InboundMessage]:
    session.expire_all()
    return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))


def subjects(messages: list[bytes]) -> list[str]:
    """Return the messages' own Subject headers, sorted."""
    parser = BytesHeaderParser(policy=compat32)
    return sorted(str(parser.parsebytes(raw)["Subject"]) for raw in messages)


def append_three(dovecot: Dovecot) -> None:
    for name in (BOUNCE, HUMAN, BROKEN):
        dovecot.append(sample(name))


def test_each_message_is_stored_then_filed_in_its_folder(
    app: Flask, session: Session, dovecot: Dovecot, taken: list[str]
) -> None:
    append_three(dovecot)
    assert run(app) is None
    assert dovecot.messages("INBOX") == []
    assert subjects(dovecot.messages(HANDLED)) == ["Undelivered Mail Returned to Sender"]
    assert len(dovecot.messages(KEPT)) == 2
    stored = rows(session)
    assert [(r.source, r.outcome) for r in stored] == [
        ("imap", InboundOutcome.RECORDED),
        ("imap", InboundOutcome.KEPT),
        ("imap", InboundOutcome.KEPT),
    ]
    assert stored[1].from_address == "karin.berg@ale.example.se"
    assert all(r.received_at == START for r in stored)  # the job's now, from the clock
    assert sorted(dovecot.messages(KEPT)) == sorted(
        session.scalars(select(InboundMessage.raw).where(InboundMessage.id != stored[0].id))
    )  # byte for byte what the server holds


def test_a_second_run_finds_nothing_to_do(
    app: Flask, session: Session, dovecot: Dovecot, taken: list[str]
) -> None:
    append_three(dovecot)
    assert run(app) is None
    assert run(app, minutes=1) is None
    assert len(rows(session)) == 3 and len(taken) == 3
    assert len(dovecot.messages(HANDLED)) == 1 and len(dovecot.messages(KEPT)) == 2


def test_a_crash_between_storing_and_moving_applies_nothing_twice(
    app: Flask, session: Session, dovecot: Dovecot, taken: list[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    append_three(dovecot)

    def connection_lost(self: Mailbox, uids: list[str], folder: str) -> None:
        raise OSError("connection reset by peer")

    with monkeypatch.context() as patched:
        patched.setattr(Mailbox, "move", connection_lost)
        error = run(app)
    assert error is not None and "broke off" in error and "connection reset" in error
    assert len(dovecot.messages("INBOX")) == 3 and len(rows(session)) == 3
    assert run(app, minutes=1) is None
    assert len(rows(session)) == 3
    assert len(taken) == 3  # each handled once, in the first run
    assert dovecot.messages("INBOX") == []
    assert len(dovecot.messages(HANDLED)) + len(dovecot.messages(KEPT)) == 3


def test_a_message_that_cannot_be_stored_stays_where_it_was(
    app: Flask, session: Session, dovecot: Dovecot, taken: list[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    append_three(dovecot)
    original = imap.receive

    def full_disk(db_session: Session, raw: bytes, *args, **kwargs):  # type: ignore[no-untyped-def]
        if b"Karin Berg" in raw:
            raise OSError("database disk image is full")
        return original(db_session, raw, *args, **kwargs)

    monkeypatch.setattr(imap, "receive", full_disk)
    error = run(app)
    assert error == (
        "1 of 3 messages in INBOX could not be stored; they stay there and are tried again at"
        " the next run."
    )
    assert dovecot.messages("INBOX") == [sample(HUMAN).replace(b"\n", b"\r\n")]
    assert len(rows(session)) == 2


def test_without_move_it_copies_and_expunges_only_what_it_moved(
    app: Flask, session: Session, dovecot: Dovecot, taken: list[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    append_three(dovecot)
    with dovecot.client() as connection:  # someone else's message, marked deleted, not expunged
        connection.append("INBOX", r"(\Deleted)", None, b"Subject: not ours\r\n\r\nkeep\r\n")
    capabilities = Mailbox.__init__

    def without_move(self: Mailbox, *args) -> None:  # type: ignore[no-untyped-def]
        capabilities(self, *args)
        self.capabilities.discard("MOVE")

    monkeypatch.setattr(Mailbox, "__init__", without_move)
    assert run(app) is None
    assert subjects(dovecot.messages("INBOX")) == ["not ours"]
    assert len(dovecot.messages(HANDLED)) == 1 and len(dovecot.messages(KEPT)) == 2
    assert len(rows(session)) == 3


def test_a_run_reads_at_most_its_batch_a_few_at_a_time(
    database_url: str, tmp_path: Path, dovecot: Dovecot, taken: list[str], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(imap, "FETCH_AT_ONCE", 1)
    app = job_app(database_url, tmp_path, **dovecot.settings(CAMPAIGN_IMAP_BATCH="2"))
    append_three(dovecot)
    try:
        assert run(app) is None
        assert dovecot.messages("INBOX") == [sample(BROKEN)]  # the newest waits
        assert run(app, minutes=1) is None
        assert dovecot.messages("INBOX") == []
    finally:
        close_app(app)


def test_a_message_over_the_limit_is_kept_cut_short(
    database_url: str, tmp_path: Path, dovecot: Dovecot, taken: list[str]
) -> None:
    app = job_app(database_url, tmp_path, **dovecot.settings(CAMPAIGN_INBOUND_MAX_BYTES="2000"))
    dovecot.append(sample(BOUNCE))  # 2.9 kB
    try:
        assert run(app) is None
        with db.open_session(app) as session:
            (row,) = rows(session)
            assert (row.outcome, row.size) == (InboundOutcome.KEPT, 2000)
            assert "cut short" in row.detail
        assert len(dovecot.messages(KEPT)) == 1
    finally:
        close_app(app)


def test_starttls_and_folders_named_by_the_settings(
    database_url: str, tmp_path: Path, dovecot: Dovecot, taken: list[str]
) -> None:
    settings = dovecot.settings(
        CAMPAIGN_IMAP_URL=dovecot.url(starttls=True),
        CAMPAIGN_IMAP_DONE_FOLDER="Kampanj/Klart",
        CAMPAIGN_IMAP_KEPT_FOLDER="Kampanj/Till en person",
    )
    app = job_app(database_url, tmp_path, **settings)
    append_three(dovecot)
    try:
        assert run(app) is None
    finally:
        close_app(app)
    assert {"Kampanj.Klart", "Kampanj.Till en person"} <= dovecot.folders()
    assert len(dovecot.messages("Kampanj.Klart")) == 1


def test_a_wrong_password_is_one_line_in_the_status(
    database_url: str, tmp_path: Path, dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    app = job_app(database_url, tmp_path, **dovecot.settings(CAMPAIGN_IMAP_PASSWORD="wrong"))
    dovecot.append(sample(HUMAN))
    try:
        with caplog.at_level(logging.WARNING):
            error = run(app)
    finally:
        close_app(app)
    assert error == (
        f"The IMAP server 127.0.0.1:{dovecot.imaps_port} refused the login of"
        " kampanj@example.org: [AUTHENTICATIONFAILED] Authentication failed."
    )
    assert [r.exc_info for r in caplog.records if r.name == "campaign.jobs"] == [None]
    assert len(dovecot.messages("INBOX")) == 1


def test_a_server_that_is_down_is_tried_again_next_run(
    database_url: str, tmp_path: Path, dovecot: Dovecot
) -> None:
    port = free_port()
    url = f"imaps://{dovecot.user}@127.0.0.1:{port}/INBOX"
    app = job_app(database_url, tmp_path, **dovecot.settings(CAMPAIGN_IMAP_URL=url))
    try:
        error = run(app)
    finally:
        close_app(app)
    assert error == f"The IMAP server 127.0.0.1:{port} could not be reached: Connection refused."


@pytest.mark.parametrize("starttls", [False, True])
def test_an_untrusted_certificate_is_refused(
    database_url: str, tmp_path: Path, dovecot: Dovecot, starttls: bool
) -> None:
    settings = dovecot.settings(CAMPAIGN_IMAP_URL=dovecot.url(starttls=starttls))
    del settings["CAMPAIGN_IMAP_CA_FILE"]  # the system's CAs: they never signed a throwaway cert
    app = job_app(database_url, tmp_path, **settings)
    dovecot.append(sample(HUMAN))
    try:
        error = run(app)
    finally:
        close_app(app)
    assert error is not None and "TLS certificate that is not trusted" in error
    assert "self-signed certificate" in error and "CAMPAIGN_IMAP_CA_FILE" in error
    assert len(dovecot.messages("INBOX")) == 1


@pytest.fixture
def oauth() -> Iterator[OAuth2Server]:
    with oauth2_server() as server:
        yield server
    oauth2._tokens.clear()


def xoauth2_settings(dovecot: Dovecot, oauth: OAuth2Server, **more: str) -> dict[str, str]:
    settings = dovecot.settings(
        **{
            "CAMPAIGN_IMAP_OAUTH2_TOKEN_URL": oauth.token_url,
            "CAMPAIGN_IMAP_OAUTH2_CLIENT_ID": "campaign-client",
            "CAMPAIGN_IMAP_OAUTH2_CLIENT_SECRET": "client-secret",
            **more,
        }
    )
    del settings["CAMPAIGN_IMAP_PASSWORD"]
    return settings


def test_xoauth2_with_a_client_credentials_token_kept_until_it_expires(
    database_url: str, tmp_path: Path, oauth: OAuth2Server, taken: list[str]
) -> None:
    with dovecot_server(introspection_url=oauth.introspection_url) as dovecot:
        app = job_app(database_url, tmp_path, **xoauth2_settings(dovecot, oauth))
        append_three(dovecot)
        try:
            assert run(app) is None
            assert run(app, minutes=1) is None
        finally:
            close_app(app)
        assert len(dovecot.messages(HANDLED)) == 1 and len(dovecot.messages(KEPT)) == 2
    assert oauth.tokens_issued == ["token-1-https://outlook.office365.com/.default"]


def test_a_token_is_asked_for_again_shortly_before_it_expires(oauth: OAuth2Server) -> None:
    client = oauth2.Client(oauth.token_url, "campaign-client", "client-secret", "scope")
    assert oauth2.access_token(client) == oauth2.access_token(client) == "token-1-scope"
    oauth2.forget(client)
    oauth.expires_in = oauth2.EARLY_SECONDS  # expires within the margin: never kept
    assert oauth2.access_token(client) == "token-2-scope"
    assert oauth2.access_token(client) == "token-3-scope"


def test_xoauth2_refusals_are_one_sentence(
    database_url: str, tmp_path: Path, oauth: OAuth2Server
) -> None:
    with dovecot_server(introspection_url=oauth.introspection_url) as dovecot:
        wrong = xoauth2_settings(dovecot, oauth, CAMPAIGN_IMAP_OAUTH2_CLIENT_SECRET="wrong")
        app = job_app(database_url, tmp_path, **wrong)
        try:
            refused_client = run(app)
        finally:
            close_app(app)
        app = job_app(database_url, tmp_path, **xoauth2_settings(dovecot, oauth))
        try:
            assert run(app) is None
            oauth.valid.clear()  # the server no longer accepts the token it gave out
            refused_token = run(app, minutes=1)
            assert run(app, minutes=2) is None  # a refused token is not kept: a new one
        finally:
            close_app(app)
    assert refused_client == (
        f"The OAuth2 token endpoint {oauth.token_url} refused client campaign-client"
        " (HTTP 401: AADSTS7000215)."
    )
    assert refused_token == (
        f"The IMAP server 127.0.0.1:{dovecot.imaps_port} refused the login of"
        " kampanj@example.org: [AUTHENTICATIONFAILED] Authentication failed."
    )
    assert len(oauth.tokens_issued) == 2


def test_no_mailbox_set_means_the_job_does_nothing(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path)
    try:
        assert run(app) is None
        with db.open_session(app) as session:
            assert session.scalar(select(func.count(InboundMessage.id))) == 0
    finally:
        close_app(app)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"CAMPAIGN_IMAP_URL": "imap://u@host/INBOX", "CAMPAIGN_IMAP_PASSWORD": "x"}, "over TLS"),
        ({"CAMPAIGN_IMAP_URL": "imaps://host/INBOX", "CAMPAIGN_IMAP_PASSWORD": "x"}, "user@host"),
        ({"CAMPAIGN_IMAP_URL": "imaps://u@host"}, "CAMPAIGN_IMAP_PASSWORD (or"),
        (
            {
                "CAMPAIGN_IMAP_URL": "imaps://u@host",
                "CAMPAIGN_IMAP_OAUTH2_TOKEN_URL": "https://login.example/token",
                "CAMPAIGN_IMAP_OAUTH2_CLIENT_ID": "app",
            },
            "CAMPAIGN_IMAP_OAUTH2_CLIENT_SECRET must be set",
        ),
        ({"CAMPAIGN_IMAP_DONE_FOLDER": "Kampanj/Klar å"}, "plain letters"),
        ({"CAMPAIGN_IMAP_CA_FILE": "/no/such/ca.pem"}, "not a file this process can read"),
    ],
)
def test_the_settings_say_what_is_wrong(
    tmp_path: Path, settings: dict[str, str], words: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)):
        create_app({"INSTANCE_PATH": str(tmp_path), **settings})


def test_a_microsoft_365_mailbox_is_named_by_its_address() -> None:
    settings = settings_from_config(
        {
            "CAMPAIGN_IMAP_URL": "imaps://kampanj@kungalv.se@outlook.office365.com/Inkorg/Retur",
            "CAMPAIGN_IMAP_OAUTH2_TOKEN_URL": "https://login.example/t/oauth2/v2.0/token",
            "CAMPAIGN_IMAP_OAUTH2_CLIENT_ID": "app",
            "CAMPAIGN_IMAP_OAUTH2_CLIENT_SECRET": "secret-value",
        }
    )
    assert settings is not None and settings.client is not None
    assert (settings.user, settings.host, settings.port) == (
        "kampanj@kungalv.se", "outlook.office365.com", 993,
    )  # fmt: skip
    assert (settings.folder, settings.client.scope) == (
        "Inkorg/Retur", "https://outlook.office365.com/.default",
    )  # fmt: skip
    assert "secret-value" not in repr(settings)


def test_a_fetch_answer_with_the_uid_after_the_body_is_read() -> None:
    """Some servers (Exchange among them) put UID after the literal; the size tells whether
    the body came whole."""
    answer = [
        (b"1 (RFC822.SIZE 5000 BODY[]<0> {4}", b"abcd"),
        b" UID 17)",
        (b"2 (UID 18 RFC822.SIZE 3 BODY[]<0> {3}", b"xyz"),
        b")",
        b"3 (FLAGS (\\Seen))",  # an unasked update between them
    ]
    assert _messages_in(answer) == [Fetched("17", b"abcd", 5000), Fetched("18", b"xyz", 3)]
