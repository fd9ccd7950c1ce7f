"""Building blocks for the retention tests: a pilot with personal data in every table, the
moments around its purge, and what the report's figures are."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from campaign import db
from campaign.enrolment import lifecycle, people
from campaign.enrolment.models import ConsentMethod, Participant, PilotGroup
from campaign.events import invitations
from campaign.events.models import Invitation
from campaign.jobs import JOBS, run_job
from campaign.network.models import Campaign, Membership
from campaign.outbox import handling
from campaign.outbox.models import Suppression, SuppressionReason
from campaign.outbox.queue import suppress
from campaign.report import document
from campaign.report.figures import compute
from campaign.schema import metadata
from campaign.surveys import service
from campaign.surveys.models import Response
from tests.conftest import START, Network
from tests.enrolment_helpers import deliver, group, join_request, make_event, read
from tests.outbox_helpers import queue_welcome

# The `network` campaign ends on 31 March 2015; kept 12 months, through 31 March 2016.
WARNING_AT = datetime(2016, 3, 1, 23, 0, tzinfo=UTC)  # 2 March 2016 00:00 in Stockholm (CET)
PURGE_AT = datetime(2016, 3, 31, 22, 0, tzinfo=UTC)  # 1 April 2016 00:00 in Stockholm (CEST)
AS_OF = (datetime(2015, 3, 31, 12, 0, tzinfo=UTC), PURGE_AT)  # the report's moments compared
TITLE = "Miljöstrateg"
IMPORTED = ("importerad.person@alpha.se", "Importerad Person")
JOINER = ("joiner@alpha.se", "Jo Iner", "203.0.113.9")
SHARED = "pilot2@alpha.se"  # also a participant of an older campaign, suppressed for both


@dataclass
class Pilot:
    """What the pilot holds that names people, and one participant's ids for their links."""

    secrets: set[str] = field(default_factory=set)
    person_id: int = 0
    group_id: int = 0
    event_id: int = 0


def retention_job() -> Any:
    """The `retention` entry of the job table."""
    return next(job for job in JOBS if job.name == "retention")


def run_retention(app: Flask, now: datetime) -> bool:
    """Run the retention job at `now`, with the app's clock there too (as the scheduler would)."""
    app.extensions["campaign.clock"].set(now)
    return run_job(app, retention_job(), now, release=True)


def build_pilot(app: Flask, session: Session, network: Network, transport: Any) -> Pilot:
    """A pilot with personal data of every kind: people enrolled with consent in both members,
    delivered and queued mail, a meeting's calendar invitations, answers with free texts,
    suppressions (one lifted, one shared with an older campaign), an erased person, a pending
    import and a pending self-enrolment."""
    pilot = Pilot()
    with app.app_context():
        groups = {
            org: group(session, network, f"{org}-gruppen", org=org) for org in ("alpha", "beta")
        }
        persons = [_enrol(session, network, groups[o], n) for o, n in _whom()]
        pilot.secrets |= {p.email for p in persons} | {p.name for p in persons} | {TITLE}
        pilot.person_id, pilot.group_id = persons[0].id, groups["alpha"].id
        _mail(app, session, network, persons, groups["alpha"], transport, pilot)
        _answers(session, network, persons, pilot)
        pilot.secrets -= {persons[4].email, persons[4].name}  # erased before the purge
        _stops(session, network, persons)
        _pending(session, groups["alpha"], pilot)
        session.commit()
    pilot.secrets.discard(SHARED)  # the older campaign still holds it
    return pilot


def _whom() -> list[tuple[str, int]]:
    return [("alpha", n) for n in range(12)] + [("beta", n) for n in range(12, 18)]


def _enrol(session: Session, network: Network, target: PilotGroup, n: int) -> Participant:
    """Enrol pilot user n with a staff member's word for their consent, given from an address."""
    org = "alpha" if target.organisation_id == network.alpha.id else "beta"
    newcomer = people.Newcomer(f"pilot{n}@{org}.se", f"Pilotfrida Nummer{n}", TITLE, "sv")
    consent = (ConsentMethod.STAFF_FORM, "added by rep from 192.0.2.44", f"Samtycke {n}")
    return people.enrol(
        session, campaign=network.campaign, group=target, newcomer=newcomer, consent=consent,
        now=START,
    )  # fmt: skip


def _mail(
    app: Flask,
    session: Session,
    network: Network,
    persons: list[Participant],
    target: PilotGroup,
    transport: Any,
    pilot: Pilot,
) -> None:
    """Welcome everyone, invite Alpha's group to a meeting (calendar parts), deliver it all, and
    queue one step due after the purge (it is cancelled then)."""
    for person in persons:
        queue_welcome(session, person, START)
    event = make_event(session, network, target)
    invitations.invite(session, event, START)
    session.commit()
    deliver(app, session, transport)
    for invitation in session.scalars(select(Invitation).where(Invitation.event_id == event.id)):
        invitation.has_attended = invitation.participant_id % 2 == 0
    queue_welcome(session, persons[0], datetime(2016, 6, 1, 7, 0, tzinfo=UTC), step="02")
    pilot.event_id = event.id


def _answers(session: Session, network: Network, persons: list[Participant], pilot: Pilot) -> None:
    """Everyone answers the baseline (a free text) and the follow-up (numbers and a free text)."""
    found = {q.slug: q for q in service.questionnaires_of(session, network.campaign, START)}
    answered = datetime(2014, 10, 1, 8, 0, tzinfo=UTC)
    for n, person in enumerate(persons):
        hope, tip = f"HOPPAS-ATT-{n}", f"TIPSET-NUMMER-{n}"
        pilot.secrets |= {hope, tip}
        follow_up = {"trips_replaced": n, "km_avoided": 100 * n, "hours_saved": n, "tips": tip}
        for slug, answers in (("baseline", {"hopes": hope}), ("follow-up", follow_up)):
            session.add(
                Response(
                    questionnaire_id=found[slug].id,
                    participant_id=person.id,
                    organisation_id=person.organisation_id,
                    answers=answers,
                    submitted_at=answered,
                    updated_at=answered,
                )  # fmt: skip
            )


def _stops(session: Session, network: Network, persons: list[Participant]) -> None:
    """One unsubscribes, one bounces, one is suppressed and lifted, one is erased; one address
    is suppressed and also held by an older campaign's participant."""
    now = datetime(2014, 11, 3, 9, 0, tzinfo=UTC)
    lifecycle.unsubscribe(session, persons[1], now, how="unsubscribe page")
    suppress(session, persons[13].email, SuppressionReason.HARD_BOUNCE, "550 no such user", now)
    suppress(session, persons[3].email, SuppressionReason.MANUAL, "by mistake", now)
    mistaken = session.scalars(select(Suppression).where(Suppression.email == persons[3].email))
    handling.lift(session, mistaken.one(), network.lead)
    lifecycle.erase(session, persons[4], network.rep_alpha, now)
    _older_campaign(session, network)
    suppress(session, SHARED, SuppressionReason.UNSUBSCRIBED, "one-click", now)


def _older_campaign(session: Session, network: Network) -> None:
    """A campaign of 2012 (kept ten years) in which Alpha's pilot2 took part too."""
    older = Campaign(
        slug="older", name="Förra överenskommelsen", lead_organisation=network.alpha,
        starts_on=date(2012, 1, 1), ends_on=date(2012, 12, 31), retention_months=120,
        created_at=START,
    )  # fmt: skip
    session.add(older)
    session.add(
        Membership(campaign=older, organisation=network.alpha, created_at=START, updated_at=START)
    )
    session.flush()
    session.add(
        Participant(
            campaign_id=older.id,
            organisation_id=network.alpha.id,
            email=SHARED,
            name="Tvåa",
            created_at=START,
            updated_at=START,
        )  # fmt: skip
    )


def _pending(session: Session, target: PilotGroup, pilot: Pilot) -> None:
    """An import waiting for its confirmation, and a self-enrolment waiting for its own."""
    from campaign.enrolment import joining

    joining.open_link(target)
    session.commit()
    email, name = IMPORTED
    read(session, target, f"E-post;Namn;Titel\n{email};{name};Importtitel\n".encode())
    address, who, client = JOINER
    join_request(session, target, address, name=who, client=client)
    pilot.secrets |= {email, name, "Importtitel", address, who, client, "192.0.2.44"}


def everything(app: Flask) -> str:
    """Every row of every table, as text: what a copy of the database would give away."""
    with db.engine_of(app).connect() as connection:
        return "\n".join(
            repr(row)
            for table in metadata.sorted_tables
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"'))
        )


def figures(app: Flask, session: Session, campaign_id: int) -> list[Any]:
    """The report's figures at each moment of AS_OF, field by field, and its table and HTML."""
    session.expire_all()
    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    with app.app_context():
        return [_moment(session, campaign, as_of) for as_of in AS_OF]


def _moment(session: Session, campaign: Campaign, as_of: datetime) -> dict[str, Any]:
    counted = compute(session, campaign, as_of)
    report = document.build(session, campaign, as_of, "sv")
    return {
        "members": [_member(m) for m in counted.members],
        "outcomes": asdict(counted.outcomes),
        "co2": counted.co2_kg,
        "money": counted.money,
        "by_month": counted.mail_by_month,
        "table": document.table(report),
        "html": document.html(report),
    }


def _member(m: Any) -> dict[str, Any]:
    return {
        "member": m.organisation.slug, "participants": m.participants, "by_status": m.by_status,
        "pilot_groups": m.pilot_groups, "mail": m.mail, "trained": m.trained,
        "events_held": m.events_held, "suppressed": m.suppressed, "outcomes": asdict(m.outcomes),
        "co2": m.co2_kg, "money": m.money,
    }  # fmt: skip
