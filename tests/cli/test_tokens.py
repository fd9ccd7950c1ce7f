"""`campaign create-token` and `campaign revoke-token`: an API token made and revoked without
the web UI, printed once to stdout (nothing else there), audited; bad input refused with a
sentence and a failing exit code."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.api.tokens import ApiToken, digest
from campaign.audit import AuditEvent
from tests.api_helpers import call
from tests.conftest import Network, Runner

ALPHA = "/api/v1/campaigns/test/members/alpha/participants"


def test_a_token_made_on_the_command_line_works_until_revoked(
    runner: Runner, network: Network, session: Session, client: FlaskClient
) -> None:
    made = runner.invoke(
        "create-token", "--user", "REP@alpha.se", "--scope", "read",
        "--scope", "participants:write", "--name", "Personalkatalogen",
        "--expires-in-days", "30",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    plaintext = made.stdout.strip()
    assert plaintext.startswith("cmp_") and "\n" not in plaintext  # the token, nothing else
    assert "shown only this once" in made.stderr and plaintext not in made.stderr
    token = session.scalars(select(ApiToken)).one()
    assert token.secret_hash == digest(plaintext) and token.user_id == network.rep_alpha.id
    assert token.scopes == ["read", "participants:write"] and token.name == "Personalkatalogen"
    assert (token.expires_at - token.created_at).days == 30
    assert call(client, "GET", ALPHA, plaintext).status_code == 200
    created = session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.created"))
    event = created.one()
    assert event.details["via"] == "command line" and plaintext not in str(event.details)

    revoked = runner.invoke("revoke-token", str(token.id))
    assert revoked.exit_code == 0, revoked.output
    assert f"Revoked token {token.id} (Personalkatalogen) of rep@alpha.se." in revoked.stdout
    assert call(client, "GET", ALPHA, plaintext).status_code == 401
    again = runner.invoke("revoke-token", str(token.id))
    assert again.exit_code == 0 and "revoked already" in again.stdout
    actions = session.scalars(select(AuditEvent.action)).all()
    assert actions.count("api_token.revoked") == 1


def test_bad_input_is_refused_with_a_sentence(
    runner: Runner, network: Network, session: Session
) -> None:
    unknown_scope = runner.invoke("create-token", "--user", "rep@alpha.se", "--scope", "root")
    assert unknown_scope.exit_code == 2 and unknown_scope.stdout == ""
    assert "'root' is not one of" in unknown_scope.stderr
    nobody = runner.invoke("create-token", "--user", "nobody@alpha.se", "--scope", "read")
    assert nobody.exit_code == 1 and nobody.stdout == ""
    assert "There is no account for nobody@alpha.se." in nobody.stderr
    no_scope = runner.invoke("create-token", "--user", "rep@alpha.se")
    assert no_scope.exit_code == 2 and "--scope" in no_scope.stderr
    too_long = runner.invoke(
        "create-token", "--user", "rep@alpha.se", "--scope", "read", "--expires-in-days", "999"
    )
    assert too_long.exit_code == 2 and "--expires-in-days" in too_long.stderr
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "api_token.refused"))
    assert [(e.actor_label, e.details) for e in refused] == [
        (
            "system",
            {"account": "nobody@alpha.se", "reason": "no account", "scopes": ["read"],
             "via": "command line"},
        )
    ]  # fmt: skip
    missing = runner.invoke("revoke-token", "4711")
    assert missing.exit_code == 1 and "There is no API token 4711." in missing.stderr
    assert session.scalars(select(ApiToken)).all() == []


def test_a_disabled_account_gets_no_token(
    runner: Runner, network: Network, session: Session
) -> None:
    network.rep_beta.is_enabled = False
    session.commit()
    refused = runner.invoke("create-token", "--user", "rep@beta.se", "--scope", "read")
    assert refused.exit_code == 1 and "is disabled" in refused.stderr
    assert refused.stdout == ""
    event = session.scalars(select(AuditEvent)).one()
    assert event.action == "api_token.refused" and event.details["reason"] == "account disabled"
    assert event.details["account"] == "rep@beta.se" and event.details["via"] == "command line"
