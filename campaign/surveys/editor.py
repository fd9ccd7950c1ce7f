"""Editing a campaign's questionnaires in the web UI (the lead administrator): the wording at any
time, the questions only while nobody has answered (campaign/surveys/stored.py says why and
refuses), a copy as a new version, and a preview of the real answer form in either language,
at full width and in a phone-width frame. Its routes join the surveys blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import AnonymousUserMixin, current_user

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.security import SECURITY_HEADERS
from campaign.surveys import drafts, stored
from campaign.surveys.definitions import LANGUAGES, OUTCOMES, TYPES, DefinitionError
from campaign.surveys.models import Questionnaire
from campaign.surveys.views import asked_or_404, bp, questionnaire_or_404, reader_language
from campaign.timing import current_clock

LOCKED = _l(
    "People have already answered this questionnaire, so its questions can no longer change:"
    " which questions there are, their order, types, options, bounds, whether they are"
    " required and their outcomes. Their wording can. To change the questions, copy the"
    " questionnaire to a new version."
)
OUTDATED = _l(
    "Someone else saved this questionnaire meanwhile. Nothing is saved: open the page again"
    " to see their version."
)


@bp.route("/questionnaires/<int:questionnaire_id>/edit", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def edit(questionnaire_id: int) -> ResponseReturnValue:
    questionnaire = questionnaire_or_404(questionnaire_id)
    saved = drafts.load(stored.text_of(db.session(), questionnaire) or "")
    if request.method == "GET":
        return _page(questionnaire, saved, saved, {})
    draft, problems = drafts.from_form(request.form, saved)
    if not problems:
        problems = _save(questionnaire, draft)
        if not problems:
            return redirect(url_for("surveys.edit", questionnaire_id=questionnaire.id))
    return _page(questionnaire, saved, draft, problems)


def _save(questionnaire: Questionnaire, draft: drafts.Raw) -> dict[str, Any]:
    """Store the draft as the next version and commit; the problems if it cannot be."""
    seen = request.form.get("based_on", "")
    based_on = int(seen) if drafts.COUNT.fullmatch(seen) else None
    try:
        version = stored.save(
            db.session(), questionnaire, drafts.dump(draft), author=current_user,
            now=current_clock().now(), based_on=based_on,
        )  # fmt: skip
    except DefinitionError as error:
        return _refused({error.place: error.problem})
    except stored.Locked:
        return _refused({"": LOCKED})
    except stored.Outdated:
        return _refused({"": OUTDATED})
    db.session().commit()
    if version is None:
        flash(_("Nothing changed."), "success")
    else:
        flash(
            _("The questionnaire is saved as version %(number)s.", number=version.number), "success"
        )
    return {}


def _refused(problems: dict[str, Any]) -> dict[str, Any]:
    db.session().rollback()
    return problems


def _page(
    questionnaire: Questionnaire, saved: drafts.Raw, draft: drafts.Raw, problems: dict[str, Any]
) -> str:
    session = db.session()
    latest = stored.latest(session, questionnaire)
    return render_template(
        "surveys/edit.html",
        questionnaire=questionnaire,
        definition=asked_or_404(questionnaire),
        language=reader_language(),
        draft=draft,
        blocks=drafts.blocks(draft),
        saved_ids={str(q.get("id")) for q in saved.get("questions") or [] if isinstance(q, dict)},
        problems=problems,
        locked=stored.has_answers(session, questionnaire),
        based_on=latest.number if latest else 0,
        versions=stored.versions(session, questionnaire),
        authors=stored.authors(session, questionnaire),
        types=TYPES,
        outcomes=OUTCOMES,
        languages=LANGUAGES,
    )


@bp.get("/questionnaires/<int:questionnaire_id>/definition.yaml")
@access(Access.LEAD_ADMIN)
def download(questionnaire_id: int) -> ResponseReturnValue:
    """The questionnaire's YAML text as the campaign asks it (or a stored version of it)."""
    questionnaire = questionnaire_or_404(questionnaire_id)
    number = request.args.get("version", "")
    text = stored.text_of(db.session(), questionnaire)
    if number:
        found = [v for v in stored.versions(db.session(), questionnaire) if str(v.number) == number]
        if not found:
            abort(404)
        text = found[0].text
    name = f"{questionnaire.slug}.yaml"
    return (text or ""), 200, {
        "Content-Type": "application/yaml; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}"',
    }  # fmt: skip


@bp.post("/questionnaires/<int:questionnaire_id>/copy")
@access(Access.LEAD_ADMIN)
def copy(questionnaire_id: int) -> ResponseReturnValue:
    """Copy the questionnaire as a new one of the campaign, unsent, to change its questions."""
    questionnaire = questionnaire_or_404(questionnaire_id)
    made = stored.copy_as_new(
        db.session(), questionnaire, author=current_user, now=current_clock().now()
    )
    db.session().commit()
    flash(
        _(
            "Copied as a new questionnaire. Change its questions here; it is not sent until you"
            " start sending it."
        ),
        "success",
    )
    return redirect(url_for("surveys.edit", questionnaire_id=made.id))


@bp.post("/questionnaires/<int:questionnaire_id>/sending")
@access(Access.LEAD_ADMIN)
def sending(questionnaire_id: int) -> ResponseReturnValue:
    """Start or stop sending the questionnaire to the participants whose time has come."""
    questionnaire = questionnaire_or_404(questionnaire_id)
    wanted = request.form.get("sending") == "yes"
    if stored.set_sending(db.session(), questionnaire, wanted, author=current_user):
        db.session().commit()
        text = (
            _("The questionnaire is sent from now on.")
            if wanted
            else _("The questionnaire is no longer sent.")
        )
        flash(text, "success")
    return redirect(url_for("surveys.edit", questionnaire_id=questionnaire.id))


@bp.get("/questionnaires/<int:questionnaire_id>/preview")
@access(Access.LEAD_ADMIN)
def preview(questionnaire_id: int) -> ResponseReturnValue:
    """The answer form in frames, at full width and as wide as a phone."""
    questionnaire = questionnaire_or_404(questionnaire_id)
    language = request.args.get("language", "sv")
    if language not in LANGUAGES:
        abort(404)
    return render_template(
        "surveys/preview.html",
        questionnaire=questionnaire,
        definition=asked_or_404(questionnaire),
        shown=language,
        language=reader_language(),
    )


@bp.get("/questionnaires/<int:questionnaire_id>/preview/<language>")
@access(Access.LEAD_ADMIN)
def preview_form(questionnaire_id: int, language: str) -> ResponseReturnValue:
    """The real answer page as a participant sees it, for a frame: nothing can be sent from it."""
    questionnaire = questionnaire_or_404(questionnaire_id)
    if language not in LANGUAGES:
        abort(404)
    with force_locale(language):
        page = render_template(
            "surveys/answer.html",
            definition=asked_or_404(questionnaire),
            language=language,
            answers={},
            problems={},
            saved=False,
            refused=False,
            closed=False,
            closes_at=None,
            anonymous=questionnaire.is_anonymous,
            had_answered=False,
            current_user=_participant(),
            preview=True,
        )
    return page, 200, _framable()


def _participant() -> Any:
    """Whom the page is shown to: nobody signed in, as for a participant's link."""
    return AnonymousUserMixin()


def _framable() -> dict[str, str]:
    """The security headers, but letting the service's own pages frame this one."""
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    return {
        "Content-Security-Policy": policy.replace(
            "frame-ancestors 'none'", "frame-ancestors 'self'"
        ),
        "X-Frame-Options": "SAMEORIGIN",
    }
