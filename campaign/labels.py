"""What each kind and state is called on a page: one human label per enum member, through the
catalog, for templates (`|label`, `|plural`, `|badge`) and form choices alike."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime

from babel.dates import format_time
from flask import Flask, g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select
from wtforms.fields import SelectChoice

from campaign import db
from campaign.accounts.models import Role
from campaign.accounts.roles import Standing
from campaign.accounts.throttle import LockKind
from campaign.announcements.models import AnnouncementState
from campaign.announcements.segments import LeftOut
from campaign.drip import conditions
from campaign.drip.catch_up import SKIPPED_EVENT_STEP, SKIPPED_STEP
from campaign.drip.materialize import LATE, NO_LATER_DATE
from campaign.drip.pauses import DROPPED_EVENT_MAIL
from campaign.enrolment.consent import facts_of
from campaign.enrolment.holds import ENDED_ANSWER
from campaign.enrolment.lifecycle import BOUNCED_ANSWER, ERASED_ANSWER, UNSUBSCRIBED_ANSWER
from campaign.enrolment.models import (
    Consent,
    ConsentMethod,
    ImportState,
    ParticipantStatus,
    PilotGroupKind,
    RowOutcome,
)
from campaign.events.invitations import EVENT_CHANGED
from campaign.events.models import Audience, EventKind, EventState, Rsvp
from campaign.network.models import MembershipStatus, OrganisationKind
from campaign.network.phases import Phase
from campaign.outbox.inbound import InboundKind, InboundOutcome
from campaign.outbox.limits import RATE_WAIT_ANSWER, STOPPED_ANSWER, SUPPRESSED
from campaign.outbox.models import MessageKind, MessageState, SuppressionReason
from campaign.outbox.queue import GIVEN_UP
from campaign.retention.purge import CANCELLED as PURGED
from campaign.surveys.definitions import Definition, Question, definitions
from campaign.surveys.models import Questionnaire, QuestionnaireKind
from campaign.surveys.service import ANSWERED
from campaign.surveys.stored import definition_of
from campaign.timing import CLOCK_PATTERNS, day_text, shown_zone
from campaign.webhooks.forms import STATE_BADGES, STATE_LABELS

LABELS: dict[enum.Enum, object] = {
    **STATE_LABELS,
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
    ParticipantStatus.BOUNCED: _l("Bounced"),
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
    MessageKind.ANNOUNCEMENT: _l("Announcement"),
    AnnouncementState.SCHEDULED: _l("Scheduled"),
    AnnouncementState.SENDING: _l("Sending"),
    AnnouncementState.SENT: _l("Sent"),
    AnnouncementState.CANCELLED: _l("Cancelled"),
    LeftOut.ERASED: _l("Erased"),
    LeftOut.UNSUBSCRIBED: _l("Unsubscribed"),
    LeftOut.BOUNCED: _l("Bounced"),
    LeftOut.PAUSED: _l("Paused"),
    LeftOut.SUPPRESSED: _l("Address on the suppression list"),
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
    InboundKind.HARD_BOUNCE: _l("Undeliverable"),
    InboundKind.SOFT_BOUNCE: _l("Temporarily undeliverable"),
    InboundKind.DELAYED: _l("Delivery delayed"),
    InboundKind.CALENDAR_REPLY: _l("Calendar answer"),
    InboundKind.CALENDAR_COUNTER: _l("Proposed new time"),
    InboundKind.AUTO_REPLY: _l("Automatic reply"),
    InboundKind.COMPLAINT: _l("Spam complaint"),
    InboundKind.OTHER: _l("Other message"),
    InboundKind.UNREADABLE: _l("Unreadable message"),
    InboundOutcome.APPLIED: _l("Applied"),
    InboundOutcome.RECORDED: _l("Noted, nothing changed"),
    InboundOutcome.STALE: _l("Answers an older version"),
    InboundOutcome.NO_MATCH: _l("Matches nothing of ours"),
    InboundOutcome.ERASED: _l("The person is erased"),
    InboundOutcome.KEPT: _l("Kept for a person to read"),
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
    QuestionnaireKind.BASELINE: _l("Baseline questionnaire"),
    QuestionnaireKind.FOLLOW_UP: _l("Follow-up questionnaire"),
}

# What an outbox message's last answer says, where the service wrote it (the mail server's own
# answers are shown as they came).
ANSWERS: dict[str, object] = {
    ENDED_ANSWER: _l("Not sent: the campaign has ended"),
    SUPPRESSED: _l("Not sent: the address is on the suppression list"),
    STOPPED_ANSWER: _l("Not sent: the participant gets no more e-mail"),
    RATE_WAIT_ANSWER: _l("Waiting: the campaign's sending rate limit is reached"),
    GIVEN_UP: _l("Not delivered within 5 days; given up"),
    LATE: _l("Skipped: more than two days late (a late start or a pause)"),
    NO_LATER_DATE: _l("Skipped: no later date to offer"),
    SKIPPED_STEP: _l("Skipped: due while the participant was paused"),
    SKIPPED_EVENT_STEP: _l("Skipped: its meeting took place while the participant was paused"),
    DROPPED_EVENT_MAIL: _l("Cancelled: the meeting began while the participant was paused"),
    PURGED: _l("Cancelled: the campaign's personal data was deleted"),
    ANSWERED: _l("Cancelled: the participant answered"),
    UNSUBSCRIBED_ANSWER: _l("Cancelled: the participant unsubscribed"),
    ERASED_ANSWER: _l("Cancelled: the participant was erased"),
    BOUNCED_ANSWER: _l("Cancelled: the participant's address bounced"),
    "cancelled: erased": _l("Cancelled: the participant was erased"),
    "cancelled: expired": _l("Cancelled: the link expired"),
    EVENT_CHANGED: _l("Cancelled: the meeting changed"),
}
_C = r"(?P<condition>[\w:.=-]+)"  # a condition: answered_baseline, attended:training
# Answers with a part of their own: the skipped step's condition, who cancelled.
ANSWER_PATTERNS: tuple[tuple[re.Pattern[str], object], ...] = (
    (re.compile(rf"^skipped: not {_C}$"), _l("Skipped: not so that %(condition)s")),
    (re.compile(rf"^skipped: {_C}$"), _l("Skipped: %(condition)s")),
    (re.compile(r"^cancelled by (?P<name>.+)$"), _l("Cancelled by %(name)s")),
    (re.compile(r"^connection lost: (?P<error>.+)$"), _l("Connection lost: %(error)s")),
    (
        re.compile(r"^bounced: (?P<n>\d+) soft bounces within 14 days, the last: (?P<reason>.+)$"),
        _l("Bounced: %(n)s temporary failures within 14 days, the last: %(reason)s"),
    ),
    (re.compile(r"^bounced: (?P<reason>.+)$"), _l("Bounced: %(reason)s")),
)

# What the e-mail sequences (folders of campaign/sequences/) are called.
SEQUENCES: dict[str, object] = {
    "pilot-group": _l("The pilot group's e-mails"),
}

# How a consent was given (its facts: campaign.enrolment.consent).
CONSENTS: dict[ConsentMethod, object] = {
    ConsentMethod.STAFF_FORM: _l("Added by %(by)s, who confirmed the person's consent"),
    ConsentMethod.IMPORT: _l("Imported from %(file)s by %(by)s, who confirmed the consent"),
    ConsentMethod.SELF_ENROLMENT: _l(
        "Sent the self-enrolment form from %(asked_from)s on %(asked_at)s and confirmed by the"
        " e-mail link from %(confirmed_from)s on %(confirmed_at)s"
    ),
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
    **STATE_BADGES,
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
    AnnouncementState.SCHEDULED: "badge-informal",
    AnnouncementState.SENDING: "badge-lead",
    AnnouncementState.SENT: "badge-signed",
    AnnouncementState.CANCELLED: "badge-muted",
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
    if not text or text in ANSWERS:
        return str(ANSWERS.get(text or "", ""))
    for pattern, said in ANSWER_PATTERNS:
        if match := pattern.match(text):
            return str(said) % _answer_parts(match.groupdict())
    # The mail server's own words, in its language (mostly English): marked so for screen readers.
    return Markup('<span lang="en">{}</span>').format(text)


def _answer_parts(parts: dict[str, str]) -> dict[str, str]:
    """Name a condition by its label."""
    if "condition" in parts:
        parts["condition"] = condition(parts["condition"])
    return parts


def condition(text: str) -> str:
    """Say a step's condition (`unless:`, `only_if:`) in the words of the request's language."""
    found = conditions.read(text)
    if found is None or found.kind == "fixed":
        return str(conditions.FIXED.get(text, text))
    if found.kind == "attended":
        kind = label(EventKind(found.event_kind)).lower()
        return _("the participant has attended a meeting of the kind %(kind)s", kind=kind)
    language, definition = str(get_locale() or "sv"), _asked(found.questionnaire)
    name = definition.title[language] if definition else found.questionnaire
    if found.kind == "answered":
        return _("the participant has answered the questionnaire “%(name)s”", name=name)
    question = _question(definition, found.question)
    option = question.label_of(found.value, language) if question else found.value
    words = question.text[language] if question else found.question
    return _(
        "the participant answered “%(option)s” to “%(question)s” (%(name)s)",
        option=option, question=words, name=name,
    )  # fmt: skip


def _asked(slug: str) -> Definition | None:
    """The questions of the request's campaign's questionnaire `slug` (its own copy)."""
    campaign = getattr(g, "campaign", None)
    mine = Questionnaire.campaign_id == (campaign.id if campaign else None)
    found = db.session().scalar(select(Questionnaire).where(mine, Questionnaire.slug == slug))
    return definition_of(db.session(), found) if found else definitions().get(slug)


def _question(definition: Definition | None, question_id: str) -> Question | None:
    """The questionnaire's question of this id, if there is one."""
    found = definition.questions if definition else ()
    return next((q for q in found if q.id == question_id), None)


def sequence(name: str | None) -> str:
    """Return what an e-mail sequence is called (its folder's name if it has no label)."""
    return str(SEQUENCES.get(name or "", name or ""))


def questionnaire_title(questionnaire: Questionnaire) -> str:
    """Return a questionnaire's title in the language of the request."""
    definition = definition_of(db.session(), questionnaire)
    if definition is None:
        return questionnaire.slug
    return definition.title.get(str(get_locale() or "sv"), questionnaire.slug)


def moment(instant: datetime) -> str:
    """Return an instant as the request's language writes it, in the campaign's zone: 3 december
    2026 kl. 08.58."""
    language = str(get_locale() or "sv")
    local = instant.astimezone(shown_zone())
    time = format_time(local, CLOCK_PATTERNS.get(language, "HH:mm"), locale=language)
    return _("%(day)s at %(time)s", day=day_text(local.date()), time=time)


def consent_how(consent: Consent) -> str:
    """Return how a consent was given, in the language of the request."""
    facts = facts_of(consent.source)
    if not facts:
        return consent.source
    if facts.get("invented"):
        return _("An invented person of the demo: no one gave this consent")
    shown = {k: moment(v) if isinstance(v, datetime) else v for k, v in facts.items()}
    shown["by"] = shown.get("by") or _("the command line")
    try:
        return str(CONSENTS[consent.method]) % shown
    except KeyError:  # facts of another way than its method's: say them as stored
        return consent.source


def choices(members: Iterable[enum.Enum]) -> list[SelectChoice]:
    """Return form choices (value, label) for the members, in the order given."""
    return [SelectChoice(m.value, CHOICES.get(m, LABELS[m])) for m in members]


def value_of(item: object) -> str:
    """Return what a select of `choices` holds for a stored member (its value), or for a sent
    text (the text): the form's `coerce`, so that an edit form shows the stored choice."""
    return str(item.value) if isinstance(item, enum.Enum) else str(item)


def init_app(app: Flask) -> None:
    """Give the templates the filters `label`, `plural`, `badge`, `answer`, `sequence`,
    `questionnaire_title`, `consent_how`, `moment` and `condition`."""
    app.jinja_env.filters.update(
        label=label,
        plural=plural,
        badge=badge,
        answer=answer,
        condition=condition,
        sequence=sequence,
        questionnaire_title=questionnaire_title,
        consent_how=consent_how,
        moment=moment,
    )
