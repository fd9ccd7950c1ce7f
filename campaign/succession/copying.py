"""Start the next campaign from one that has run: the same network, none of its people.

What carries over is what the lead administrator and the members *decided*: the campaign's
settings (lead organisation, time zone, language, mail rate, the report's factors), every
member with its status and the facts that are settings (meeting software and who has it, the
enrolment target, the contact person, the guide), the questionnaires (which definitions, and
which are anonymous), each member's pilot groups with the sequence they follow, the
campaign's own wording of its mail texts and its own copy of each sequence (as the new
campaign's first version), and each member's own paragraphs in the steps. Milestones are dates
of the old period and stay with it. What the
members *reported* for the old period stays with it: people reached and given access, the
starting point, the work done and the tips (the final report's own words). Never copied:
participants, answers, meetings, mail, imports. Representatives need no copy: their rights
follow their organisation's membership. The caller commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.drip import stored as sequence_copies
from campaign.drip.local import carry_over as carry_paragraphs
from campaign.enrolment.models import PilotGroup
from campaign.network.models import Campaign, Membership
from campaign.outbox.wording import MailText
from campaign.plaintext import CONTROL
from campaign.surveys import stored
from campaign.surveys.models import Questionnaire
from campaign.timing import is_plausible_day

SETTINGS = (
    "lead_organisation_id", "timezone", "language", "rate_limit_per_minute", "co2_kg_per_km",
    "cost_per_km", "cost_per_hour",
)  # fmt: skip
MEMBER_SETTINGS = (
    "status", "meeting_software", "software_comment", "enrolment_target", "contact_name",
    "contact_title", "contact_email", "guide_url",
)  # fmt: skip
QUESTIONNAIRE_SETTINGS = ("slug", "kind", "definition", "is_anonymous", "is_sending")
GROUP_SETTINGS = ("organisation_id", "name", "kind", "sequence_name")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Plan:
    """The new campaign as the lead administrator names and dates it."""

    slug: str
    name: str
    starts_on: date
    ends_on: date


def problems(db_session: Session, plan: Plan) -> dict[str, Any]:
    """Return what is wrong with the plan, a sentence per field ({} when nothing is)."""
    found = {"name": _name_problem(plan.name), "slug": _slug_problem(db_session, plan.slug)}
    found["ends_on"] = _period_problem(plan.starts_on, plan.ends_on)
    return {field: sentence for field, sentence in found.items() if sentence}


def _name_problem(name: str) -> Any:
    if not 2 <= len(name.strip()) <= 200 or CONTROL.search(name):
        return _l("Give the campaign a name of 2 to 200 characters, on one line.")
    return None


def _slug_problem(db_session: Session, slug: str) -> Any:
    if len(slug) > 64 or not SLUG.match(slug):
        return _l("Use a-z, 0-9 and hyphens only.")
    if db_session.scalar(select(Campaign.id).where(Campaign.slug == slug)):
        return _l("Another campaign already uses this address name.")
    return None


def _period_problem(starts_on: date, ends_on: date) -> Any:
    if not (is_plausible_day(starts_on) and is_plausible_day(ends_on)):
        return _l("Give the dates in the years 1900 to 2199.")
    if ends_on < starts_on:
        return _l("The campaign cannot end before it starts.")
    return None


class PlanError(ValueError):
    """The plan has problems (by field); nothing was written."""

    def __init__(self, found: dict[str, Any]) -> None:
        super().__init__(" ".join(str(sentence) for sentence in found.values()))
        self.problems = found


def start_next(
    db_session: Session, old: Campaign, plan: Plan, actor: Any, now: datetime
) -> Campaign:
    """Create the campaign of `plan` from `old` (see the module's text) and audit it; raise
    PlanError, having written nothing, if the plan has problems."""
    found = problems(db_session, plan)
    if found:
        raise PlanError(found)
    new = _campaign(old, plan, now)
    db_session.add(new)
    db_session.flush()
    counts = _copy_contents(db_session, old, new, now)
    record(db_session, actor, "campaign.started_from", now=now, target=new.slug,
           source=old.slug, campaign_id=new.id, **counts)  # fmt: skip
    return new


def _campaign(old: Campaign, plan: Plan, now: datetime) -> Campaign:
    settings = {name: getattr(old, name) for name in SETTINGS}
    return Campaign(
        slug=plan.slug, name=plan.name.strip(), starts_on=plan.starts_on, ends_on=plan.ends_on,
        created_at=now, **settings,
    )  # fmt: skip


def _copy_contents(
    db_session: Session, old: Campaign, new: Campaign, now: datetime
) -> dict[str, int]:
    """Copy the members, then their pilot groups, and the questionnaires; return the counts."""
    members = [_membership(m, new, now) for m in _rows(db_session, Membership, old)]
    db_session.add_all(members)
    db_session.flush()  # a pilot group belongs to a member of its campaign
    groups = [_group(g, old, new, now) for g in _rows(db_session, PilotGroup, old)]
    olds = _rows(db_session, Questionnaire, old)
    questionnaires = [_questionnaire(q, new, now) for q in olds]
    texts = [_mail_text(t, new, now) for t in _rows(db_session, MailText, old)]
    db_session.add_all([*groups, *questionnaires, *texts])
    db_session.flush()
    for before, after in zip(olds, questionnaires, strict=True):  # the campaign's own wording
        stored.carry_over(db_session, before, after, now)
    sequences = sequence_copies.carry_over(db_session, old.id, old.slug, new.id, now)
    paragraphs = carry_paragraphs(db_session, old.id, new.id, now)
    return {"members": len(members), "pilot_groups": len(groups),
            "questionnaires": len(questionnaires), "mail_texts": len(texts),
            "sequences": sequences, "paragraphs": paragraphs}  # fmt: skip


def _rows(db_session: Session, model: Any, campaign: Campaign) -> list[Any]:
    """Return the rows of a model that belong to the campaign, in the order they were made."""
    return list(
        db_session.scalars(select(model).where(model.campaign_id == campaign.id).order_by(model.id))
    )


def _membership(old: Membership, new: Campaign, now: datetime) -> Membership:
    settings = {name: getattr(old, name) for name in MEMBER_SETTINGS}
    return Membership(
        campaign_id=new.id, organisation_id=old.organisation_id, created_at=now, updated_at=now,
        **settings,
    )  # fmt: skip


def _group(old: PilotGroup, campaign: Campaign, new: Campaign, now: datetime) -> PilotGroup:
    """A pilot group like the old one, starting as far into the new period as it did into the
    old (within the new period); its self-enrolment link closed until someone opens it."""
    settings = {name: getattr(old, name) for name in GROUP_SETTINGS}
    later = new.starts_on + (old.starts_on - campaign.starts_on)
    starts_on = min(max(later, new.starts_on), new.ends_on)
    return PilotGroup(campaign_id=new.id, starts_on=starts_on, created_at=now, **settings)


def _questionnaire(old: Questionnaire, new: Campaign, now: datetime) -> Questionnaire:
    """The same questionnaire for the new campaign; its closing time belonged to the old."""
    settings = {name: getattr(old, name) for name in QUESTIONNAIRE_SETTINGS}
    return Questionnaire(campaign_id=new.id, created_at=now, **settings)


def _mail_text(old: MailText, new: Campaign, now: datetime) -> MailText:
    """The campaign's own wording of a mail, for the new campaign too."""
    words = {name: getattr(old, name) for name in ("name", "language", "subject", "reason", "body")}
    return MailText(campaign_id=new.id, author_id=old.author_id, updated_at=now, **words)
