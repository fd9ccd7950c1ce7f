"""One step of a campaign's sequence in a form: its timing, conditions and both languages'
texts, with the checker's problems beside their fields and a preview of the unsaved text.

The form's buttons: Save (a new version, if the checker finds nothing), Preview (the page again
with the form's text rendered, nothing saved) and Send me a test (the form's text mailed to the
editor in both languages). All work without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup

from campaign import db, labels
from campaign.accounts.scope import Access, access
from campaign.drip import frames, stored
from campaign.drip.conditions import milestone_of
from campaign.drip.editing import Draft, Slot, draft_of, new_slot, slot_of, with_draft
from campaign.drip.files import LANGUAGES
from campaign.drip.forms import Offered, StepForm
from campaign.drip.materialize import Enrolled
from campaign.drip.offered import offered
from campaign.drip.placing import Placed, placed
from campaign.drip.saving import save_change
from campaign.drip.views.base import bp, copy_or_404, saved_message
from campaign.drip.views.previewing import enrolled_with, queue_test, try_rendered
from campaign.outbox.compose import Rendered
from campaign.security import mail_preview
from campaign.timing import QUIET_HOURS, current_clock


@dataclass(frozen=True)
class Preview:
    """One language's preview: the rendered mail (or why it fails) and its frame's address."""

    language: str
    mail: Rendered | None
    error: Exception | None
    frame: str | None


@bp.route("/sequences/<name>/steps/<ident>", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def edit_step(name: str, ident: str) -> ResponseReturnValue:
    copy = copy_or_404(name)
    slot = slot_of(copy.files, ident)
    if slot is None:
        abort(404)
    return _step_page(copy, slot, draft_of(copy.files, slot))


@bp.route("/sequences/<name>/new-step", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def new_step(name: str) -> ResponseReturnValue:
    copy = copy_or_404(name)
    return _step_page(copy, None, Draft(subjects={}, bodies={}))


def _step_page(copy: stored.Stored, slot: Slot | None, before: Draft) -> ResponseReturnValue:
    """Show the step's form, or act on the button pressed."""
    form = StepForm()
    anchors, conditions = offered(db.session(), g.campaign.id)
    form.offer(before, Offered(anchors, conditions, _said))
    if request.method == "GET":
        form.fill(before)
        return _page(form, copy, slot, before, [])
    draft = form.draft(before)
    target = slot or _new_place(copy, draft)
    if target is None:
        flash(_("A sequence has at most 99 steps."), "error")
        return _page(form, copy, slot, draft, [])
    return _posted(form, copy, target, draft, is_new=slot is None)


def _said(text: str) -> str:
    """Say an anchor or a condition of the campaign in the words of the request's language."""
    milestone = milestone_of(text)
    if milestone is not None:
        return _(
            "the milestone %(name)s (the member's own date, else the campaign's)", name=milestone
        )
    return labels.condition(text)


def _new_place(copy: stored.Stored, draft: Draft) -> Slot | None:
    """Return the place of a new last step, with a key no version has used."""
    ident = stored.fresh_ident(db.session(), g.campaign.id, copy.name)
    return new_slot(copy.files, ident, draft.subjects.get("sv", ""))


def _posted(
    form: StepForm, copy: stored.Stored, slot: Slot, draft: Draft, *, is_new: bool
) -> ResponseReturnValue:
    """Check the form's files; save them, mail a test, or show the page with the preview."""
    files = with_draft(copy.files, slot, draft)
    problems = stored.problems_of(db.session(), g.campaign.id, copy.name, files)
    found = placed(problems, copy.name, slot.name, files)
    valid = form.validate()
    action = request.form.get("action", "save")
    if action == "save" and valid and not found:
        return _save(copy.name, slot, files, is_new=is_new)
    if action == "test" and valid:
        _test(copy.name, draft, slot, form)
    _show_beside(form, found)
    return _page(form, copy, None if is_new else slot, draft, found)


def _save(name: str, slot: Slot, files: dict[str, str], *, is_new: bool) -> ResponseReturnValue:
    """Keep the files as a new version; say so, and how many participants are re-planned."""
    note = f"{'add' if is_new else 'edit'}:{slot.ident}"
    try:
        saved = save_change(db.session(), g.campaign.id, name, files, author=current_user,
                            note=note, now=current_clock().now())  # fmt: skip
    except stored.Unsaved:  # another editor saved in between; the page shows what stands
        return redirect(request.full_path)
    db.session().commit()
    flash(saved_message(saved), "success" if saved.number else "info")
    return redirect(url_for("drip.edit_step", name=name, ident=slot.ident))


def _test(name: str, draft: Draft, slot: Slot, form: StepForm) -> None:
    """Mail the form's step, in both languages, to the editor."""
    person = _person(form)
    for language in LANGUAGES:
        subject, body = draft.subjects[language], draft.bodies[language]
        mail, _error = try_rendered(subject, body, language, person)
        if mail is None:
            flash(_("The step cannot be rendered, so no test was sent."), "error")
            return
        queue_test(mail, f"{name}/{slot.ident}", language)
    db.session().commit()
    count = len(LANGUAGES)
    flash(ngettext("%(num)d test e-mail is queued to %(email)s.",
                   "%(num)d test e-mails are queued to %(email)s.", count,
                   email=current_user.email), "success")  # fmt: skip


def _show_beside(form: StepForm, found: list[Placed]) -> None:
    """Add each placed problem to its field's errors, with its line."""
    for problem in found:
        if problem.field is not None and problem.field in form:
            field = form[problem.field]
            field.errors = [*field.errors, _with_line(problem)]


def _with_line(problem: Placed) -> Markup:
    """Return a problem with where it is: the line of the text, or of the file."""
    if problem.body_line is not None:
        return Markup(_("Line %(line)d of the text: %(problem)s", line=problem.body_line,
                        problem=problem.message))  # fmt: skip
    return Markup(_("Line %(line)d of %(file)s: %(problem)s", line=problem.line,
                    file=problem.file, problem=problem.message))  # fmt: skip


def _page(
    form: StepForm, copy: stored.Stored, slot: Slot | None, draft: Draft, found: list[Placed]
) -> ResponseReturnValue:
    person = _person(form)
    return render_template(
        "drip/step_form.html",
        form=form,
        name=copy.name,
        slot=slot,
        elsewhere=[p for p in found if p.field is None],
        previews=[_preview(copy.name, draft, language, person) for language in LANGUAGES],
        person=person,
        quiet=QUIET_HOURS,
    )


def _person(form: StepForm) -> Enrolled | None:
    """Return the participant the form asks the preview for, noting it when there is none."""
    email = (form.participant.data or "").strip()
    if not email:
        return None
    person = enrolled_with(email)
    if person is None and not form.participant.errors:
        form.participant.errors = [_("No active participant in a pilot group with a sequence "
                                     "has this address.")]  # fmt: skip
    return person


def _preview(name: str, draft: Draft, language: str, person: Enrolled | None) -> Preview:
    """Render the draft in one language and keep its HTML for the preview's frame."""
    subject, body = draft.subjects.get(language, ""), draft.bodies.get(language, "")
    mail, error = try_rendered(subject, body, language, person)
    frame = None
    if mail is not None:
        kept = frames.keep(_folder(), _secret(), current_user.id, mail.html)
        frame = url_for("drip.draft_frame", name=name, frame=kept)
    return Preview(language, mail, error, frame)


def _folder() -> Path:
    """Return where unsaved previews are kept."""
    return Path(current_app.instance_path) / "preview-frames"


@bp.get("/sequences/<name>/frames/<frame>")
@access(Access.LEAD_ADMIN)
def draft_frame(name: str, frame: str) -> ResponseReturnValue:
    """The HTML of an unsaved step's preview, for the sandboxed frame."""
    html = frames.kept(_folder(), _secret(), current_user.id, frame)
    if html is None:
        return mail_preview(str(Markup("<p>{}</p>").format(
            _("This preview is no longer kept: press Preview again."))))  # fmt: skip
    return mail_preview(html)


def _secret() -> str:
    """Return the app's secret, which names the kept previews."""
    return str(current_app.config["SECRET_KEY"])
