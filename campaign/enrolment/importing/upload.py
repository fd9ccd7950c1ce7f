"""An uploaded file kept as a new import, to be read into its preview (`reading`).

The page and the API take the file alike: Werkzeug has spooled it to a temporary file, and no
more is read of it than an import takes.
"""

from __future__ import annotations

from datetime import datetime
from typing import IO

from sqlalchemy.orm import Session

from campaign.enrolment.importing.limits import MAX_FILE_BYTES, ImportFileError
from campaign.enrolment.models import ParticipantImport, PilotGroup


def keep_upload(
    db_session: Session,
    group: PilotGroup,
    *,
    user_id: int | None,
    filename: str | None,
    stream: IO[bytes],
    now: datetime,
) -> ParticipantImport:
    """Add the uploaded file as a new import into `group`, by the user; the caller commits.
    Raise ImportFileError("too_large") for a file over what an import takes."""
    content = stream.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError("too_large")
    job = ParticipantImport(
        campaign_id=group.campaign_id,
        organisation_id=group.organisation_id,
        pilot_group_id=group.id,
        user_id=user_id,
        filename=(filename or "file")[-300:],
        content=content,
        created_at=now,
    )
    db_session.add(job)
    return job
