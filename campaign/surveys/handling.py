"""What the lead administrator and representatives do with a questionnaire by hand: make it
anonymous, for good, and take its answers away as a table; each is audited. The caller
commits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.surveys import results, service
from campaign.surveys.definitions import Definition
from campaign.surveys.models import Questionnaire, Response


def make_anonymous(db_session: Session, questionnaire: Questionnaire, actor: Any) -> bool:
    """Make the questionnaire anonymous: answers given so far lose their participant too, and
    keep only their day. False if it was anonymous already."""
    if questionnaire.is_anonymous:
        return False
    questionnaire.is_anonymous = True
    for response in db_session.scalars(
        select(Response).where(
            Response.questionnaire_id == questionnaire.id, Response.participant_id.is_not(None)
        )
    ):
        _unlink(response, questionnaire.id)
    db_session.execute(
        update(Response)
        .where(Response.questionnaire_id == questionnaire.id)
        .values(participant_id=None)
        .execution_options(synchronize_session=False)
    )
    target = f"questionnaire:{questionnaire.id}"
    record(
        db_session, actor, "questionnaire.made_anonymous", campaign_id=questionnaire.campaign_id,
        target=target,
    )  # fmt: skip
    return True


def _unlink(response: Response, questionnaire_id: int) -> None:
    """Leave a response only the keyed hash its participant's link finds, and its day."""
    response.respondent_key = service.respondent_key(questionnaire_id, response.participant_id or 0)
    day = response.submitted_at.replace(hour=0, minute=0, second=0, microsecond=0)
    response.submitted_at = response.updated_at = day


def exported_rows(
    db_session: Session,
    questionnaire: Questionnaire,
    definition: Definition,
    actor: Any,
    *,
    language: str,
    organisation_id: int | None,
    not_shown: str,
) -> tuple[list[str], list[list[Any]]]:
    """Return the answers as a table (results.export_rows), noting who took them."""
    header, rows = results.export_rows(
        db_session, questionnaire, definition, language, organisation_id, not_shown
    )
    record(
        db_session, actor, "questionnaire.exported", campaign_id=questionnaire.campaign_id,
        organisation_id=organisation_id,
        target=f"questionnaire:{questionnaire.id}", rows=len(rows),
    )  # fmt: skip
    return header, rows
