"""Inviting a meeting's audience, and how far its calendar mail has come (a large audience is
mailed by the `invitations` job, a batch at a time, while the meeting's page shows the progress)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.events import fanout, meetings
from campaign.events.models import Event, Fanout, FanoutKind, FanoutState
from campaign.events.views.base import bp, changeable_or_403, event_or_404, may_change
from campaign.timing import current_clock


def mailing_text(mailing: Fanout) -> str:
    """Say how far an event's calendar mail has come: "412 of 10,000 invitations are queued"."""
    done, total = format_number(mailing.done), format_number(mailing.total)
    if mailing.state is not FanoutState.DONE:
        return {
            FanoutKind.INVITATION: _("%(done)s of %(total)s invitations are queued."),
            FanoutKind.UPDATE: _("%(done)s of %(total)s notices of the change are queued."),
            FanoutKind.CANCEL: _("%(done)s of %(total)s notices of the cancellation are queued."),
        }[mailing.kind] % {"done": done, "total": total}
    return _all_queued(mailing.kind, mailing.done, done)


def _all_queued(kind: FanoutKind, n: int, count: str) -> str:
    """Say that all `n` mails of a finished fan-out are queued (`count`: n, formatted)."""
    if kind is FanoutKind.UPDATE:
        return ngettext(
            "%(count)s notice of the change is queued.",
            "All %(count)s notices of the change are queued.",
            n,
            count=count,
        )
    if kind is FanoutKind.CANCEL:
        return ngettext(
            "%(count)s notice of the cancellation is queued.",
            "All %(count)s notices of the cancellation are queued.",
            n,
            count=count,
        )
    return ngettext(
        "%(count)s invitation is queued.", "All %(count)s invitations are queued.", n, count=count
    )


@bp.post("/organisations/<org>/events/<int:event_id>/invite")
@access(Access.ORGANISATION)
def invite(event_id: int) -> ResponseReturnValue:
    """Invite the audience; a large one is mailed by the `invitations` job while the page shows
    how far it has come."""
    event = changeable_or_403(event_id)
    count = meetings.invite(db.session(), event, current_clock().now(), current_user)
    db.session().commit()
    flash(_invited_text(event, count), "success")
    return redirect(url_for("events.show", org=g.organisation.slug, event_id=event.id))


def _invited_text(event: Event, count: int) -> str:
    """Say how many are invited, and whether their invitations are still being queued."""
    mailing = fanout.latest(db.session(), event)
    if mailing is not None and mailing.state is not FanoutState.DONE:
        return _(
            "%(n)s people are invited; their invitations are being queued.",
            n=format_number(count),
        )
    return _("%(n)d invitations are on their way.", n=count)


@bp.get("/organisations/<org>/events/<int:event_id>/mailing.json")
@access(Access.ORGANISATION)
def mailing_progress(event_id: int) -> ResponseReturnValue:
    """How far the event's calendar mail has come, for the progress bar's script."""
    event = event_or_404(event_id)
    if not may_change(event):  # the network's mailing is the lead administrator's to follow
        abort(404)
    return _progress(fanout.latest(db.session(), event))


def _progress(mailing: Fanout | None) -> dict[str, Any]:
    """Return the state of a fan-out as the script reads it (none yet: finished)."""
    if mailing is None:
        return {"state": "none", "done": 0, "total": 0, "text": "", "finished": True}
    return {
        "state": mailing.state.value,
        "done": mailing.done,
        "total": mailing.total,
        "text": mailing_text(mailing),
        "finished": mailing.state is FanoutState.DONE,
    }
