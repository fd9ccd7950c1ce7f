"""Each campaign's own copy of its questionnaires, kept as versions of the same YAML text as the
shipped files in campaign/questionnaires/.

A questionnaire with no stored version follows its shipped file; the first save stores version 1
= the shipped file, then version 2. Wording can change at any time; the structure (questions,
types, options, bounds, requiredness, outcomes) only while nobody has answered, since stored
answers are read by it. Once answers exist, "copy to a new version" makes a new questionnaire
of the campaign, unsent, that starts from this one's text. The caller commits.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from campaign.accounts.models import User
from campaign.audit import record
from campaign.surveys.definitions import (
    QUESTIONNAIRES_DIR,
    Definition,
    DefinitionError,
    definitions,
    parse_definition,
    structure_of,
)
from campaign.surveys.models import Questionnaire, QuestionnaireVersion, Receipt, Response

SHIPPED = "shipped"
EDIT = "edit"
COPY = "copy"


class Locked(Exception):
    """The structure of a questionnaire that has answers cannot change."""


class Outdated(Exception):
    """Someone saved a newer version since the form was opened."""


def latest(db_session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    """Return the questionnaire's newest stored version (None: it follows the shipped file)."""
    return db_session.scalar(
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
        .order_by(QuestionnaireVersion.number.desc())
        .limit(1)
    )


def versions(db_session: Session, questionnaire: Questionnaire) -> list[QuestionnaireVersion]:
    """Return the questionnaire's stored versions, newest first."""
    return list(
        db_session.scalars(
            select(QuestionnaireVersion)
            .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
            .order_by(QuestionnaireVersion.number.desc())
        )
    )


def shipped_text(questionnaire: Questionnaire) -> str | None:
    """Return the text of the shipped file the questionnaire started from (None if removed)."""
    if questionnaire.definition not in definitions():
        return None
    return (QUESTIONNAIRES_DIR / f"{questionnaire.definition}.yaml").read_text(encoding="utf-8")


def text_of(db_session: Session, questionnaire: Questionnaire) -> str | None:
    """Return the YAML text the campaign asks with: its newest version, or the shipped file."""
    version = latest(db_session, questionnaire)
    return version.text if version is not None else shipped_text(questionnaire)


def definition_of(db_session: Session, questionnaire: Questionnaire) -> Definition | None:
    """Return what the campaign asks with: its newest version, else the shipped file (None if
    neither is there any more). Every reader of a questionnaire's questions uses this."""
    version = latest(db_session, questionnaire)
    if version is None:
        return definitions().get(questionnaire.definition)
    return _parsed(questionnaire.definition, version.text)


@functools.lru_cache(maxsize=256)
def _parsed(name: str, text: str) -> Definition:
    return parse_definition(name, text)


def has_answers(db_session: Session, questionnaire: Questionnaire) -> bool:
    """Whether anyone has answered the questionnaire (a response or a receipt is stored)."""
    answered = or_(
        exists().where(Response.questionnaire_id == questionnaire.id),
        exists().where(Receipt.questionnaire_id == questionnaire.id),
    )
    return bool(db_session.scalar(select(answered)))


def check(db_session: Session, questionnaire: Questionnaire, text: str) -> Definition:
    """Return the definition of a proposed text; raise DefinitionError as the loader would, or
    Locked for a structure change once answers exist."""
    proposed = parse_definition(questionnaire.definition, text)
    if proposed.kind != questionnaire.kind.value:
        raise DefinitionError(f"{questionnaire.slug}.yaml", "kind cannot change", "kind")
    current = definition_of(db_session, questionnaire)
    changed = current is None or structure_of(proposed) != structure_of(current)
    if changed and has_answers(db_session, questionnaire):
        raise Locked
    return proposed


def save(
    db_session: Session,
    questionnaire: Questionnaire,
    text: str,
    *,
    author: Any,
    now: datetime,
    based_on: int | None = None,
) -> QuestionnaireVersion | None:
    """Store the text as the questionnaire's next version, after `check`; audit it. None if it
    asks exactly what the campaign asks now (nothing is stored).

    `based_on` is the version number the editor started from (0 for the shipped file);
    Outdated if someone saved since."""
    current = latest(db_session, questionnaire)
    if based_on is not None and based_on != (current.number if current else 0):
        raise Outdated
    before = definition_of(db_session, questionnaire)
    proposed = check(db_session, questionnaire, text)
    if proposed == before:
        return None
    if current is None:
        current = _first(db_session, questionnaire, now)
    version = _add(db_session, questionnaire, text, current, author, now, EDIT)
    structural = before is None or structure_of(proposed) != structure_of(before)
    record(
        db_session, author, "questionnaire.edited", now=now,
        campaign_id=questionnaire.campaign_id, target=f"questionnaire:{questionnaire.id}",
        version=version.number, changed="questions" if structural else "wording",
    )  # fmt: skip
    return version


def _first(
    db_session: Session, questionnaire: Questionnaire, now: datetime
) -> QuestionnaireVersion | None:
    """Store the shipped file as version 1 (None if it is no longer shipped)."""
    shipped = shipped_text(questionnaire)
    if shipped is None:
        return None
    return _add(db_session, questionnaire, shipped, None, None, now, SHIPPED)


def _add(
    db_session: Session,
    questionnaire: Questionnaire,
    text: str,
    previous: QuestionnaireVersion | None,
    author: Any,
    now: datetime,
    note: str,
) -> QuestionnaireVersion:
    version = QuestionnaireVersion(
        questionnaire_id=questionnaire.id,
        number=previous.number + 1 if previous else 1,
        text=text,
        author_id=getattr(author, "id", None),
        created_at=now,
        note=note,
    )
    db_session.add(version)
    db_session.flush()
    return version


def copy_as_new(
    db_session: Session, questionnaire: Questionnaire, *, author: Any, now: datetime
) -> Questionnaire:
    """Make a new questionnaire of the campaign (next free slug, unsent) that starts from this
    one's definition; audit it."""
    text = text_of(db_session, questionnaire)
    if text is None:
        raise DefinitionError(f"{questionnaire.slug}.yaml", "no longer shipped")
    copy = Questionnaire(
        campaign_id=questionnaire.campaign_id, slug=_free_slug(db_session, questionnaire),
        kind=questionnaire.kind, definition=questionnaire.definition,
        is_anonymous=questionnaire.is_anonymous, is_sending=False, created_at=now,
    )  # fmt: skip
    db_session.add(copy)
    db_session.flush()
    _add(db_session, copy, text, None, author, now, f"{COPY}:{questionnaire.slug}")
    record(
        db_session, author, "questionnaire.copied", now=now,
        campaign_id=questionnaire.campaign_id, target=f"questionnaire:{copy.id}",
        copied_from=questionnaire.id,
    )  # fmt: skip
    return copy


def carry_over(db_session: Session, old: Questionnaire, new: Questionnaire, now: datetime) -> None:
    """Give a questionnaire of a next campaign the old one's stored text as its version 1
    (nothing if the old one followed its shipped file)."""
    version = latest(db_session, old)
    if version is not None:
        _add(db_session, new, version.text, None, None, now, f"{COPY}:{old.slug}")


def _free_slug(db_session: Session, questionnaire: Questionnaire) -> str:
    """The shipped name with the lowest free number: follow-up-2, follow-up-3, ..."""
    taken = set(
        db_session.scalars(
            select(Questionnaire.slug).where(Questionnaire.campaign_id == questionnaire.campaign_id)
        )
    )
    number = 2
    while f"{questionnaire.definition}-{number}" in taken:
        number += 1
    return f"{questionnaire.definition}-{number}"


def set_sending(
    db_session: Session, questionnaire: Questionnaire, sending: bool, *, author: Any
) -> bool:
    """Start or stop sending the questionnaire; audit it. False if it was so already."""
    if questionnaire.is_sending == sending:
        return False
    questionnaire.is_sending = sending
    record(
        db_session, author, "questionnaire.sending" if sending else "questionnaire.not_sending",
        campaign_id=questionnaire.campaign_id, target=f"questionnaire:{questionnaire.id}",
    )  # fmt: skip
    return True


def authors(db_session: Session, questionnaire: Questionnaire) -> dict[int, str]:
    """The names of those who saved a version of the questionnaire, by account id."""
    rows = db_session.execute(
        select(User.id, User.name)
        .join(QuestionnaireVersion, QuestionnaireVersion.author_id == User.id)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire.id)
    )
    return {user_id: name for user_id, name in rows}
