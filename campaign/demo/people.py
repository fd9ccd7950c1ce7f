"""The invented people of the demo pilot (`pilot`) and of `campaign simulate` (`simulation`),
made by one set of functions: the members chosen, a pilot group and a training per member,
invented pilot users, and plausible answers to a questionnaire.

Names and addresses are invented (example.org addresses, which RFC 2606 keeps for this). Every
draw comes from the random generator passed in, so the same seed gives the same people.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from campaign.enrolment.consent import source_of
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    Participant,
    ParticipantStatus,
    PilotGroup,
    PilotGroupKind,
)
from campaign.enrolment.people import self_enrolment_consent
from campaign.events.models import Audience, Event, EventKind
from campaign.network.models import Campaign, Organisation
from campaign.surveys.definitions import Question

GROUP_NAME = "Provgruppen"
TRAINING_TITLE = "Utbildning i webbmöten"
TRAINING_LENGTH = timedelta(hours=2)

# How high an invented number goes, by the outcome its question measures (else 20).
TOPS = {"trips": 15, "km": 1500, "hours": 40}


def pilot_address(org_slug: str, n: int) -> str:
    """Return the invented address of a member's `n`th pilot user."""
    return f"pilot{n}@{org_slug}.example.org"


# Invented names of the running demo's pilot users (`add_invented_users`).
FIRST_NAMES = (
    "Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Anders", "Sara", "Per",
    "Lena", "Mikael", "Emma", "Jonas", "Ingrid", "Ali", "Fatima", "Nils", "Sofia", "Olof",
)  # fmt: skip
SURNAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Lindberg", "Holm", "Ek", "Berg", "Sjöberg",
    "Hassan", "Lundqvist", "Åberg", "Öberg", "Strand",
)  # fmt: skip
TITLES = ("handläggare", "enhetschef", "utvecklare", "controller", "samordnare", "lärare")
DEMO_SOURCE = source_of(invented="campaign demo")  # said as "an invented person of the demo"
ASCII = str.maketrans("åäöé", "aaoe")


def invented_member(n: int) -> dict[str, Any]:
    """Return the `n`th member (counted from 1) beyond the demo network, as network.yaml
    writes one: a signed municipality with Teams for all."""
    return {
        "slug": f"medlem-{n}",
        "name": f"Medlem {n}",
        "short_name": f"Medlem {n}",
        "kind": "municipality",
        "status": "signed",
        "meeting_software": "Teams",
        "software_comment": "Alla anställda",
    }


def chosen_members(
    organisations: list[dict[str, Any]], lead: str, count: int
) -> list[dict[str, Any]]:
    """Return `count` members as network.yaml writes them: the lead first, then the demo's
    others in order, then invented ones beyond them."""
    chosen = [o for o in organisations if o["slug"] == lead]
    chosen += [o for o in organisations if o["slug"] != lead][: count - 1]
    return chosen + [invented_member(n + 1) for n in range(len(chosen), count)]


def add_pilot_group(
    db_session: Session,
    campaign: Campaign,
    org: Organisation,
    rng: random.Random,
    starts_on: date,
    at: datetime,
) -> PilotGroup:
    """Add the member's pilot group, of a kind drawn at random, on the pilot-group sequence."""
    group = PilotGroup(
        campaign_id=campaign.id,
        organisation_id=org.id,
        name=GROUP_NAME,
        kind=rng.choice(list(PilotGroupKind)),
        starts_on=starts_on,
        sequence_name="pilot-group",
        created_at=at,
    )
    db_session.add(group)
    db_session.flush()
    return group


def add_pilot_users(
    db_session: Session, group: PilotGroup, org_slug: str, count: int, at: datetime
) -> list[int]:
    """Add `count` active pilot users to the group, starting with it; return their ids."""
    rows = [_pilot_user(group, org_slug, n, at) for n in range(count)]
    db_session.execute(insert(Participant), rows)
    found = select(Participant.id).where(Participant.pilot_group_id == group.id)
    return list(db_session.scalars(found.order_by(Participant.id)))


def _pilot_user(group: PilotGroup, org_slug: str, n: int, at: datetime) -> dict[str, Any]:
    return {
        "campaign_id": group.campaign_id,
        "organisation_id": group.organisation_id,
        "pilot_group_id": group.id,
        "email": pilot_address(org_slug, n),
        "name": f"Pilot {n}",
        "title": "",
        "language": "sv",
        "status": ParticipantStatus.ACTIVE,
        "starts_on": group.starts_on,
        "created_at": at,
        "updated_at": at,
    }


def add_invented_users(
    db_session: Session, group: PilotGroup, count: int, rng: random.Random, at: datetime
) -> list[int]:
    """Add `count` invented people to the group, active from `at`'s local day, each with the
    consent of the self-enrolment form; return their ids. Their addresses are at the member's
    own subdomain of example.org, which RFC 2606 keeps for examples: nobody real is mailed."""
    campaign = db_session.get_one(Campaign, group.campaign_id)
    starts_on = at.astimezone(ZoneInfo(campaign.timezone)).date()
    taken = set(db_session.scalars(select(Participant.email).where(_same_campaign(group))))
    rows = [_invented(group, starts_on, at, rng, taken) for _ in range(count)]
    ids = list(db_session.scalars(insert(Participant).returning(Participant.id), rows))
    text = self_enrolment_consent(campaign.language, group.organisation, group, campaign)
    consents = [_consent(pid, text, at) for pid in ids]
    db_session.execute(insert(Consent), consents)
    return ids


def _same_campaign(group: PilotGroup) -> Any:
    return Participant.campaign_id == group.campaign_id


def _invented(
    group: PilotGroup, starts_on: date, at: datetime, rng: random.Random, taken: set[str]
) -> dict[str, Any]:
    """Return an invented pilot user of the group, their address not in `taken` (added)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    local = f"{first}.{last}".lower().translate(ASCII)
    email = f"{local}@{group.organisation.slug}.example.org"
    n = 2
    while email in taken:
        email, n = f"{local}{n}@{group.organisation.slug}.example.org", n + 1
    taken.add(email)
    row = _pilot_user(group, group.organisation.slug, 0, at)
    title = rng.choice(TITLES)
    return row | {"email": email, "name": f"{first} {last}", "title": title, "starts_on": starts_on}


def _consent(participant_id: int, text: str, at: datetime) -> dict[str, Any]:
    return {
        "participant_id": participant_id,
        "method": ConsentMethod.SELF_ENROLMENT,
        "given_at": at,
        "source": DEMO_SOURCE,
        "text": text,
    }


def add_training(
    db_session: Session,
    campaign: Campaign,
    org: Organisation,
    begins: datetime,
    *,
    uid: str,
    reminders: str,
    at: datetime,
) -> Event:
    """Add the member's training in web meetings, two hours from `begins`, for its own people."""
    training = Event(
        campaign_id=campaign.id, organisation_id=org.id, kind=EventKind.TRAINING,
        audience=Audience.ORGANISATION, title=TRAINING_TITLE, starts_at=begins,
        ends_at=begins + TRAINING_LENGTH, timezone=campaign.timezone, uid=uid, sequence=0,
        reminders=reminders, created_at=at, updated_at=at,
    )  # fmt: skip
    db_session.add(training)
    db_session.flush()
    return training


def plausible_answers(
    questions: Iterable[Question], rng: random.Random, tops: Mapping[str, int] = TOPS
) -> dict[str, Any]:
    """Return plausible answers to the questions of a definition (free texts left empty)."""
    return {q.id: ANSWER[q.type](q, rng, tops) for q in questions if q.type in ANSWER}


def _number(question: Question, rng: random.Random, tops: Mapping[str, int]) -> int:
    top = tops.get(question.outcome or "", 20)
    return rng.randint(question.minimum, min(top, question.maximum))


def _likert(question: Question, rng: random.Random, tops: Mapping[str, int]) -> int:
    return rng.randint(2, question.scale)


def _single(question: Question, rng: random.Random, tops: Mapping[str, int]) -> str:
    return rng.choice(question.options).value


def _multiple(question: Question, rng: random.Random, tops: Mapping[str, int]) -> list[str]:
    picked = rng.sample(question.options, rng.randint(1, 2))
    return [o.value for o in question.options if o in picked]


# How each type of question is answered; free texts are not.
ANSWER: dict[str, Callable[[Question, random.Random, Mapping[str, int]], Any]] = {
    "number": _number,
    "likert": _likert,
    "single": _single,
    "multiple": _multiple,
}
