"""Self-enrolment with double opt-in: a pilot group's signed link, a form, a confirming e-mail.

What the person typed, where from and when waits in a `JoinRequest` row for 7 days; the
confirmation link carries only the row's id and a random secret, signed, so no personal data
travels in a link or a mailbox. Confirming consumes the request. Housekeeping deletes expired
requests and empties their mails, so an unconfirmed request leaves nothing behind after 7 days.
Once the campaign has ended nobody joins it: its links and confirmations are refused.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from campaign.enrolment.consent import source_of
from campaign.enrolment.erasure import drop_requests
from campaign.enrolment.lifecycle import emit_change
from campaign.enrolment.mail import member_sender
from campaign.enrolment.models import ConsentMethod, JoinRequest, Participant, PilotGroup
from campaign.enrolment.people import Newcomer, enrol, self_enrolment_consent
from campaign.network.models import Campaign
from campaign.network.phases import phase_of
from campaign.outbox.mail import Recipient, mail_settings, queue_staff_mail
from campaign.outbox.models import MessageKind
from campaign.outbox.wording import campaign_letter
from campaign.security import TokenError, keyed_hash, sign, unsign

JOIN = "join"
CONFIRM = "join-confirm"
# A group's link works until it is closed or replaced, for at most a year.
LINK_LIFETIME = timedelta(days=365)
CONFIRM_LIFETIME = timedelta(days=7)


class LinkClosed(Exception):
    """The group's self-enrolment link was closed or replaced by a new one."""


class CampaignOver(LinkClosed):
    """The group's campaign has ended: nobody joins it any more."""


class LinkGone(Exception):
    """A confirmation link whose request is gone: erased, purged, or older than an erasure."""


def open_link(group: PilotGroup) -> None:
    """Open the group's self-enrolment link, or replace it: older links stop working."""
    group.enrolment_key = secrets.token_urlsafe(24)


def close_link(group: PilotGroup) -> None:
    """Close the group's self-enrolment link: its links stop working."""
    group.enrolment_key = None


def link_token(group: PilotGroup) -> str:
    """Return the signed token of the group's open link."""
    assert group.enrolment_key, "the link is closed"
    return sign(JOIN, [group.id, group.enrolment_key])


def group_for(db_session: Session, token: str, now: datetime) -> PilotGroup:
    """Return the group of an open link; raise TokenError (bad, expired), LinkClosed or
    CampaignOver."""
    group_id, key = unsign(JOIN, token, int(LINK_LIFETIME.total_seconds()))
    group = db_session.get(PilotGroup, group_id)
    if group is None or not group.enrolment_key or group.enrolment_key != key:
        raise LinkClosed
    return _still_running(db_session, group, now)


def _still_running(db_session: Session, group: PilotGroup, now: datetime) -> PilotGroup:
    """Return the group; raise CampaignOver when its campaign has ended."""
    campaign = db_session.get(Campaign, group.campaign_id)
    if campaign is not None and phase_of(campaign, now).is_over:
        raise CampaignOver
    return group


@dataclass(frozen=True)
class Applicant:
    """What a person typed into the form, and from where."""

    email: str
    name: str
    title: str
    language: str
    client: str  # the IP address the form was sent from
    shown: str  # the language the consent text was shown in


def request_confirmation(
    db_session: Session, group: PilotGroup, applicant: Applicant, now: datetime
) -> JoinRequest | None:
    """Store the request and queue its confirmation mail; None when a mail to this address
    for this group went out within the hour (at most one an hour), and nothing is stored."""
    wish = _join_request(group, applicant, now)
    db_session.add(wish)
    db_session.flush()
    wish.message_id = _queue_confirmation(db_session, group, wish, now)
    if wish.message_id is None:
        db_session.delete(wish)
        db_session.flush()
        return None
    return wish


def _join_request(group: PilotGroup, applicant: Applicant, now: datetime) -> JoinRequest:
    """Return a new request to join the group through its open link, valid for 7 days."""
    assert group.enrolment_key, "the link is closed"
    return JoinRequest(
        campaign_id=group.campaign_id,
        pilot_group_id=group.id,
        group_key=group.enrolment_key,
        secret=secrets.token_urlsafe(24),
        email=applicant.email,
        name=applicant.name,
        title=applicant.title,
        language=applicant.language,
        shown_language=applicant.shown,
        client=applicant.client[:64],
        requested_at=now,
        expires_at=now + CONFIRM_LIFETIME,
    )


def _queue_confirmation(
    db_session: Session, group: PilotGroup, wish: JoinRequest, now: datetime
) -> int | None:
    """Queue the mail whose link confirms the request; None if one went out within the hour."""
    link = _confirmation_link(wish)
    # The person's own words (their name) stay out of the mail: it goes to an address that
    # nobody has confirmed yet, and must not be a way to send anyone a text of one's choice.
    context = {"group": group.name, "organisation": group.organisation.name, "link": link}
    return queue_staff_mail(
        db_session,
        Recipient(
            wish.email,
            wish.language,
            group.organisation_id,
            group.campaign_id,
            sender=member_sender(db_session, group.campaign_id, group.organisation_id),
        ),  # fmt: skip
        campaign_letter(db_session, group.campaign_id, "join-confirmation", wish.language),
        context,
        kind=MessageKind.CONFIRMATION,
        source_key=_confirmation_key(group, wish, now),
        due_at=now,
        now=now,
    )


def _confirmation_link(wish: JoinRequest) -> str:
    """Return the link that confirms the request: its id and secret, signed."""
    return mail_settings().link(f"/join/confirm/{sign(CONFIRM, [wish.id, wish.secret])}")


def _confirmation_key(group: PilotGroup, wish: JoinRequest, now: datetime) -> str:
    """Return the confirmation mail's source key: one mail an hour per address and group (the
    address by a keyed hash, not as it is)."""
    hashed = keyed_hash("join-mail", wish.email)[:32]
    return f"join:{group.id}:{hashed}:{now:%Y%m%d%H}"


def request_for(db_session: Session, token: str, now: datetime) -> JoinRequest:
    """Return the request of a confirmation link, pending or confirmed.

    Raises TokenError for a forged or expired link, and for a link of the old format (which
    carried the person's data; expired since the upgrade), LinkGone when its request is gone.
    """
    payload = unsign(CONFIRM, token, int(CONFIRM_LIFETIME.total_seconds()))
    if not (isinstance(payload, list) and len(payload) == 2):
        raise TokenError(expired=True)
    request_id, secret = payload
    wish = db_session.get(JoinRequest, request_id) if isinstance(request_id, int) else None
    if wish is None or not hmac.compare_digest(wish.secret, str(secret)):
        raise LinkGone
    if wish.expires_at <= now:
        raise TokenError(expired=True)
    return wish


def check_open(db_session: Session, wish: JoinRequest, now: datetime) -> PilotGroup:
    """Return the request's group; raise LinkClosed if its link was closed or replaced since,
    CampaignOver if its campaign has ended."""
    group = db_session.get(PilotGroup, wish.pilot_group_id) if wish.pilot_group_id else None
    if group is None or group.enrolment_key != wish.group_key:
        raise LinkClosed
    return _still_running(db_session, group, now)


def confirm(db_session: Session, wish: JoinRequest, client: str, now: datetime) -> Participant:
    """Enrol the person of a pending request and consume it.

    Raises LinkClosed (or CampaignOver), or EnrolmentConflict (reason `erased` when the address
    was erased after the request was made).
    """
    group = check_open(db_session, wish, now)
    campaign = db_session.get(Campaign, group.campaign_id)
    assert campaign is not None and wish.confirmed_at is None
    text = self_enrolment_consent(wish.shown_language, group.organisation, group, campaign)
    source = _consent_source(wish, client, now)
    person = enrol(
        db_session,
        campaign=campaign,
        group=group,
        newcomer=Newcomer(wish.email, wish.name, wish.title, wish.language),
        consent=(ConsentMethod.SELF_ENROLMENT, source, text),
        now=now,
        asked_at=wish.requested_at,
    )
    _consume(wish, person, now)
    emit_change(db_session, "participant.confirmed", person, now)
    return person


def _consent_source(wish: JoinRequest, client: str, now: datetime) -> str:
    """Say where and when the person asked to join, and where and when they confirmed."""
    return source_of(
        asked_from=wish.client, asked_at=wish.requested_at, confirmed_from=client, confirmed_at=now
    )


def _consume(wish: JoinRequest, person: Participant, now: datetime) -> None:
    """Mark the request confirmed: a second use finds it so; what it held now lives in the
    participant."""
    wish.confirmed_at, wish.participant_id = now, person.id
    wish.email = wish.name = wish.title = wish.client = ""


def forget_expired(db_session: Session, now: datetime) -> int:
    """Delete the requests past their 7 days, with their mails' contents; return how many."""
    return drop_requests(db_session, "expired", JoinRequest.expires_at <= now)
