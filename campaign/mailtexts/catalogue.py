"""Which mail texts a campaign may reword, named in people's words, and the sample values each
is previewed and checked with.

Each text is rendered by one caller with one set of placeholders (tests/texts/test_samples.py
holds every sample to its caller, so the two cannot drift apart). The staff mails that belong
to no campaign keep the shipped text: a reset password link and a lead administrator's
invitation (an account, not a campaign) and the delivery test of the Outbox page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from campaign.outbox.compose import Footer, content_template
from campaign.outbox.mail import Addressee, participant_footer
from campaign.outbox.texts import greeting, mail_part

LANGUAGES = ("sv", "en")


@dataclass(frozen=True)
class Text:
    """One mail text a campaign may reword: its template, its name and who gets it."""

    # The template's, campaign/templates/mail/<name>.<language>.md; a part's starts with "_".
    name: str
    title: str  # lazily translated
    audience: str


MEETINGS = _l("Participants and the working group invited to a meeting")
QUESTIONNAIRES = _l("Participants who are sent a questionnaire")
JOINING = _l("People who join or are asked to join a pilot group")
LEADS = _l("The campaign's lead administrators")
TEXTS = (
    Text("event-invitation", _l("Invitation to a meeting"), MEETINGS),
    Text("event-reminder", _l("Reminder of a meeting"), MEETINGS),
    Text("event-update", _l("A meeting has changed"), MEETINGS),
    Text("event-cancel", _l("A meeting is cancelled"), MEETINGS),
    Text("event-place", _l("A place from the waiting list"), MEETINGS),
    Text(
        "_event-details",
        _l("A meeting's details and answer links, in each of the mails above"),
        MEETINGS,
    ),
    Text("questionnaire", _l("Invitation to a questionnaire"), QUESTIONNAIRES),
    Text("questionnaire-reminder", _l("Reminder of a questionnaire"), QUESTIONNAIRES),
    Text("join-confirmation", _l("Confirming self-enrolment"), JOINING),
    Text("returning", _l("Invitation to take part again"), JOINING),
    Text(
        "representative-invitation", _l("Invitation of a representative"), _l("New representatives")
    ),
    Text("purge-warning", _l("Personal data will be deleted"), LEADS),
    Text("complaint-notice", _l("A mail was reported as spam"), LEADS),
)
# The mail a part is previewed in.
HOST = {"_event-details": "event-invitation"}
BY_NAME = {text.name: text for text in TEXTS}
# The staff mails that keep the shipped text, with why.
FIXED = (
    (_l("Choose a new password"), _l("sent to an account, which belongs to no campaign")),
    (_l("Invitation of a lead administrator"), _l("an account of the whole service")),
    (_l("Test e-mail"), _l("checks that mail reaches people, whatever the campaign")),
)


def sample_context(name: str, language: str, campaign: str, base_url: str) -> dict[str, Any]:
    """Return realistic placeholders of the text `name` in `language`, as its caller fills them."""
    values = SAMPLES[_family(name)][language]
    context: dict[str, Any] = {
        key: value.format(campaign=campaign, base_url=base_url) if isinstance(value, str) else value
        for key, value in values.items()
    }
    if "greeting" in context:
        context["greeting"] = greeting("Anna Berg", language)
    if name.startswith("event-"):  # the details part itself is filled without them
        context["details"] = content_template(mail_part("event-details", language)).render(context)
    return context


def sample_footer(
    name: str, language: str, reason: str | None, campaign: str, base_url: str
) -> Footer:
    """Return the footer a preview shows: a participant's (the mails of a meeting go mostly to
    participants), else the reason the text gives."""
    if reason and not name.startswith("event-"):
        return Footer(reason)
    addressee = Addressee(
        "anna.berg@ale.se", language, f"{base_url}/u/exempel", "Ale kommun", campaign,
        "Eva Ek, eva.ek@ale.se", participant_id=0, organisation_id=0, campaign_id=0,
    )  # fmt: skip
    return participant_footer(addressee)


def _family(name: str) -> str:
    """Return which callers' placeholders a text has: the mails of a meeting share theirs."""
    return "event" if name.startswith(("event-", "_event-")) else name


SAMPLES: dict[str, dict[str, dict[str, Any]]] = {
    "event": {
        "sv": {
            "greeting": "", "title": "Övningsmöte i Teams",
            "when": "12 mars 2027 kl. 09.00–10.00 (Sverigetid)",
            "where": "https://teams.example.se/mote/123", "description": "Ta med dina frågor.",
            "yes": "{base_url}/rsvp/exempel?answer=accepted",
            "no": "{base_url}/rsvp/exempel?answer=declined",
            "maybe": "{base_url}/rsvp/exempel?answer=tentative",
        },
        "en": {
            "greeting": "", "title": "Practice meeting in Teams",
            "when": "12 March 2027 at 09:00–10:00 (Sweden Time)",
            "where": "https://teams.example.se/mote/123", "description": "Bring your questions.",
            "yes": "{base_url}/rsvp/example?answer=accepted",
            "no": "{base_url}/rsvp/example?answer=declined",
            "maybe": "{base_url}/rsvp/example?answer=tentative",
        },
    },
    "questionnaire": {
        "sv": {"greeting": "", "title": "Hur möts du i dag?", "link": "{base_url}/q/exempel",
               "intro": "Några frågor om hur du reser och möts i arbetet."},
        "en": {"greeting": "", "title": "How do you meet today?", "link": "{base_url}/q/example",
               "intro": "A few questions about how you travel and meet at work."},
    },
    "join-confirmation": {
        "sv": {"group": "Resfria möten 2027", "organisation": "Ale kommun",
               "link": "{base_url}/join/confirm/exempel"},
        "en": {"group": "Travel-free meetings 2027", "organisation": "Ale kommun",
               "link": "{base_url}/join/confirm/example"},
    },
    "returning": {
        "sv": {"greeting": "", "organisation": "Ale kommun", "group": "Resfria möten 2027",
               "previous": "Resfria möten 2026", "campaign": "{campaign}",
               "link": "{base_url}/join/exempel", "starts": "1 april 2027",
               "ends": "31 mars 2028"},
        "en": {"greeting": "", "organisation": "Ale kommun", "group": "Travel-free meetings 2027",
               "previous": "Travel-free meetings 2026", "campaign": "{campaign}",
               "link": "{base_url}/join/example", "starts": "1 April 2027",
               "ends": "31 March 2028"},
    },
    "representative-invitation": {
        "sv": {"greeting": "", "organisation": "Ale kommun", "email": "anna.berg@ale.se",
               "link": "{base_url}/invitation/exempel"},
        "en": {"greeting": "", "organisation": "Ale kommun", "email": "anna.berg@ale.se",
               "link": "{base_url}/invitation/example"},
    },
    "purge-warning": {
        "sv": {"greeting": "", "campaign": "{campaign}", "ended": "31 mars 2027",
               "date": "30 september 2027", "link": "{base_url}"},
        "en": {"greeting": "", "campaign": "{campaign}", "ended": "31 March 2027",
               "date": "30 September 2027", "link": "{base_url}"},
    },
    "complaint-notice": {
        "sv": {"greeting": "", "campaign": "{campaign}", "applied": True,
               "link": "{base_url}/inbox/exempel"},
        "en": {"greeting": "", "campaign": "{campaign}", "applied": True,
               "link": "{base_url}/inbox/example"},
    },
}  # fmt: skip
SAMPLES["questionnaire-reminder"] = SAMPLES["questionnaire"]
