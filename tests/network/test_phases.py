"""A campaign's phases driven by the clock, with real mail to an SMTP sink: participants get
nothing before the start (but meeting invitations the campaign allows) and nothing after the
end; mail queued for after the end is cancelled and says so; staff mail always goes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import jobs
from campaign.audit import AuditEvent
from campaign.drip.next_steps import NOTHING_LEFT
from campaign.enrolment.holds import ENDED_ANSWER, ParticipantHolds
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.events import invitations
from campaign.events.models import Fanout, FanoutState
from campaign.network.models import Campaign
from campaign.network.phases import Phase, phase_of
from campaign.outbox.dispatch import Settings, dispatch
from campaign.outbox.mail import queue_test_mail
from campaign.outbox.models import Message, MessageState
from campaign.surveys import service
from campaign.timing import FixedClock, clock_of
from tests.conftest import START, Network, csrf_token, sign_in
from tests.enrolment_helpers import make_event
from tests.outbox_helpers import SENDER, participant, queue_welcome
from tests.urls import staff

STOCKHOLM = ZoneInfo("Europe/Stockholm")
FIRST_DAY, LAST_DAY = date(2014, 4, 1), date(2014, 4, 30)
PEOPLE = ("anna@alpha.se", "bo@alpha.se")


def local(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """The UTC instant of a wall-clock time in Stockholm."""
    wall = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=STOCKHOLM)
    return wall.astimezone(UTC)


# The moments the scenario runs at, and the phase the campaign must be in at each.
MOMENTS = {
    "preparing": local(date(2014, 3, 26), 10),
    "first day": local(FIRST_DAY, 10),
    "last day": local(LAST_DAY, 16),
    "after the end": local(date(2014, 5, 5), 10),
}


@pytest.fixture
def pilot(session: Session, network: Network) -> tuple[PilotGroup, list[Participant]]:
    """Alpha's pilot group on the shipped sequence, starting a week before the campaign (which
    runs through April 2014), with two participants."""
    campaign = network.campaign
    campaign.starts_on, campaign.ends_on = FIRST_DAY, LAST_DAY
    group = PilotGroup(
        campaign_id=campaign.id, organisation_id=network.alpha.id, name="Chefer",
        kind=PilotGroupKind.SELECTED_MANAGERS, starts_on=date(2014, 3, 24),
        sequence_name="pilot-group", created_at=START,
    )  # fmt: skip
    session.add(group)
    session.flush()
    people = [_person(session, network, group, email) for email in PEOPLE]
    session.commit()
    return group, people


def _person(session: Session, network: Network, group: PilotGroup, email: str) -> Participant:
    person = Participant(
        campaign_id=network.campaign.id, organisation_id=network.alpha.id,
        pilot_group_id=group.id, email=email, name=email.split("@")[0].title(),
        language="sv" if email.startswith("anna") else "en", status=ParticipantStatus.ACTIVE,
        created_at=START, updated_at=START,
    )  # fmt: skip
    session.add(person)
    return person


def tick(app: Flask, now: datetime) -> None:
    """Run every job once at `now`, as the scheduler would."""
    assert all(jobs.tick(app, now).values())


def recipients(server, since: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    """The addresses the sink received mail for, from message number `since` on."""
    return [address for mail in server.received[since:] for address in mail.recipients]


def participant_mail(server, since: int = 0) -> list[str]:  # type: ignore[no-untyped-def]
    return [address for address in recipients(server, since) if address in PEOPLE]


def _calendar(mail) -> str:  # type: ignore[no-untyped-def]
    """The calendar part of a received mail ("" when it has none)."""
    parts = [p for p in mail.parsed().walk() if p.get_content_type() == "text/calendar"]
    return parts[0].get_content() if parts else ""


def test_the_phase_changes_at_midnight_of_the_campaigns_own_days() -> None:
    campaign = Campaign(starts_on=FIRST_DAY, ends_on=LAST_DAY, timezone="Europe/Stockholm")
    assert phase_of(campaign, local(date(2014, 3, 31), 23, 59, 59)) is Phase.PREPARING
    assert phase_of(campaign, local(FIRST_DAY, 0)) is Phase.RUNNING
    assert phase_of(campaign, local(LAST_DAY, 23, 59, 59)) is Phase.RUNNING  # the last day runs
    assert phase_of(campaign, local(date(2014, 5, 1), 0)) is Phase.ENDED
    new_york = Campaign(starts_on=FIRST_DAY, ends_on=LAST_DAY, timezone="America/New_York")
    assert phase_of(new_york, local(date(2014, 5, 1), 3)) is Phase.RUNNING  # 21:00 there
    campaign.archived_at = local(date(2014, 5, 2), 9)
    assert phase_of(campaign, local(date(2014, 5, 2), 10)) is Phase.ARCHIVED


def test_a_campaign_through_its_phases_mails_participants_only_while_it_runs(
    app: Flask, session: Session, network: Network, pilot, sink, client: FlaskClient
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    app.config["CAMPAIGN_TRANSPORT"] = transport
    clock = clock_of(app)
    assert isinstance(clock, FixedClock)
    group, (anna, bo) = pilot
    seen = {name: phase_of(network.campaign, at) for name, at in MOMENTS.items()}

    # Preparing: a meeting is planned and its people invited, staff mail goes; participants
    # get nothing, and nothing of theirs is queued.
    now = MOMENTS["preparing"]
    meeting = make_event(
        session, network, group, starts_at=local(date(2014, 4, 10), 9),
        ends_at=local(date(2014, 4, 10), 10), reminders="24h",
    )  # fmt: skip
    with app.app_context():
        assert invitations.invite(session, meeting, now) == 2
        queue_test_mail(session, network.lead, now)
    session.commit()
    tick(app, now)
    assert recipients(server) == ["lead@alpha.se"]
    assert session.scalars(select(Message).where(Message.participant_id.is_not(None))).all() == []
    assert session.scalars(select(Fanout.state)).one() is FanoutState.QUEUED  # it waits

    # The first day: the welcome, the invitation and the baseline questionnaire go out.
    tick(app, MOMENTS["first day"])
    first = participant_mail(server)
    assert sorted(set(first)) == sorted(PEOPLE) and len(first) >= 6
    assert sum("METHOD:REQUEST" in _calendar(m) for m in server.received) == 2

    # The last day: mail queued for after the end, and mail the server asks to retry.
    now = MOMENTS["last day"]
    tick(app, now)  # what is due on the last day goes (the questionnaire's last reminder)
    with app.app_context():
        late = queue_welcome(session, anna, local(date(2014, 6, 2), 9), step="after-the-end")
        retried = queue_welcome(session, bo, now, step="retried")
    session.commit()
    server.rcpt_answers["bo@alpha.se"] = ["451 4.3.0 Try again later"]
    mark = len(server.received)
    tick(app, now + timedelta(minutes=1))
    assert participant_mail(server, mark) == []  # refused once: it is to be retried
    session.expire_all()
    assert session.get(Message, retried).state is MessageState.RETRY
    assert session.get(Participant, anna.id).next_step_at == NOTHING_LEFT
    step_06 = select(Message.id).where(Message.source_key.like("%pilot-group/06%"))
    assert session.scalars(step_06).all() == []  # +25 weeks: after the end, never planned

    # After the end: nothing reaches a participant; what was queued is cancelled, and says so;
    # staff mail still goes.
    now = MOMENTS["after the end"]
    with app.app_context():
        queue_test_mail(session, network.lead, now)
    session.commit()
    mark = len(server.received)
    tick(app, now)
    tick(app, now + timedelta(days=1))
    assert recipients(server, mark) == ["lead@alpha.se"]
    session.expire_all()
    for cancelled in (late, retried):  # by housekeeping, and by the dispatcher
        message = session.get(Message, cancelled)
        assert (message.state, message.last_answer) == (MessageState.CANCELLED, ENDED_ANSWER)
    clock.set(now)
    _outbox_says_so(client, session, network)
    _the_baseline_still_opens(app, client, session, network, anna)
    assert client.get(staff("/report")).status_code == 200

    # Archived: by the lead administrator, after a confirmation.
    clock.set(now + timedelta(hours=1))
    assert "Archive the campaign" in client.get(staff("/network/archive")).get_data(True)
    archived = client.post(
        staff("/network/archive"), data={"csrf_token": csrf_token(client), "confirm": "yes"}
    )
    assert archived.status_code == 302
    session.expire_all()
    seen["archived"] = phase_of(session.get(Campaign, network.campaign.id), clock.now())
    assert (
        session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()[-1]
        == "campaign.archived"
    )
    assert list(seen.values()) == [
        Phase.PREPARING, Phase.RUNNING, Phase.RUNNING, Phase.ENDED, Phase.ARCHIVED,
    ]  # fmt: skip
    mark = len(server.received)
    tick(app, now + timedelta(days=30))
    assert participant_mail(server, mark) == []


def _outbox_says_so(client: FlaskClient, session: Session, network: Network) -> None:
    """The outbox shows why the mail was cancelled, in the reader's language."""
    sign_in(client, "lead@alpha.se")
    assert "Skickas inte: överenskommelsen har avslutats" in client.get(staff("/outbox")).get_data(
        True
    )
    session.get(type(network.lead), network.lead.id).language = "en"
    session.commit()
    assert "Not sent: the campaign has ended" in client.get(staff("/outbox")).get_data(True)


def _the_baseline_still_opens(
    app: Flask, client: FlaskClient, session: Session, network: Network, person: Participant
) -> None:
    """A questionnaire sent before the end is answered through its link until it closes."""
    with app.app_context():
        baseline = service.questionnaires_of(session, network.campaign, START)[0]
        page = client.get(f"/q/{service.link_token(baseline, person)}").get_data(True)
    assert "Enkäten är stängd" not in page and 'type="submit"' in page


def test_invitations_go_before_the_start_when_the_campaign_allows_them(
    app: Flask, session: Session, network: Network, pilot, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    app.config["CAMPAIGN_TRANSPORT"] = transport
    group, _people = pilot
    network.campaign.has_early_invitations = True
    kick_off = local(date(2014, 3, 28), 9)
    meeting = make_event(
        session, network, group, starts_at=kick_off, ends_at=kick_off + timedelta(hours=1),
        reminders="24h",
    )  # fmt: skip
    now = MOMENTS["preparing"]
    with app.app_context():
        invitations.invite(session, meeting, now)
    session.commit()
    tick(app, now)
    invited = participant_mail(server)
    assert sorted(invited) == sorted(PEOPLE)
    assert all("METHOD:REQUEST" in _calendar(m) for m in server.received)
    tick(app, kick_off - timedelta(hours=23))  # the reminder, still before the start
    assert len(participant_mail(server)) == 4
    kinds = session.scalars(select(Message.kind).where(Message.participant_id.is_not(None)))
    assert {kind.value for kind in kinds} == {"invitation", "reminder"}  # no welcome, no survey


def test_the_demo_served_today_sends_no_participant_mail(
    app: Flask, session: Session, runner, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    app.config["CAMPAIGN_TRANSPORT"] = transport
    assert runner.invoke("demo", "--pilot").exit_code == 0
    active = select(Participant.id).where(Participant.status == ParticipantStatus.ACTIVE)
    assert len(session.scalars(active).all()) > 100  # all on the shipped sequence
    for moment in ("2026-05-04T09:00+02:00", "2026-05-05T10:30+02:00"):
        result = runner.invoke("tick", "--now", moment)
        assert result.exit_code == 0, result.output
    # Only staff hear of it: the lead administrator's warning that the data will be purged.
    assert {tuple(mail.recipients) for mail in server.received} <= {("lead@demo.example",)}
    today = datetime(2026, 1, 1, tzinfo=UTC)
    new = select(Message).where(Message.created_at >= today, Message.participant_id.is_not(None))
    assert session.scalars(new).all() == []


def test_mail_queued_before_a_start_moved_later_waits_for_the_start(
    app: Flask, session: Session, network: Network, sink
) -> None:  # type: ignore[no-untyped-def]
    server, transport = sink
    with app.app_context():
        person = participant(session, network, "anna@alpha.se")
        queue_welcome(session, person, START)
    network.campaign.starts_on = date(2014, 3, 10)  # START, 3 March, is before it now
    session.commit()
    settings = Settings(sender=SENDER)
    with app.app_context():
        assert dispatch(session, START, transport, settings, ParticipantHolds()).sent == 0
        first_day = local(date(2014, 3, 10), 0)
        assert dispatch(session, first_day, transport, settings, ParticipantHolds()).sent == 1
    assert recipients(server) == ["anna@alpha.se"]
