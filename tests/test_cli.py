"""The `campaign` command: accounts and campaigns from the command line."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.network.members import current_campaign
from campaign.security import verify_password
from tests.conftest import START, Network, Runner


def test_create_user_asks_for_the_password(
    runner: Runner, network: Network, session: Session
) -> None:
    password = "a long enough password"
    result = runner.invoke(
        "create-user",
        "--email",
        "Ny@Beta.se",
        "--name",
        "Ny Rep",
        "--role",
        "member_rep",
        "--org",
        "beta",
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalars(select(User).where(User.email == "ny@beta.se")).one()
    assert user.role is Role.MEMBER_REP and user.organisation_id == network.beta.id
    assert verify_password(user.password_hash, password)


def test_create_user_refuses_what_cannot_work(runner: Runner, network: Network) -> None:
    cases = {
        ("--role", "member_rep"): "needs --org",
        ("--role", "member_rep", "--org", "nowhere"): "no organisation with the slug",
        ("--role", "lead_admin", "--email", "lead@alpha.se"): "exists already",
    }
    for extra, words in cases.items():
        args = [
            "create-user",
            "--email",
            "x@alpha.se",
            "--name",
            "X",
            "--password",
            "long enough password",
            *extra,
        ]
        result = runner.invoke(*args)
        assert result.exit_code == 1 and words in result.output, (extra, result.output)
    short = runner.invoke(
        "create-user",
        "--email",
        "y@alpha.se",
        "--name",
        "Y",
        "--role",
        "lead_admin",
        "--password",
        "short",
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def test_create_campaign(runner: Runner, session: Session) -> None:
    result = runner.invoke(
        "create-campaign",
        "--name",
        "Resfria möten 2026",
        "--lead",
        "Kungälvs kommun",
        "--lead-short",
        "Kungälv",
        "--starts",
        "2026-01-01",
        "--ends",
        "2027-06-30",
    )
    assert result.exit_code == 0, result.output
    campaign = current_campaign(session)
    assert campaign is not None and campaign.slug == "resfria-moten-2026"
    assert campaign.lead_organisation.slug == "kungalv"
    assert [m.organisation.short_name for m in campaign.memberships] == ["Kungälv"]
    assert campaign.timezone == "Europe/Stockholm"  # the plain default
    assert campaign.created_at == campaign.lead_organisation.created_at == START  # the clock's
    backwards = runner.invoke(
        "create-campaign",
        "--name",
        "X",
        "--lead",
        "Y",
        "--starts",
        "2026-02-01",
        "--ends",
        "2026-01-01",
    )
    assert backwards.exit_code == 1 and "--ends is before --starts" in backwards.output


def test_create_campaign_in_another_time_zone(runner: Runner, session: Session) -> None:
    result = runner.invoke(
        "create-campaign", "--name", "Reisefrie møter", "--lead", "Oslo kommune",
        "--starts", "2026-01-01", "--ends", "2026-12-31", "--timezone", "Europe/Oslo",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    campaign = current_campaign(session)
    assert campaign is not None and campaign.timezone == "Europe/Oslo"


def test_the_commands_are_all_there(runner: Runner) -> None:
    result = runner.invoke("--help")
    assert result.exit_code == 0
    for name in (
        "create-campaign", "create-user", "demo", "import-participants", "init-db", "report",
        "sequences", "serve", "simulate", "tick", "worker",
    ):  # fmt: skip
        assert f"  {name} " in result.output, name
