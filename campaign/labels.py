"""What each kind and state is called on a page: one human label per enum member, through the
catalog, for templates (`|label`, `|plural`, `|badge`) and form choices alike."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask import Flask
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms.fields import SelectChoice

from campaign.accounts.models import Role
from campaign.accounts.roles import Standing
from campaign.accounts.throttle import LockKind
from campaign.enrolment.holds import ENDED_ANSWER
from campaign.enrolment.models import ImportState, ParticipantStatus, PilotGroupKind, RowOutcome
from campaign.events.models import Audience, EventKind, EventState, Rsvp
from campaign.network.models import MembershipStatus, OrganisationKind
from campaign.network.phases import Phase
from campaign.outbox.models import MessageKind, MessageState, SuppressionReason

LABELS: dict[enum.Enum, object] = {
    OrganisationKind.MUNICIPALITY: _l("Municipality"),
    OrganisationKind.UNIVERSITY: _l("University"),
    OrganisationKind.HOSPITAL: _l("Hospital"),
    OrganisationKind.OTHER: _l("Other organisation"),
    MembershipStatus.SIGNED: _l("Signed"),
    MembershipStatus.INFORMAL: _l("Informal participant"),
    PilotGroupKind.PROJECT_GROUP: _l("An existing project group"),
    PilotGroupKind.SELECTED_MANAGERS: _l("Selected managers"),
    PilotGroupKind.VOLUNTEERS: _l("Volunteers"),
    ParticipantStatus.INVITED: _l("Invited"),
    ParticipantStatus.ACTIVE: _l("Active"),
    ParticipantStatus.PAUSED: _l("Paused"),
    ParticipantStatus.UNSUBSCRIBED: _l("Unsubscribed"),
    ParticipantStatus.COMPLETED: _l("Completed"),
    ParticipantStatus.ERASED: _l("Erased"),
    ImportState.READING: _l("Being read"),
    ImportState.READY: _l("Waiting for your confirmation"),
    ImportState.APPLIED: _l("Imported"),
    ImportState.DISCARDED: _l("Discarded"),
    ImportState.FAILED: _l("Could not be read"),
    RowOutcome.ADD: _l("Will be added"),
    RowOutcome.UPDATE: _l("Will be updated"),
    RowOutcome.UNCHANGED: _l("Unchanged"),
    RowOutcome.REJECT: _l("Rejected"),
    EventKind.PRACTICE_MEETING: _l("Practice meeting"),
    EventKind.TRAINING: _l("Training"),
    EventKind.WEBINAR: _l("Webinar"),
    EventKind.WORKING_GROUP: _l("Working-group meeting"),
    Audience.PILOT_GROUP: _l("One pilot group"),
    Audience.ORGANISATION: _l("All participants of the organisation"),
    Audience.CAMPAIGN: _l("All participants of the campaign"),
    Audience.WORKING_GROUP: _l("The representatives' working group"),
    Rsvp.PENDING: _l("No answer yet"),
    Rsvp.ACCEPTED: _l("Coming"),
    Rsvp.TENTATIVE: _l("Maybe"),
    Rsvp.DECLINED: _l("Not coming"),
    Rsvp.WAITLISTED: _l("On the waiting list"),
    EventState.PLANNED: _l("Planned"),
    EventState.STARTED: _l("Under way"),
    EventState.OVER: _l("Over"),
    EventState.CANCELLED: _l("Called off"),  # a meeting: "Inställt", not a stopped mail's word
    MessageKind.SEQUENCE_STEP: _l("Sequence step"),
    MessageKind.INVITATION: _l("Invitation"),
    MessageKind.REMINDER: _l("Reminder"),
    MessageKind.QUESTIONNAIRE: _l("Questionnaire"),
    MessageKind.CONFIRMATION: _l("Confirmation"),
    MessageKind.STAFF_INVITATION: _l("Staff invitation"),
    MessageKind.LOGIN_LINK: _l("Login link"),
    MessageKind.TEST: _l("Test"),
    MessageKind.NOTICE: _l("Notice to staff"),
    MessageState.QUEUED: _l("Queued"),
    MessageState.SENDING: _l("Sending"),
    MessageState.SENT: _l("Sent"),
    MessageState.RETRY: _l("Will retry"),
    MessageState.FAILED: _l("Failed"),
    MessageState.CANCELLED: _l("Cancelled"),
    SuppressionReason.HARD_BOUNCE: _l("Refused by the mail server"),
    SuppressionReason.UNSUBSCRIBED: _l("Unsubscribed"),
    SuppressionReason.COMPLAINT: _l("Complained"),
    SuppressionReason.MANUAL: _l("Added by hand"),
    LockKind.ADDRESS: _l("E-mail address"),
    LockKind.CLIENT: _l("Client (IP address)"),
    Phase.PREPARING: _l("Preparing"),
    Phase.RUNNING: _l("Running"),
    Phase.ENDED: _l("Ended"),
    Phase.ARCHIVED: _l("Archived"),
    Phase.PURGED: _l("Personal data deleted"),
    Role.LEAD_ADMIN: _l("Lead administrator"),
    Role.MEMBER_REP: _l("Representative"),
    Standing.LEAD_ADMIN: _l("Lead administrator"),
    Standing.OPERATOR: _l("Operator of every campaign"),
    Standing.REPRESENTATIVE: _l("Representative"),
}

# What an outbox message's last answer says, where the service wrote it (the mail server's own
# answers are shown as they came).
ANSWERS: dict[str, object] = {
    ENDED_ANSWER: _l("Not sent: the campaign has ended"),
}

# The headings of lists grouped by kind.
PLURALS: dict[enum.Enum, object] = {
    OrganisationKind.MUNICIPALITY: _l("Municipalities"),
    OrganisationKind.UNIVERSITY: _l("Universities"),
    OrganisationKind.HOSPITAL: _l("Hospitals"),
    OrganisationKind.OTHER: _l("Other organisations"),
}

# Where a form asks in fuller words than the label a page shows.
CHOICES: dict[enum.Enum, object] = {
    MembershipStatus.SIGNED: _l("Signed the agreement"),
    MembershipStatus.INFORMAL: _l("Takes part without signing"),
}

# The colour of a state's badge (classes of campaign.css).
BADGES: dict[enum.Enum, str] = {
    MembershipStatus.SIGNED: "badge-signed",
    MembershipStatus.INFORMAL: "badge-informal",
    ImportState.READING: "badge-lead",
    ImportState.READY: "badge-informal",
    ImportState.APPLIED: "badge-signed",
    ImportState.DISCARDED: "badge-muted",
    ImportState.FAILED: "badge-muted",
    RowOutcome.ADD: "badge-signed",
    RowOutcome.UPDATE: "badge-lead",
    RowOutcome.UNCHANGED: "badge-muted",
    RowOutcome.REJECT: "badge-informal",
    MessageState.QUEUED: "badge-lead",
    MessageState.SENDING: "badge-lead",
    MessageState.SENT: "badge-signed",
    MessageState.RETRY: "badge-informal",
    MessageState.FAILED: "badge-muted",
    MessageState.CANCELLED: "badge-muted",
    EventState.PLANNED: "badge-informal",
    EventState.STARTED: "badge-signed",
    EventState.OVER: "badge-muted",
    EventState.CANCELLED: "badge-muted",
    Phase.PREPARING: "badge-informal",
    Phase.RUNNING: "badge-signed",
    Phase.ENDED: "badge-lead",
    Phase.ARCHIVED: "badge-muted",
    Phase.PURGED: "badge-muted",
    Standing.LEAD_ADMIN: "badge-lead",
    Standing.OPERATOR: "badge-lead",
    Standing.REPRESENTATIVE: "badge-signed",
}


def label(member: enum.Enum) -> str:
    """Return the member's label in the language of the request."""
    return str(LABELS[member])


def plural(member: enum.Enum) -> str:
    """Return the heading for several of the member's kind."""
    return str(PLURALS[member])


def badge(member: enum.Enum) -> Markup:
    """Return the member's label as a coloured badge."""
    return Markup('<span class="badge {}">{}</span>').format(BADGES[member], label(member))


def answer(text: str | None) -> str:
    """Return an outbox message's last answer in the language of the request."""
    return str(ANSWERS.get(text or "", text or ""))


def choices(members: Iterable[enum.Enum]) -> list[SelectChoice]:
    """Return form choices (value, label) for the members, in the order given."""
    return [SelectChoice(m.value, CHOICES.get(m, LABELS[m])) for m in members]


def init_app(app: Flask) -> None:
    """Give the templates the filters `label`, `plural`, `badge` and `answer`."""
    app.jinja_env.filters.update(label=label, plural=plural, badge=badge, answer=answer)
