"""The final report in the web UI: its headline figures and the downloads, for the lead admin."""

from __future__ import annotations

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
from flask_babel import gettext as _
from flask_login import current_user

from campaign import db, exports
from campaign.accounts.scope import Access, access
from campaign.network.members import campaign_or_404
from campaign.report import document
from campaign.timing import current_clock

bp = Blueprint("report", __name__)
TYPES = {"html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}


def init_app(app: Flask) -> None:
    """Register the views."""
    app.register_blueprint(bp)


@bp.get("/report")
@access(Access.LEAD_ADMIN)
def index():  # type: ignore[no-untyped-def]
    campaign = campaign_or_404()
    report = document.build(db.session(), campaign, current_clock().now(), campaign.language)
    return render_template("report/index.html", report=report, figures=report.figures)


@bp.get("/report/final.<fmt>")
@access(Access.LEAD_ADMIN)
def download(fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in document.FORMATS:
        abort(404)
    campaign = campaign_or_404()
    language = request.args.get("language", campaign.language)
    if language not in ("sv", "en"):
        abort(404)
    report = document.build(db.session(), campaign, current_clock().now(), language)
    name = f"{campaign.slug}-{language}"
    if fmt in ("csv", "xlsx"):
        header, rows = document.table(report)
        return exports.download(fmt, name, campaign.slug, header, rows)
    if fmt == "pdf":
        try:
            body: bytes | str = document.pdf(report)
        except OSError:  # weasyprint could not load Pango
            flash(
                _("A PDF needs the Pango library on the server (Debian: libpangoft2-1.0-0)."),
                "error",
            )
            return redirect(url_for("report.index"))
        mimetype = "application/pdf"
    else:
        body = document.html(report) if fmt == "html" else document.markdown(report)
        mimetype = TYPES[fmt]
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _dashboard(organisation_id: int | None):  # type: ignore[no-untyped-def]
    from campaign.report import charts
    from campaign.report.figures import compute
    from campaign.surveys import results, service
    from campaign.surveys.definitions import definitions

    campaign = campaign_or_404()
    figures = compute(db.session(), campaign, current_clock().now())
    members = [
        m
        for m in figures.members
        if organisation_id is None or m.organisation.id == organisation_id
    ]
    questionnaires = [
        (
            q,
            definitions()[q.definition],
            {r.organisation.id: r for r in results.rates(db.session(), q)},
        )
        for q in service.questionnaires_of(db.session(), campaign)
        if q.definition in definitions()
    ]
    db.session().commit()
    targeted = [m for m in members if m.membership.enrolment_target]
    drawn = [
        charts.bars(
            _("E-mails delivered per member"),
            _("E-mails delivered to each member's participants."),
            [charts.Bar(m.organisation.short_name, m.delivered) for m in members],
        )
    ]
    if targeted:
        drawn.insert(
            0,
            charts.bars(
                _("Enrolled against the target"),
                _("Participants enrolled by each member, as a share of its target, in per cent."),
                [
                    charts.Bar(
                        m.organisation.short_name,
                        round(100 * m.participants / m.membership.enrolment_target)
                        if m.membership.enrolment_target
                        else None,
                        _("no target set"),
                    )
                    for m in members
                ],
                unit="%",
            ),
        )
    return render_template(
        "report/dashboard.html",
        figures=figures,
        members=members,
        questionnaires=questionnaires,
        charts=drawn,
        organisation=g.organisation if organisation_id else None,
        language=current_user.language,
    )


@bp.get("/dashboard")
@access(Access.LEAD_ADMIN)
def dashboard():  # type: ignore[no-untyped-def]
    return _dashboard(None)


@bp.get("/organisations/<org>/dashboard")
@access(Access.ORGANISATION)
def member_dashboard():  # type: ignore[no-untyped-def]
    return _dashboard(g.organisation.id)
