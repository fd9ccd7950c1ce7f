"""The campaign's mail texts in the web UI: the list, a text's form with its preview and a test
to oneself, and going back to the shipped text. The lead administrator's only."""

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

from campaign import db
from campaign.accounts.scope import Access, access
from campaign.mailtexts.catalogue import (
    BY_NAME,
    FIXED,
    HOST,
    LANGUAGES,
    TEXTS,
    Text,
    sample_context,
    sample_footer,
)
from campaign.mailtexts.editing import (
    Draft,
    Problem,
    Unsaved,
    current_draft,
    problems_of,
    reset,
    reworded,
    save,
    shipped_draft,
)
from campaign.mailtexts.editing import (
    preview as render_preview,
)
from campaign.mailtexts.forms import MailTextForm
from campaign.network.members import campaign_or_404
from campaign.outbox.compose import Rendered, content_template
from campaign.outbox.mail import Recipient, mail_settings, staff_message
from campaign.outbox.models import MessageKind
from campaign.outbox.queue import enqueue
from campaign.outbox.wording import stored_text
from campaign.security import mail_preview
from campaign.timing import current_clock

bp = Blueprint("mailtexts", __name__)


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)


@bp.get("/mail-texts")
@access(Access.LEAD_ADMIN)
def index() -> ResponseReturnValue:
    campaign = campaign_or_404()
    return render_template(
        "mailtexts/index.html",
        texts=TEXTS,
        fixed=FIXED,
        languages=LANGUAGES,
        reworded=reworded(db.session(), campaign.id),
    )


@bp.route("/mail-texts/<text>/<language>", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def edit(text: str, language: str) -> ResponseReturnValue:
    entry = _text_or_404(text, language)
    form = MailTextForm()
    if not form.is_submitted():
        form.fill(current_draft(db.session(), g.campaign.id, text, language))
    elif form.validate_on_submit():
        draft = form.draft(shipped_draft(text, language))
        if request.form.get("action") == "test":
            _send_test(form, entry, language, draft)
        elif _saved(form, entry, language, draft):
            flash(_("The text is saved: the campaign's mail says it from now on."), "success")
            return redirect(url_for("mailtexts.index"))
    return _page(entry, language, form)


@bp.route("/mail-texts/<text>/<language>/preview", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def preview(text: str, language: str) -> Response:
    """The HTML and plain text of a text (the one saved, or a draft posted to the frame)."""
    _text_or_404(text, language)
    draft = current_draft(db.session(), g.campaign.id, text, language)
    if request.method == "POST":
        form = MailTextForm()
        if not form.validate_on_submit():
            return mail_preview(str(escape(_("The form could not be read; load the page again."))))
        draft = form.draft(shipped_draft(text, language))
    problems = problems_of(draft, shipped_draft(text, language), _context(text, language))
    if problems:
        return mail_preview(_problems_document(problems))
    return mail_preview(_preview_document(_rendered(text, language, draft)))


@bp.route("/mail-texts/<text>/<language>/reset", methods=["GET", "POST"])
@access(Access.LEAD_ADMIN)
def reset_text(text: str, language: str) -> ResponseReturnValue:
    entry = _text_or_404(text, language)
    if request.method == "GET":
        return render_template("mailtexts/reset.html", text=entry, language=language)
    now = current_clock().now()
    if reset(db.session(), g.campaign.id, text, language, actor=current_user, now=now):
        db.session().commit()
        flash(_("The campaign sends the shipped text again."), "success")
    return redirect(url_for("mailtexts.index"))


def _text_or_404(name: str, language: str) -> Text:
    """Return the editable text `name`; 404 for any other name or language."""
    campaign_or_404()
    if name not in BY_NAME or language not in LANGUAGES:
        abort(404)
    return BY_NAME[name]


def _context(name: str, language: str) -> dict[str, Any]:
    """Return the sample placeholders of a text, in this campaign."""
    return sample_context(name, language, g.campaign.name, mail_settings().base_url)


def _rendered(name: str, language: str, draft: Draft) -> Rendered:
    """Return the draft as a mail of the campaign, filled with its sample values."""
    context = _context(name, language)
    if name in HOST:  # a part: shown in the campaign's mail it goes into
        context = _context(HOST[name], language)
        context["details"] = content_template(draft.body).render(context)
        name, draft = HOST[name], current_draft(db.session(), g.campaign.id, HOST[name], language)
    footer = sample_footer(name, language, draft.reason, g.campaign.name, mail_settings().base_url)
    return render_preview(name, language, draft, context, footer)


def _saved(form: MailTextForm, entry: Text, language: str, draft: Draft) -> bool:
    """Save the draft and commit; False (with the problems beside their fields) if it has any."""
    context = _context(entry.name, language)
    now = current_clock().now()
    try:
        save(
            db.session(),
            g.campaign.id,
            entry.name,
            language,
            draft,
            context=context,
            actor=current_user,
            now=now,
        )
    except Unsaved as unsaved:
        _show(form, unsaved.problems)
        return False
    db.session().commit()
    return True


def _send_test(form: MailTextForm, entry: Text, language: str, draft: Draft) -> None:
    """Queue the draft, filled with sample values, to the signed-in user (nothing is saved)."""
    problems = problems_of(
        draft, shipped_draft(entry.name, language), _context(entry.name, language)
    )
    if problems:
        _show(form, problems)
        return
    now = current_clock().now()
    key = f"test:{current_user.id}:mail-text:{entry.name}:{language}:{now.isoformat()}"
    test = staff_message(
        Recipient.of(current_user, g.campaign.id),
        _rendered(entry.name, language, draft),
        kind=MessageKind.TEST,
        source_key=key,
        due_at=now,
    )
    enqueue(db.session(), now=now, **test)
    db.session().commit()
    flash(
        _(
            "A test of this text is queued to %(email)s; the text is not saved yet.",
            email=current_user.email,
        ),
        "success",
    )


def _show(form: MailTextForm, problems: list[Problem]) -> None:
    """Put each problem beside its field."""
    for problem in problems:
        field = getattr(form, problem.field)
        field.errors = [*field.errors, problem.message]


def _page(entry: Text, language: str, form: MailTextForm) -> ResponseReturnValue:
    """Render a text's form, with the placeholders it may use and its previews."""
    context = _context(entry.name, language)
    return render_template(
        "mailtexts/edit.html",
        text=entry,
        language=language,
        other=next(other for other in LANGUAGES if other != language),
        form=form,
        shipped=shipped_draft(entry.name, language),
        placeholders=sorted(context.items()),
        stored=stored_text(db.session(), g.campaign.id, entry.name, language),
    )


def _preview_document(rendered: Rendered) -> str:
    """Return the HTML of the mail with its subject above and its plain text below."""
    subject = Markup('<p style="font:14px sans-serif"><strong>{}</strong> {}</p>').format(
        _("Subject:"), rendered.subject
    )
    text = Markup(
        '<h2 style="font:bold 16px sans-serif">{}</h2><pre style="white-space:pre-wrap">{}</pre>'
    ).format(_("As plain text"), rendered.text)
    html = rendered.html
    at = html.find(">", html.find("<body")) + 1 if "<body" in html else 0
    end = html.rfind("</body>") if "</body>" in html else len(html)
    return html[:at] + subject + html[at:end] + "<hr>" + text + html[end:]


def _problems_document(problems: list[Problem]) -> str:
    """Return a short page that lists why a draft cannot be previewed."""
    items = Markup("").join(Markup("<li>{}</li>").format(p.message) for p in problems)
    return str(
        Markup(
            '<p style="font:14px sans-serif">{}</p><ul style="font:14px sans-serif">{}</ul>'
        ).format(_("This text cannot be previewed until it is corrected:"), items)
    )
