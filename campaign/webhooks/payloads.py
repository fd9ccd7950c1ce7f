"""What each webhook event says: one pydantic model per event type, its `data`.

Every body is `{"type": ..., "timestamp": ..., "data": ...}` (the Standard Webhooks shape);
`data` carries ids and the least personal data a receiver needs: never a name or an e-mail
address (ask the API for those, with a token that may see them). The OpenAPI document's
`webhooks` section is made from PAYLOADS.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from campaign.network.phases import Phase


class EventData(BaseModel):
    """What every event names: the campaign it happened in."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: int = Field(description="The campaign the event happened in.")


class ParticipantData(EventData):
    """A participant whose status changed, by number, with their member and pilot group."""

    participant_id: int
    organisation_id: int
    pilot_group_id: int | None = None


class ParticipantEnrolled(ParticipantData):
    """A participant was enrolled (by staff, a join link, or an import).

    An import tells one event for each person it added, with its `import_id`, before its
    `import.applied`.
    """

    import_id: int | None = Field(
        default=None, description="The import that enrolled them; None when it was no import."
    )


class ParticipantConfirmed(ParticipantData):
    """A person who asked to join through a pilot group's link confirmed it from their mail."""


class ParticipantPaused(ParticipantData):
    """A participant's mail is held until the morning of `paused_until`, or further notice."""

    paused_until: date | None = None


class ParticipantUnsubscribed(ParticipantData):
    """A participant stopped all mail (their link, a reply, or staff on their behalf)."""


class ParticipantBounced(ParticipantData):
    """A participant's address failed for good; they get no more mail until it is corrected."""


class ParticipantErased(ParticipantData):
    """A participant's personal data was erased; the number stays, for the counts."""


class RsvpChanged(EventData):
    """An invitee's answer to a meeting changed (a participant's; staff invitees have none)."""

    event_id: int
    invitation_id: int
    participant_id: int | None = None
    organisation_id: int | None = None
    rsvp: Literal["pending", "accepted", "tentative", "declined", "waitlisted"]


class AttendanceMarked(EventData):
    """The organiser marked who came to a meeting."""

    event_id: int
    organisation_id: int | None = None
    attended: int = Field(description="How many came.")
    invited: int = Field(description="How many were invited.")


class QuestionnaireAnswered(EventData):
    """A participant answered a questionnaire (or changed their answers)."""

    questionnaire_id: int
    organisation_id: int
    participant_id: int | None = Field(
        default=None, description="None for an anonymous questionnaire."
    )


class MessageFailed(EventData):
    """A mail was given up for good: refused by the mail server, or undeliverable for days."""

    message_id: int
    kind: str
    organisation_id: int | None = None
    participant_id: int | None = None


class ImportApplied(EventData):
    """A list of participants was imported into a pilot group."""

    import_id: int
    organisation_id: int
    pilot_group_id: int
    added: int
    updated: int
    rejected: int


class CampaignPhaseChanged(EventData):
    """The campaign's phase changed (told once for each change).

    Its first day began (preparing to running), its last day ended (running to ended), it was
    archived, reopened (archived to ended) or its personal data purged. A campaign is not
    "changed" into the phase it was created in. The phases are those of the API's campaign
    resource (`phase`).
    """

    previous_phase: Phase = Field(description="The phase the receiver was last told of.")
    phase: Phase = Field(description="The campaign's phase now.")
    changed_at: datetime = Field(
        description="When it changed: midnight in the campaign's time zone for its first day"
        " and the day after its last, the moment of the archiving, reopening or purge."
    )


class ReceiverCheck(EventData):
    """Sent from the web UI's "send test event" button, to check a receiver."""

    subscription_id: int


PAYLOADS: dict[str, type[BaseModel]] = {
    "participant.enrolled": ParticipantEnrolled,
    "participant.confirmed": ParticipantConfirmed,
    "participant.paused": ParticipantPaused,
    "participant.unsubscribed": ParticipantUnsubscribed,
    "participant.bounced": ParticipantBounced,
    "participant.erased": ParticipantErased,
    "rsvp.changed": RsvpChanged,
    "attendance.marked": AttendanceMarked,
    "questionnaire.answered": QuestionnaireAnswered,
    "message.failed": MessageFailed,
    "import.applied": ImportApplied,
    "campaign.phase_changed": CampaignPhaseChanged,
    "test": ReceiverCheck,
}
# The event types a receiver can subscribe to ("test" goes to the one it is sent to only).
SUBSCRIBABLE = tuple(name for name in PAYLOADS if name != "test")
