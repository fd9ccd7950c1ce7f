"""Error pages: a clear sentence in the user's language, never a traceback."""

from __future__ import annotations

from flask import Flask, Response, render_template
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from campaign import db


def init_app(app: Flask) -> None:
    """Render every HTTP error, including a refused CSRF token, with the site's layout."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        403: (_("Not allowed"), _("Your account does not give access to this page.")),
        404: (_("Page not found"), _("There is no page at this address.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        500: (_("Something went wrong"), _("The error has been logged. Please try again.")),
    }


def _http_error(error: HTTPException) -> tuple[str, int] | Response:
    db.rollback()
    from campaign.api import problems  # the API's errors are problem documents

    if problems.wants_problem():
        return problems.response(problems.from_http_error(error))
    code = error.code or 500
    title, text = _messages().get(code, (error.name, error.description or ""))
    if request_ctx.url_adapter is None:
        # Werkzeug refused the request's Host header before any route was matched: without a
        # host no link of the layout can be built, so the sentence comes as plain text.
        return Response(f"{title}\n\n{text}\n", code, mimetype="text/plain")
    return render_template("errors/error.html", code=code, title=title, text=text), code


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    db.rollback()
    title = _("The form has expired")
    text = _("For your security the form could not be accepted. Reload the page and try again.")
    return render_template("errors/error.html", code=400, title=title, text=text), 400
