"""Importing participants from the spreadsheets representatives have: read, check, confirm.

An import is two steps. `read_import` reads the uploaded file and records, row by row, what
confirming would do (add, update, leave unchanged, or reject, with the reason) in `import_row`;
nothing else is written. `apply_import` then writes all of it in one transaction, with
INSERT ... SELECT from those rows, or nothing at all if the enrolments changed in between.

Real-world exports are expected: Excel's CSV with semicolons or commas, UTF-8 with or without a
byte-order mark, Windows-1252, UTF-16 "Unicode text", quoted fields, blank lines, and header
names in Swedish or English. Hostile files are expected too: every file is read as a stream
within the limits of `limits`, and reading stops at the first limit crossed.

The rooms: `limits` (how much is read, and the sentences for files that cannot be), `csvfile`
and `xlsx` (the two kinds of file, as streams of rows; `xlsx_xml` parses the XML inside an
XLSX), `table` (the columns of a file, and the count of its rows), `upload` (the file kept as a
new import), `rows` (what each row says
and would do), `reading` (the preview, in batches, in the background) and `apply` (confirming,
discarding, tidying).
"""

from campaign.enrolment.importing.apply import (
    Applied,
    PlanChanged,
    apply_import,
    consent_for_import,
    discard,
    start_date,
    tidy,
)
from campaign.enrolment.importing.limits import (
    FILE_ERRORS,
    MAX_FILE_BYTES,
    ImportFileError,
    describe,
)
from campaign.enrolment.importing.reading import read_import, read_in_background, wait_for_readers
from campaign.enrolment.importing.rows import REASONS, normalise_address, parse_row
from campaign.enrolment.importing.table import read_table
from campaign.enrolment.importing.upload import keep_upload

__all__ = [
    "FILE_ERRORS",
    "MAX_FILE_BYTES",
    "REASONS",
    "Applied",
    "ImportFileError",
    "PlanChanged",
    "apply_import",
    "consent_for_import",
    "describe",
    "discard",
    "keep_upload",
    "normalise_address",
    "parse_row",
    "read_import",
    "read_in_background",
    "read_table",
    "start_date",
    "tidy",
    "wait_for_readers",
]
