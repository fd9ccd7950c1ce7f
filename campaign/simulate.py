"""`campaign simulate`: a whole campaign in accelerated time, to see the product work at once.

It runs in a throwaway SQLite database of its own (the real one is never touched): members
from the demo network, a pilot group each with invented pilot users, a training each, then day
by day the real jobs (sequence steps, reminders, questionnaires, dispatch), each given its
simulated moment, the real dispatcher sending over SMTP to a local sink (aiosmtpd), and
invented people who answer invitations, come to trainings and fill in the follow-up. It ends
by writing the final report. Same seed, same run.
"""

from __future__ import annotations

import random
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

# Moments of each simulated day (local time) at which the clock's jobs run.
TICKS = (time(8, 0), time(10, 0), time(13, 0), time(16, 0))


@dataclass
class Summary:
    members: int
    participants: int
    delivered: int
    received_by_sink: int
    trained: int
    answers: int
    report: Path


class CountingSink:
    """An aiosmtpd handler that accepts every mail and counts it (and nothing else)."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received += 1
        return "250 Message accepted"


def run(
    *,
    members: int,
    participants: int,
    days: int,
    output: Path,
    seed: int = 2014,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Simulate `days` days of a campaign and write its report to `output` (HTML or PDF)."""
    import socket

    from aiosmtpd.controller import Controller

    from campaign import create_app, db, migrations

    rng = random.Random(seed)
    sink = CountingSink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = create_app(
                {
                    "INSTANCE_PATH": folder,
                    "CAMPAIGN_DATABASE_URL": f"sqlite:///{Path(folder) / 'simulation.sqlite3'}",
                    "CAMPAIGN_SECRET_KEY": secrets.token_hex(16),
                    "CAMPAIGN_SMTP_URL": f"smtp://127.0.0.1:{port}?starttls=off&timeout=10",
                    "CAMPAIGN_MAIL_FROM": "Kampanjen <kampanj@simulation.example.org>",
                }
            )
            start = _first_monday_after(date(2014, 2, 20))
            migrations.upgrade(db.engine_of(app))
            with app.app_context(), db.open_session(app) as session:
                campaign_id = _network(session, members, participants, start, rng)
                session.commit()
            now = _run_days(app, campaign_id, start, days, rng, progress)
            with app.app_context(), db.open_session(app) as session:
                summary = _finish(session, campaign_id, now, output)
            summary.received_by_sink = sink.received
            db.engine_of(app).dispose()
            return summary
    finally:
        controller.stop()


def _run_days(
    app: Flask,
    campaign_id: int,
    start: date,
    days: int,
    rng: random.Random,
    progress: Callable[[int], None] | None,
) -> datetime:
    """Run the jobs at each of the day's TICKS for `days` days, people acting at 13:00; return
    the last moment. Each job is given its moment; the app's clock is left alone."""
    from campaign import db, jobs

    zone = ZoneInfo("Europe/Stockholm")
    now = datetime.combine(start, time(7, 0), zone).astimezone(UTC)
    for day in range(days):
        for at in TICKS:
            now = datetime.combine(start + timedelta(days=day), at, zone).astimezone(UTC)
            if at == time(13, 0):
                with app.app_context(), db.open_session(app) as session:
                    _people_act(session, campaign_id, now, rng)
                    session.commit()
            jobs.tick(app, now)
        if progress:
            progress(day + 1)
    return now


def _first_monday_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)


def _network(
    session: Session, members: int, participants: int, start: date, rng: random.Random
) -> int:
    from campaign.demo.network import create_campaign, read_demo
    from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
    from campaign.events import invitations
    from campaign.events.models import Audience, Event, EventKind

    data = read_demo()
    lead = data["campaign"]["lead"]
    chosen = [o for o in data["organisations"] if o["slug"] == lead]
    chosen += [o for o in data["organisations"] if o["slug"] != lead][: members - 1]
    for n in range(len(chosen), members):  # beyond the 20 of the demo
        chosen.append(
            {
                "slug": f"medlem-{n + 1}",
                "name": f"Medlem {n + 1}",
                "short_name": f"Medlem {n + 1}",
                "kind": "municipality",
                "status": "signed",
                "meeting_software": "Teams",
                "software_comment": "Alla anställda",
            }  # fmt: skip
        )
    data["organisations"] = chosen
    data["campaign"].update(starts_on=start, ends_on=start + timedelta(days=400), slug="simulation")
    zone = ZoneInfo(data["campaign"]["timezone"])
    enrolled = datetime.combine(start, time(7, 0), zone).astimezone(UTC)
    campaign = create_campaign(session, data, enrolled)
    campaign.rate_limit_per_minute = None  # the sink takes everything at once
    session.flush()
    for membership in campaign.memberships:
        org = membership.organisation
        group = PilotGroup(
            campaign_id=campaign.id,
            organisation_id=org.id,
            name="Provgruppen",
            kind=rng.choice(list(PilotGroupKind)),
            starts_on=start,
            sequence_name="pilot-group",
            created_at=enrolled,
        )
        session.add(group)
        session.flush()
        session.add_all(
            Participant(
                campaign_id=campaign.id,
                organisation_id=org.id,
                pilot_group_id=group.id,
                email=f"pilot{n}@{org.slug}.example.org",
                name=f"Pilot {n}",
                status=ParticipantStatus.ACTIVE,
                starts_on=start,
                created_at=enrolled,
                updated_at=enrolled,
            )
            for n in range(participants)
        )
        training_day = start + timedelta(days=10 + rng.randint(0, 20))
        begins = datetime.combine(training_day, time(9, 0), zone).astimezone(UTC)
        training = Event(
            campaign_id=campaign.id,
            organisation_id=org.id,
            kind=EventKind.TRAINING,
            audience=Audience.ORGANISATION,
            title="Utbildning i webbmöten",
            starts_at=begins,
            ends_at=begins + timedelta(hours=2),
            timezone=campaign.timezone,
            uid=invitations.new_uid("https://simulation.example.org"),
            sequence=0,
            reminders="24h",
            created_at=enrolled,
            updated_at=enrolled,
        )
        session.add(training)
        session.flush()
        invitations.invite(session, training, begins - timedelta(days=7))
    return campaign.id


def _people_act(session: Session, campaign_id: int, now: datetime, rng: random.Random) -> None:
    """What invented people do on one day: answer invitations, come, fill in questionnaires."""
    from campaign.events import invitations
    from campaign.events.models import Event, Invitation, Rsvp
    from campaign.outbox.models import Message, MessageKind, MessageState
    from campaign.surveys import service
    from campaign.surveys.models import Receipt

    for invitation, event in session.execute(
        select(Invitation, Event)
        .join(Event, Event.id == Invitation.event_id)
        .where(Event.campaign_id == campaign_id, Invitation.rsvp == Rsvp.PENDING)
    ):
        if event.starts_at > now and rng.random() < 0.4:
            answer = rng.choices([Rsvp.ACCEPTED, Rsvp.DECLINED, Rsvp.TENTATIVE], [6, 2, 2])[0]
            invitations.respond(session, invitation, answer, now)
    for event in session.scalars(
        select(Event).where(Event.campaign_id == campaign_id, Event.ends_at <= now)
    ):
        invited = session.scalars(select(Invitation).where(Invitation.event_id == event.id)).all()
        if invited and not any(i.has_attended for i in invited):
            came = {
                i.id
                for i in invited
                if i.rsvp in (Rsvp.ACCEPTED, Rsvp.TENTATIVE) and rng.random() < 0.8
            }
            invitations.mark_attendance(session, event, came, None)
    sent = session.execute(
        select(Message.source_key).where(
            Message.campaign_id == campaign_id,
            Message.kind == MessageKind.QUESTIONNAIRE,
            Message.state == MessageState.SENT,
        )
    ).scalars()
    answered = set(session.execute(select(Receipt.questionnaire_id, Receipt.participant_id)).all())
    for key in sent:
        _q, questionnaire_id, person = key.split(":")
        pair = (int(questionnaire_id), int(person.removeprefix("p")))
        if pair in answered or rng.random() > 0.12:
            continue
        opened = service.open_link(session, service.link_token(*_rows(session, pair)), now)
        if opened is None or (opened.closes_at and now >= opened.closes_at):
            continue
        service.save(session, opened, _answers(opened.definition, rng), now)


def _rows(session: Session, pair: tuple[int, int]) -> tuple[Any, Any]:
    from campaign.enrolment.models import Participant
    from campaign.surveys.models import Questionnaire

    return session.get(Questionnaire, pair[0]), session.get(Participant, pair[1])


def _answers(definition: Any, rng: random.Random) -> dict[str, Any]:
    """Plausible answers to every question of a definition."""
    answers: dict[str, Any] = {}
    for question in definition.questions:
        if question.type == "number":
            top = {"trips": 15, "km": 1500, "hours": 40}.get(question.outcome or "", 20)
            answers[question.id] = rng.randint(question.minimum, min(top, question.maximum))
        elif question.type == "likert":
            answers[question.id] = rng.randint(2, question.scale)
        elif question.type == "single":
            answers[question.id] = rng.choice(question.options).value
        elif question.type == "multiple":
            picked = rng.sample(question.options, rng.randint(1, 2))
            answers[question.id] = [o.value for o in question.options if o in picked]
    return answers


def _finish(session: Session, campaign_id: int, now: datetime, output: Path) -> Summary:
    from campaign.network.models import Campaign
    from campaign.report import document

    campaign = session.get(Campaign, campaign_id)
    assert campaign is not None
    report = document.build(session, campaign, now, campaign.language)
    body = document.pdf(report) if output.suffix == ".pdf" else document.html(report).encode()
    output.write_bytes(body)
    figures = report.figures
    return Summary(
        members=len(figures.members),
        participants=figures.participants,
        delivered=figures.delivered,
        received_by_sink=0,
        trained=figures.trained,
        answers=figures.outcomes.respondents,
        report=output,
    )
