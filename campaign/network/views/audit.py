"""The audit log in words: each action by its label, each detail by its name and a value a
person reads (a changed field by its form's label, a kind by its label, a day as a date).

The audit keeps codes (campaign.audit); this is the one place that says them, in the reader's
language. tests/test_labels.py requires a label for every action the code records.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from functools import cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from campaign import labels
from campaign.api import scopes
from campaign.api.tokens import ALL_SCOPES
from campaign.enrolment.forms import ParticipantForm, PilotGroupForm
from campaign.enrolment.models import ConsentMethod
from campaign.events.forms import EventForm
from campaign.mailtexts.forms import MailTextForm
from campaign.network.forms import CampaignForm, LeadMembershipForm, NewMemberForm, SenderForm
from campaign.timing import day_text

ACTIONS: dict[str, object] = {
    "login": _l("Signed in"),
    "account.created_by_sso": _l("Got an account at their first single sign-on"),
    "account.password_changed": _l("Changed their password"),
    "account.profile_changed": _l("Changed their profile"),
    "account.sso_linked": _l("Linked their account to the single sign-on"),
    "account.sso_role_changed": _l("Got another role or organisation through the single sign-on"),
    "account.sso_role_kept": _l("Kept their role against the single sign-on's claim"),
    "announcement.cancelled": _l("Cancelled an announcement"),
    "api.request": _l("Used the API"),
    "api.scope_refused": _l("Was refused by the API: the token's scopes do not allow it"),
    "api.token_refused": _l("Was refused by the API: the token no longer works"),
    "api_token.created": _l("Made an API token"),
    "api_token.refused": _l("Was refused an API token"),
    "api_token.revoked": _l("Revoked an API token"),
    "announcement.scheduled": _l("Sent an announcement"),
    "webhook.created": _l("Set up a webhook"),
    "webhook.secret_rotated": _l("Made a new secret for a webhook"),
    "webhook.enabled": _l("Switched a webhook on"),
    "webhook.disabled": _l("Switched a webhook off"),
    "webhook.auto_disabled": _l("Switched off a webhook that kept failing"),
    "webhook.deleted": _l("Deleted a webhook"),
    "webhook.redelivered": _l("Sent a webhook event again"),
    "webhook.test_sent": _l("Sent a test event to a webhook"),
    "calendar_feed.replaced": _l("Replaced the calendar feed link"),
    "campaign.archived": _l("Archived the campaign"),
    "campaign.bundle_exported": _l("Downloaded the final archive"),
    "campaign.lead_handed_over": _l("Handed over the lead"),
    "campaign.period_changed": _l("Changed the campaign's period"),
    "campaign.purge_announced": _l("Announced the deletion of personal data"),
    "campaign.purged": _l("Deleted the personal data"),
    "campaign.reopened": _l("Reopened the campaign"),
    "campaign.returning_invited": _l("Invited last campaign's participants"),
    "campaign.settings_changed": _l("Changed the campaign's settings"),
    "campaign.started_from": _l("Started the campaign from an earlier one"),
    "event.attendance_marked": _l("Marked attendance"),
    "event.cancelled": _l("Cancelled a meeting"),
    "event.changed": _l("Changed a meeting"),
    "event.created": _l("Planned a meeting"),
    "event.invited": _l("Sent invitations to a meeting"),
    "inbound.dismissed": _l("Marked a received message as read"),
    "mail_text.reset": _l("Went back to the shipped text of a mail"),
    "mail_text.saved": _l("Changed the text of a mail"),
    "lead_admin.invited": _l("Invited a lead administrator"),
    "lead_admin.removed": _l("Removed a lead administrator"),
    "member.added": _l("Added a member"),
    "member.facts_changed": _l("Changed a member's facts"),
    "member.email_domains_changed": _l("Changed a member's work e-mail domains"),
    "member.sender_changed": _l("Changed how a member sends e-mail"),
    "member.wording_changed": _l("Changed a member's own paragraph in a sequence step"),
    "message.cancelled": _l("Cancelled an e-mail"),
    "milestone.removed": _l("Removed a milestone"),
    "milestone.set": _l("Set a milestone's date"),
    "message.requeued": _l("Sent an e-mail again"),
    "participant.changed": _l("Changed a participant's details"),
    "participant.data_exported": _l("Downloaded a participant's data"),
    "participant.enrolled": _l("Enrolled a participant"),
    "participant.erased": _l("Erased a participant"),
    "participant.moved": _l("Moved a participant to another group"),
    "participant.pause_moved": _l("Changed a participant's pause"),
    "participant.paused": _l("Paused a participant's e-mails"),
    "participant.resumed": _l("Resumed a participant's e-mails"),
    "participant.unsubscribed": _l("Unsubscribed a participant"),
    "participant.bounced": _l("Stopped a participant's e-mails: the address bounced"),
    "participant.readdressed": _l("Corrected a bounced participant's address"),
    "participants.imported": _l("Imported participants"),
    "participants.pauses_ended": _l("Ended the participants' pauses"),
    "pilot_group.changed": _l("Changed a pilot group"),
    "pilot_group.created": _l("Created a pilot group"),
    "pilot_group.deleted": _l("Deleted a pilot group"),
    "pilot_group.link_closed": _l("Closed a self-enrolment link"),
    "pilot_group.link_opened": _l("Opened a self-enrolment link"),
    "pilot_group.paused": _l("Paused a pilot group's e-mails"),
    "pilot_group.resumed": _l("Resumed a pilot group's e-mails"),
    "questionnaire.exported": _l("Downloaded a questionnaire's answers"),
    "questionnaire.made_anonymous": _l("Made a questionnaire anonymous"),
    "questionnaire.edited": _l("Edited a questionnaire"),
    "questionnaire.copied": _l("Copied a questionnaire to a new version"),
    "questionnaire.sending": _l("Started sending a questionnaire"),
    "questionnaire.not_sending": _l("Stopped sending a questionnaire"),
    "representative.disabled": _l("Turned a representative's access off"),
    "representative.enabled": _l("Turned a representative's access on"),
    "representative.invited": _l("Invited a representative"),
    "sequence.imported": _l("Imported a sequence"),
    "sequence.reverted": _l("Restored a version of a sequence"),
    "sequence.saved": _l("Saved a sequence"),
    "staff.changed": _l("Changed a staff account"),
    "suppression.removed": _l("Removed an address from the suppression list"),
}

# The details an action keeps, by name (a name not here is a field of one of FORMS).
DETAILS: dict[str, object] = {
    "fields": _l("Changed"), "group": _l("Pilot group"), "method": _l("Way"),
    "how": _l("How"), "via": _l("Via"), "was": _l("Was"), "old": _l("Before"),
    "new": _l("After"), "before": _l("Before"), "after": _l("After"), "count": _l("Number"),
    "rows": _l("Rows"), "added": _l("Added"), "updated": _l("Updated"),
    "rejected": _l("Rejected"), "files": _l("Files"), "participants": _l("Participants"),
    "queued": _l("Queued"), "mailed": _l("E-mailed"), "failures": _l("Failures"),
    "kept_until": _l("Kept until"), "title": _l("Title"), "sequence": _l("Version"),
    "sent_at": _l("Sent"), "attempts": _l("Attempts"), "next_attempt_at": _l("Next attempt"),
    "source": _l("From"), "former_lead": _l("Former lead"), "new_lead": _l("New lead"),
    "roles_changed": _l("Roles changed"), "name": _l("Name"), "until": _l("Until"),
    "number": _l("Version"), "steps": _l("Steps changed"),
    "version": _l("Saved version"), "changed": _l("Changed"),
    "copied_from": _l("Copied from questionnaire"),
    "mail_texts": _l("Mail texts"), "sequences": _l("Sequences"),
    "paragraphs": _l("Members' own paragraphs"),
    "segment": _l("Recipients"),
    "scopes": _l("May"), "expires_at": _l("Expires"), "account": _l("Account"),
    "url": _l("Receiver address"), "events": _l("Events"), "delivery": _l("Delivery"),
    "token": _l("Token"), "needed": _l("Needed"), "reason": _l("Why"),
    "claim": _l("Claim"), "claim_value": _l("Value of the claim"), "kept": _l("Kept"),
    "claimed": _l("The claim gave"), "kept_because": _l("Why"),
}  # fmt: skip
# What an action was taken on, kept as "kind:id".
TARGETS: dict[str, object] = {
    "participant": _l("Participant %(id)s"), "event": _l("Meeting %(id)s"),
    "pilot_group": _l("Pilot group %(id)s"), "message": _l("E-mail %(id)s"),
    "import": _l("Import %(id)s"), "questionnaire": _l("Questionnaire %(id)s"),
    "user": _l("Account %(id)s"), "organisation": _l("Member %(id)s"),
    "campaign": _l("Campaign %(id)s"), "address": _l("Addresses (%(id)s)"),
    "sequence": _l("Sequence %(id)s"),
    "milestone": _l("Milestone %(id)s"),
    "mail_text": _l("Mail text %(id)s"),
    "announcement": _l("Announcement %(id)s"),
    "api_token": _l("API token %(id)s"),
    "webhook": _l("Webhook %(id)s"),
}  # fmt: skip
FORMS: tuple[type[FlaskForm], ...] = (
    LeadMembershipForm, NewMemberForm, CampaignForm, ParticipantForm, PilotGroupForm, EventForm,
    SenderForm, MailTextForm,
)  # fmt: skip
# The words some actions keep as a detail's value.
VALUES: dict[str, object] = {
    "command line": _l("the command line"),
    "one-click (RFC 8058)": _l("one click in the e-mail program"),
    "unsubscribe page": _l("the unsubscribe page"),
    "token revoked": _l("the token was revoked"),
    "token expired": _l("the token has expired"),
    "account disabled": _l("the account is switched off"),
    "no account": _l("there is no such account"),
    "wording": _l("the wording"),
    "questions": _l("the questions"),
    "moved by single sign-on": _l("the single sign-on moved the account to another organisation"),
    "last_lead_admin": _l("the last lead administrator who can sign in"),
    "not_here": _l("an operator of every campaign, changed from the command line"),
}
CONSENT_METHODS: dict[str, object] = {
    ConsentMethod.STAFF_FORM.value: _l("Added by a representative"),
    ConsentMethod.IMPORT.value: _l("Imported from a file"),
    ConsentMethod.SELF_ENROLMENT.value: _l("Enrolled themself"),
}


def action(code: str) -> str:
    """Return what an audit action is called in the language of the request."""
    return str(ACTIONS.get(code, code))


def target(kept: str) -> str:
    """Return what an action was taken on, e.g. "participant:3" as "Deltagare 3"."""
    kind, _sep, key = kept.partition(":")
    if kind not in TARGETS or not key:
        return kept
    return str(TARGETS[kind]) % {"id": _("deleted") if key == "purged" else key}


def details(recorded: dict[str, Any]) -> list[tuple[str, str]]:
    """Return an event's details as (name, value) pairs a person reads."""
    return [(_name(key), _value(value)) for key, value in recorded.items()]


def _name(key: str) -> str:
    return str(DETAILS.get(key) or _field_labels().get(key, key))


@cache
def _field_labels() -> dict[str, Any]:
    """Return the label of every field of the forms whose changes the audit names."""
    found: dict[str, Any] = {}
    for form in FORMS:
        for name in dir(form):
            field: Any = getattr(form, name, None)
            if hasattr(field, "field_class") and field.args:  # an unbound field: (label, ...)
                found.setdefault(name, field.args[0])
    return found


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{_name(k)}: {_value(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return _text(value)


def _text(value: Any) -> str:
    """Say a scalar: a field's name by its label, a kind by its label, an instant or a day in
    the reader's words."""
    if isinstance(value, str) and value in _field_labels():
        return str(_field_labels()[value])
    if isinstance(value, str) and (coded := _coded(value)) is not None:
        return coded
    return "" if value is None else str(value)


def _coded(value: str) -> str | None:
    """Return the label of an enum value or a date kept as text; None if it is neither."""
    if value in CONSENT_METHODS or value in VALUES:
        return str(CONSENT_METHODS.get(value) or VALUES[value])
    if value in ALL_SCOPES:  # what an API token may do
        return scopes.said(value)
    if value.startswith("by "):  # a representative's unsubscribing of a participant
        return _("by %(name)s", name=value[3:])
    if value in _enum_labels():
        return _enum_labels()[value]()
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if len(value) == 10:
        return day_text(date.fromisoformat(value))
    return labels.moment(when) if when.tzinfo else None


@cache
def _enum_labels() -> dict[str, Any]:
    """Return the label of each enum value that the labels name (once per value)."""
    found: dict[str, Any] = {}
    for member in labels.LABELS:
        if isinstance(member, enum.Enum) and isinstance(member.value, str):
            found.setdefault(member.value, lambda m=member: labels.label(m))
    return found
