"""The outbox as staff see it, and the participants' unsubscribe page."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import ColumnElement, CompoundSelect, Select, func, or_, select, union

from campaign import db
from campaign.accounts.scope import Access, access, is_lead_admin, is_operator, scoped
from campaign.drip import pauses
from campaign.enrolment import lifecycle
from campaign.enrolment.models import Participant
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.outbox import handling, queue
from campaign.outbox.disclosure import readable, subject_of
from campaign.outbox.mail import queue_test_mail
from campaign.outbox.models import Disclosure, Message, MessageState, Suppression
from campaign.pages import page_of
from campaign.security import TokenError, mail_preview
from campaign.timing import current_clock

bp = Blueprint("outbox", __name__)
S = TypeVar("S", bound="Select[*tuple[Any, ...]]")  # a select of any columns


def init_app(app: Flask) -> None:
    """Register the views; the unsubscribe link takes RFC 8058 POSTs without a CSRF token."""
    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(unsubscribe_page)
    app.jinja_env.filters["mail_subject"] = lambda message: subject_of(message, _language())


def _language() -> str:
    """Return the language the page is shown in."""
    return str(get_locale() or "sv")


def _here(statement: S) -> S:
    """Restrict a query of messages to those of the campaign the user may see."""
    return scoped(statement, Message.organisation_id, campaign_column=Message.campaign_id)


def _visible(message_id: int) -> Message:
    """Return the message of the campaign with this id, if the user may see it."""
    return db.first_or_404(_here(select(Message).where(Message.id == message_id)))


@bp.get("/outbox")
@access(Access.STAFF)
def index() -> ResponseReturnValue:
    state = request.args.get("state", "")
    return render_template(
        "outbox/index.html",
        page=page_of(db.session(), _listed(state), request.args.get("page")),
        counts=queue.state_counts(db.session(), _own_messages()),
        state=state,
        suppressed=_suppressed_count(),
    )


def _listed(state: str) -> Select[Message]:
    """A query of the messages the user may see, the latest due first, of one state if chosen."""
    statement = _here(select(Message))
    if state in {s.value for s in MessageState}:
        statement = statement.where(Message.state == MessageState(state))
    return statement.order_by(Message.due_at.desc(), Message.id.desc())


def _own_messages() -> ColumnElement[bool]:
    """The condition of the messages the user sees: the campaign's, and only their own
    organisation's unless they are its lead administrator."""
    return Message.id.in_(_here(select(Message.id)))


def _suppressed_count() -> int | None:
    """Return how many of the campaign's addresses are on the suppression list (for its lead
    administrator only)."""
    if not is_lead_admin():
        return None
    return db.session().scalar(_suppressions_here(select(func.count(Suppression.id))))


def _suppressions_here(statement: S) -> S:
    """Restrict a query of suppressions to the campaign's: of addresses it knows or none does."""
    if is_operator(current_user):
        return statement
    here = _addresses([campaign_or_404().id])
    anywhere = _addresses(select(Campaign.id))
    return statement.where(or_(Suppression.email.in_(here), ~Suppression.email.in_(anywhere)))


def _addresses(campaign_ids: Any) -> CompoundSelect[str]:
    """A query of the addresses mailed or enrolled in the campaigns of `campaign_ids` (a list or
    a query of ids)."""
    mailed = select(Message.recipient).where(Message.campaign_id.in_(campaign_ids))
    enrolled = select(Participant.email).where(Participant.campaign_id.in_(campaign_ids))
    return union(mailed, enrolled)


@bp.get("/outbox/<int:message_id>")
@access(Access.STAFF)
def show(message_id: int) -> ResponseReturnValue:
    message = _visible(message_id)
    return render_template(
        "outbox/show.html",
        message=message,
        content=readable(message, _language()),
        may_change=_may_change(message),
        sender=_sender_of(message),
    )


def _sender_of(message: Message) -> tuple[str, str, str]:
    """Return the From name and address the message goes out with (the name it carries, else
    the configured sender's; always the configured address), and its Reply-To."""
    configured = parseaddr(current_app.config["CAMPAIGN_MAIL_FROM"])
    headers = message.headers or {}
    name = parseaddr(str(headers.get("From", "")))[0] or configured[0]
    return name, configured[1], str(headers.get("Reply-To", ""))


def _may_change(message: Message) -> bool:
    """Whether the user may cancel or resend the message: a mail only its recipient may read
    (a password link, say) is the lead administrator's, so a colleague cannot stop it."""
    return message.kind.disclosure is Disclosure.CONTENT or is_lead_admin()


def _changeable(message_id: int) -> Message:
    """Return the message with this id, if the user may cancel or resend it."""
    message = _visible(message_id)
    if not _may_change(message):
        abort(403)
    return message


@bp.get("/outbox/<int:message_id>/html")
@access(Access.STAFF)
def html(message_id: int) -> Response:
    """The HTML part, for the sandboxed preview frame: inline styles allowed, nothing else."""
    content = readable(_visible(message_id), _language())
    if content is None:  # only its recipient may read it
        abort(404)
    return mail_preview(content.html)


@bp.post("/outbox/<int:message_id>/cancel")
@access(Access.STAFF)
def cancel(message_id: int) -> ResponseReturnValue:
    message = _changeable(message_id)
    answer = f"cancelled by {current_user.email}"  # said in the reader's language: labels.answer
    changed = handling.cancel(db.session(), message, current_user, answer)
    return _after_change(
        message,
        changed,
        _("The message is cancelled."),
        _("The message can no longer be cancelled."),
    )


@bp.post("/outbox/<int:message_id>/retry")
@access(Access.STAFF)
def retry(message_id: int) -> ResponseReturnValue:
    message = _changeable(message_id)
    changed = handling.requeue(db.session(), message, current_user, current_clock().now())
    return _after_change(
        message,
        changed,
        _("The message will be sent again."),
        _("Only failed or cancelled messages can be sent again."),
    )


def _after_change(message: Message, changed: bool, done: str, refused: str) -> ResponseReturnValue:
    """Commit a change that was made, say whether it was, and go back to the message."""
    if changed:
        db.session().commit()
    flash(done if changed else refused, "success" if changed else "error")
    return redirect(url_for("outbox.show", message_id=message.id))


@bp.post("/outbox/test")
@access(Access.STAFF)
def send_test() -> ResponseReturnValue:
    here = campaign_or_404()
    queue_test_mail(
        db.session(), current_user, current_clock().now(), here.id, ZoneInfo(here.timezone)
    )
    db.session().commit()
    flash(_("A test e-mail to %(email)s is queued.", email=current_user.email), "success")
    return redirect(url_for("outbox.index"))


@bp.get("/outbox/suppressions")
@access(Access.LEAD_ADMIN)
def suppressions() -> ResponseReturnValue:
    query = _suppressions_here(select(Suppression).order_by(Suppression.created_at.desc()))
    rows = db.session().scalars(query)
    return render_template("outbox/suppressions.html", suppressions=list(rows))


@bp.post("/outbox/suppressions/<int:suppression_id>/delete")
@access(Access.LEAD_ADMIN)
def delete_suppression(suppression_id: int) -> ResponseReturnValue:
    query = _suppressions_here(select(Suppression).where(Suppression.id == suppression_id))
    suppression = db.first_or_404(query)
    handling.lift(db.session(), suppression, current_user)
    db.session().commit()
    flash(_("%(email)s may receive mail again.", email=suppression.email), "success")
    return redirect(url_for("outbox.suppressions"))


@bp.route("/u/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """GET shows buttons; POST acts: RFC 8058 one-click, or a button of the page."""
    try:
        participant = lifecycle.participant_for(db.session(), token)
    except TokenError as error:
        return token_error(error)
    if participant is None:
        return link_error(_("We have no data about you."), 410)
    if request.method == "POST":
        if request.form.get("List-Unsubscribe") == "One-Click":
            return _one_click(participant)
        _act(participant, request.form.get("action"))
        db.session().commit()
    with force_locale(participant.language):
        return render_template(
            "outbox/unsubscribe.html",
            participant=participant,
            token=token,
            done=request.method == "POST",
        )


def link_error(text: str, status: int) -> ResponseReturnValue:
    """The page of a participant's link that leads nowhere, saying why."""
    return render_template("outbox/link_error.html", text=text), status


def token_error(error: TokenError) -> ResponseReturnValue:
    """The page of a signed link that has expired or is not valid."""
    text = _("This link has expired.") if error.expired else _("This link is not valid.")
    return link_error(text, 400)


def _one_click(participant: Participant) -> ResponseReturnValue:
    """Unsubscribe at a mail client's RFC 8058 request; the answer is for a machine."""
    now = current_clock().now()
    lifecycle.unsubscribe(db.session(), participant, now, how="one-click (RFC 8058)")
    db.session().commit()
    return Response("unsubscribed\n", mimetype="text/plain")


def _act(participant: Participant, action: str | None) -> None:
    """Do what the page's button asks: unsubscribe, pause or resume; a 400 for anything else."""
    session, now = db.session(), current_clock().now()
    if action == "unsubscribe":
        lifecycle.unsubscribe(session, participant, now, how="unsubscribe page")
    elif action == "pause":
        lifecycle.pause(session, participant, now)
    elif action == "resume":
        pauses.resume(session, participant, now)
    else:
        abort(400)
