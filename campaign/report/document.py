"""The joint final report, made from the figures and the members' own facts.

Laid out like the network's real report of 2015 (seed 004): the agreement, the results in
figures, an overview table of the members and their meeting software, charts, one section per
member with what it did, its tips and its contact person, and what the figures rest on. One
content in five forms: print-ready HTML (with the SVG charts and its own styles, so the file
stands alone), a PDF made from that HTML by weasyprint, Markdown, and the figures as CSV or XLSX.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import render_template
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from campaign.labels import label
from campaign.markup import ALLOWED_TAGS, render_markdown
from campaign.network.members import KIND_ORDER, swedish_sort_key
from campaign.network.models import Campaign, MembershipStatus, OrganisationKind
from campaign.report import charts, md
from campaign.report.figures import Figures, MemberFigures, compute
from campaign.surveys.disclosure import MIN_RESPONDENTS
from campaign.timing import local_date

FORMATS = ("html", "md", "pdf", "csv", "xlsx")


@dataclass
class Report:
    figures: Figures
    language: str
    groups: list[tuple[OrganisationKind, list[MemberFigures]]]
    informal: bool
    charts: list[Markup]
    composition: str  # e.g. "17 municipalities, 2 universities and 1 hospital"

    @property
    def campaign(self) -> Campaign:
        return self.figures.campaign

    @property
    def day(self) -> date:
        """The report's date on its cover: the day of its moment in the campaign's zone (the
        same moment makes the same report, so never the day it happened to be printed)."""
        return local_date(self.figures.as_of, self.campaign.timezone)


def build(db_session: Session, campaign: Campaign, as_of: datetime, language: str) -> Report:
    """Compute the figures as of one moment and arrange them for the report (in a language)."""
    figures = compute(db_session, campaign, as_of)
    ordered = sorted(
        figures.members,
        key=lambda m: (KIND_ORDER.index(m.organisation.kind), swedish_sort_key(m.organisation)),
    )
    groups = [(kind, [m for m in ordered if m.organisation.kind is kind]) for kind in KIND_ORDER]
    present = [(kind, members) for kind, members in groups if members]
    with force_locale(language):
        drawn = _charts(figures, ordered)
        composition = _composition([(kind, len(members)) for kind, members in present])
    return Report(
        figures=figures,
        language=language,
        groups=present,
        informal=any(m.membership.status is MembershipStatus.INFORMAL for m in ordered),
        charts=drawn,
        composition=composition,
    )


def _composition(counts: list[tuple[OrganisationKind, int]]) -> str:
    words = {
        OrganisationKind.MUNICIPALITY: lambda n: ngettext(
            "%(num)d municipality", "%(num)d municipalities", n
        ),
        OrganisationKind.UNIVERSITY: lambda n: ngettext(
            "%(num)d university", "%(num)d universities", n
        ),
        OrganisationKind.HOSPITAL: lambda n: ngettext("%(num)d hospital", "%(num)d hospitals", n),
        OrganisationKind.OTHER: lambda n: ngettext(
            "%(num)d other organisation", "%(num)d other organisations", n
        ),
    }
    parts = [words[kind](n) for kind, n in counts]
    if len(parts) < 2:
        return "".join(parts)
    return _("%(list)s and %(last)s", list=", ".join(parts[:-1]), last=parts[-1])


def _charts(figures: Figures, ordered: list[MemberFigures]) -> list[Markup]:
    fewer = _("fewer than %(n)d answers", n=MIN_RESPONDENTS)
    participation = charts.bars(
        _("Participants per member"),
        _("Enrolled pilot users, for each member."),
        [charts.Bar(m.organisation.short_name, m.participants) for m in ordered],
    )
    trained = charts.bars(
        _("People trained per member"),
        _("People who attended a training or practice meeting, for each member."),
        [charts.Bar(m.organisation.short_name, m.trained) for m in ordered],
    )
    outcomes = charts.bars(
        _("Travel avoided per member"),
        _("Kilometres of travel avoided, as the pilot users reported in the follow-up."),
        [
            charts.Bar(
                m.organisation.short_name,
                None if m.outcomes.suppressed else m.outcomes.km,
                fewer,
            )
            for m in ordered
        ],
        unit="km",
    )
    mail = charts.columns(
        _("E-mail sent per month"),
        _("E-mails delivered to pilot users, per calendar month."),
        figures.mail_by_month,
    )
    return [participation, trained, outcomes, mail]


def _render(template: str, report: Report) -> str:
    with force_locale(report.language):
        return render_template(
            template,
            report=report,
            figures=report.figures,
            text=md.text,
            cell=md.cell,
            member=md.member,
            member_html=member_html,
            escape=escape,
            unbroken=unbroken,
        )


def html(report: Report) -> str:
    return _render("report/report.html", report)


def markdown(report: Report) -> str:
    return _render("report/report.md", report)


PERIOD = re.compile(r"\b(\d{4})\s?([–-])\s?(\d{4})\b")


def unbroken(text: str) -> Markup:
    """Return text as HTML whose periods of years ("2013–2015") never break across lines."""
    return Markup(PERIOD.sub(r'<span class="nowrap">\1\2\3</span>', str(escape(text))))


MEMBER_TAGS = (ALLOWED_TAGS - {"h2", "h3", "h4"}) | {"h5", "h6"}


def member_html(text: str | None) -> Markup:
    """Return a member's Markdown as HTML for its section: headings below the report's own
    (levels 5 and 6; a raw <h2> is dropped), no raw HTML, links only to http(s) and mailto."""
    return render_markdown(md.demote_headings(text), tags=MEMBER_TAGS)


def pdf(report: Report) -> bytes:
    """The HTML report as PDF (weasyprint needs Pango, which Debian's libpango provides)."""
    from weasyprint import HTML

    return HTML(string=html(report)).write_pdf()


def table(report: Report) -> tuple[list[str], list[list[Any]]]:
    """The figures behind the report, one row per member, for CSV and XLSX."""
    with force_locale(report.language):
        header = [
            _("Member"), _("Kind"), _("Signed"), _("Web meeting software"), _("Comment"),
            _("Participants"), _("Pilot groups"), _("E-mails delivered"), _("People trained"),
            _("People reached by information"), _("People given access to the software"),
            _("Follow-up answers counted"), _("Trips replaced"), _("Km avoided"),
            _("Travel hours saved"), _("Kg CO2 avoided"), _("Kronor saved"), _("Figures as of"),
        ]  # fmt: skip
        fewer = _("fewer than %(n)d", n=MIN_RESPONDENTS)
        moment = report.figures.moment
        rows = [_row(m, fewer, moment) for _kind, members in report.groups for m in members]
    return header, rows


def _row(m: MemberFigures, fewer: str, moment: str) -> list[Any]:
    """A member's figures, its outcomes left empty while none of its answers count."""
    hidden = m.outcomes.suppressed
    respondents: int | str = fewer if hidden else m.outcomes.respondents
    return [
        m.organisation.short_name,
        label(m.organisation.kind),
        _("Yes") if m.membership.status is MembershipStatus.SIGNED else _("No"),
        m.membership.meeting_software,
        m.membership.software_comment,
        m.participants,
        m.pilot_groups,
        m.delivered,
        m.trained,
        m.membership.people_reached,
        m.membership.people_with_access,
        respondents,
        None if hidden else m.outcomes.trips,
        None if hidden else m.outcomes.km,
        None if hidden else m.outcomes.hours,
        None if m.co2_kg is None else round(m.co2_kg, 1),
        None if m.money is None else round(m.money, 2),
        moment,
    ]  # fmt: skip
