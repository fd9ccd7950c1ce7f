"""The API's questionnaire results: the same figures as the results pages, made by the same
code (campaign/surveys/results.py), so the same answers count and the same cells are hidden
(campaign/surveys/disclosure.py: answers count in whole groups of five per member, in the order
they were given; a figure that stands for fewer than five people is never shown).

A member's results for its representatives and the lead administrator; the whole network's
for the lead administrator only. Who has not answered is named to the member's own
representatives only, and never for an anonymous questionnaire, as on the pages.
"""

from __future__ import annotations

from datetime import datetime

from flask import g
from flask_babel import gettext as _
from pydantic import BaseModel, Field
from spectree import Response
from sqlalchemy.orm import Session

from campaign import db
from campaign.accounts.scope import Access, is_lead_admin
from campaign.api.core import Page, PageQuery, bp, operation, page_of, tagged
from campaign.network.models import Organisation
from campaign.surveys import results, service
from campaign.surveys.models import Questionnaire as Row
from campaign.surveys.models import QuestionnaireKind
from campaign.surveys.stored import definition_of
from campaign.surveys.views import asked_or_404, questionnaire_or_404, reader_language
from campaign.timing import current_clock


class Questionnaire(BaseModel):
    """A questionnaire the campaign sends its participants."""

    id: int
    slug: str
    kind: QuestionnaireKind
    title: str = Field(description="Its title, in the language of the caller's account.")
    is_anonymous: bool = Field(description="Whether answers are kept without a name.")
    closes_at: datetime | None


class QuestionnaireList(Page):
    items: list[Questionnaire]


class Rate(BaseModel):
    """How many of a member's participants were sent the questionnaire, and answered it."""

    member: str
    invited: int
    answered: int
    percent: int | None = Field(description="answered of invited, in whole per cent.")


class Count(BaseModel):
    value: str
    label: str
    count: int


class QuestionResult(BaseModel):
    """One question's answers that count. Null figures are hidden: fewer than five count."""

    id: str
    type: str = Field(description="single, multiple, likert, number or text.")
    text: str
    answered: int = Field(description="How many answers to it count.")
    suppressed: bool = Field(description="Whether fewer than five count, so nothing is shown.")
    counts: list[Count] | None = Field(description="Per choice (single, multiple, likert).")
    total: int | None = Field(description="The sum (number).")
    median: float | None = Field(description="The median (likert, number).")
    texts: list[str] | None = Field(description="The answers, sorted (text).")


class Results(BaseModel):
    """A questionnaire's results for the network or one member, as its results page shows them."""

    questionnaire: Questionnaire
    member: str | None = Field(description="The member's slug; null for the whole network.")
    respondents: int = Field(description="People who have answered.")
    counted: int = Field(description="Of them, those whose answers count.")
    is_shown: bool = Field(description="Whether any answers count (at least five).")
    minimum: int = Field(description="The fewest answers any figure stands for.")
    note: str | None = Field(description="Why nothing is shown, as the page says it.")
    rates: list[Rate]
    questions: list[QuestionResult] = Field(description="Empty while nothing is shown.")
    not_answered: list[str] | None = Field(
        description="The e-mail addresses of the member's invited participants who have not "
        "answered: for its own representatives only, never of an anonymous questionnaire."
    )


def describe(questionnaire: Row, language: str) -> Questionnaire | None:
    """Return the questionnaire as the API shows it; None without a definition."""
    definition = definition_of(db.session(), questionnaire)
    if definition is None:
        return None
    return Questionnaire(
        id=questionnaire.id, slug=questionnaire.slug, kind=questionnaire.kind,
        title=definition.title[language], is_anonymous=questionnaire.is_anonymous,
        closes_at=questionnaire.closes_at,
    )  # fmt: skip


@bp.get("/questionnaires")
@operation(Access.STAFF, "questionnaires", query=PageQuery,
           resp=Response(HTTP_200=QuestionnaireList))  # fmt: skip
def list_questionnaires(query: PageQuery) -> QuestionnaireList:
    """List the campaign's questionnaires, the baseline first."""
    session, language = db.session(), reader_language()
    found = service.questionnaires_of(session, g.campaign, current_clock().now())
    session.commit()  # the questionnaires' rows, made on first use (as the pages do)
    described = [shown for shown in (describe(q, language) for q in found) if shown is not None]
    rows, cursor = page_of(described, lambda questionnaire: questionnaire.id, query)
    return QuestionnaireList(items=rows, next_cursor=cursor)


@bp.get("/questionnaires/<int:questionnaire_id>/results")
@operation(Access.LEAD_ADMIN, "questionnaires", resp=Response(HTTP_200=Results))
def show_network_results(questionnaire_id: int) -> tuple[BaseModel, int, dict[str, str]]:
    """Show the whole network's results of a questionnaire (the lead administrator's)."""
    return tagged(_results(questionnaire_id, None))


@bp.get("/members/<org>/questionnaires/<int:questionnaire_id>/results")
@operation(Access.ORGANISATION, "questionnaires", resp=Response(HTTP_200=Results))
def show_member_results(questionnaire_id: int) -> tuple[BaseModel, int, dict[str, str]]:
    """Show a member's results of a questionnaire."""
    return tagged(_results(questionnaire_id, g.organisation))


def _results(questionnaire_id: int, organisation: Organisation | None) -> Results:
    """Gather the results of the network (None) or of one member, as the page does."""
    session, language = db.session(), reader_language()
    questionnaire = questionnaire_or_404(questionnaire_id)
    definition = asked_or_404(questionnaire)
    org_id = organisation.id if organisation is not None else None
    scope = results.collect(session, questionnaire, definition).scope(org_id, language)
    shown = describe(questionnaire, language)
    assert shown is not None  # asked_or_404 found its definition
    return Results(
        questionnaire=shown, member=organisation.slug if organisation is not None else None,
        respondents=scope.responses, counted=scope.counted, is_shown=scope.is_shown,
        minimum=results.MIN_RESPONDENTS, note=_note(scope),
        rates=_rates(session, questionnaire, org_id),
        questions=[_question(s, language) for s in scope.summaries] if scope.is_shown else [],
        not_answered=_not_answered(session, questionnaire, org_id),
    )  # fmt: skip


def _note(scope: results.Scope) -> str | None:
    """Say why no answer is shown, in the page's words (None when some are)."""
    if scope.is_shown:
        return None
    if scope.responses < results.MIN_RESPONDENTS:
        return _(
            "Fewer than %(n)d people have answered, so the answers are not shown: in a small "
            "group they could tell who said what.",
            n=results.MIN_RESPONDENTS,
        )
    return _(
        "No member has had %(n)d answers yet, so none count: answers count in whole groups of "
        "five per member, in the order they were given, so that a small group cannot tell who "
        "said what.",
        n=results.MIN_RESPONDENTS,
    )


def _question(summary: results.Summary, language: str) -> QuestionResult:
    """Return one question's figures; none of them while it is suppressed."""
    question, hidden = summary.question, summary.suppressed
    kind = question.type
    return QuestionResult(
        id=question.id, type=kind, text=question.text[language], answered=summary.answered,
        suppressed=hidden,
        counts=None if hidden or kind not in ("single", "multiple", "likert") else [
            Count(value=v, label=label, count=n) for v, label, n in summary.counts
        ],
        total=None if hidden else summary.total,
        median=None if hidden else summary.median,
        texts=None if hidden or kind != "text" else summary.texts,
    )  # fmt: skip


def _rates(session: Session, questionnaire: Row, org_id: int | None) -> list[Rate]:
    """Return the response rate of each member in scope."""
    table = results.rates(session, questionnaire, org_id)
    return [
        Rate(
            member=r.organisation.slug, invited=r.invited, answered=r.answered, percent=r.percent
        )  # fmt: skip
        for r in table.rows
    ]


def _not_answered(session: Session, questionnaire: Row, org_id: int | None) -> list[str] | None:
    """Return who has not answered, where the page names them: to a member's representative,
    of a questionnaire that is not anonymous."""
    if org_id is None or is_lead_admin() or questionnaire.is_anonymous:
        return None
    return [p.email for p in results.not_answered(session, questionnaire, org_id)]
