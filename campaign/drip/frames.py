"""The HTML of an unsaved step's preview, kept a little while for its sandboxed frame.

The page around a preview may run no inline style, so a mail's HTML (all inline styles) is
shown in a frame of its own address with a policy of its own (`security.mail_preview`). A saved
step's frame renders it again; an unsaved one exists only in the form that was posted, so its
HTML is kept here, in the instance folder, under a name derived from the editor and the HTML
itself: nobody else can guess it, and the same preview is one file. Files older than an hour
are removed whenever a new one is kept.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path

KEPT_SECONDS = 3600
NAME = re.compile(r"^[0-9a-f]{40}$")


def keep(folder: Path, secret: str, editor_id: int, html: str) -> str:
    """Keep the HTML for `editor_id`; return the name its frame asks for it by."""
    folder.mkdir(parents=True, exist_ok=True)
    _prune(folder)
    name = _name(secret, editor_id, html)
    (folder / f"{name}.html").write_text(html, encoding="utf-8")
    return name


def kept(folder: Path, secret: str, editor_id: int, name: str) -> str | None:
    """Return the HTML kept under `name` for `editor_id`, or None (unknown, another editor's,
    malformed or expired)."""
    path = folder / f"{name}.html"
    if not NAME.match(name) or not path.is_file():
        return None
    html = path.read_text(encoding="utf-8")
    return html if hmac.compare_digest(name, _name(secret, editor_id, html)) else None


def _name(secret: str, editor_id: int, html: str) -> str:
    """Return a name no one can derive without the app's secret and the editor's id."""
    message = f"{editor_id}\n{html}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def _prune(folder: Path) -> None:
    """Remove the previews kept longer than an hour."""
    oldest = time.time() - KEPT_SECONDS
    for path in folder.glob("*.html"):
        if path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)
