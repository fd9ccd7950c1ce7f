"""The final bundle: one ZIP of everything a lead administrator archives when a campaign ends.

The joint report as PDF and HTML, its figures, the members' facts, every questionnaire's
answers as the results pages count them (campaign/surveys/disclosure.py), each as CSV for
Excel (semicolons, a byte-order mark, the decimal comma in Swedish) and as XLSX; the audit log;
the sequences the pilot groups followed and the questionnaire definitions, as the files the
service sent them from; and a README that names each file with a sentence in the campaign's
language and its SHA-256. Everything as of one moment, in the campaign's language, written to
a file as it is made (campaign/report/archive.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign import exports, timing
from campaign.drip import stored
from campaign.enrolment.models import PilotGroup
from campaign.network.models import Campaign
from campaign.report import document, tables
from campaign.report.archive import Archive, Entry
from campaign.surveys.definitions import Definition
from campaign.surveys.models import Questionnaire
from campaign.surveys.results import export_rows
from campaign.surveys.stored import definition_of, text_of

# The names of the files, in the campaign's language (plain ASCII, for every file system).
WORDS = {
    "sv": {
        "report": "slutrapport", "figures": "siffror", "members": "medlemmar",
        "audit": "granskningslogg", "questionnaires": "enkater", "answers": "svar",
        "sequences": "utskick",
    },
    "en": {
        "report": "final-report", "figures": "figures", "members": "members",
        "audit": "audit-log", "questionnaires": "questionnaires", "answers": "answers",
        "sequences": "sequences",
    },
}  # fmt: skip
MEDIA_TYPE = "application/zip"
Used = list[tuple[Questionnaire, Definition | None]]


class PdfUnavailable(Exception):
    """The report cannot be made a PDF here: weasyprint needs the Pango library."""


def folder(campaign: Campaign) -> str:
    """Return the bundle's name without extension: `<slug>-slutrapport-<last day>`."""
    return f"{campaign.slug}-{WORDS[campaign.language]['report']}-{campaign.ends_on.isoformat()}"


def filename(campaign: Campaign) -> str:
    """Return the file name the bundle is downloaded as."""
    return f"{folder(campaign)}.zip"


@dataclass(frozen=True)
class Part:
    """One piece of the bundle: what the command line shows while writing it, and the writing."""

    label: str
    write: Callable[[Archive], object]


class Bundle:
    """The bundle of one campaign as of one moment, written part by part."""

    def __init__(self, db_session: Session, campaign: Campaign, now: datetime) -> None:
        self.session, self.campaign, self.now = db_session, campaign, now
        self.language = campaign.language
        self.words = WORDS[self.language]

    @functools.cached_property
    def report(self) -> document.Report:
        """The joint report, computed once for the PDF, the HTML and the figures."""
        return document.build(self.session, self.campaign, self.now, self.language)

    @functools.cached_property
    def used(self) -> Used:
        """The campaign's questionnaires with their definitions (None if neither stored nor
        shipped any more)."""
        rows = self.session.scalars(
            select(Questionnaire)
            .where(Questionnaire.campaign_id == self.campaign.id)
            .order_by(Questionnaire.slug)
        )
        return [(q, definition_of(self.session, q)) for q in rows]

    def parts(self) -> list[Part]:
        """Return the bundle's pieces in the order they are written."""
        answers = [
            Part(f"answers to {q.slug}", functools.partial(self._answers, q, d))
            for q, d in self.used
            if d is not None
        ]
        return [
            Part("report (PDF)", self._pdf), Part("report (HTML)", self._html),
            Part("figures", self._figures), Part("members' facts", self._members),
            Part("audit log", self._audit), Part("questionnaires", self._questionnaires),
            *answers, Part("sequences", self._sequences),
        ]  # fmt: skip

    def write(self, out: IO[bytes], parts: Iterable[Part] | None = None) -> list[Entry]:
        """Write the bundle to `out` (its parts as given, for a progress bar); return its files."""
        stamp = self.now.astimezone(ZoneInfo(self.campaign.timezone))
        archive = Archive(out, folder(self.campaign), stamp)
        with force_locale(self.language):
            for part in self.parts() if parts is None else parts:
                part.write(archive)
            archive.close(self._readme(archive.entries))
        return archive.entries

    def _readme(self, entries: list[Entry]) -> str:
        """The README: what the bundle is, and each file with its sentence, size and hash."""
        return render_template(
            "report/bundle_readme.txt",
            campaign=self.campaign,
            made=moment_text(self.now, self.campaign),
            entries=entries,
        )

    def _pdf(self, archive: Archive) -> None:
        about = _("The joint final report, ready to print (PDF).")
        try:
            pdf = document.pdf(self.report)
        except OSError as error:  # weasyprint could not load Pango
            raise PdfUnavailable from error
        archive.add(f"{self.words['report']}.pdf", about, pdf)

    def _html(self, archive: Archive) -> None:
        about = _("The joint final report as a web page that stands alone (HTML).")
        archive.add(f"{self.words['report']}.html", about, document.html(self.report))

    def _figures(self, archive: Archive) -> None:
        about = _("The figures of the report, one row per member.")
        self._table(archive, self.words["figures"], about, lambda: document.table(self.report))

    def _members(self, archive: Archive) -> None:
        about = _("The members with their status and the facts they reported.")
        table = functools.partial(tables.member_facts, self.session, self.campaign)
        self._table(archive, self.words["members"], about, table)

    def _audit(self, archive: Archive) -> None:
        about = _("The audit log: what staff and the service did, oldest first.")
        header, rows = tables.audit_log(self.session, self.campaign)
        archive.add_chunks(
            f"{self.words['audit']}.csv", self._csv(about), self._chunks(header, rows)
        )

    def _questionnaires(self, archive: Archive) -> None:
        where = self.words["questionnaires"]
        about = _("The campaign's questionnaires: kind, definition file, anonymity, closing time.")
        header, rows = tables.questionnaires(self.used, self.campaign, self.language)
        archive.add_chunks(f"{where}/{where}.csv", self._csv(about), self._chunks(header, rows))
        for questionnaire, definition in self.used:
            if definition is not None:
                self._definition(archive, questionnaire)

    def _definition(self, archive: Archive, questionnaire: Questionnaire) -> None:
        name = f"{questionnaire.slug}.yaml"
        about = _("The questions of “%(name)s” in both languages, as asked.", name=name)
        path = f"{self.words['questionnaires']}/{name}"
        archive.add(path, about, (text_of(self.session, questionnaire) or "").encode())

    def _answers(
        self, questionnaire: Questionnaire, definition: Definition, archive: Archive
    ) -> None:
        title = definition.title[self.language]
        about = _(
            "The answers to “%(title)s” that count, as on the results page (whole groups of"
            " five per member).",
            title=title,
        )
        name = f"{self.words['questionnaires']}/{self.words['answers']}-{questionnaire.slug}"
        self._table(archive, name, about, lambda: self._answer_rows(questionnaire, definition))

    def _answer_rows(self, questionnaire: Questionnaire, definition: Definition) -> tables.Table:
        header, rows = export_rows(
            self.session, questionnaire, definition, self.language, None, _("not shown")
        )
        return header, rows

    def _sequences(self, archive: Archive) -> None:
        """The campaign's own copy of each sequence its groups follow (as last saved)."""
        copies = stored.copies(self.session, self.campaign.id)
        for name in self._sequence_names():
            for inside, text in sorted(copies[name].files.items() if name in copies else []):
                about = _("A step of the sequence “%(name)s”, as sent.", name=name)
                archive.add(f"{self.words['sequences']}/{name}/{inside}", about, text)

    def _sequence_names(self) -> list[str]:
        """Return the sequences the campaign's pilot groups follow, by name."""
        names = self.session.scalars(
            select(PilotGroup.sequence_name)
            .where(
                PilotGroup.campaign_id == self.campaign.id, PilotGroup.sequence_name.is_not(None)
            )
            .distinct()
        )
        return sorted(name for name in names if name)

    def _table(
        self, archive: Archive, name: str, about: str, table: Callable[[], tables.Table]
    ) -> None:
        """Write a table as CSV for Excel and as a workbook (the rows read once for each)."""
        header, rows = table()
        archive.add_chunks(f"{name}.csv", self._csv(about), self._chunks(header, rows))
        header, rows = table()
        sheet = name.rsplit("/", 1)[-1]
        workbook = exports.xlsx_bytes(sheet, header, rows, self.zone)
        archive.add(f"{name}.xlsx", " ".join((about, _("Excel workbook."))), workbook)

    def _chunks(self, header: list[str], rows: Iterable[list[object]]) -> Iterable[bytes]:
        return exports.csv_chunks(header, rows, locale=self.language, zone=self.zone)

    @property
    def zone(self) -> ZoneInfo:
        """The campaign's zone, which every time in the tables is written in."""
        return ZoneInfo(self.campaign.timezone)

    def _csv(self, about: str) -> str:
        if exports.delimiter(self.language) == ";":
            return " ".join((about, _("CSV for Excel: UTF-8, semicolons.")))
        return " ".join((about, _("CSV for Excel: UTF-8, commas.")))


def moment_text(instant: datetime, campaign: Campaign) -> str:
    """Return an instant as the campaign's language writes it: '1 april 2015 kl. 12.00'."""
    return timing.moment_text(instant, ZoneInfo(campaign.timezone), campaign.language)
