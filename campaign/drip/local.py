"""Member-level wording: a member's own paragraph at the marked places of a sequence step.

A step's body marks a place with `{{ local.help }}` standing alone on a line (a place's name is
lowercase letters, digits and `_`, starting with a letter). Each member's representatives write
their paragraph there, per step and language: their own contact, a link, a sentence about their
software. The shared text stays the lead's. A place without a paragraph reads as nothing, so
the text around it must read well either way.

The paragraph is data, never a template: it is put into the step as it was written, the way
any placeholder's value is, and the whole body then goes through the one Markdown and nh3
pipeline (campaign/markup.py), so neither HTML nor `{{ … }}` in it can do anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from campaign.audit import record
from campaign.db import Base
from campaign.drip.files import LANGUAGES, Problem, Sequence, Step
from campaign.drip.places import Places
from campaign.network.models import Membership

MAX_TEXT = 2000  # characters: a paragraph or two, not a letter of one's own
MARKER = re.compile(r"^\{\{\s*local\.(?P<place>[a-z][a-z0-9_]{0,39})\s*\}\}$")
# Every {{ … }}, {% … %} and {# … #} of a step's text, and a mention of `local` in one.
EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
MENTION = re.compile(r"\blocal\b")
WELL_FORMED = (
    "write it as {{ local.help }}, alone on its line (a name of at most 40 lowercase letters,"
    " digits and _, starting with a letter)"
)


class LocalParagraph(Base):
    """One member's paragraph at one place of one step (by its stable ident) in one language."""

    __tablename__ = "local_paragraph"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[str] = mapped_column(String(100))
    step_ident: Mapped[str] = mapped_column(String(40))
    place: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(2))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    __table_args__ = (
        UniqueConstraint("membership_id", "sequence", "step_ident", "place", "language"),
        CheckConstraint(f"length(text) <= {MAX_TEXT}", name="text_length"),
    )


def places_of(body: str) -> list[str]:
    """Return the places a step's body marks, in the order they first appear."""
    found = [m["place"] for line in body.splitlines() if (m := MARKER.match(line.strip()))]
    return list(dict.fromkeys(found))


def marker_problems(step: Step) -> list[Problem]:
    """Return a problem for each malformed mention of `local` in a step, at its file line."""
    found = [
        Problem(step.path, step.subject_line, f"a local place belongs in the body; {WELL_FORMED}")
        for _offset in _mentions(step.subject)
    ]
    for offset in _malformed(step.body):
        line = step.body_line + step.body.count("\n", 0, offset)
        found.append(Problem(step.path, line, f"malformed local place: {WELL_FORMED}"))
    return found


def _mentions(source: str) -> list[int]:
    """Return where each {{ … }} or {% … %} that names `local` starts in `source`."""
    return [m.start() for m in EXPRESSION.finditer(source) if MENTION.search(m.group())]


def _malformed(body: str) -> list[int]:
    """Return where each mention of `local` that is not a well-formed marker line starts."""
    return [offset for offset in _mentions(body) if not _marker_line(body, offset)]


def _marker_line(body: str, offset: int) -> bool:
    """Whether the line holding `offset` is a well-formed marker and nothing else."""
    start = body.rfind("\n", 0, offset) + 1
    end = body.find("\n", offset)
    return MARKER.match(body[start : end if end >= 0 else None].strip()) is not None


@dataclass(frozen=True)
class Where:
    """A step of a sequence in one language, as paragraphs are filed: `welcome/01`, `sv`."""

    sequence: str
    ident: str
    language: str


Paragraphs = dict[tuple[int, Where], dict[str, str]]  # (membership, step) -> place -> text


def paragraphs_for(db_session: Session, membership_ids: Iterable[int]) -> Paragraphs:
    """Read the paragraphs of these members, every step and language, in one query."""
    rows = db_session.scalars(
        select(LocalParagraph).where(LocalParagraph.membership_id.in_(set(membership_ids)))
    )
    found: Paragraphs = {}
    for row in rows:
        where = Where(row.sequence, row.step_ident, row.language)
        found.setdefault((row.membership_id, where), {})[row.place] = row.text
    return found


def where_of(step: Step) -> Where:
    """Return how a step's paragraphs are filed: by its sequence, stable ident and language."""
    sequence, _slash, ident = step.key.partition("/")
    return Where(sequence, ident, step.language)


def places_for(paragraphs: Paragraphs, membership_id: int, step: Step) -> Places:
    """Return one member's paragraphs at the places of one step in its language."""
    return Places(paragraphs.get((membership_id, where_of(step)), {}))


@dataclass(frozen=True)
class Marked:
    """A step that marks places, in each language it has (by its stable ident)."""

    sequence: str
    ident: str
    steps: dict[str, Step]  # language -> the step

    @property
    def places(self) -> list[str]:
        """Return the places any language of the step marks, in order."""
        found = [place for step in self.steps.values() for place in places_of(step.body)]
        return list(dict.fromkeys(found))

    def where(self, language: str) -> Where:
        """Return how the paragraphs of the step in `language` are filed."""
        return Where(self.sequence, self.ident, language)


def marked_steps(sequence: Sequence) -> list[Marked]:
    """Return the sequence's steps that mark a place, in the order of its first language."""
    found: dict[str, dict[str, Step]] = {}
    for language in (lang for lang in LANGUAGES if lang in sequence.steps):
        for step in sequence.steps[language]:
            if places_of(step.body):
                found.setdefault(where_of(step).ident, {})[language] = step
    return [Marked(sequence.name, ident, steps) for ident, steps in found.items()]


def member_places(db_session: Session, membership_id: int, step: Step) -> Places:
    """Return one member's paragraphs at the places of one step in its language."""
    return places_for(paragraphs_for(db_session, [membership_id]), membership_id, step)


def member_paragraphs(db_session: Session, membership_id: int, marked: Marked) -> dict[str, Places]:
    """Return one member's paragraphs at a step's places, by language."""
    found = paragraphs_for(db_session, [membership_id])
    return {lang: Places(found.get((membership_id, marked.where(lang)), {})) for lang in LANGUAGES}


def tidy(text: str) -> str:
    """Return a paragraph as it is kept: line endings made plain, blank edges trimmed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def save_paragraph(
    db_session: Session,
    membership: Membership,
    where: Where,
    place: str,
    text: str,
    actor: object,
    now: datetime,
) -> bool:
    """Keep (an empty text: remove) a member's paragraph; audit; return whether it changed.
    The caller checks the text and commits."""
    row = _row(db_session, membership.id, where, place)
    text = tidy(text)
    if (row.text if row else "") == text:
        return False
    if row is None:
        db_session.add(_new_row(membership, where, place, text, actor, now))
    elif not text:
        db_session.delete(row)
    else:
        row.text, row.updated_at, row.updated_by = text, now, getattr(actor, "id", None)
    _audit(db_session, membership, where, place, actor, now, removed=not text)
    return True


def _row(
    db_session: Session, membership_id: int, where: Where, place: str
) -> LocalParagraph | None:
    return db_session.scalar(
        select(LocalParagraph).where(
            LocalParagraph.membership_id == membership_id,
            LocalParagraph.sequence == where.sequence,
            LocalParagraph.step_ident == where.ident,
            LocalParagraph.language == where.language,
            LocalParagraph.place == place,
        )
    )


def _new_row(
    membership: Membership, where: Where, place: str, text: str, actor: object, now: datetime
) -> LocalParagraph:
    return LocalParagraph(
        campaign_id=membership.campaign_id,
        membership_id=membership.id,
        sequence=where.sequence,
        step_ident=where.ident,
        place=place,
        language=where.language,
        text=text,
        updated_at=now,
        updated_by=getattr(actor, "id", None),
    )


def _audit(
    db_session: Session,
    membership: Membership,
    where: Where,
    place: str,
    actor: object,
    now: datetime,
    *,
    removed: bool,
) -> None:
    """Record who changed which paragraph of the member."""
    record(
        db_session, actor, "member.wording_changed", now=now,
        campaign_id=membership.campaign_id, organisation_id=membership.organisation_id,
        target=f"{where.sequence}/{where.ident}", place=place, language=where.language,
        removed=removed,
    )  # fmt: skip


def carry_over(db_session: Session, old_id: int, new_id: int, now: datetime) -> int:
    """Give each member of a new campaign its paragraphs of the old one (the steps keep their
    keys in the copied sequences); return how many."""
    members = {
        m.organisation_id: m.id
        for m in db_session.scalars(select(Membership).where(Membership.campaign_id == new_id))
    }
    rows = db_session.execute(
        select(LocalParagraph, Membership.organisation_id)
        .join(Membership, Membership.id == LocalParagraph.membership_id)
        .where(LocalParagraph.campaign_id == old_id)
        .order_by(LocalParagraph.id)
    )
    copies = [
        LocalParagraph(
            campaign_id=new_id,
            membership_id=members[organisation_id],
            sequence=old.sequence,
            step_ident=old.step_ident,
            place=old.place,
            language=old.language,
            text=old.text,
            updated_at=now,
            updated_by=old.updated_by,
        )  # fmt: skip
        for old, organisation_id in rows
        if organisation_id in members
    ]
    db_session.add_all(copies)
    return len(copies)
