"""The announcements of a campaign: the list (a representative sees their own), the form that
counts, previews, tests and sends, and an announcement's page with its cancel button."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms.fields import SelectChoice

from campaign import db
from campaign.accounts.models import Role, User
from campaign.accounts.scope import Access, access, scoped
from campaign.announcements import letters, sending
from campaign.announcements.choices import offer
from campaign.announcements.forms import AnnouncementForm
from campaign.announcements.letters import Person
from campaign.announcements.models import Announcement
from campaign.announcements.segments import Segment, left_out, reach, reached_people
from campaign.enrolment.models import Participant, PilotGroup
from campaign.network.models import Membership, Organisation
from campaign.network.phases import end_moment
from campaign.outbox.compose import Rendered
from campaign.outbox.models import MessageState
from campaign.pages import page_of
from campaign.timing import current_clock

bp = Blueprint("announcements", __name__)


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)


def _own() -> int | None:
    """The member a representative's announcements are limited to; None for the lead admin."""
    return None if g.role is Role.LEAD_ADMIN else current_user.organisation_id


def _visible(announcement_id: int) -> Announcement:
    """Return the campaign's announcement with this id, if the user may see it."""
    statement = select(Announcement).where(
        Announcement.id == announcement_id, Announcement.campaign_id == g.campaign.id
    )
    return db.first_or_404(scoped(statement, Announcement.organisation_id))


@bp.get("/announcements")
@access(Access.STAFF)
def index() -> ResponseReturnValue:
    statement = scoped(
        select(Announcement).where(Announcement.campaign_id == g.campaign.id),
        Announcement.organisation_id,
    ).order_by(Announcement.created_at.desc(), Announcement.id.desc())
    page = page_of(db.session(), statement, request.args.get("page"))
    found = {a.id: sending.counts(db.session(), a) for a in page.items}
    return render_template(
        "announcements/index.html",
        page=page,
        counts=found,
        shown=sending.shown_state,
        MessageState=MessageState,
    )


@bp.get("/announcements/<int:announcement_id>")
@access(Access.STAFF)
def show(announcement_id: int) -> ResponseReturnValue:
    announcement = _visible(announcement_id)
    found = sending.counts(db.session(), announcement)
    return render_template(
        "announcements/show.html",
        announcement=announcement,
        counts=found,
        state=sending.shown_state(announcement, found),
        may_cancel=sending.may_cancel(announcement, found),
        author=db.session().get(User, announcement.author_id) if announcement.author_id else None,
        previews=_samples(announcement),
    )


def _samples(announcement: Announcement) -> list[tuple[str, Rendered]]:
    """The announcement in each language it was written in, with sample values (its
    placeholders filled, its links the sample's)."""
    texts = announcement.texts
    return [(language, letters.preview(texts, None, language)) for language in texts.written()]


@bp.post("/announcements/<int:announcement_id>/cancel")
@access(Access.STAFF)
def cancel(announcement_id: int) -> ResponseReturnValue:
    announcement = _visible(announcement_id)
    if not sending.may_cancel(announcement, sending.counts(db.session(), announcement)):
        flash(_("This announcement has already gone out; it can no longer be cancelled."), "error")
    else:
        stopped = sending.cancel(db.session(), announcement, current_user, current_clock().now())
        db.session().commit()
        flash(
            _(
                "The announcement is cancelled; %(n)s e-mails were stopped.",
                n=format_number(stopped),
            ),
            "success",
        )
    return redirect(url_for("announcements.show", announcement_id=announcement.id))


@bp.route("/announcements/new", methods=["GET", "POST"])
@access(Access.STAFF)
def new() -> ResponseReturnValue:
    form = AnnouncementForm()
    offer(db.session(), form, g.campaign, _own())
    if request.method == "GET":
        form.form_key.data = uuid.uuid4().hex
    elif form.validate() and form.checked_texts():
        if "send" in request.form:
            return _send(form)
        if "test" in request.form:
            _test(form)
    return _form_page(form)


@dataclass(frozen=True)
class Preview:
    """The form's preview: as whom, and the mail (or why it cannot be shown)."""

    person: Participant | None
    rendered: Rendered | None


def _form_page(form: AnnouncementForm) -> ResponseReturnValue:
    """Render the form with the segment's counts and a preview of the mail."""
    segment = _segment(form)
    candidates = _candidates(segment)
    form.preview_as.choices = [SelectChoice(p.id, f"{p.name} <{p.email}>") for p in candidates]
    return render_template(
        "announcements/form.html",
        form=form,
        own=_own() and db.session().get(Organisation, _own()),
        reach=reach(db.session(), g.campaign.id, segment),
        left_out=left_out(db.session(), g.campaign.id, segment),
        preview=_preview(form, candidates),
        errors=[(f, e) for f in form for e in f.errors],
    )


def _segment(form: AnnouncementForm) -> Segment:
    """The segment the form describes, within the representative's member; the whole campaign
    while the criteria are not valid."""
    criteria = ("organisations", "groups", "statuses", "attended", "absent", "answered",
                "unanswered", "started_after", "started_before")  # fmt: skip
    segment = Segment() if any(form[n].errors for n in criteria) else form.segment()
    own = _own()
    return segment if own is None else segment.within(own)


def _preview(form: AnnouncementForm, candidates: list[Participant]) -> Preview | None:
    """Render the mail as the person chosen (else the first the segment reaches); None while
    nothing is written, or what is written is wrong."""
    written = [
        name for name in ("subject_sv", "body_sv", "subject_en", "body_en") if form[name].data
    ]
    if not written or any(form[name].errors for name in written):
        return None
    participant = _as_whom(form, candidates)
    person = _person(participant) if participant else None
    return Preview(participant, letters.preview(form.texts(), person, current_user.language))


def _as_whom(form: AnnouncementForm, candidates: list[Participant]) -> Participant | None:
    """Return the person to preview as: the one chosen, else the first the segment reaches."""
    chosen = next((p for p in candidates if p.id == form.preview_as.data), None)
    return chosen or (candidates[0] if candidates else None)


def _candidates(segment: Segment) -> list[Participant]:
    """Return the first people the segment reaches, to preview as."""
    return list(db.session().scalars(reached_people(g.campaign.id, segment)))


def _person(participant: Participant) -> Person:
    """Return a participant with the rows their mail names."""
    membership = (
        db.session()
        .scalars(
            select(Membership).where(
                Membership.campaign_id == participant.campaign_id,
                Membership.organisation_id == participant.organisation_id,
            )
        )
        .one()
    )
    group = (
        db.session().get(PilotGroup, participant.pilot_group_id)
        if participant.pilot_group_id
        else None
    )
    organisation = db.session().get(Organisation, participant.organisation_id)
    assert organisation is not None  # a foreign key
    return Person(participant, group, membership, organisation, g.campaign)


def _test(form: AnnouncementForm) -> None:
    """Queue the preview to the signed-in user."""
    participant = _as_whom(form, _candidates(_segment(form)))
    person = _person(participant) if participant else None
    now = current_clock().now()
    letters.queue_test(
        db.session(), form.texts(), person, current_user, campaign_id=g.campaign.id, now=now
    )
    db.session().commit()
    flash(
        _("A test of the announcement is queued to %(email)s.", email=current_user.email), "success"
    )


def _send(form: AnnouncementForm) -> ResponseReturnValue:
    """Record the announcement (queue it if it is due and small) and show it."""
    now = current_clock().now()
    send_at = form.send_at(ZoneInfo(g.campaign.timezone), now)
    if send_at is not None and send_at >= end_moment(g.campaign):
        ended = _("The campaign has ended by then: its participants get no more mail.")
        form.send_day.errors = [*form.send_day.errors, ended]
        send_at = None
    if send_at is None:
        return _form_page(form)
    draft = sending.Draft(
        g.campaign,
        _own(),
        form.segment(),
        form.texts(),
        send_at,
        form.key(),
    )
    announcement = _announced(draft, now)
    flash(_sent_text(announcement, now), "success")
    return redirect(url_for("announcements.show", announcement_id=announcement.id))


def _announced(draft: sending.Draft, now: Any) -> Announcement:
    """Record the announcement; the same form sent twice at once finds the first one's row."""
    try:
        announcement = sending.announce(db.session(), draft, current_user, now)
        db.session().commit()
    except IntegrityError:
        db.session().rollback()
        found = select(Announcement).where(Announcement.form_key == draft.form_key)
        announcement = db.session().scalars(found).one()
    return announcement


def _sent_text(announcement: Announcement, now: Any) -> str:
    """Say what happens to the announcement now."""
    n = format_number(announcement.reached)
    if announcement.send_at > now:
        return _("The announcement to %(n)s people is scheduled.", n=n)
    return _("The announcement to %(n)s people is on its way.", n=n)
