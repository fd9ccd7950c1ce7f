"""Fixtures: a migrated database (SQLite, or PostgreSQL when CAMPAIGN_TEST_DATABASE_URL is
set), the app, clients signed in as each role, and a small network of two members."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from campaign import create_app, db, migrations
from campaign.accounts.models import Role, User
from campaign.cli import main
from campaign.network.models import (
    Campaign,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
)
from campaign.outbox.transports import SMTPTransport
from campaign.schema import metadata
from campaign.timing import FixedClock, install_clock
from tests.pg import fresh_database_url, server_url
from tests.smtp import Sink, smtp_server

pytest_plugins = ("tests.browser",)

PASSWORD = "correct horse battery staple"
START = datetime(2014, 3, 3, 9, 0, tzinfo=UTC)
# The fixtures' accounts get a scrypt hash of low cost: verifying it is what each sign-in costs,
# and the route matrices sign in thousands of times (at the app's cost, 0.1-0.2 s each, that
# was minutes of every run). Every hash the app makes keeps its full cost (test_security.py).
FIXTURE_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One migrated database for the whole run; each test leaves it empty again."""
    if server_url():
        with fresh_database_url() as url:
            _migrate(url)
            yield url
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    engine = db.make_engine(url)
    migrations.upgrade(engine)
    engine.dispose()


def make_app(database_url: str, folder: Path, **settings: str) -> Flask:
    """Return an app on the test database, with its instance folder in `folder`, at START."""
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "CAMPAIGN_DATABASE_URL": database_url,
            "CAMPAIGN_SECRET_KEY": "test-secret-key",
            **settings,
        }
    )
    install_clock(app, FixedClock(START))
    return app


def close_app(app: Flask) -> None:
    """Leave the test database empty again for the next test."""
    _empty(db.engine_of(app))
    db.engine_of(app).dispose()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(database_url, tmp_path)
    yield app
    close_app(app)


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(text(f'DELETE FROM "{table.name}"'))


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with db.open_session(app) as db_session:
        yield db_session


@dataclass
class Network:
    campaign: Campaign
    alpha: Organisation  # the lead organisation, a member too
    beta: Organisation
    lead: User
    rep_alpha: User
    rep_beta: User


@pytest.fixture
def network(session: Session) -> Network:
    """A campaign led by Alpha with members Alpha and Beta, one account of each role."""
    alpha = Organisation(
        slug="alpha",
        name="Alpha kommun",
        short_name="Alpha",
        kind=OrganisationKind.MUNICIPALITY,
        created_at=START,
    )
    beta = Organisation(
        slug="beta",
        name="Beta högskola",
        short_name="Beta",
        kind=OrganisationKind.UNIVERSITY,
        created_at=START,
    )
    campaign = Campaign(
        slug="test",
        name="Testöverenskommelsen",
        lead_organisation=alpha,
        starts_on=date(2014, 1, 1),
        ends_on=date(2015, 3, 31),
        created_at=START,
    )
    session.add_all(
        [
            campaign,
            Membership(
                campaign=campaign,
                organisation=alpha,
                meeting_software="Lync",
                software_comment="Alla anställda",
                tips_md="- ALPHA-SECRET-TIP",
                created_at=START,
                updated_at=START,
            ),
            Membership(
                campaign=campaign,
                organisation=beta,
                meeting_software="Adobe Connect",
                software_comment="Delar av personalen",
                status=MembershipStatus.INFORMAL,
                tips_md="- BETA-SECRET-TIP",
                created_at=START,
                updated_at=START,
            ),
        ]
    )
    hashed = FIXTURE_HASH
    lead = User(
        email="lead@alpha.se",
        name="Lea Lead",
        role=Role.LEAD_ADMIN,
        organisation=alpha,
        password_hash=hashed,
        created_at=START,
    )
    rep_alpha = User(
        email="rep@alpha.se",
        name="Alva Rep",
        role=Role.MEMBER_REP,
        organisation=alpha,
        password_hash=hashed,
        created_at=START,
    )
    rep_beta = User(
        email="rep@beta.se",
        name="Bert Rep",
        role=Role.MEMBER_REP,
        organisation=beta,
        password_hash=hashed,
        created_at=START,
    )
    session.add_all([lead, rep_alpha, rep_beta])
    session.commit()
    return Network(campaign, alpha, beta, lead, rep_alpha, rep_beta)


@dataclass
class SecondCampaign:
    """Campaign "other", led by Gamma, beside the `network` fixture's "test": Alpha is a member
    of both, Beta of "test" only, Gamma of "other" only."""

    campaign: Campaign
    gamma: Organisation
    lead_gamma: User  # the lead administrator of "other", with no part in "test"
    rep_gamma: User
    operator: User  # a lead_admin of no organisation: administers every campaign


@pytest.fixture
def second_campaign(session: Session, network: Network) -> SecondCampaign:
    """A second campaign beside `network`'s, with other facts for Alpha and accounts of Gamma."""
    gamma = Organisation(
        slug="gamma", name="Gamma region", short_name="Gamma",
        kind=OrganisationKind.OTHER, created_at=START,
    )  # fmt: skip
    campaign = Campaign(
        slug="other", name="Andra överenskommelsen", lead_organisation=gamma,
        starts_on=date(2014, 2, 1), ends_on=date(2015, 6, 30), created_at=START,
    )  # fmt: skip
    session.add_all(
        [
            Membership(campaign=campaign, organisation=gamma, meeting_software="Teams",
                       tips_md="- GAMMA-SECRET-TIP", created_at=START, updated_at=START),
            Membership(campaign=campaign, organisation=network.alpha, meeting_software="Zoom",
                       tips_md="- ALPHA-OTHER-TIP", created_at=START, updated_at=START),
        ]
    )  # fmt: skip
    hashed = FIXTURE_HASH
    accounts = [
        User(email=email, name=name, role=role, organisation=org, password_hash=hashed,
             created_at=START)
        for email, name, role, org in (
            ("lead@gamma.se", "Gun Lead", Role.LEAD_ADMIN, gamma),
            ("rep@gamma.se", "Gus Rep", Role.MEMBER_REP, gamma),
            ("operator@example.se", "Otto Operator", Role.LEAD_ADMIN, None),
        )
    ]  # fmt: skip
    session.add_all(accounts)
    session.commit()
    return SecondCampaign(campaign, gamma, *accounts)


CSRF_PATTERN = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"'
)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """Return a CSRF token valid for this client's session, read from a real page."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_PATTERN.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def ask_for_new_password(client: FlaskClient, email: str) -> str:
    """Send the forgot-password form as a browser does; return the page once the server has
    closed the answer and queued whatever link it queues (in a thread of its own)."""
    from campaign.accounts.views import wait_for_reset_links

    path = "/password/forgot"
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "email": email})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    response.close()  # as a WSGI server does once it has sent it
    wait_for_reset_links()
    return page


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@dataclass
class Runner:
    """Runs the `campaign` command against the test app."""

    app: Flask

    def invoke(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), obj=self.app, input=input)


@pytest.fixture
def runner(app: Flask) -> Runner:
    return Runner(app)


@pytest.fixture
def sink() -> Iterator[tuple[Sink, SMTPTransport]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, and a transport that sends to it."""
    sink = Sink()
    with smtp_server(sink) as port:
        yield sink, SMTPTransport.from_url(f"smtp://127.0.0.1:{port}?starttls=off&timeout=5")


@pytest.fixture
def alpha_objects(app: Flask, session, network: Network) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """One object of each kind a URL can name, all belonging to Alpha, by URL parameter."""
    from campaign.outbox.models import Message, Suppression, SuppressionReason
    from campaign.outbox.queue import suppress
    from campaign.outbox.unsubscribe import token_for
    from tests.announcement_helpers import announcement_objects
    from tests.api_helpers import own_token_of
    from tests.enrolment_helpers import enrolment_objects
    from tests.inbound_helpers import stored
    from tests.local_helpers import local_objects
    from tests.outbox_helpers import participant, queue_welcome
    from tests.sender_helpers import sender_objects
    from tests.sequence_helpers import sequence_objects
    from tests.webhook_helpers import webhook_objects

    with app.app_context():
        person = participant(session, network, "anna@alpha.se")
        message_id = queue_welcome(session, person, START)
        session.get(Message, message_id).subject = "ALPHA-SECRET-SUBJECT"
        suppress(session, "gone@alpha.se", SuppressionReason.HARD_BOUNCE, "550", START)
        inbound_id = stored(session, person)
        session.commit()
        suppression_id = session.scalars(select(Suppression.id)).one()
        token = token_for(person)
        extra = enrolment_objects(session, network, person)
        extra |= sender_objects(session, network)
        extra |= sequence_objects(session, network)
        extra |= local_objects(session, network)
        extra |= announcement_objects(session, network)
        # A token of the invited representative (the lead's pages of people's tokens name it),
        # and one of Alpha's representative (the routes of one's own token name one).
        extra["api_token_id"] = own_token_of(session, session.get(User, int(extra["user_id"])))
        extra["own_token_id"] = own_token_of(session, network.rep_alpha)
        extra |= webhook_objects(session, network)
    return {
        **extra,
        "campaign": network.campaign.slug,
        "org": network.alpha.slug,
        "message_id": str(message_id),
        "inbound_id": str(inbound_id),
        "suppression_id": str(suppression_id),
        "token": token,
        "name": "pilot-group",
        "text": "event-invitation",
        "language": "sv",
        "number": "02",
        "participant_id": str(person.id),
    }
