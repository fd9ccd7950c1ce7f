"""Building blocks for the enrolment tests: pilot groups, imports and the signed links."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from campaign.accounts import invitations
from campaign.enrolment import importing, joining
from campaign.enrolment.models import (
    JoinRequest,
    Participant,
    ParticipantImport,
    ParticipantStatus,
    PilotGroup,
    PilotGroupKind,
)
from campaign.security import sign
from tests.conftest import START, Network


def group(
    session: Session, network: Network, name: str = "Alpha-gruppen", org: str = "alpha"
) -> PilotGroup:
    organisation = getattr(network, org)
    made = PilotGroup(
        campaign_id=network.campaign.id,
        organisation_id=organisation.id,
        name=name,
        kind=PilotGroupKind.VOLUNTEERS,
        starts_on=date(2014, 3, 3),
        sequence_name="pilot-group",
        created_at=START,
    )
    session.add(made)
    session.flush()
    return made


def read(session: Session, target: PilotGroup, content: bytes, filename: str = "list.csv"):  # type: ignore[no-untyped-def]
    """Read a file into a previewed import of `target` (in an app context)."""
    job = ParticipantImport(
        campaign_id=target.campaign_id,
        organisation_id=target.organisation_id,
        pilot_group_id=target.id,
        filename=filename,
        content=content,
        created_at=START,
    )
    session.add(job)
    session.commit()
    importing.read_import(session, job)
    return job


def join_request(session: Session, target: PilotGroup, email: str, **values) -> JoinRequest:  # type: ignore[no-untyped-def]
    """A pending self-enrolment request for `target`, made at START (its link must be open)."""
    fields = {
        "campaign_id": target.campaign_id,
        "pilot_group_id": target.id,
        "group_key": target.enrolment_key,
        "secret": uuid.uuid4().hex,
        "email": email,
        "name": "Jo Iner",
        "language": "sv",
        "shown_language": "sv",
        "client": "127.0.0.1",
        "requested_at": START,
        "expires_at": START + joining.CONFIRM_LIFETIME,
    }
    fields.update(values)
    made = JoinRequest(**fields)
    session.add(made)
    session.flush()
    return made


def enrolment_objects(session: Session, network: Network, person: Participant) -> dict[str, str]:
    """One object of each enrolment kind, all Alpha's, and a valid link of each purpose."""
    first = group(session, network)
    other = group(session, network, "Alpha-chefer")
    person.pilot_group_id = first.id
    joining.open_link(first)
    session.commit()
    job = read(session, first, b"E-post;Namn\nny@alpha.se;Ny Person\n")
    from campaign.accounts.models import Role, User

    invited = User(
        email="invited@alpha.se",
        name="Inge Bjuden",
        role=Role.MEMBER_REP,
        organisation_id=network.alpha.id,
        created_at=START,
    )
    session.add(invited)
    session.commit()
    wish = join_request(session, first, "joiner@alpha.se")
    event = make_event(session, network, first)
    from campaign.events import feeds
    from campaign.events.invitations import rsvp_token
    from campaign.events.models import Invitation

    invitation = Invitation(event_id=event.id, participant_id=person.id, created_at=START)
    session.add(invitation)
    session.commit()
    from campaign.surveys import service

    questionnaires = service.questionnaires_of(session, network.campaign, START)
    session.commit()
    return {
        "questionnaire_id": str(questionnaires[0].id),
        "questionnaire_token": service.link_token(questionnaires[0], person),
        "event_id": str(event.id),
        "rsvp_token": rsvp_token(invitation),
        "feed_token": feeds.token(network.alpha),
        "group_id": str(first.id),
        "other_group_id": str(other.id),
        "import_id": str(job.id),
        "user_id": str(invited.id),
        "fmt": "csv",
        "join_token": joining.link_token(first),
        "confirm_token": sign(joining.CONFIRM, [wish.id, wish.secret]),
        "invitation_token": invitations.token_for(invited, "invitation"),
        "reset_token": invitations.token_for(network.rep_alpha, "reset"),
    }


def deliver(app, session: Session, transport) -> None:  # type: ignore[no-untyped-def]
    """Send every due message of the outbox to the transport (a real SMTP sink in tests)."""
    from campaign.outbox.dispatch import Settings, dispatch
    from campaign.outbox.policy import policy_of
    from campaign.timing import clock_of

    with app.app_context():
        dispatch(
            session,
            clock_of(app).now(),
            transport,
            Settings(sender=app.config["CAMPAIGN_MAIL_FROM"], batch_size=50),
            policy_of(app),
        )


def link_in(received, path: str) -> str:  # type: ignore[no-untyped-def]
    """Return the path of the first link to `path` in a received mail's text part."""
    import re

    text = received.parsed().get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s)>\]]+)", text)
    assert match, f"no {path} link in:\n{text}"
    return match.group(1)


def make_event(session: Session, network: Network, target: PilotGroup | None = None, **values):  # type: ignore[no-untyped-def]
    """A practice meeting of Alpha (for a pilot group if given), 2014-03-10 09:00-10:00 local."""
    from datetime import UTC, datetime

    from campaign.events.models import Audience, Event, EventKind

    fields = {
        "campaign_id": network.campaign.id,
        "organisation_id": network.alpha.id,
        "kind": EventKind.PRACTICE_MEETING,
        "audience": Audience.PILOT_GROUP if target else Audience.ORGANISATION,
        "pilot_group_id": target.id if target else None,
        "title": "Prova-på-möte i Lync",
        "starts_at": datetime(2014, 3, 10, 8, 0, tzinfo=UTC),
        "ends_at": datetime(2014, 3, 10, 9, 0, tzinfo=UTC),
        "timezone": "Europe/Stockholm",
        "join_url": "https://meet.alpha.se/prova",
        "room": "Sal 3",
        "uid": f"{uuid.uuid4().hex}@kampanj.example.se",
        "sequence": 0,
        "organiser_id": network.rep_alpha.id,
        "created_at": START,
        "updated_at": START,
    }
    fields.update(values)
    event = Event(**fields)
    session.add(event)
    session.flush()
    return event


def followers(session: Session, network: Network, count: int, starts_on: date) -> list[int]:
    """Make `count` active participants of Alpha in a new pilot group that follows the shipped
    sequence from `starts_on`; commit and return their ids."""
    target = group(session, network)
    target.starts_on = starts_on
    people = [
        Participant(
            campaign_id=network.campaign.id,
            organisation_id=network.alpha.id,
            pilot_group_id=target.id,
            email=f"p{n}@alpha.se",
            name=f"Öberg {n}",
            status=ParticipantStatus.ACTIVE,
            created_at=START,
            updated_at=START,
        )
        for n in range(count)
    ]
    session.add_all(people)
    session.commit()
    return [p.id for p in people]
