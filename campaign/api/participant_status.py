"""A participant's mail and data through the API, as on their page: pause (until a day),
resume, unsubscribe, erase, and the export of everything held about them."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from flask_babel import gettext as _
from flask_login import current_user
from pydantic import BaseModel, Field
from spectree import Response

from campaign import db
from campaign.accounts.scope import Access
from campaign.api.checks import checked, invalid
from campaign.api.core import bp, check_if_match, operation, tagged
from campaign.api.participants import Answer, Participant, describe, participant_or_404
from campaign.api.problems import Problem
from campaign.drip import pauses
from campaign.enrolment import lifecycle
from campaign.enrolment.forms import EraseForm, PauseForm
from campaign.enrolment.models import Participant as Row
from campaign.report import personal_data
from campaign.timing import current_clock, local_date


class Pause(BaseModel):
    """Hold the participant's mail: until further notice, or until the morning of a day
    (after today, no later than the campaign's last day). A paused participant gets the new
    day."""

    until: date | None = Field(None, description="The day the mail starts again; null: none.")


class Erasure(BaseModel):
    """Erase the participant's personal data for good, as on the page: the counts stay."""

    understood: bool = Field(
        description="Must be true: the person's data is removed for good and cannot be restored."
    )


class ParticipantData(BaseModel):
    """Everything the service holds about a participant (GDPR articles 15 and 20): the same
    document as the page's JSON download."""

    exported_at: str
    participant: dict[str, Any]
    consents: list[dict[str, Any]]
    messages: list[dict[str, Any]]
    invitations: list[dict[str, Any]]
    questionnaire_answers: list[dict[str, Any]]
    suppressed: Any = Field(description="Why and since when the address gets no mail, if so.")


def _not_now() -> Problem:
    """The page's refusal of a change the participant's status does not allow."""
    return Problem(
        409, _("That is not possible in the participant's present status."), code="status"
    )


def _changed(person: Row) -> Answer:
    """Commit the change, and answer with the participant as they are now."""
    db.session().commit()
    return tagged(describe(person))


@bp.post("/members/<org>/participants/<int:participant_id>/pause")
@operation(Access.ORGANISATION, "participants", json=Pause,
           resp=Response(HTTP_200=Participant), conditional=True, problems=(409,))  # fmt: skip
def pause_participant(participant_id: int, json: Pause) -> Answer:
    """Pause an active participant's mail (until a day, if given); 409 for one who is
    stopped."""
    person = participant_or_404(participant_id)
    check_if_match(describe(person))
    form = checked(PauseForm, {"until": json.until})
    today = local_date(current_clock().now(), g.campaign.timezone)
    if not form.check_day(today, g.campaign.ends_on):
        raise invalid(form.errors, {})
    now = current_clock().now()
    if not lifecycle.pause(db.session(), person, now, current_user, json.until):
        raise _not_now()
    return _changed(person)


@bp.post("/members/<org>/participants/<int:participant_id>/resume")
@operation(Access.ORGANISATION, "participants", resp=Response(HTTP_200=Participant),
           conditional=True, problems=(409,))  # fmt: skip
def resume_participant(participant_id: int) -> Answer:
    """Let a paused participant's held mail go again; 409 for one who is not paused."""
    person = participant_or_404(participant_id)
    check_if_match(describe(person))
    if not pauses.resume(db.session(), person, current_clock().now(), current_user):
        raise _not_now()
    return _changed(person)


@bp.post("/members/<org>/participants/<int:participant_id>/unsubscribe")
@operation(Access.ORGANISATION, "participants", resp=Response(HTTP_200=Participant),
           conditional=True)  # fmt: skip
def unsubscribe_participant(participant_id: int) -> Answer:
    """Stop all mail to the participant for good: their address goes on the suppression list
    and their unsent mail is cancelled."""
    person = participant_or_404(participant_id)
    check_if_match(describe(person))
    how = f"by {current_user.email}"
    lifecycle.unsubscribe(db.session(), person, current_clock().now(), how=how, actor=current_user)
    return _changed(person)


@bp.post("/members/<org>/participants/<int:participant_id>/erase")
@operation(Access.ORGANISATION, "participants", json=Erasure, resp=Response("HTTP_204"))
def erase_participant(participant_id: int, json: Erasure) -> tuple[str, int]:
    """Erase the participant's personal data, as the page does: the row stays for the counts
    with no name, title or address, unsent mail is cancelled, sent mail emptied, consents
    deleted. From then on the participant is not found (404)."""
    person = participant_or_404(participant_id)
    checked(EraseForm, {"understood": json.understood})
    lifecycle.erase(db.session(), person, current_user, current_clock().now())
    db.session().commit()
    return "", 204


@bp.get("/members/<org>/participants/<int:participant_id>/data")
@operation(Access.ORGANISATION, "participants", resp=Response(HTTP_200=ParticipantData))
def export_participant_data(participant_id: int) -> tuple[ParticipantData, int, dict[str, str]]:
    """Give everything held about the participant, as the page's JSON download does (the
    export is audited)."""
    person = participant_or_404(participant_id)
    data = personal_data.exported(db.session(), person, current_user, current_clock().now())
    db.session().commit()
    return ParticipantData(**data), 200, {"Cache-Control": "no-store"}
