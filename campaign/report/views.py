"""The final report in the web UI (its headline figures and the downloads, for the lead admin),
and the dashboards of the network and of each member."""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

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
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from campaign import audit, db, exports
from campaign.accounts.scope import Access, access
from campaign.enrolment.models import ParticipantStatus
from campaign.network import retention
from campaign.network.members import campaign_or_404
from campaign.network.models import Campaign
from campaign.report import bundle, document, numbers
from campaign.report.dashboard import build as build_dashboard
from campaign.timing import current_clock, local_text, parse_instant

bp = Blueprint("report", __name__)
# Werkzeug adds "; charset=utf-8" to a text type itself (it would write it twice).
TYPES = {"html": "text/html", "md": "text/markdown"}


def init_app(app: Flask) -> None:
    """Register the views and the number filters their templates use."""
    app.register_blueprint(bp)
    numbers.init_app(app)


def parse_moment(text: str, campaign: Campaign) -> datetime | None:
    """Return the ISO 8601 moment asked for (without an offset: in the campaign's zone), or None
    if it is not one or lies in the future."""
    try:
        moment = parse_instant(text, ZoneInfo(campaign.timezone))
    except ValueError:
        return None
    return moment if moment <= current_clock().now() else None


def _moment(campaign: Campaign) -> tuple[datetime | None, str]:
    """The moment of the request's `as_of` (now if none), and the text asked for."""
    text = request.args.get("as_of", "").strip()
    if not text:
        return current_clock().now(), ""
    return parse_moment(text, campaign), text


@bp.get("/report")
@access(Access.LEAD_ADMIN)
def index() -> ResponseReturnValue:
    campaign = campaign_or_404()
    as_of, asked = _moment(campaign)
    error = None
    if as_of is None:
        error = _(
            "“%(text)s” is not a moment the report can be made for: give a date and a time"
            " that are not in the future, such as %(example)s.",
            text=asked,
            example=local_text(current_clock().now(), ZoneInfo(campaign.timezone)),
        )
        as_of, asked = current_clock().now(), ""
    report = document.build(db.session(), campaign, as_of, current_user.language)
    return render_template(
        "report/index.html",
        report=report,
        figures=report.figures,
        asked=asked,
        error=error,
        latest=_field_value(current_clock().now(), campaign),
    ), (400 if error else 200)


def _field_value(instant: datetime, campaign: Campaign) -> str:
    """Return an instant for a date and time field: in the campaign's zone, to the second."""
    return instant.astimezone(ZoneInfo(campaign.timezone)).strftime("%Y-%m-%dT%H:%M:%S")


@bp.get("/report/final.<fmt>")
@access(Access.LEAD_ADMIN)
def download(fmt: str) -> ResponseReturnValue:
    if fmt not in document.FORMATS:
        abort(404)
    campaign = campaign_or_404()
    language = request.args.get("language", campaign.language)
    if language not in ("sv", "en"):
        abort(404)
    as_of, asked = _moment(campaign)
    if as_of is None:  # the report's page says what is wrong with it
        return redirect(url_for("report.index", as_of=asked))
    report = document.build(db.session(), campaign, as_of, language)
    name = f"{campaign.slug}-{language}"
    if fmt in ("csv", "xlsx"):
        header, rows = document.table(report)
        return exports.download(fmt, name, campaign.slug, header, rows, language)
    try:
        body, mimetype = _document(report, fmt)
    except OSError:  # weasyprint could not load Pango
        flash(
            _("A PDF needs the Pango library on the server (Debian: libpangoft2-1.0-0)."), "error"
        )
        return redirect(url_for("report.index"))
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@bp.get("/report/bundle.zip")
@access(Access.LEAD_ADMIN)
def final_bundle() -> ResponseReturnValue:
    """Everything to archive in one ZIP, made in a temporary file and sent from there."""
    campaign = campaign_or_404()
    # Closed (and so deleted) by the answer once it is sent, not when this function returns.
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    try:
        entries = bundle.Bundle(db.session(), campaign, current_clock().now()).write(spool)
    except bundle.PdfUnavailable:
        spool.close()
        flash(
            _("A PDF needs the Pango library on the server (Debian: libpangoft2-1.0-0)."), "error"
        )
        return redirect(url_for("report.index"))
    _audit_bundle(campaign, len(entries))
    spool.seek(0)
    return _attachment(spool, bundle.filename(campaign))


def _audit_bundle(campaign: Campaign, files: int) -> None:
    """Note who took the bundle (it holds the answers and the audit log), and commit."""
    target = bundle.filename(campaign)
    audit.record(db.session(), current_user, "campaign.bundle_exported", target=target,
                 files=files, campaign_id=campaign.id)  # fmt: skip
    db.session().commit()


def _attachment(spool: IO[bytes], name: str) -> ResponseReturnValue:
    response = send_file(spool, mimetype=bundle.MEDIA_TYPE, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


def _document(report: document.Report, fmt: str) -> tuple[bytes | str, str]:
    """Return the report as a PDF, HTML or Markdown file, and its type."""
    if fmt == "pdf":
        return document.pdf(report), "application/pdf"
    body = document.html(report) if fmt == "html" else document.markdown(report)
    return body, TYPES[fmt]


def _dashboard(organisation_id: int | None) -> ResponseReturnValue:
    campaign = campaign_or_404()
    now = current_clock().now()
    board = build_dashboard(db.session(), campaign, organisation_id, now, current_user.language)
    db.session().commit()  # the questionnaires' rows, made on first use
    return render_template(
        "report/dashboard.html",
        board=board,
        figures=board.figures,
        members=board.members,
        questionnaires=board.questionnaires,
        charts=board.charts,
        statuses=list(ParticipantStatus),
        organisation=g.organisation if organisation_id else None,
        language=current_user.language,
        purge=retention.notice(campaign, now),
    )


@bp.get("/dashboard")
@access(Access.LEAD_ADMIN)
def dashboard() -> ResponseReturnValue:
    return _dashboard(None)


@bp.get("/organisations/<org>/dashboard")
@access(Access.ORGANISATION)
def member_dashboard() -> ResponseReturnValue:
    return _dashboard(g.organisation.id)
