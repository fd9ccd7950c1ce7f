"""Every domain action a receiver can hear of queues its delivery, with the documented payload,
in the action's own transaction; a member's receiver hears of its own member only."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment import importing, joining, lifecycle
from campaign.enrolment.models import ConsentMethod, Participant
from campaign.enrolment.people import Newcomer, enrol
from campaign.events import invitations
from campaign.events.models import Invitation, Rsvp
from campaign.network import phases
from campaign.outbox.dispatch import Settings, dispatch
from campaign.outbox.policy import policy_of
from campaign.outbox.transports import RecipientRefused
from campaign.surveys import service
from campaign.webhooks.emit import emit
from campaign.webhooks.models import WebhookDelivery
from campaign.webhooks.payloads import PAYLOADS, SUBSCRIBABLE
from tests.conftest import START, Network
from tests.enrolment_helpers import group, join_request, make_event, read
from tests.outbox_helpers import SENDER, participant, queue_welcome
from tests.webhook_helpers import subscription


@pytest.fixture
def hooks(session: Session, network: Network) -> dict[str, int]:
    """A campaign-wide receiver, Alpha's and Beta's, each of every event."""
    made = {
        "campaign": subscription(session, network, None, "https://hooks.example.se/all"),
        "alpha": subscription(session, network, network.alpha.id, "https://hooks.alpha.se/in"),
        "beta": subscription(session, network, network.beta.id, "https://hooks.beta.se/in"),
    }
    session.commit()
    return {name: hook.id for name, hook in made.items()}


def _sent(session: Session, hooks: dict[str, int], event_type: str) -> dict[str, list[Any]]:
    """The data of each delivery of `event_type`, by receiver."""
    session.commit()
    names = {hook_id: name for name, hook_id in hooks.items()}
    found: dict[str, list[Any]] = {name: [] for name in hooks}
    query = select(WebhookDelivery).where(WebhookDelivery.event_type == event_type)
    for delivery in session.scalars(query.order_by(WebhookDelivery.id)):
        found[names[delivery.subscription_id]].append(delivery.data)
    return found


def _alpha_only(sent: dict[str, list[Any]], data: dict[str, Any]) -> None:
    """The campaign's receiver and Alpha's got `data` once, Beta's nothing."""
    assert sent == {"campaign": [data], "alpha": [data], "beta": []}


def _of(network: Network, person: Participant, **more: Any) -> dict[str, Any]:
    return {
        "campaign_id": network.campaign.id, "participant_id": person.id,
        "organisation_id": network.alpha.id, "pilot_group_id": person.pilot_group_id, **more,
    }  # fmt: skip


def test_enrolling_pausing_unsubscribing_bouncing_and_erasing_are_told(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    target = group(session, network)
    with app.app_context():
        person = enrol(
            session, campaign=network.campaign, group=target,
            newcomer=Newcomer("ny@alpha.se", "Ny Person", "", "sv"),
            consent=(ConsentMethod.STAFF_FORM, "test", "ja"), now=START,
        )  # fmt: skip
        enrolled = _of(network, person, import_id=None)
        _alpha_only(_sent(session, hooks, "participant.enrolled"), enrolled)
        lifecycle.pause(session, person, START, None, date(2014, 4, 1))
        paused = _of(network, person, paused_until="2014-04-01")
        _alpha_only(_sent(session, hooks, "participant.paused"), paused)
        lifecycle.unsubscribe(session, person, START, "test")
        _alpha_only(_sent(session, hooks, "participant.unsubscribed"), _of(network, person))
        other = participant(session, network, "studs@alpha.se")
        lifecycle.bounce(session, other, START, "550 no such user", "550")
        _alpha_only(_sent(session, hooks, "participant.bounced"), _of(network, other))
        lifecycle.erase(session, person, network.rep_alpha, START)
        _alpha_only(_sent(session, hooks, "participant.erased"), _of(network, person))


def test_confirming_a_join_request_is_told(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    target = group(session, network)
    joining.open_link(target)
    wish = join_request(session, target, "jo@alpha.se")
    with app.app_context():
        person = joining.confirm(session, wish, "127.0.0.1", START)
    _alpha_only(_sent(session, hooks, "participant.confirmed"), _of(network, person))
    _alpha_only(_sent(session, hooks, "participant.enrolled"), _of(network, person, import_id=None))


def test_answers_to_a_meeting_and_attendance_are_told(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    person = participant(session, network, "mote@alpha.se")
    event = make_event(session, network, capacity=None)
    invitation = Invitation(event_id=event.id, participant_id=person.id, created_at=START)
    session.add(invitation)
    session.flush()
    with app.app_context():
        invitations.respond(session, invitation, Rsvp.ACCEPTED, START)
        invitations.respond(session, invitation, Rsvp.ACCEPTED, START)  # no change, no event
        answered = {
            "campaign_id": network.campaign.id, "event_id": event.id,
            "invitation_id": invitation.id, "participant_id": person.id,
            "organisation_id": network.alpha.id, "rsvp": "accepted",
        }  # fmt: skip
        _alpha_only(_sent(session, hooks, "rsvp.changed"), answered)
        invitations.mark_attendance(session, event, {invitation.id}, network.rep_alpha)
    marked = {
        "campaign_id": network.campaign.id, "event_id": event.id,
        "organisation_id": network.alpha.id, "attended": 1, "invited": 1,
    }  # fmt: skip
    _alpha_only(_sent(session, hooks, "attendance.marked"), marked)


def test_an_answered_questionnaire_is_told_without_the_person_when_anonymous(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    at = START + timedelta(days=180)
    with app.app_context():
        person = participant(session, network, "svar@alpha.se")
        person.pilot_group_id = group(session, network).id
        (follow_up,) = [
            q for q in service.questionnaires_of(session, network.campaign, START)
            if q.slug == "follow-up"
        ]  # fmt: skip
        opened = service.open_link(session, service.link_token(follow_up, person), at)
        assert opened is not None
        service.save(session, opened, {}, at)
        follow_up.is_anonymous = True
        service.save(session, opened, {}, at)
    told = {
        "campaign_id": network.campaign.id, "questionnaire_id": follow_up.id,
        "organisation_id": network.alpha.id, "participant_id": person.id,
    }  # fmt: skip
    anonymous = {**told, "participant_id": None}
    sent = _sent(session, hooks, "questionnaire.answered")
    assert sent == {"campaign": [told, anonymous], "alpha": [told, anonymous], "beta": []}


class _Refusing:
    """A mail server that refuses every recipient for good."""

    def connect(self) -> _Refusing:
        return self

    def send(self, sender: str, recipient: str, data: bytes) -> str:
        raise RecipientRefused("550 5.1.1 no such user")

    def close(self) -> None:
        pass


def test_a_mail_given_up_is_told(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    with app.app_context():
        person = participant(session, network, "borta@alpha.se")
        message_id = queue_welcome(session, person, START)
        session.commit()
        dispatch(session, START, _Refusing(), Settings(sender=SENDER), policy_of(app))
    failed = {
        "campaign_id": network.campaign.id, "message_id": message_id, "kind": "sequence_step",
        "organisation_id": network.alpha.id, "participant_id": person.id,
    }  # fmt: skip
    _alpha_only(_sent(session, hooks, "message.failed"), failed)
    _alpha_only(_sent(session, hooks, "participant.bounced"), _of(network, person))


def test_an_applied_import_is_told(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    target = group(session, network)
    with app.app_context():
        job = read(session, target, b"E-post\nforsta@alpha.se\nandra@alpha.se\nfel\n")
        importing.apply_import(session, job, network.rep_alpha, START)
    applied = {
        "campaign_id": network.campaign.id, "import_id": job.id,
        "organisation_id": network.alpha.id, "pilot_group_id": target.id,
        "added": 2, "updated": 0, "rejected": 1,
    }  # fmt: skip
    _alpha_only(_sent(session, hooks, "import.applied"), applied)
    added = session.scalars(
        select(Participant).where(Participant.email.in_(["forsta@alpha.se", "andra@alpha.se"]))
    )
    enrolled = [_of(network, person, import_id=job.id) for person in added]
    assert len(enrolled) == 2
    sent = _sent(session, hooks, "participant.enrolled")
    assert sent == {"campaign": enrolled, "alpha": enrolled, "beta": []}


def test_archiving_and_reopening_are_told_to_the_campaign_wide_receivers_only(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    after = phases.end_moment(network.campaign) + timedelta(days=1)
    with app.app_context():
        phases.archive(session, network.campaign, network.lead, after)
        assert phases.reopen(session, network.campaign, network.lead, after)
    sent = _sent(session, hooks, "campaign.phase_changed")
    told = [
        _changed(network, "running", "archived", after),
        _changed(network, "archived", "ended", after),
    ]
    assert sent == {"campaign": told, "alpha": [], "beta": []}


def _changed(network: Network, before: str, phase: str, at: datetime) -> dict[str, Any]:
    return {
        "campaign_id": network.campaign.id, "previous_phase": before, "phase": phase,
        "changed_at": at.isoformat().replace("+00:00", "Z"),
    }  # fmt: skip


def test_a_disabled_or_unsubscribed_receiver_hears_nothing(
    session: Session, network: Network, hooks: dict[str, int]
) -> None:
    from campaign.webhooks.models import WebhookSubscription

    session.get(WebhookSubscription, hooks["campaign"]).is_enabled = False
    session.get(WebhookSubscription, hooks["alpha"]).event_types = "participant.erased"
    data = {"event_id": 1, "attended": 0, "invited": 0, "organisation_id": network.alpha.id}
    queued = emit(
        session, campaign_id=network.campaign.id, organisation_id=network.alpha.id,
        event_type="attendance.marked", data=data, now=START,
    )  # fmt: skip
    assert queued == 0


def test_every_subscribable_event_has_a_documented_payload() -> None:
    assert set(SUBSCRIBABLE) | {"test"} == set(PAYLOADS)
    for model in PAYLOADS.values():
        assert model.__doc__ and "campaign_id" in model.model_json_schema()["properties"]


def test_the_purge_is_told_to_the_campaign_wide_receivers(
    app: Flask, session: Session, network: Network, hooks: dict[str, int]
) -> None:
    from campaign.retention.purge import purge

    with app.app_context():
        participant(session, network, "kvar@alpha.se")
        purge(session, network.campaign, START + timedelta(days=900))
    sent = _sent(session, hooks, "campaign.phase_changed")
    told = [_changed(network, "running", "purged", START + timedelta(days=900))]
    assert sent == {"campaign": told, "alpha": [], "beta": []}
