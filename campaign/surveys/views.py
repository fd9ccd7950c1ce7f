"""Questionnaires in the web UI: answering through a signed link, and the results.

Answering needs no account: the link in the mail is signed and names the questionnaire and the
participant. Results are per member for its representative (only its own answers), and for the
whole network and each member for the lead administrator; the same answers count for both
(campaign/surveys/disclosure.py). The names of those who have not answered are shown only to
their member's representatives, who remind them; the lead administrator sees how many.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
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
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import same_origin, validate_csrf
from sqlalchemy import select
from wtforms import ValidationError

from campaign import db, exports
from campaign.accounts.scope import Access, access, is_lead_admin
from campaign.network.members import campaign_or_404
from campaign.security import TokenError
from campaign.surveys import handling, results, service, stored
from campaign.surveys.definitions import MESSAGES, Definition, check_answers
from campaign.surveys.models import Questionnaire
from campaign.timing import current_clock

bp = Blueprint("surveys", __name__)


def init_app(app: Flask) -> None:
    """Register the views; the answer form checks its own CSRF token (see _csrf_is_valid)."""
    from campaign.surveys import editor  # noqa: F401  # its routes join this blueprint

    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(answer)


def questionnaire_or_404(questionnaire_id: int) -> Questionnaire:
    """The URL's campaign's questionnaire of that id, if it has a definition; else 404."""
    campaign = campaign_or_404()
    found = db.session().scalar(
        select(Questionnaire).where(
            Questionnaire.id == questionnaire_id, Questionnaire.campaign_id == campaign.id
        )
    )
    if found is None or stored.definition_of(db.session(), found) is None:
        abort(404)
    return found


def asked_or_404(questionnaire: Questionnaire) -> Definition:
    """The definition the campaign asks the (found) questionnaire with."""
    definition = stored.definition_of(db.session(), questionnaire)
    if definition is None:
        abort(404)
    return definition


def _with_definitions(
    questionnaires: list[Questionnaire],
) -> list[tuple[Questionnaire, Definition]]:
    """The questionnaires that still have a definition, each with it."""
    pairs = [(q, stored.definition_of(db.session(), q)) for q in questionnaires]
    return [(q, d) for q, d in pairs if d is not None]


def reader_language() -> str:
    """The language the signed-in reader chose (Swedish for anyone else)."""
    return current_user.language if current_user.is_authenticated else "sv"


# Answering ------------------------------------------------------------------------------


@bp.route("/q/<token>", methods=["GET", "POST"])
@access(Access.PUBLIC)
def answer(token: str) -> ResponseReturnValue:
    now = current_clock().now()
    try:
        opened = service.open_link(db.session(), token, now)
    except (TokenError, service.Withdrawn) as error:
        return _link_problem(error)
    if opened is None:
        return render_template("outbox/link_error.html", text=_("We have no data about you.")), 410
    closed = opened.closes_at is not None and now >= opened.closes_at
    answers = dict(opened.response.answers) if opened.response else {}
    problems: dict[str, tuple[str, dict[str, int]]] = {}
    saved = refused = False
    if request.method == "POST" and not closed:
        answers, problems = check_answers(opened.definition, request.form)
        refused = not _csrf_is_valid()  # then the typed answers are shown again, not lost
        if not problems and not refused:
            service.save(db.session(), opened, answers, now)
            db.session().commit()
            saved = True
    with force_locale(opened.participant.language):
        page = render_template(
            "surveys/answer.html",
            definition=opened.definition,
            language=opened.participant.language,
            answers=answers,
            problems={k: MESSAGES[code] % values for k, (code, values) in problems.items()},
            saved=saved,
            refused=refused,
            closed=closed,
            closes_at=opened.closes_at,
            anonymous=opened.questionnaire.is_anonymous,
            had_answered=opened.response is not None,
        )
    return page, 400 if refused else 200


def _link_problem(error: TokenError | service.Withdrawn) -> ResponseReturnValue:
    if isinstance(error, service.Withdrawn):
        text = _("This questionnaire is no longer available.")
        return render_template("outbox/link_error.html", text=text), 410
    text = _("This link has expired.") if error.expired else _("This link is not valid.")
    return render_template("outbox/link_error.html", text=text), 400


def _csrf_is_valid() -> bool:
    """Check the answer form's CSRF token as CSRFProtect does, but for as long as the link.

    Staff forms keep WTF_CSRF_TIME_LIMIT (an hour); a participant may take longer over a
    questionnaire, and the token stays tied to their browser's session all the same.
    """
    config = current_app.config
    if not config["WTF_CSRF_ENABLED"]:
        return True
    try:
        validate_csrf(
            request.form.get(config["WTF_CSRF_FIELD_NAME"]),
            time_limit=int(service.LINK_LIFETIME.total_seconds()),
        )
    except ValidationError:
        return False
    if request.is_secure and config["WTF_CSRF_SSL_STRICT"]:
        return bool(request.referrer) and same_origin(request.referrer, f"https://{request.host}/")
    return True


# Results for one member -----------------------------------------------------------------


@bp.get("/organisations/<org>/questionnaires")
@access(Access.ORGANISATION)
def member_index() -> ResponseReturnValue:
    campaign = campaign_or_404()
    questionnaires = service.questionnaires_of(db.session(), campaign, current_clock().now())
    db.session().commit()
    rows = [
        (q, d, results.rates(db.session(), q, g.organisation.id))
        for q, d in _with_definitions(questionnaires)
    ]
    language = reader_language()
    return render_template(
        "surveys/member_index.html", organisation=g.organisation, rows=rows, language=language
    )


@bp.get("/organisations/<org>/questionnaires/<int:questionnaire_id>")
@access(Access.ORGANISATION)
def member_results(questionnaire_id: int) -> ResponseReturnValue:
    questionnaire = questionnaire_or_404(questionnaire_id)
    definition = asked_or_404(questionnaire)
    found = results.collect(db.session(), questionnaire, definition)
    missing = (
        results.not_answered(db.session(), questionnaire, g.organisation.id)
        if not is_lead_admin() and not questionnaire.is_anonymous
        else []
    )
    return render_template(
        "surveys/results.html",
        organisation=g.organisation,
        questionnaire=questionnaire,
        definition=definition,
        language=reader_language(),
        scope=found.scope(g.organisation.id, reader_language()),
        rates=results.rates(db.session(), questionnaire, g.organisation.id),
        missing=missing,
        names_hint=is_lead_admin() and not questionnaire.is_anonymous,
        minimum=results.MIN_RESPONDENTS,
        export_endpoint="surveys.member_export",
    )


@bp.get("/organisations/<org>/questionnaires/<int:questionnaire_id>/export.<fmt>")
@access(Access.ORGANISATION)
def member_export(questionnaire_id: int, fmt: str) -> ResponseReturnValue:
    return _export(questionnaire_id, fmt, g.organisation.id, g.organisation.slug)


def _export(
    questionnaire_id: int, fmt: str, organisation_id: int | None, label: str
) -> ResponseReturnValue:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    questionnaire = questionnaire_or_404(questionnaire_id)
    header, rows = handling.exported_rows(
        db.session(),
        questionnaire,
        asked_or_404(questionnaire),
        current_user,
        language=reader_language(),
        organisation_id=organisation_id,
        not_shown=_("not shown"),
    )
    db.session().commit()
    return exports.download(fmt, f"{questionnaire.slug}-{label}", questionnaire.slug, header, rows)


# The whole network (lead administrator) ---------------------------------------------------


@bp.get("/questionnaires")
@access(Access.LEAD_ADMIN)
def index() -> ResponseReturnValue:
    campaign = campaign_or_404()
    questionnaires = service.questionnaires_of(db.session(), campaign, current_clock().now())
    db.session().commit()
    rows = [(q, d, results.rates(db.session(), q)) for q, d in _with_definitions(questionnaires)]
    return render_template("surveys/index.html", rows=rows, language=reader_language())


@bp.get("/questionnaires/<int:questionnaire_id>")
@access(Access.LEAD_ADMIN)
def network_results(questionnaire_id: int) -> ResponseReturnValue:
    questionnaire = questionnaire_or_404(questionnaire_id)
    definition = asked_or_404(questionnaire)
    found = results.collect(db.session(), questionnaire, definition)
    return render_template(
        "surveys/results.html",
        organisation=None,
        questionnaire=questionnaire,
        definition=definition,
        language=reader_language(),
        scope=found.scope(None, reader_language()),
        rates=results.rates(db.session(), questionnaire),
        missing=[],
        names_hint=not questionnaire.is_anonymous,
        minimum=results.MIN_RESPONDENTS,
        export_endpoint="surveys.network_export",
    )


@bp.get("/questionnaires/<int:questionnaire_id>/export.<fmt>")
@access(Access.LEAD_ADMIN)
def network_export(questionnaire_id: int, fmt: str) -> ResponseReturnValue:
    return _export(questionnaire_id, fmt, None, "network")


@bp.post("/questionnaires/<int:questionnaire_id>/anonymous")
@access(Access.LEAD_ADMIN)
def make_anonymous(questionnaire_id: int) -> ResponseReturnValue:
    """Make a questionnaire anonymous, for good: answers given so far lose their link too."""
    questionnaire = questionnaire_or_404(questionnaire_id)
    back = url_for("surveys.network_results", questionnaire_id=questionnaire.id)
    if request.form.get("confirm") != "yes":  # it cannot be undone: only when confirmed
        flash(_("Nothing changed: tick the box to confirm that this cannot be undone."), "error")
        return redirect(back + "#anonymous-heading")
    if handling.make_anonymous(db.session(), questionnaire, current_user):
        db.session().commit()
        flash(
            _("The questionnaire is anonymous now, and so are the answers given so far."), "success"
        )
    return redirect(back)
