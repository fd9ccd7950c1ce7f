"""Self-enrolment with double opt-in: a pilot group's signed link, a form, a confirming e-mail.

Nothing about the person is stored until they confirm: the confirmation link itself carries,
signed, what they typed, where from and when, so an address typed by somebody else is never
enrolled, and an unconfirmed request leaves nothing behind but the confirmation mail.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from campaign.enrolment.models import ConsentMethod, Participant, PilotGroup
from campaign.enrolment.people import enrol, self_enrolment_consent
from campaign.i18n import load_catalog
from campaign.network.models import Campaign
from campaign.outbox.compose import Footer, render
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import enqueue
from campaign.security import sign, unsign

JOIN = "join"
CONFIRM = "join-confirm"
# A group's link works until it is closed or replaced, for at most a year.
LINK_LIFETIME = timedelta(days=365)
CONFIRM_LIFETIME = timedelta(days=7)


class LinkClosed(Exception):
    """The group's self-enrolment link was closed or replaced by a new one."""


def open_link(group: PilotGroup) -> None:
    """Open the group's self-enrolment link, or replace it: older links stop working."""
    group.enrolment_key = secrets.token_urlsafe(24)


def close_link(group: PilotGroup) -> None:
    group.enrolment_key = None


def link_token(group: PilotGroup) -> str:
    assert group.enrolment_key, "the link is closed"
    return sign(JOIN, [group.id, group.enrolment_key])


def group_for(db_session: Session, token: str) -> PilotGroup:
    """Return the group of an open link; raise TokenError (bad, expired) or LinkClosed."""
    group_id, key = unsign(JOIN, token, int(LINK_LIFETIME.total_seconds()))
    group = db_session.get(PilotGroup, group_id)
    if group is None or not group.enrolment_key or group.enrolment_key != key:
        raise LinkClosed
    return group


@dataclass(frozen=True)
class Request:
    """What a person typed into the form, and from where; carried by the confirmation link."""

    group_id: int
    key: str
    email: str
    name: str
    title: str
    language: str
    address: str  # the IP address the form was sent from
    at: str  # ISO instant the form was sent
    shown: str  # the language the consent text was shown in

    def payload(self) -> list[Any]:
        return [
            self.group_id, self.key, self.email, self.name, self.title,
            self.language, self.address, self.at, self.shown,
        ]  # fmt: skip


def request_confirmation(
    db_session: Session, request: Request, now: datetime, *, base_url: str, sender: str
) -> int | None:
    """Queue the confirmation mail (at most one an hour per address and group)."""
    token = sign(CONFIRM, request.payload())
    link = f"{base_url.rstrip('/')}/join/confirm/{token}"
    _ = load_catalog(request.language).gettext
    group = db_session.get(PilotGroup, request.group_id)
    assert group is not None
    # The person's own words (their name) stay out of the mail: it goes to an address that
    # nobody has confirmed yet, and must not be a way to send anyone a text of one's choice.
    body = _(
        "Hello,\n\nsomeone, probably you, asked to join the pilot group **{{ group }}** of"
        " {{ organisation }} with this e-mail address.\n\nTo confirm, open this link within"
        " 7 days and press the button:\n\n{{ link }}\n\nIf it was not you, do nothing: you"
        " will not be enrolled and get no more e-mail from us."
    )
    rendered = render(
        _("Confirm that you want to join the pilot group"),
        body,
        {"group": group.name, "organisation": group.organisation.name, "link": link},
        language=request.language,
        footer=Footer(_("You receive this because your address was entered in our form.")),
    )
    return enqueue(
        db_session,
        source_key=f"join:{group.id}:{request.email}:{now:%Y%m%d%H}",
        recipient=request.email,
        kind=MessageKind.CONFIRMATION,
        rendered=rendered,
        due_at=now,
        sender=sender,
        campaign_id=group.campaign_id,
        organisation_id=group.organisation_id,
    )


def request_for(token: str) -> Request:
    """Return the request a confirmation link carries; raise TokenError if bad or expired."""
    return Request(*unsign(CONFIRM, token, int(CONFIRM_LIFETIME.total_seconds())))


def confirm(db_session: Session, request: Request, address: str, now: datetime) -> Participant:
    """Enrol the person of a confirmed request; raise LinkClosed or EnrolmentConflict."""
    group = db_session.get(PilotGroup, request.group_id)
    if group is None or group.enrolment_key != request.key:
        raise LinkClosed
    campaign = db_session.get(Campaign, group.campaign_id)
    assert campaign is not None
    source = (
        f"self-enrolment form sent from {request.address} at {request.at};"
        f" confirmed by the e-mail link from {address} at {now.isoformat()}"
    )
    text = self_enrolment_consent(request.shown, group.organisation, group, campaign)
    return enrol(
        db_session,
        campaign=campaign,
        group=group,
        email=request.email,
        name=request.name,
        title=request.title,
        language=request.language,
        consent=(ConsentMethod.SELF_ENROLMENT, source, text),
        now=now,
    )
