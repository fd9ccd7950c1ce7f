"""A member's own wording in the sequence steps: the steps that mark places, each with the
shared text (read-only, its places marked), a form per place and language, and a preview of
the whole step as one of the member's participants or with sample data."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
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
from markupsafe import Markup, escape
from sqlalchemy import select

from campaign import db
from campaign.accounts.scope import Access, access, of_member
from campaign.drip import local
from campaign.drip.files import Step
from campaign.drip.materialize import Enrolled, context_for, enrolled
from campaign.drip.places import Places
from campaign.drip.samples import sample_context
from campaign.drip.stored import copies
from campaign.enrolment.mail import sender_of
from campaign.enrolment.models import Participant
from campaign.i18n import LANGUAGES, load_catalog
from campaign.network import members
from campaign.network.models import Membership
from campaign.outbox.compose import (
    BLANK_LINES,
    Footer,
    Rendered,
    content_template,
    render,
    render_subject,
)
from campaign.security import mail_preview
from campaign.timing import current_clock
from campaign.wording.forms import ParagraphForm

bp = Blueprint("wording", __name__)
SHOWN = "\u2063{}\u2063"  # a place in the shared text, found again after rendering


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)


def _membership() -> Membership:
    """Return the URL's member's membership of the URL's campaign."""
    return members.membership_of(db.session(), g.campaign, g.organisation)


def _marked_steps() -> list[local.Marked]:
    """Return the steps of the campaign's sequences that mark places."""
    found = copies(db.session(), g.campaign.id).values()
    return [marked for copy in found for marked in local.marked_steps(copy.sequence)]


def _marked_or_404(name: str, ident: str) -> local.Marked:
    """Return the step of sequence `name` with this ident that marks places, or a 404."""
    found = [m for m in _marked_steps() if (m.sequence, m.ident) == (name, ident)]
    if not found:
        abort(404)
    return found[0]


@bp.get("/organisations/<org>/wording")
@access(Access.ORGANISATION)
def steps() -> ResponseReturnValue:
    """The steps that mark places, with how many of their places the member has written."""
    written = local.paragraphs_for(db.session(), [_membership().id])
    counts = {(w.sequence, w.ident): 0 for _m, w in written}
    for _membership_id, where in written:
        counts[(where.sequence, where.ident)] += len(written[(_membership_id, where)])
    return render_template(
        "wording/steps.html",
        organisation=g.organisation,
        marked=_marked_steps(),
        counts=counts,
        subject=_subject,
    )


def _subject(step_: Step) -> str:
    """Return a step's subject filled with sample data (its source when it does not render)."""
    try:
        return render_subject(step_.subject, sample_context(step_.language))
    except Exception:  # the lead's check names the problem
        return step_.subject


@bp.route("/organisations/<org>/wording/<name>/<step_ident>", methods=["GET", "POST"])
@access(Access.ORGANISATION)
def step(name: str, step_ident: str) -> ResponseReturnValue:
    """The member's paragraphs at one step's places: the forms, the shared text, a preview."""
    marked = _marked_or_404(name, step_ident)
    membership = _membership()
    paragraphs = local.member_paragraphs(db.session(), membership.id, marked)
    forms = _forms(marked, paragraphs)
    if request.method == "POST":
        saved = _save(marked, membership, forms)
        if saved is not None:
            return saved
        flash(_("Nothing was saved. Please correct the marked fields."), "error")
    return _page(marked, forms, paragraphs)


def _forms(marked: local.Marked, paragraphs: dict[str, Places]) -> dict[str, ParagraphForm]:
    """Return a form for each place of each language, keyed `<place>-<language>`, filled with
    the member's paragraph (or, for the one posted, what was posted)."""
    forms = {}
    for language, step_ in marked.steps.items():
        for place in local.places_of(step_.body):
            key = f"{place}-{language}"
            form = ParagraphForm(prefix=key, data={"text": paragraphs[language][place]})
            form.text.label.text = _label(place, language)
            forms[key] = form
    return forms


def _label(place: str, language: str) -> Markup:
    """Return the label of a paragraph's field: its place, and its language in that language."""
    return Markup('{} <span lang="{}">({})</span>').format(
        _("Your paragraph at “%(place)s”", place=place), language, LANGUAGES[language]
    )


def _save(
    marked: local.Marked, membership: Membership, forms: dict[str, ParagraphForm]
) -> ResponseReturnValue | None:
    """Save the posted paragraph; return the redirect, or None when the text is refused."""
    key = request.form.get("target", "")
    form = forms.get(key)
    if form is None:  # no such place: nothing to keep
        flash(_("This step has no such place; nothing was saved."), "error")
        return redirect(
            url_for(
                "wording.step",
                org=g.organisation.slug,
                name=marked.sequence,
                step_ident=marked.ident,
            )
        )
    if not form.validate_on_submit():
        return None
    place, _dash, language = key.rpartition("-")
    now = current_clock().now()
    where = marked.where(language)
    if local.save_paragraph(
        db.session(), membership, where, place, form.text.data, current_user, now
    ):
        db.session().commit()
        flash(
            _("Your paragraph is saved.") if form.text.data else _("Your paragraph is removed."),
            "success",
        )
    else:
        flash(_("The paragraph was already so; nothing changed."), "success")
    return redirect(
        url_for(
            "wording.step", org=g.organisation.slug, name=marked.sequence, step_ident=marked.ident
        )
        + f"#{key}"
    )


def _page(
    marked: local.Marked, forms: dict[str, ParagraphForm], paragraphs: dict[str, Places]
) -> ResponseReturnValue:
    """Render the step's page."""
    person, problem = _previewed_person()
    if problem:
        flash(problem, "error")
    return render_template(
        "wording/step.html",
        organisation=g.organisation,
        marked=marked,
        forms=forms,
        languages=[lang for lang in LANGUAGES if lang in marked.steps],
        shared={lang: _shared(s) for lang, s in marked.steps.items()},
        previews={
            lang: _try_preview(s, person, paragraphs[lang]) for lang, s in marked.steps.items()
        },
        person=person,
        subject=_subject,
        places=local.places_of,
    )


def _shared(step_: Step) -> Markup:
    """Return the shared text of a step filled with sample data, its places marked."""
    places = local.places_of(step_.body)
    context = sample_context(step_.language) | {
        "local": Places({p: SHOWN.format(p) for p in places})
    }
    try:
        text = str(escape(_body(step_, context)))
    except Exception:  # a broken step is shown as its source (the lead's check names it)
        return escape(step_.body)
    for place in places:
        mark = Markup('<mark class="local-place">{}</mark>').format(
            _("Your paragraph: %(place)s", place=place)
        )
        text = text.replace(str(escape(SHOWN.format(place))), str(mark))
    return Markup(text)  # noqa: S704 - escaped just above, the marks are ours


def _body(step_: Step, context: dict[str, Any]) -> str:
    """Return a step's body filled in, as Markdown (the plain text of the mail)."""
    return BLANK_LINES.sub("\n\n", content_template(step_.body).render(context).strip())


def _try_preview(step_: Step, person: Enrolled | None, places: Places) -> Rendered | str:
    """Render the step as the person (or the sample) gets it; a sentence when it cannot be."""
    try:
        return _preview(step_, person, places)
    except Exception as error:  # shown as broken, never as a 500
        return _("This step cannot be rendered: %(why)s", why=error)


def _preview(step_: Step, person: Enrolled | None, places: Places) -> Rendered:
    """Render a step with the member's paragraphs, as `person` or the sample would get it."""
    sample = sample_context(step_.language)
    context = sample | {"local": places}
    if person is not None:
        context = context_for(person, sample["links"]["unsubscribe"], None, places)
        context.setdefault("next_event", sample["next_event"])
    reason = load_catalog(step_.language).gettext("This is a preview.")
    logo = sender_of(_membership(), g.organisation).logo
    footer = Footer(reason, sample["links"]["unsubscribe"], logo=logo)
    return render(step_.subject, step_.body, context, language=step_.language, footer=footer)


def _previewed_person() -> tuple[Enrolled | None, str | None]:
    """Return the member's participant named by ?participant=<e-mail>, or why there is none."""
    email = (request.args.get("participant") or "").strip().lower()
    if not email:
        return None, None
    query = select(Participant.id).where(of_member(Participant), Participant.email == email)
    found = db.session().scalar(query)
    people = enrolled(db.session(), found) if found else []
    if not people:
        return None, _("None of your active participants in a pilot group has this address.")
    return people[0], None


@bp.get("/organisations/<org>/wording/<name>/<step_ident>/<language>/html")
@access(Access.ORGANISATION)
def preview_html(name: str, step_ident: str, language: str) -> Response:
    """The HTML of the step's preview in one language, for the sandboxed frame."""
    marked = _marked_or_404(name, step_ident)
    if language not in marked.steps:
        abort(404)
    paragraphs = local.member_paragraphs(db.session(), _membership().id, marked)
    person, _problem = _previewed_person()
    found = _try_preview(marked.steps[language], person, paragraphs[language])
    if isinstance(found, str):
        return mail_preview(str(escape(found)))
    return mail_preview(found.html)
