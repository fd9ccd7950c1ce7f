"""A participant as their mail needs them: the outbox's `Addressee`, built from the rows.

Every mail to a participant (a sequence step, a meeting's mail, a questionnaire) is addressed
through here, so each names the same member and contact person in its footer and carries the
same unsubscribe link, made once here and handed to the outbox, which knows no participants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.enrolment.models import Participant
from campaign.network.models import Campaign, Membership, Organisation
from campaign.network.senders import logo_path
from campaign.outbox.compose import Logo
from campaign.outbox.mail import Addressee, Sender, mail_settings
from campaign.outbox.unsubscribe import token_for, tokens


class Person(Protocol):
    """A participant as far as their address goes: a row or a Participant (a fan-out reads rows)."""

    @property
    def id(self) -> int: ...
    @property
    def email(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def organisation_id(self) -> int: ...
    @property
    def campaign_id(self) -> int: ...


def unsubscribe_url(participant: Person, token: Callable[[int], str] | None = None) -> str:
    """Return the participant's own link to pause or stop their mail (signed by `token`, a
    fan-out's signer, if given)."""
    signed = token(participant.id) if token else token_for(participant)
    return mail_settings().link(f"/u/{signed}")


def contact_of(membership: Membership | None) -> str:
    """Return the member's contact person as one line, "name, address" (empty if none)."""
    if membership is None:
        return ""
    return ", ".join(part for part in (membership.contact_name, membership.contact_email) if part)


def addressee(
    participant: Person,
    organisation: Organisation,
    campaign: Campaign,
    membership: Membership | None,
    token: Callable[[int], str] | None = None,
) -> Addressee:
    """Return the addressee of a participant, with their member and campaign at hand."""
    return Addressee(
        email=participant.email,
        language=participant.language,
        unsubscribe_url=unsubscribe_url(participant, token),
        organisation=organisation.name,
        campaign=campaign.name,
        contact=contact_of(membership),
        participant_id=participant.id,
        organisation_id=participant.organisation_id,
        campaign_id=participant.campaign_id,
        sender=sender_of(membership, organisation),
    )


def sender_of(membership: Membership | None, organisation: Organisation) -> Sender:
    """Return how the member's mail names its sender: as the member chose (network/senders.py),
    or as the campaign's sender when it chose nothing."""
    chosen = membership.sender if membership is not None else None
    if membership is None or chosen is None:
        return Sender()
    path = logo_path(membership.id, chosen)
    logo = Logo(mail_settings().link(path), organisation.name) if path else None
    return Sender(chosen.display_name, chosen.reply_to, logo)


class Addressees:
    """The addressees of many participants, reading each member's rows once and signing their
    links with one signer (for a fan-out)."""

    def __init__(self, db_session: Session) -> None:
        self.db_session = db_session
        self._members: dict[tuple[int, int], tuple[Organisation, Campaign, Membership | None]] = {}
        self._token: Callable[[int], str] | None = None

    def __call__(self, participant: Person) -> Addressee:
        """Return the addressee of one participant."""
        if self._token is None:
            self._token = tokens()
        member = self.member(participant.campaign_id, participant.organisation_id)
        return addressee(participant, *member, self._token)

    def member(
        self, campaign_id: int, organisation_id: int
    ) -> tuple[Organisation, Campaign, Membership | None]:
        """Return a member's organisation, campaign and membership, read the first time only."""
        key = (campaign_id, organisation_id)
        if key not in self._members:
            self._members[key] = _member_rows(self.db_session, campaign_id, organisation_id)
        return self._members[key]


def _member_rows(
    db_session: Session, campaign_id: int, organisation_id: int
) -> tuple[Organisation, Campaign, Membership | None]:
    """Read a member's organisation, campaign and membership (None if it has left)."""
    organisation = db_session.get(Organisation, organisation_id)
    campaign = db_session.get(Campaign, campaign_id)
    assert organisation is not None and campaign is not None  # foreign keys
    membership = db_session.scalar(
        select(Membership).where(
            Membership.campaign_id == campaign_id,
            Membership.organisation_id == organisation_id,
        )
    )
    return organisation, campaign, membership


def addressee_of(db_session: Session, participant: Participant) -> Addressee:
    """Return the addressee of one participant, reading their member's rows."""
    return Addressees(db_session)(participant)


def member_sender(db_session: Session, campaign_id: int, organisation_id: int) -> Sender:
    """Return the sender of a member's mail to someone not (yet) its participant: a person
    confirming their enrolment, or one invited back."""
    organisation, _campaign, membership = _member_rows(db_session, campaign_id, organisation_id)
    return sender_of(membership, organisation)
