"""The sequences in the web UI: each as a timeline, each step previewed, a test to oneself."""

from __future__ import annotations

from email.utils import parseaddr

from flask import (
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import Access, access, of_member
from campaign.drip.fallbacks import step_warnings
from campaign.drip.files import CONDITIONS, LANGUAGES, Sequence, Step
from campaign.drip.materialize import Enrolled
from campaign.drip.models import SequenceVersion
from campaign.drip.schedule import plans_for
from campaign.drip.stored import Stored, copies, version
from campaign.drip.subjects import Subjects
from campaign.drip.views.base import bp
from campaign.drip.views.previewing import (
    enrolled_with,
    queue_test,
    rendered,
    sample_subject,
    sender,
)
from campaign.enrolment.models import Participant
from campaign.outbox.compose import Rendered
from campaign.security import mail_preview
from campaign.timing import QUIET_HOURS, current_clock


def _step(name: str, language: str, number: str) -> Step:
    """Return the step with this number, in this language of sequence `name`, or a 404."""
    found = next((s for s in _steps_of(name, language) if s.number == number), None)
    if found is None:
        abort(404)
    return found


def _steps_of(name: str, language: str) -> list[Step]:
    """Return the steps of the campaign's sequence `name` in `language` (none if there is no
    such sequence)."""
    copies = _copies()
    return copies[name].sequence.steps.get(language, []) if name in copies else []


def _copies() -> dict[str, Stored]:
    """Return the campaign's current copy of each sequence (the shipped files until saved)."""
    return copies(db.session(), g.campaign.id)


def _preview(step: Step, person: Enrolled | None = None) -> Rendered:
    """Render a step with sample data, or as `person` would get it."""
    return rendered(step.subject, step.body, step.language, person, step)


def _previewed_person() -> tuple[Enrolled | None, str | None]:
    """Return the participant named by ?participant=<e-mail>, or why there is none."""
    email = (request.args.get("participant") or "").strip().lower()
    if not email:
        return None, None
    person = enrolled_with(email)
    if person is None:
        return None, _("No active participant in a pilot group with a sequence has this address.")
    return person, None


@bp.get("/sequences")
@access(Access.LEAD_ADMIN)
def index() -> ResponseReturnValue:
    found = _copies()
    steps = [s for c in found.values() for lang in c.sequence.steps.values() for s in lang]
    return render_template(
        "drip/index.html",
        sequences={name: copy.sequence for name, copy in found.items()},
        problems=[p for copy in found.values() for p in copy.problems],
        count=len(steps),
        warned=sum(len(step_warnings(step)) for step in steps),
    )


@bp.get("/sequences/<name>")
@access(Access.LEAD_ADMIN)
def timeline(name: str) -> ResponseReturnValue:
    found = _copies()
    if name not in found:
        abort(404)
    sequence = found[name].sequence
    return render_template(
        "drip/timeline.html",
        sequence=sequence,
        copy=found[name],
        latest=_latest(found[name]),
        languages=_by_language(sequence),
        problems=found[name].problems,
        conditions=CONDITIONS,
        subject=_sample_subject,
        quiet=QUIET_HOURS,
    )


def _latest(copy: Stored) -> SequenceVersion | None:
    """Return the campaign's current version of the sequence (None: the shipped files)."""
    if copy.number is None:
        return None
    return version(db.session(), g.campaign.id, copy.name, copy.number)


def _by_language(sequence: Sequence) -> list[tuple[str, list[Step]]]:
    """Return the sequence's steps in each of its languages, Swedish first."""
    return [(lang, sequence.steps[lang]) for lang in LANGUAGES if lang in sequence.steps]


def _sample_subject(step: Step) -> str:
    """Return the step's subject filled with sample data (its source when it does not render)."""
    return sample_subject(step.subject, step.language)


@bp.get("/sequences/<name>/<language>/<number>")
@access(Access.LEAD_ADMIN)
def preview(name: str, language: str, number: str) -> ResponseReturnValue:
    step = _step(name, language, number)
    person, problem = _previewed_person()
    if problem:
        flash(problem, "error")
    rendered, error = _try_preview(step, person)
    return render_template(
        "drip/preview.html",
        step=step,
        rendered=rendered,
        error=error,
        person=person,
        sender=sender(person),
        configured=parseaddr(current_app.config["CAMPAIGN_MAIL_FROM"]),
    )


def _try_preview(step: Step, person: Enrolled | None) -> tuple[Rendered | None, Exception | None]:
    """Render the step's preview, or return why it fails: a broken step is shown as broken,
    never as a 500."""
    try:
        return _preview(step, person), None
    except Exception as error:
        return None, error


@bp.get("/sequences/<name>/<language>/<number>/html")
@access(Access.LEAD_ADMIN)
def preview_html(name: str, language: str, number: str) -> Response:
    """The HTML of a step's preview, for the sandboxed frame: inline styles and nothing else."""
    person, _problem = _previewed_person()
    rendered, error = _try_preview(_step(name, language, number), person)
    if rendered is None:  # the page around the frame says why
        return mail_preview(str(escape(_("This step cannot be rendered:")) + " " + escape(error)))
    return mail_preview(rendered.html)


@bp.post("/sequences/<name>/<language>/<number>/test")
@access(Access.LEAD_ADMIN)
def send_test(name: str, language: str, number: str) -> ResponseReturnValue:
    _queue_test(_step(name, language, number))
    db.session().commit()
    flash(_("A test of the step is queued to %(email)s.", email=current_user.email), "success")
    return redirect(url_for("drip.preview", name=name, language=language, number=number))


def _queue_test(step: Step) -> None:
    """Queue the step's preview to the signed-in user, due now."""
    queue_test(_preview(step), step.key, step.language)


@bp.get("/organisations/<org>/progress")
@access(Access.ORGANISATION)
def progress() -> ResponseReturnValue:
    people = _participants_of()
    plans = plans_for(db.session(), people, current_clock().now()) if people else {}
    return render_template(
        "drip/progress.html",
        organisation=g.organisation,
        people=people,
        plans=plans,
        subjects=Subjects(db.session(), g.campaign),
    )


def _participants_of() -> list[Participant]:
    """Return the member's participants in the campaign, by name."""
    query = select(Participant).where(of_member(Participant))
    return list(db.session().scalars(query.order_by(Participant.name, Participant.email)))


@bp.get("/organisations/<org>/participants/<int:participant_id>/schedule")
@access(Access.ORGANISATION)
def schedule(participant_id: int) -> ResponseReturnValue:
    person = _participant_or_404(participant_id)
    planned = plans_for(db.session(), [person], current_clock().now())[person.id]
    return render_template(
        "drip/schedule.html",
        organisation=g.organisation,
        person=person,
        planned=planned,
        subjects=Subjects(db.session(), g.campaign),
    )


def _participant_or_404(participant_id: int) -> Participant:
    """Return the member's participant in the campaign with this id, whatever their status."""
    query = select(Participant).where(Participant.id == participant_id, of_member(Participant))
    return db.first_or_404(query)
