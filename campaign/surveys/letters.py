"""A questionnaire's invitations and reminders to many people, laid out once, filled per person.

Everyone of a campaign gets the same text with a few values of their own: the greeting by their
first name, their signed link to the questionnaire and their unsubscribe link. So the mail is
laid out once per kind, language and member (campaign/outbox/stencil.py) and each person's values
are put in; the mail is the same as a full render of it, which is what a person whose values a
stencil cannot take gets.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy.orm import Session

from campaign.enrolment.mail import Addressees
from campaign.outbox.compose import Rendered
from campaign.outbox.mail import Addressee, mail_settings, participant_footer, participant_message
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import Outgoing
from campaign.outbox.stencil import Slot, Stencils, Values
from campaign.outbox.texts import Letter, first_name, greeting_by_first_name
from campaign.outbox.wording import campaign_letter
from campaign.security import Signing
from campaign.surveys.definitions import Definition
from campaign.surveys.models import Questionnaire
from campaign.surveys.service import PURPOSE


class Reader(NamedTuple):
    """An active participant as the questionnaires job reads them: one row, no ORM object."""

    id: int
    email: str
    name: str
    language: str
    organisation_id: int
    campaign_id: int
    starts_on: date | None
    group_starts_on: date  # their pilot group's start


# The values that differ from one person's mail to the next, and the placeholders that print them.
SLOTS = (
    Slot("first_name", (("greeting",),)),
    Slot("link", (("link",),)),
    Slot("unsubscribe", (), is_link=True),
)


class Letters:
    """The invitations and reminders of one questionnaire, for any number of its participants."""

    def __init__(
        self, db_session: Session, questionnaire: Questionnaire, definition: Definition
    ) -> None:
        self.db_session, self.questionnaire, self.definition = db_session, questionnaire, definition
        self.addressees = Addressees(db_session)
        self.token = Signing(PURPOSE)  # as service.link_token signs
        self.settings = mail_settings()
        self._letters: dict[tuple[str, str], tuple[Letter, Stencils]] = {}

    def message(self, reader: Reader, key: str, now: datetime) -> Outgoing:
        """Return the participant's invitation (key without ":r") or reminder, due now."""
        reminder = ":r" in key
        name = "questionnaire-reminder" if reminder else "questionnaire"
        to = self.addressees(reader)
        letter, stencils = self._letter(name, to)
        link = self.settings.link(f"/q/{self.token([self.questionnaire.id, reader.id])}")
        values = {
            "first_name": first_name(reader.name),
            "link": link,
            "unsubscribe": to.unsubscribe_url,
        }
        rendered = stencils.render(
            (reader.campaign_id, reader.organisation_id),
            lambda own: self._render(letter, to, own),
            values,
        )
        kind = MessageKind.REMINDER if reminder else MessageKind.QUESTIONNAIRE
        return participant_message(to, rendered, kind=kind, source_key=key, due_at=now)

    def _letter(self, name: str, to: Addressee) -> tuple[Letter, Stencils]:
        """Return the campaign's text of one kind of mail in the person's language, with its
        stencils (read once)."""
        key = (name, to.language)
        if key not in self._letters:
            letter = campaign_letter(self.db_session, to.campaign_id, name, to.language)
            self._letters[key] = (letter, Stencils(letter, SLOTS))
        return self._letters[key]

    def _render(self, letter: Letter, to: Addressee, own: Values) -> Rendered:
        """Render the person's mail in full, with these values of theirs."""
        language = to.language
        context = {
            "greeting": greeting_by_first_name(own["first_name"], language),
            "title": self.definition.title[language],
            "intro": self.definition.intro[language],
            "link": own["link"],
        }
        footer = participant_footer(replace(to, unsubscribe_url=own["unsubscribe"]))
        return letter.render(context, language=language, footer=footer)
