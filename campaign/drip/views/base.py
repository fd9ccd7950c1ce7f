"""The sequences blueprint, and what its editing pages share: the campaign's current copy of a
sequence, and what a save says."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup

from campaign import db
from campaign.drip import stored
from campaign.drip.placing import placed
from campaign.drip.saving import Saved

bp = Blueprint("drip", __name__)


def copy_or_404(name: str) -> stored.Stored:
    """Return the campaign's current copy of sequence `name`, or a 404 if there is none."""
    found = stored.copies(db.session(), g.campaign.id).get(name)
    if found is None or not found.files:
        abort(404)
    return found


def saved_message(saved: Saved) -> str:
    """Say what a save did: the new version, and how many participants are re-planned."""
    if saved.number is None:
        return _("Nothing changed: the sequence is as it was.")
    replanned = ngettext(
        "%(num)d participant is re-planned.",
        "%(num)d participants are re-planned.",
        saved.replanned,
    )
    return _("Saved as version %(number)d.", number=saved.number) + " " + replanned


NOTES = {
    "shipped": _l("The shipped text"),
    "edit": _l("Changed step %(ident)s"),
    "add": _l("Added step %(ident)s"),
    "move": _l("Moved step %(ident)s"),
    "remove": _l("Removed step %(ident)s"),
    "revert": _l("Restored version %(ident)s"),
    "import": _l("Imported a ZIP"),
    "from": _l("Carried over from the campaign %(ident)s"),
}


def version_note(note: str) -> str:
    """Say a version's note ("edit:03", "revert:3", "import") in the reader's words."""
    kind, _sep, ident = note.partition(":")
    if kind not in NOTES or (kind not in ("shipped", "import") and not ident):
        return _("Changed the sequence") if kind == "edit" else note
    return str(NOTES[kind]) % {"ident": ident}


def say_refused(name: str, files: dict[str, str], refused: stored.Unsaved) -> None:
    """Say why a change was not saved, each problem with its file and line."""
    for problem in placed(refused.problems, name, None, files):
        line = _("line %(line)d", line=problem.line)
        said = Markup("<code>{}</code>, {}: {}").format(problem.file, line, problem.message)
        flash(said, "error")
