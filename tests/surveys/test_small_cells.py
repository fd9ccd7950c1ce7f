"""Small cells cannot be found by subtraction: four members answer the follow-up through their
links (3, 6, 7 and 12 respondents, some questions answered by few within a member), then every
results page, export, list, dashboard and the final report is fetched over HTTP as the lead
administrator and as each representative. Answers count in whole groups of five per member
(campaign/surveys/disclosure.py): whatever numbers a viewer can read are those of the answers
that count, each stands for none or at least 5 people, and the network's figure minus the
members shown never leaves a single member, or fewer than 5 respondents, as the rest: not even
for a viewer who knows one member's answers from elsewhere (a representative reading their own
people's data exports beside the final report). Who has answered (receipts, response rates) is
not hidden from staff: the outbox tells it anyway; what they answered is."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.jobs import JOBS, run_job
from campaign.network.models import Membership, Organisation, OrganisationKind
from campaign.security import hash_password
from campaign.surveys import disclosure, service
from campaign.surveys.definitions import Question, definitions
from campaign.surveys.models import Questionnaire, Response
from tests.conftest import PASSWORD, START, Network, csrf_token, sign_in
from tests.urls import staff

JOB = next(job for job in JOBS if job.name == "questionnaires")
FOLLOW_UP = definitions()["follow-up"]
QUESTIONS = {q.id: q for q in FOLLOW_UP.questions}
# slug: (invited, answered, of them answering "barriers", of them writing "tips")
MEMBERS = {
    "alpha": (16, 12, 10, 12),  # 16 invited: tests/surveys/test_moments.py has 15 answer
    "beta": (9, 7, 3, 7),
    "gamma": (8, 6, 6, 2),
    "delta": (5, 3, 1, 3),
}
SHORT = {"alpha": "Alpha", "beta": "Beta", "gamma": "Gamma", "delta": "Delta"}
TOOLS = ["lync", "adobe_connect", "video_room", "phone", "other"]
BARRIERS = ["skills", "habit", "camera", "licences", "none"]
OUTCOMES = ("trips_replaced", "km_avoided", "hours_saved")


def _answers(slug: str, n: int) -> dict[str, Any]:
    """The n-th respondent's answers in a member: varied, every figure differs by member."""
    seed = sum(map(ord, slug))
    trips = 1 + (seed * 7 + n * 13) % 29
    _invited, _answered, barriers, tips = MEMBERS[slug]
    answers: dict[str, Any] = {
        "trips_replaced": str(trips),
        "km_avoided": str(trips * 37 % 503 + n),
        "hours_saved": str(trips % 9 + 1),
        "satisfaction": str(1 + (seed + n) % 5),
        "tools_used": sorted({TOOLS[(seed + n) % 5], TOOLS[(n * 3) % 5]}) if n % 4 else [],
        "barriers": [BARRIERS[(seed + 2 * n) % 5]] if n < barriers else [],
        "tips": f"Tips {n} från {SHORT[slug]}: börja i liten skala" if n < tips else "",
    }
    return answers


# Counts of who answered: shown in full to staff, who can read them in the outbox anyway.
WHO_ANSWERED = {("receipts",), ("responses",)}


@dataclass
class Truth:
    """What counts of the answers, per member: how many stand behind each figure, and the
    figure; beside how many answered (receipts and responses, counted or not)."""

    behind: dict[tuple[str, Any], int] = field(default_factory=dict)  # (member, quantity)
    value: dict[tuple[str, Any], Any] = field(default_factory=dict)


def counting(given: list[dict[str, Any]]) -> tuple[int, dict[str, list[Any]]]:
    """The rule, recounted here: a member's answers in the order given count in whole groups of
    five, and each question's answers the same way among those. Return how many respondents
    count, and the answers that count per question."""
    respondents = given[: len(given) - len(given) % 5]
    per_question = {}
    for question in FOLLOW_UP.questions:
        values = [_typed(question, a.get(question.id, "")) for a in respondents]
        values = [v for v in values if v not in ("", [], None)]
        per_question[question.id] = values[: len(values) - len(values) % 5]
    return len(respondents), per_question


def _truth(answered: dict[str, int] | None = None) -> Truth:
    """The truth once the first `answered` people of each member have answered (all of them by
    default, as MEMBERS says)."""
    truth = Truth()
    for slug, (_invited, everyone, _b, _t) in MEMBERS.items():
        n = everyone if answered is None else answered.get(slug, 0)
        respondents, per_question = counting([_answers(slug, k) for k in range(n)])
        for scope in (slug, "network"):
            _add(truth, scope, ("respondents",), respondents, respondents)
            _add(truth, scope, ("responses",), n, n)
            _add(truth, scope, ("receipts",), n, n)
            for question in FOLLOW_UP.questions:
                values = per_question[question.id]
                for quantity, value in _quantities(question, values):
                    _add(truth, scope, quantity, len(values), value)
    return truth


def _add(truth: Truth, scope: str, quantity: tuple[Any, ...], behind: int, value: Any) -> None:
    key = (scope, quantity)
    truth.behind[key] = truth.behind.get(key, 0) + behind
    before = truth.value.get(key)
    truth.value[key] = value if before is None else before + value


def _typed(question: Question, value: Any) -> Any:
    return int(value) if question.type in ("number", "likert") and value != "" else value


def _quantities(question: Question, values: list[Any]) -> list[tuple[tuple[Any, ...], Any]]:
    """The figures a table of one question's answers is made of, that add up over members."""
    found: list[tuple[tuple[Any, ...], Any]] = [(("answered", question.id), len(values))]
    if question.type == "number":
        found.append((("total", question.id), sum(values)))
    elif question.type == "text":
        found.append((("texts", question.id), Counter(values)))
    else:
        counted = Counter(
            v for value in values for v in (value if isinstance(value, list) else [value])
        )
        options = (
            [o.value for o in question.options]
            if question.type != "likert"
            else list(range(1, question.scale + 1))
        )
        found += [(("option", question.id, o), counted.get(o, 0)) for o in options]
    return found


# Building the network and answering ---------------------------------------------------------


@dataclass
class Pilot:
    """The four members' people, sent the follow-up (anonymous or not), nobody answered yet."""

    follow_up: Questionnaire
    people: dict[str, list[Participant]]


def pilot(app: Flask, session: Session, network: Network, anonymous: bool) -> Pilot:
    orgs = {"alpha": network.alpha, "beta": network.beta}
    for slug in ("gamma", "delta"):
        orgs[slug] = Organisation(
            slug=slug, name=f"{SHORT[slug]} kommun", short_name=SHORT[slug],
            kind=OrganisationKind.MUNICIPALITY, created_at=START,
        )  # fmt: skip
        session.add(
            Membership(
                campaign=network.campaign,
                organisation=orgs[slug],
                created_at=START,
                updated_at=START,
            )
        )
        session.add(
            User(
                email=f"rep@{slug}.se",
                name=f"{SHORT[slug]} Rep",
                role=Role.MEMBER_REP,
                organisation=orgs[slug],
                password_hash=hash_password(PASSWORD),
                created_at=START,
            )  # fmt: skip
        )
    session.flush()
    people: dict[str, list[Participant]] = {}
    for slug, (invited, _answered, _b, _t) in MEMBERS.items():
        target = PilotGroup(
            campaign_id=network.campaign.id, organisation_id=orgs[slug].id,
            name=f"{SHORT[slug]}-gruppen", kind=PilotGroupKind.VOLUNTEERS,
            starts_on=date(2014, 3, 3), created_at=START,
        )  # fmt: skip
        session.add(target)
        session.flush()
        people[slug] = []
        for n in range(invited):
            person = Participant(
                campaign_id=network.campaign.id, organisation_id=orgs[slug].id,
                pilot_group_id=target.id, email=f"p{n}@{slug}.se", name=f"Person {n}",
                status=ParticipantStatus.ACTIVE, starts_on=date(2014, 3, 3),
                created_at=START, updated_at=START,
            )  # fmt: skip
            session.add(person)
            people[slug].append(person)
    session.flush()
    with app.app_context():
        questionnaires = {
            q.slug: q for q in service.questionnaires_of(session, network.campaign, START)
        }
    session.commit()
    follow_up = questionnaires["follow-up"]
    if anonymous:  # made so the real way, before anyone answers
        lead = app.test_client()
        sign_in(lead, network.lead.email)
        path = staff(f"/questionnaires/{follow_up.id}")
        made = lead.post(f"{path}/anonymous", data={"csrf_token": csrf_token(lead, path)})
        assert made.status_code == 302
    app.extensions["campaign.clock"].set(datetime(2014, 9, 1, 7, 0, tzinfo=UTC))
    run_job(app, JOB)  # the follow-up is sent to everyone
    return Pilot(follow_up, people)


def answer(app: Flask, made: Pilot, slug: str, n: int) -> None:
    """The member's n-th person answers through their own link, at the clock's moment."""
    with app.app_context():
        path = f"/q/{service.link_token(made.follow_up, made.people[slug][n])}"
    client = app.test_client()
    page = client.post(path, data={"csrf_token": csrf_token(client, path), **_answers(slug, n)})
    assert page.status_code == 200 and "Tack!" in page.get_data(as_text=True)


def _build(app: Flask, session: Session, network: Network, anonymous: bool) -> int:
    made = pilot(app, session, network, anonymous)
    for slug, (_invited, answered, _b, _t) in MEMBERS.items():
        for n in range(answered):
            answer(app, made, slug, n)
    return made.follow_up.id


# Reading what a viewer is shown ---------------------------------------------------------------


@dataclass
class Seen:
    """Every figure a viewer can read, by scope (a member's slug, or "network")."""

    value: dict[tuple[str, Any], Any] = field(default_factory=dict)
    medians: set[str] = field(default_factory=set)  # scopes whose medians are shown
    unnamed: list[list[str]] = field(default_factory=list)  # members whose rows are mixed

    def add(self, scope: str, quantity: tuple[Any, ...], value: Any) -> None:
        key = (scope, quantity)
        if key in self.value:  # two pages must not disagree either
            assert self.value[key] == value, (key, self.value[key], value)
        self.value[key] = value


def _get(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def _section(page: str, question_id: str) -> str:
    return page.split(f'id="q-{question_id}"')[1].split("</section>")[0]


def _read_results(seen: Seen, scope: str, page: str) -> None:
    lead = re.search(r'<p class="lead">.*?</p>', page, re.S)
    assert lead is not None
    responses = re.search(r"(\d+) svarande\.", lead[0])
    assert responses is not None
    seen.add(scope, ("responses",), int(responses[1]))
    counted = re.search(r"Svaren från (\d+) av dem räknas", lead[0])
    seen.add(scope, ("respondents",), int((counted or responses)[1]))
    _read_rates(seen, page, scope)
    if 'id="q-' not in page:
        return
    for question in FOLLOW_UP.questions:
        section = _section(page, question.id)
        answered = re.search(r"(\d+) svar<", section)
        if answered:
            seen.add(scope, ("answered", question.id), int(answered[1]))
        if "visas inte" in section or "Visas inte" in section:
            continue
        if question.type == "number":
            total = re.search(r"<dt>Totalt</dt><dd>([\d\u202f]+)", section)  # 2\u202f244
            if total:
                seen.add(scope, ("total", question.id), int(total[1].replace("\u202f", "")))
            if "Median" in section:
                seen.medians.add(scope)
        elif question.type == "text":
            texts = re.findall(r"<li>(.*?)</li>", section)
            seen.add(scope, ("texts", question.id), Counter(texts))
        else:
            counts = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', section)]
            options = (
                [o.value for o in question.options]
                if question.type != "likert"
                else list(range(1, question.scale + 1))
            )
            if counts:
                assert len(counts) == len(options)
                for option, n in zip(options, counts, strict=True):
                    seen.add(scope, ("option", question.id, option), n)


def _slug(name: str) -> str:
    return {v: k for k, v in SHORT.items()}[name]


def _read_rates(seen: Seen, page: str, scope: str) -> None:
    """The rates table: invited, answered and the rate (answered = rate x invited, too)."""
    for name, invited, answered, percent in re.findall(
        r'<tr><th scope="row">(\w+)</th><td class="num">(\d+)</td><td class="num">([^<]*)</td>'
        r'<td class="num">([^<]*)</td></tr>',
        page,
    ):
        _rate(seen, _slug(name), int(invited), answered, percent)


def _rate(seen: Seen, slug: str, invited: int, answered: str, percent: str) -> None:
    if answered.strip().isdigit():
        seen.add(slug, ("receipts",), int(answered))
    rate = re.match(r"(\d+) %", percent.strip())
    if rate:  # which counts of answers give this rate of the invited: one, or a range
        fits = [a for a in range(invited + 1) if round(100 * a / invited) == int(rate[1])]
        if len(fits) == 1:
            seen.add(slug, ("receipts",), fits[0])


def _read_lists(seen: Seen, page: str, scope: str) -> None:
    row = page.split("Hur har det gått med webbmötena?</a></th>")[1].split("</tr>")[0]
    invited, answered = re.findall(r'<td class="num">([^<]*)</td>', row)[:2]
    if answered.strip().isdigit():
        seen.add(scope, ("receipts",), int(answered))


def _read_dashboard(seen: Seen, page: str) -> None:
    table = page.split("Svarsfrekvens per medlem")[1].split("</table>")[0]
    titles = re.findall(r'<th scope="col" class="num">([^<]*)</th>', table)
    column = titles.index("Hur har det gått med webbmötena?")
    for name, cells in re.findall(r'<tr><th scope="row">(\w+)</th>(.*?)</tr>', table, re.S):
        cell = re.findall(r'<td class="num">([^<]*)</td>', cells)[column].strip()
        shown = re.fullmatch(r"(\d+) / (\d+) \((\d+) %\)", cell)
        if shown:
            seen.add(_slug(name), ("receipts",), int(shown[1]))
            _rate(seen, _slug(name), int(shown[2]), shown[1], shown[3] + " %")
        else:
            assert cell == "–", cell
    chart = page.split("Svarsfrekvens: Hur har det gått med webbmötena?</title>")[1].split(
        "</svg>"
    )[0]
    for name, shown in re.findall(
        r'text-anchor="end"[^>]*>(\w+)</text><(?:rect[^>]*/><)?text[^>]*>([^<]*)</text>', chart
    ):
        percent = re.fullmatch(r"(\d+) %", shown)
        if percent:
            invited = MEMBERS[_slug(name)][0]
            _rate(seen, _slug(name), invited, "", shown)


def _read_export(seen: Seen, rows: list[list[Any]], scope: str | None) -> None:
    """An export's rows, per member: what they add up to is what the export shows of it."""
    header = [str(h) for h in rows[0]]
    by_member: dict[str, list[dict[str, Any]]] = {}
    unnamed = []
    for row in rows[1:]:
        record = dict(zip(header, row, strict=True))
        if not record["Medlem"]:
            unnamed.append(record)
            continue
        member = _slug(str(record["Medlem"]))
        assert scope is None or member == scope
        by_member.setdefault(member, []).append(record)
    if unnamed:  # rows without a member are those of the members not named: by elimination
        rest = [m for m in MEMBERS if m not in by_member]
        if len(rest) == 1:
            by_member[rest[0]] = unnamed
        else:
            seen.unnamed.append(rest)
    for member, records in by_member.items():
        seen.add(member, ("respondents",), len(records))
        for question in FOLLOW_UP.questions:
            # A cell that does not count says so, answered or not: the rest add up.
            # Headed by the question's text (in Swedish, the page's language).
            text = question.text["sv"]
            shown = [r[text] for r in records if r[text] != "visas inte"]
            values = [_exported(question, v) for v in shown]
            values = [v for v in values if v not in ("", None, [])]
            for quantity, value in _quantities(question, values):
                seen.add(member, quantity, value)


def _exported(question: Question, value: Any) -> Any:
    if value in ("", None):
        return ""
    if question.type in ("number", "likert"):
        return int(value)
    if question.type == "multiple":
        labels = {o.label["sv"]: o.value for o in question.options}
        return [labels[v] for v in str(value).split("; ")]
    return str(value)


def _csv(client: FlaskClient, path: str, delimiter: str = ";") -> list[list[Any]]:
    body = _get(client, path).lstrip("\ufeff")
    return [list(r) for r in csv.reader(io.StringIO(body), delimiter=delimiter)]


def _xlsx(client: FlaskClient, path: str) -> list[list[Any]]:
    response = client.get(path)
    assert response.status_code == 200, path
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def _read_report(seen: Seen, client: FlaskClient, as_of: str = "") -> None:
    """The final report's outcomes, per member (CSV) and for the network (Markdown), as of now
    or of the moment `as_of`."""
    moment = f"&as_of={quote(as_of)}" if as_of else ""
    rows = _csv(client, staff(f"/report/final.csv?language=en{moment}"), delimiter=",")
    for row in rows[1:]:
        slug = _slug(row[0])
        if row[11].isdigit():
            seen.add(slug, ("respondents",), int(row[11]))
        for column, question in ((12, "trips_replaced"), (13, "km_avoided"), (14, "hours_saved")):
            if row[column]:
                seen.add(slug, ("total", question), int(row[column]))
        if row[15]:
            seen.add(slug, ("total", "km_avoided"), round(float(row[15].replace(",", ".")) / 0.133))
    text = _get(client, staff(f"/report/final.md?language=en{moment}"))
    found = re.search(
        r"([\d\u202f,]+) pilot users (?:count|answered the follow-up)\. Together they replaced"
        r" ([\d\u202f,]+) trips with web meetings, avoided ([\d\u202f,]+) km of travel and saved"
        r" ([\d\u202f,]+)",
        text,
    )
    if found:
        numbers = [int(re.sub(r"\D", "", n)) for n in found.groups()]
        seen.add("network", ("respondents",), numbers[0])
        for question, n in zip(OUTCOMES, numbers[1:], strict=True):
            seen.add("network", ("total", question), n)


def _everything(client: FlaskClient, slugs: list[str], questionnaire: int, lead: bool) -> Seen:
    seen = Seen()
    for slug in slugs:
        base = staff(f"/organisations/{slug}/questionnaires")
        _read_lists(seen, _get(client, base), slug)
        _read_results(seen, slug, _get(client, f"{base}/{questionnaire}"))
        for read in (_csv, _xlsx):
            fmt = "csv" if read is _csv else "xlsx"
            _read_export(seen, read(client, f"{base}/{questionnaire}/export.{fmt}"), slug)
        _read_dashboard(seen, _get(client, staff(f"/organisations/{slug}/dashboard")))
    if lead:
        _read_lists(seen, _get(client, staff("/questionnaires")), "network")
        _read_results(seen, "network", _get(client, staff(f"/questionnaires/{questionnaire}")))
        for read in (_csv, _xlsx):
            fmt = "csv" if read is _csv else "xlsx"
            _read_export(
                seen, read(client, staff(f"/questionnaires/{questionnaire}/export.{fmt}")), None
            )
        _read_dashboard(seen, _get(client, staff("/dashboard")))
        _read_report(seen, client)
    return seen


# The proof -----------------------------------------------------------------------------------


def _assert_nothing_small_or_subtractable(
    seen: Seen, truth: Truth, viewer: str, known: tuple[str, ...] = ()
) -> None:
    """Every figure seen is true and stands for none or at least 5 people, and the network's
    figure minus the members shown, and minus the members `known` to the viewer from elsewhere,
    never leaves a single member or fewer than 5 people."""
    problems = []
    for (scope, quantity), value in seen.value.items():
        assert value == truth.value[(scope, quantity)], (viewer, scope, quantity, value)
        behind = truth.behind[(scope, quantity)]
        # Shown: a figure of at least 5 people (or of nobody, where there is nothing to hide).
        if 0 < behind < 5 and quantity not in WHO_ANSWERED:
            problems.append(f"{scope} {quantity} = {value}: a figure of {behind} shown")
    for scope in seen.medians:
        if truth.behind[(scope, ("respondents",))] < 5:
            problems.append(f"{scope}: a median of fewer than 5 shown")
    for quantity in {quantity for (_scope, quantity) in truth.value} - WHO_ANSWERED:
        if ("network", quantity) not in seen.value:
            continue
        rest = [m for m in MEMBERS if (m, quantity) not in seen.value and m not in known]
        rest = [m for m in rest if truth.behind[(m, quantity)] > 0]
        people = sum(truth.behind[(m, quantity)] for m in rest)
        # The network's figure minus those shown (and known) is the rest: never one, never few.
        if rest and (len(rest) < 2 or people < 5):
            value = truth.value[(rest[0], quantity)] if len(rest) == 1 else "their sum"
            problems.append(f"network {quantity} minus those shown = {rest}'s {value}")
    for rest in seen.unnamed:
        people = sum(truth.behind[(m, ("respondents",))] for m in rest)
        if len(rest) < 2 or people < 5:
            problems.append(f"the rows without a member are {rest}'s")
    assert not problems, f"{viewer} can tell:\n" + "\n".join(sorted(problems))


@pytest.mark.parametrize("anonymous", [False, True], ids=["named", "anonymous"])
def test_no_hidden_member_can_be_worked_out_from_what_anyone_sees(
    app: Flask, session: Session, network: Network, anonymous: bool
) -> None:
    questionnaire = _build(app, session, network, anonymous)
    truth = _truth()
    lead = app.test_client()
    sign_in(lead, network.lead.email)
    seen = _everything(lead, list(MEMBERS), questionnaire, lead=True)
    # Also for a lead administrator who knows one member's answers (their own colleagues').
    for known in [(), *[(slug,) for slug in MEMBERS]]:
        _assert_nothing_small_or_subtractable(seen, truth, f"lead knowing {known}", known)
    # The network's own figures are there: the check above is not vacuous.
    assert (
        seen.value[("network", ("total", "trips_replaced"))]
        == truth.value[("network", ("total", "trips_replaced"))]
    )
    assert ("alpha", ("total", "trips_replaced")) in seen.value
    assert ("network", ("texts", "tips")) in seen.value
    report = Seen()  # the final report, which every member gets in the end
    _read_report(report, lead)
    for slug in MEMBERS:
        rep = app.test_client()
        sign_in(rep, f"rep@{slug}.se")
        own = _everything(rep, [slug], questionnaire, lead=False)
        for (scope, quantity), value in report.value.items():
            own.add(scope, quantity, value)
        # A representative knows their own people's answers (each one's data export).
        _assert_nothing_small_or_subtractable(own, truth, slug, known=(slug,))
        assert ("network", ("total", "km_avoided")) in own.value
        assert rep.get(staff(f"/questionnaires/{questionnaire}")).status_code == 403


def test_the_rule_counts_whole_groups_in_the_order_given(
    app: Flask, session: Session, network: Network
) -> None:
    """disclosure.counted, the one place of the rule, asked directly."""
    with app.app_context():
        questionnaires = {
            q.slug: q for q in service.questionnaires_of(session, network.campaign, START)
        }
    follow_up, baseline = questionnaires["follow-up"], questionnaires["baseline"]
    ids: dict[tuple[str, int], int] = {}

    def respond(questionnaire: Questionnaire, org: Organisation, n: int, answers: dict) -> None:  # type: ignore[type-arg]
        at = datetime(2014, 9, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=n)
        made = Response(
            questionnaire_id=questionnaire.id, organisation_id=org.id, answers=answers,
            submitted_at=at, updated_at=at,
        )  # fmt: skip
        session.add(made)
        session.flush()
        ids[(f"{questionnaire.slug}/{org.slug}", n)] = made.id

    # Alpha: 12 responses; "barriers" answered by those given 0, 2, 3, 5, 6, 7 and 10.
    for n in reversed(range(12)):  # made in another order than given: the order given counts
        named = {"barriers": ["habit"]} if n in (0, 2, 3, 5, 6, 7, 10) else {}
        respond(follow_up, network.alpha, n, {"trips_replaced": n, **named})
    for n in range(4):  # Beta: 4 follow-up responses, and 5 to the baseline
        respond(follow_up, network.beta, n, {"trips_replaced": 100})
    for n in range(5):
        respond(baseline, network.beta, n, {"trips_per_month": 3})
    session.commit()

    def counted(*where: Any) -> dict[int, tuple[bool, bool]]:
        found = disclosure.counted([*where], ["trips_replaced", "barriers"])
        return {row.id: (bool(row.q0), bool(row.q1)) for row in session.execute(select(found))}

    got = counted(Response.questionnaire_id.in_([follow_up.id, baseline.id]))
    alpha = {n: got.get(ids[("follow-up/alpha", n)]) for n in range(12)}
    # The first ten count (not the last two); of the barriers, the first five answered count:
    # those given 0, 2, 3, 5 and 6, with the empty cells before the next answer (1 and 4).
    assert alpha == {
        **{n: (True, True) for n in range(7)},
        7: (True, False), 8: (True, False), 9: (True, False), 10: None, 11: None,
    }  # fmt: skip
    assert not any(ids[("follow-up/beta", n)] in got for n in range(4))  # four: none yet
    assert all(ids[("baseline/beta", n)] in got for n in range(5))  # per questionnaire
    # As of a moment: the responses given by then, in groups of five again.
    moment = Response.submitted_at <= datetime(2014, 9, 1, 8, 8, tzinfo=UTC)
    early = counted(Response.questionnaire_id == follow_up.id, moment)
    assert sorted(early) == sorted(ids[("follow-up/alpha", n)] for n in range(5))


def test_only_a_members_representatives_see_who_has_not_answered(
    app: Flask, session: Session, network: Network
) -> None:
    """Delta: 5 invited, 3 answered. Its representative sees the two others' names, to remind
    them; the lead administrator sees the counts, which hide nothing: none of Delta's answers
    count anywhere, so its count tells nothing of what anyone answered."""
    made = pilot(app, session, network, anonymous=False)
    for slug, (_invited, answered, _b, _t) in MEMBERS.items():
        for n in range(answered):
            answer(app, made, slug, n)
    questionnaire = made.follow_up.id
    waiting = [p.email for p in made.people["delta"][3:]]
    lead = app.test_client()
    sign_in(lead, network.lead.email)
    for path in (
        staff(f"/questionnaires/{questionnaire}"),
        staff(f"/organisations/delta/questionnaires/{questionnaire}"),
    ):
        page = _get(lead, path)
        assert not any(email in page for email in waiting), path
        assert "Har inte svarat än" not in page and "representanter ser namnen" in page
    page = _get(lead, staff(f"/organisations/delta/questionnaires/{questionnaire}"))
    assert '<td class="num">5</td><td class="num">3</td><td class="num">60 %</td>' in page
    assert "3 svarande. Svaren från 0 av dem räknas" in page and 'id="q-' not in page
    rep = app.test_client()
    sign_in(rep, "rep@delta.se")
    own = _get(rep, staff(f"/organisations/delta/questionnaires/{questionnaire}"))
    assert "Har inte svarat än" in own and all(email in own for email in waiting)


def _data_export(client: FlaskClient, slug: str, person: Participant) -> dict[str, int]:
    """A person's follow-up answers, from their data export (GDPR), as their member's
    representative may fetch it."""
    response = client.get(staff(f"/organisations/{slug}/participants/{person.id}/data.json"))
    assert response.status_code == 200
    given = [a["answers"] for a in response.get_json()["questionnaire_answers"]]
    return {q: sum(int(a.get(q, 0)) for a in given) for q in OUTCOMES}


def test_a_representative_who_knows_their_own_people_finds_no_other_member(
    app: Flask, session: Session, network: Network
) -> None:
    """The attack of the review: a representative adds up their own people's answers from each
    one's data export, takes the final report's network totals (every member gets the report),
    subtracts the members shown and their own, and is left with a member hidden only to protect
    theirs (Delta's 3 hid Gamma's 6 as well)."""
    made = pilot(app, session, network, anonymous=False)
    for slug, (_invited, answered, _b, _t) in MEMBERS.items():
        for n in range(answered):
            answer(app, made, slug, n)
    lead = app.test_client()
    sign_in(lead, network.lead.email)
    report = Seen()
    _read_report(report, lead)
    network_totals = {q: report.value[("network", ("total", q))] for q in OUTCOMES}
    shown = {slug for slug in MEMBERS if (slug, ("total", OUTCOMES[0])) in report.value}
    everyone = {
        slug: {q: sum(int(_answers(slug, n)[q]) for n in range(a)) for q in OUTCOMES}
        for slug, (_i, a, _b, _t) in MEMBERS.items()
    }
    for attacker in MEMBERS:
        rep = app.test_client()
        sign_in(rep, f"rep@{attacker}.se")
        known = [_data_export(rep, attacker, p) for p in made.people[attacker]]
        own = {q: sum(k[q] for k in known) for q in OUTCOMES}
        assert own == everyone[attacker]  # the export keeps each person's own answers
        rest = {
            q: network_totals[q]
            - sum(report.value[(slug, ("total", q))] for slug in shown)
            - (0 if attacker in shown else own[q])
            for q in OUTCOMES
        }
        for other in set(MEMBERS) - shown - {attacker}:
            assert rest != everyone[other], f"{attacker}'s representative finds {other}'s"
    # Nothing that counts is hidden: the network's totals are the members' shown, added up.
    assert shown == {"alpha", "beta", "gamma"}
    for q in OUTCOMES:
        assert network_totals[q] == sum(report.value[(slug, ("total", q))] for slug in shown)
