"""The final report in the web UI: its headline figures and the downloads, for the lead admin."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

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
