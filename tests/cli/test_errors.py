"""Every `campaign` command answers bad input with a sentence, never a traceback.

The table below names every command of the group (subcommands included) with bad input for it.
A command added without a line here fails `test_every_command_has_bad_input`, so none escapes.
Each case must end with a non-zero exit code, an `Error:` line holding the words given, and no
exception that escaped the command (what a terminal would show as a traceback).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy.orm import Session

from campaign import db
from campaign.cli import main
from tests.conftest import Network, Runner, make_app
from tests.enrolment_helpers import group

LONG_ENOUGH = "a long enough password"
USER = ("--email", "ny@alpha.se", "--name", "Ny Person", "--password", LONG_ENOUGH)
CAMPAIGN = ("--name", "Nästa", "--lead", "Alpha kommun", "--starts", "2026-01-01")
IMPORT = ("--org", "alpha", "--group", "Alpha-gruppen")
GROUP = ("--org", "alpha", "--name", "Ny grupp")

# Command path -> (arguments, words the sentence holds). "{tmp}" is a folder of bad files.
BAD_INPUT: dict[str, list[tuple[tuple[str, ...], str]]] = {
    "init-db": [(("--force",), "No such option '--force'")],
    "create-user": [
        (("--email", "not-an-address", *USER[2:], "--role", "lead_admin"), "not a valid e-mail"),
        (("--email", "a@@alpha.se", *USER[2:], "--role", "lead_admin"), "not a valid e-mail"),
        ((*USER, "--role", "member_rep", "--org", "nowhere"), "no organisation with the slug"),
        ((*USER, "--role", "member_rep"), "needs --org"),
        ((*USER, "--role", "emperor"), "Invalid value for '--role'"),
        ((*USER[:3], " \t ", *USER[4:], "--role", "lead_admin"), "needs one line of text"),
        ((*USER[:3], "x" * 201, *USER[4:], "--role", "lead_admin"), "longer than 200"),
        ((*USER[:5], "short", "--role", "lead_admin"), "at least 12 characters"),
        (("--email", "lead@alpha.se", *USER[2:], "--role", "lead_admin"), "exists already"),
        ((*USER, "--role", "lead_admin", "--language", "fi"), "Invalid value for '--language'"),
    ],
    "create-campaign": [
        ((*CAMPAIGN, "--ends", "2026-02-30"), "does not match the format"),
        ((*CAMPAIGN, "--ends", "31/12/2026"), "does not match the format"),
        ((*CAMPAIGN, "--ends", "2025-12-31"), "--ends is before --starts"),
        ((*CAMPAIGN, "--ends", "2026-12-31", "--timezone", "Mars/Olympus"), "time zone"),
        ((*CAMPAIGN, "--ends", "2026-12-31", "--lead-kind", "guild"), "'--lead-kind'"),
        (CAMPAIGN, "Missing option '--ends'"),
        (
            (
                "--from",
                "nowhere",
                "--name",
                "Nästa",
                "--starts",
                "2026-01-01",
                "--ends",
                "2026-12-31",
            ),
            "nowhere",
        ),
    ],  # fmt: skip
    "archive": [
        (("--campaign", "nowhere"), "There is no campaign 'nowhere'"),
        (("--campaign", "test"), "has not ended"),
    ],
    "reopen": [
        (("--campaign", "nowhere"), "There is no campaign 'nowhere'"),
        (("--campaign", "test"), "is not archived"),
    ],
    "export": [
        (("--campaign", "nowhere", "-o", "{tmp}/b.zip"), "There is no campaign 'nowhere'"),
        (("--campaign", "test", "-o", "/no/such/folder/b.zip"), "There is no folder"),
        (("--campaign", "test"), "Missing option '-o'"),
    ],
    "demo": [(("--pilots",), "No such option '--pilots'")],
    "serve": [
        (("--port", "70000"), "70000 is not in the range"),
        (("--threads", "0"), "0 is not in the range"),
        (("--host", "no-such-host.invalid", "--port", "5999"), "Cannot serve on no-such-host"),
    ],
    "worker": [
        (("--now", "2014-01-01"), "No such option '--now'"),
        (("--only", "sending"), "Invalid value for '--only'"),
    ],
    "tick": [
        (("--now", "yesterday"), "is not an ISO date-time"),
        (("--now", "2014-02-30T08:00"), "is not an ISO date-time"),
    ],
    "sequences check": [
        (("--path", "/no/such/folder"), "does not exist"),
        (("--path", "{tmp}/empty"), "holds no sequence steps"),
        (("--path", "{tmp}/garbage.csv"), "is a file"),
        (("--campaign", "nowhere"), "no campaign 'nowhere'"),
    ],
    "create-group": [
        ((*GROUP, "--starts", "2014-04-01", "--campaign", "nowhere"), "no campaign 'nowhere'"),
        (("--org", "nowhere", *GROUP[2:], "--starts", "2014-04-01"), "no member with the slug"),
        ((*GROUP[:3], "Alpha-gruppen", "--starts", "2014-04-01"), "already has a pilot group"),
        ((*GROUP[:3], " \t ", "--starts", "2014-04-01"), "needs one line of text"),
        ((*GROUP[:3], "x" * 201, "--starts", "2014-04-01"), "longer than 200"),
        ((*GROUP, "--starts", "2016-01-01"), "is not within Testöverenskommelsen"),
        ((*GROUP, "--starts", "2014-02-30"), "does not match the format"),
        ((*GROUP, "--starts", "2014-04-01", "--sequence", "nope"), "no e-mail sequence 'nope'"),
        ((*GROUP, "--starts", "2014-04-01", "--kind", "guild"), "Invalid value for '--kind'"),
        (GROUP, "Missing option '--starts'"),
    ],
    "import-participants": [
        (("/no/such/file.csv", *IMPORT), "does not exist"),
        (("{tmp}/empty", *IMPORT), "is a directory"),
        (("{tmp}/ok.csv", "--org", "nowhere", "--group", "Alpha-gruppen"), "no member"),
        (("{tmp}/ok.csv", "--org", "alpha", "--group", "Nej"), "has no pilot group 'Nej'"),
        (("{tmp}/garbage.csv", *IMPORT), "garbage.csv:"),
        (("{tmp}/no-address.csv", *IMPORT), "no-address.csv:"),
        (("{tmp}/broken.xlsx", *IMPORT), "broken.xlsx:"),
        (("{tmp}/nul.csv", *IMPORT), "nul.csv:"),
    ],
    "report": [
        (("-o", "/no/such/folder/report.html"), "the folder /no/such/folder does not exist"),
        (("-o", "{tmp}/empty"), "is a directory"),
        (("-o", "{tmp}/r.html", "--as-of", "never"), "is not an ISO date-time"),
        (("-o", "{tmp}/r.html", "--format", "docx"), "Invalid value for '--format'"),
        (("-o", "{tmp}/r.html", "--language", "de"), "Invalid value for '--language'"),
    ],
    "simulate": [
        (("--members", "0"), "0 is not in the range"),
        (("--participants", "100001"), "is not in the range"),
        (("-o", "/no/such/folder/sim.html"), "the folder /no/such/folder does not exist"),
        (("--members", "5", "--participants", "3"), "cannot be shared among 5 members"),
        (("--keep", "{tmp}"), "is not empty"),
        (("--keep", "{tmp}/ok.csv"), "is a file"),
    ],
    "inbound": [
        (("--recipient",), "Option '--recipient' requires an argument"),
        (("--sender", "x@y.se"), "No such option '--sender'"),
    ],
    "create-token": [
        (("--user", "nobody@alpha.se", "--scope", "read"), "There is no account for"),
        (("--user", "lead@alpha.se", "--scope", "everything"), "Invalid value for '--scope'"),
        (("--user", "lead@alpha.se"), "Missing option '--scope'"),
        (("--user", "not-an-address", "--scope", "read"), "not a valid e-mail"),
        (("--user", "lead@alpha.se", "--scope", "read", "--expires-in-days", "0"), "not in the"),
    ],
    "revoke-token": [
        (("999",), "There is no API token 999"),
        (("first",), "'first' is not a valid integer"),
    ],
}

# Commands that use the database, with input that is otherwise good.
USES_DATABASE: list[tuple[str, ...]] = [
    ("init-db",),
    ("create-user", *USER, "--role", "lead_admin"),
    ("create-campaign", *CAMPAIGN, "--ends", "2026-12-31"),
    ("demo",),
    ("worker",),
    ("tick",),
    ("create-group", *GROUP, "--starts", "2014-04-01"),
    ("import-participants", "{tmp}/ok.csv", *IMPORT),
    ("report", "-o", "{tmp}/r.html"),
    ("serve", "--port", "{port}"),
    ("inbound", "--recipient", "kampanj@kungalv.se"),
    ("create-token", "--user", "lead@alpha.se", "--scope", "read"),
    ("revoke-token", "1"),
]
BROKEN_DATABASES = {
    "sqlite": ("sqlite:////no/such/folder/campaign.sqlite3", "unable to open database file"),
    "postgresql": ("postgresql://nobody:secret-pw@127.0.0.1:1/none", "Connection refused"),
}


def command_paths(group: click.Group, prefix: str = "") -> Iterator[str]:
    """Yield the path of every command of the group, subcommands of its groups included."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from command_paths(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def bad_files(tmp_path: Path) -> Path:
    """A folder of files no import, report or sequence check can use, and one good CSV."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "ok.csv").write_text("E-post;Namn\nny@alpha.se;Ny Person\n", encoding="utf-8")
    (tmp_path / "garbage.csv").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "no-address.csv").write_text("Namn;Titel\nNy Person;Chef\n", encoding="utf-8")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    (tmp_path / "nul.csv").write_bytes(b"E-post;Namn\nny@alpha.se;Ny\x00Person\n")
    return tmp_path


def _filled(args: tuple[str, ...], folder: Path) -> list[str]:
    port = str(_free_port())
    return [arg.replace("{tmp}", str(folder)).replace("{port}", port) for arg in args]


def assert_a_sentence(result: Result, words: str) -> None:
    """The command failed with an Error: sentence holding `words`, and nothing escaped it."""
    where = f"{result.output!r} {result.exception!r}"
    assert result.exit_code != 0, where
    assert result.exception is None or isinstance(result.exception, SystemExit), where
    assert "Traceback" not in result.output, where
    assert "Error: " in result.output and words in result.output, where


def test_every_command_has_bad_input() -> None:
    assert set(command_paths(main)) == set(BAD_INPUT), "add the new command's bad input"


@pytest.mark.parametrize(
    ("path", "args", "words"),
    [(path, args, words) for path, cases in BAD_INPUT.items() for args, words in cases],
)
def test_bad_input_gets_a_sentence(
    runner: Runner,
    network: Network,
    session: Session,
    bad_files: Path,
    path: str,
    args: tuple[str, ...],
    words: str,
) -> None:
    group(session, network)  # Alpha-gruppen, for the imports
    session.commit()
    result = runner.invoke(*path.split(), *_filled(args, bad_files))
    assert_a_sentence(result, words)


@pytest.fixture(params=sorted(BROKEN_DATABASES))
def broken_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    """An app whose database URL is well-formed but leads nowhere, and the driver's reason."""
    url, reason = BROKEN_DATABASES[request.param]
    app = make_app(url, tmp_path)
    yield app, reason
    db.engine_of(app).dispose()


@pytest.mark.parametrize("args", USES_DATABASE, ids=lambda args: args[0])
def test_a_database_that_does_not_work_gets_a_sentence(
    broken_database: tuple[Flask, str], bad_files: Path, args: tuple[str, ...]
) -> None:
    app, reason = broken_database
    result = Runner(app).invoke(*_filled(args, bad_files))
    assert_a_sentence(result, "cannot be used")
    assert reason in result.output and "CAMPAIGN_DATABASE_URL" in result.output
    assert "secret-pw" not in result.output  # the password stays out of the sentence


def test_a_port_in_use_gets_a_sentence_before_anything_starts(runner: Runner) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = runner.invoke("serve", "--port", port)
    assert_a_sentence(result, f"Cannot serve on 127.0.0.1:{port}")


def test_an_unexpected_error_keeps_its_traceback(runner: Runner) -> None:
    """Only the world's failures become sentences: a bug in a command is not masked."""

    @click.command("broken")
    def broken() -> None:
        raise KeyError("a bug")

    main.add_command(broken)
    try:
        result = runner.invoke("broken")
    finally:
        main.commands.pop("broken")
    assert isinstance(result.exception, KeyError)


def test_a_file_that_cannot_be_written_gets_a_sentence(runner: Runner, tmp_path: Path) -> None:
    @click.command("write")
    def write() -> None:
        (tmp_path / "missing" / "file.txt").write_text("x")

    main.add_command(write)
    try:
        result = runner.invoke("write")
    finally:
        main.commands.pop("write")
    assert_a_sentence(result, "file.txt: No such file or directory.")


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    """As a person at a terminal runs it: a setting that is wrong, then a database that is."""
    env = {**os.environ, "CAMPAIGN_INSTANCE_PATH": str(tmp_path / "instance")}
    for url, words in (
        ("mysql://x@localhost/db", "CAMPAIGN_DATABASE_URL"),
        (BROKEN_DATABASES["sqlite"][0], "unable to open database file"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "campaign", "tick"],
            env={**env, "CAMPAIGN_DATABASE_URL": url}, cwd=tmp_path,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and words in done.stderr, done.stderr


def test_a_mail_server_is_told_to_try_again_when_the_database_does_not_work(
    broken_database: tuple[Flask, str],
) -> None:
    """`campaign inbound` runs in an MTA's pipe: exit 75 (EX_TEMPFAIL) keeps the message there."""
    app, _reason = broken_database
    result = Runner(app).invoke("inbound", input="Subject: x\r\n\r\nx\r\n")
    assert result.exit_code == 75, result.output
    assert_a_sentence(result, "cannot be used")


def test_a_pipe_command_line_gone_wrong_keeps_the_message_at_the_mail_server(
    runner: Runner,
) -> None:
    result = runner.invoke("inbound", "--sender", "x@y.se", input="Subject: x\r\n\r\nx\r\n")
    assert result.exit_code == 75 and "No such option" in result.output
