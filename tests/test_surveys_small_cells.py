"""Small cells cannot be found by subtraction: four members answer the follow-up through their
links (3, 6, 7 and 12 respondents, some questions answered by few within a member), then every
results page, export, list, dashboard and the final report is fetched over HTTP as the lead
administrator and as each representative. Whatever numbers a viewer can read, no hidden
member's figure is shown, and the network's figure minus the members shown never leaves a
single member, or fewer than 5 respondents, as the rest."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.clock import JOBS, run_job
from campaign.enrolment.models import Participant, ParticipantStatus, PilotGroup, PilotGroupKind
from campaign.network.models import Membership, Organisation, OrganisationKind
from campaign.security import hash_password
from campaign.surveys import service
from campaign.surveys.definitions import Question, definitions
from campaign.surveys.disclosure import protect
from tests.conftest import PASSWORD, Network, csrf_token, sign_in

JOB = next(job for job in JOBS if job.name == "questionnaires")
FOLLOW_UP = definitions()["follow-up"]
QUESTIONS = {q.id: q for q in FOLLOW_UP.questions}
# slug: (invited, answered, of them answering "barriers", of them writing "tips")
MEMBERS = {
    "alpha": (13, 12, 10, 12),
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


@dataclass
class Truth:
    """What was answered, per member: how many stand behind each figure, and the figure."""

    behind: dict[tuple[str, Any], int] = field(default_factory=dict)  # (member, quantity)
    value: dict[tuple[str, Any], Any] = field(default_factory=dict)


def _truth() -> Truth:
    truth = Truth()
    for slug, (_invited, answered, _b, _t) in MEMBERS.items():
        given = [_answers(slug, n) for n in range(answered)]
        for scope in (slug, "network"):
            _add(truth, scope, ("respondents",), answered, answered)
            _add(truth, scope, ("receipts",), answered, answered)
            for question in FOLLOW_UP.questions:
                values = [_typed(question, a[question.id]) for a in given]
                values = [v for v in values if v not in ("", [], None)]
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


def _build(app: Flask, session: Session, network: Network, anonymous: bool) -> int:
    orgs = {"alpha": network.alpha, "beta": network.beta}
    for slug in ("gamma", "delta"):
        orgs[slug] = Organisation(
            slug=slug, name=f"{SHORT[slug]} kommun", short_name=SHORT[slug],
            kind=OrganisationKind.MUNICIPALITY,
        )  # fmt: skip
        session.add(Membership(campaign=network.campaign, organisation=orgs[slug]))
        session.add(
            User(
                email=f"rep@{slug}.se",
                name=f"{SHORT[slug]} Rep",
                role=Role.MEMBER_REP,
                organisation=orgs[slug],
                password_hash=hash_password(PASSWORD),
            )  # fmt: skip
        )
    session.flush()
    people: dict[str, list[Participant]] = {}
    for slug, (invited, _answered, _b, _t) in MEMBERS.items():
        target = PilotGroup(
            campaign_id=network.campaign.id, organisation_id=orgs[slug].id,
            name=f"{SHORT[slug]}-gruppen", kind=PilotGroupKind.VOLUNTEERS,
            starts_on=date(2014, 3, 3),
        )  # fmt: skip
        session.add(target)
        session.flush()
        people[slug] = []
        for n in range(invited):
            person = Participant(
                campaign_id=network.campaign.id, organisation_id=orgs[slug].id,
                pilot_group_id=target.id, email=f"p{n}@{slug}.se", name=f"Person {n}",
                status=ParticipantStatus.ACTIVE, starts_on=date(2014, 3, 3),
            )  # fmt: skip
            session.add(person)
            people[slug].append(person)
    session.flush()
    with app.app_context():
        questionnaires = {q.slug: q for q in service.questionnaires_of(session, network.campaign)}
    session.commit()
    follow_up = questionnaires["follow-up"]
    if anonymous:  # made so the real way, before anyone answers
        lead = app.test_client()
        sign_in(lead, network.lead.email)
        path = f"/questionnaires/{follow_up.id}"
        made = lead.post(f"{path}/anonymous", data={"csrf_token": csrf_token(lead, path)})
        assert made.status_code == 302
    app.extensions["campaign.clock"].set(datetime(2014, 9, 1, 7, 0, tzinfo=UTC))
    run_job(app, JOB)  # the follow-up is sent to everyone
    for slug, (_invited, answered, _b, _t) in MEMBERS.items():
        for n, person in enumerate(people[slug][:answered]):
            with app.app_context():
                path = f"/q/{service.link_token(follow_up, person)}"
            client = app.test_client()
            page = client.post(
                path, data={"csrf_token": csrf_token(client, path), **_answers(slug, n)}
            )
            assert page.status_code == 200 and "Tack!" in page.get_data(as_text=True)
    return follow_up.id


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
    count = re.search(r"(\d+) svarande\.", lead[0])
    if count and "Färre än" not in lead[0] and "Minst" not in lead[0]:
        seen.add(scope, ("respondents",), int(count[1]))
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
            total = re.search(r"<dt>Totalt</dt><dd>(\d+)", section)
            if total:
                seen.add(scope, ("total", question.id), int(total[1]))
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
            assert re.fullmatch(
                r"(färre än 5|visas inte, för att skydda en mindre medlem) / \d+|–", cell
            )
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
        if not record["organisation"]:
            unnamed.append(record)
            continue
        member = _slug(str(record["organisation"]))
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
            marked = [r[question.id] == "visas inte" for r in records]
            if any(marked):  # hidden for this member: in every row, answered or not
                assert all(marked), (member, question.id)
                continue
            values = [_exported(question, r[question.id]) for r in records]
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


def _csv(client: FlaskClient, path: str) -> list[list[Any]]:
    body = _get(client, path).lstrip("\ufeff")
    return [list(r) for r in csv.reader(io.StringIO(body), delimiter=";")]


def _xlsx(client: FlaskClient, path: str) -> list[list[Any]]:
    response = client.get(path)
    assert response.status_code == 200, path
    sheet = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def _read_report(seen: Seen, client: FlaskClient) -> None:
    """The final report's outcomes, per member (CSV) and for the network (Markdown)."""
    rows = _csv(client, "/report/final.csv?language=en")
    for row in rows[1:]:
        slug = _slug(row[0])
        if row[11].isdigit():
            seen.add(slug, ("respondents",), int(row[11]))
        for column, question in ((12, "trips_replaced"), (13, "km_avoided"), (14, "hours_saved")):
            if row[column]:
                seen.add(slug, ("total", question), int(row[column]))
        if row[15]:
            seen.add(slug, ("total", "km_avoided"), round(float(row[15]) / 0.133))
    text = _get(client, "/report/final.md?language=en")
    found = re.search(
        r"([\d\u202f]+) pilot users answered the follow-up\. Together they replaced ([\d\u202f]+)"
        r" trips with web meetings, avoided ([\d\u202f]+) km of travel and saved ([\d\u202f]+)",
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
        base = f"/organisations/{slug}/questionnaires"
        _read_lists(seen, _get(client, base), slug)
        _read_results(seen, slug, _get(client, f"{base}/{questionnaire}"))
        for read in (_csv, _xlsx):
            fmt = "csv" if read is _csv else "xlsx"
            _read_export(seen, read(client, f"{base}/{questionnaire}/export.{fmt}"), slug)
        _read_dashboard(seen, _get(client, f"/organisations/{slug}/dashboard"))
    if lead:
        _read_lists(seen, _get(client, "/questionnaires"), "network")
        _read_results(seen, "network", _get(client, f"/questionnaires/{questionnaire}"))
        for read in (_csv, _xlsx):
            fmt = "csv" if read is _csv else "xlsx"
            _read_export(seen, read(client, f"/questionnaires/{questionnaire}/export.{fmt}"), None)
        _read_dashboard(seen, _get(client, "/dashboard"))
        _read_report(seen, client)
    return seen


# The proof -----------------------------------------------------------------------------------


def _assert_nothing_small_or_subtractable(seen: Seen, truth: Truth, viewer: str) -> None:
    problems = []
    for (scope, quantity), value in seen.value.items():
        assert value == truth.value[(scope, quantity)], (viewer, scope, quantity, value)
        behind = truth.behind[(scope, quantity)]
        # Shown: a figure of at least 5 people (or of nobody, where there is nothing to hide).
        if 0 < behind < 5:
            problems.append(f"{scope} {quantity} = {value}: a figure of {behind} shown")
    for scope in seen.medians:
        if truth.behind[(scope, ("respondents",))] < 5:
            problems.append(f"{scope}: a median of fewer than 5 shown")
    for quantity in {quantity for (_scope, quantity) in truth.value}:
        if ("network", quantity) not in seen.value:
            continue
        rest = [m for m in MEMBERS if (m, quantity) not in seen.value]
        rest = [m for m in rest if truth.behind[(m, quantity)] > 0]
        people = sum(truth.behind[(m, quantity)] for m in rest)
        # The network's figure minus those shown is the rest: never one member, never few.
        if rest and (len(rest) < 2 or people < 5):
            value = truth.value[(rest[0], quantity)] if len(rest) == 1 else "their sum"
            problems.append(f"network {quantity} minus those shown = {rest}'s {value}")
    for rest in seen.unnamed:
        people = sum(MEMBERS[m][1] for m in rest)
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
    _assert_nothing_small_or_subtractable(seen, truth, "lead")
    # The network's own figures are there: the check above is not vacuous.
    assert (
        seen.value[("network", ("total", "trips_replaced"))]
        == truth.value[("network", ("total", "trips_replaced"))]
    )
    assert ("alpha", ("total", "trips_replaced")) in seen.value
    assert ("network", ("texts", "tips")) in seen.value
    for slug in MEMBERS:
        rep = app.test_client()
        sign_in(rep, f"rep@{slug}.se")
        own = _everything(rep, [slug], questionnaire, lead=False)
        _assert_nothing_small_or_subtractable(own, truth, slug)
        assert rep.get(f"/questionnaires/{questionnaire}").status_code == 403


@pytest.mark.parametrize(
    ("counts", "also", "hidden", "total_shown"),
    [
        ({1: 12, 2: 7, 3: 6, 4: 3}, (), {4, 3}, True),  # 3 alone: the smallest shown joins it
        ({1: 12, 2: 3, 3: 1}, (), {2, 3, 1}, True),  # 3 + 1 are still few: 12 joins them
        ({1: 12, 2: 4, 3: 1, 4: 6}, (), {2, 3}, True),  # 4 + 1: two members, five people
        ({1: 12, 2: 0, 3: 9}, (), set(), True),  # nobody answered in 2: nothing to hide
        ({1: 2}, (), {1}, False),  # the network is one small member
        ({1: 12, 2: 7}, (2,), {2, 1}, True),  # hidden elsewhere, so here, and 1 joins it
        ({1: 7, 2: 0}, (1,), {1}, False),  # hidden elsewhere, alone: the total would tell
        ({1: 12, 2: 6, 3: 6, 4: 4}, (), {4, 2}, True),  # ties go by the member's id
    ],
)
def test_protect_hides_until_the_rest_is_no_members_figure(
    counts: dict[int, int], also: tuple[int, ...], hidden: set[int], total_shown: bool
) -> None:
    cells = protect(counts, also=also)
    assert cells.hidden == hidden and cells.is_total_shown is total_shown
