"""The `campaign` command: accounts and campaigns from the command line."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaign.accounts.models import Role, User
from campaign.network.members import campaign_with_slug
from campaign.network.models import Organisation, OrganisationKind
from campaign.security import verify_password
from tests.conftest import START, Network, Runner, SecondCampaign, sign_in
from tests.demo.test_demo import _load
from tests.demo.test_demo import staff as demo_staff
from tests.urls import staff


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
    campaign = campaign_with_slug(session, "resfria-moten-2026")
    assert campaign is not None
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
    campaign = campaign_with_slug(session, "reisefrie-mter")
    assert campaign is not None and campaign.timezone == "Europe/Oslo"


def test_the_commands_are_all_there(runner: Runner) -> None:
    result = runner.invoke("--help")
    assert result.exit_code == 0
    for name in (
        "create-campaign", "create-user", "demo", "import-participants", "init-db", "report",
        "sequences", "serve", "simulate", "tick", "worker",
    ):  # fmt: skip
        assert f"  {name} " in result.output, name


def _create(runner: Runner, name: str, lead: str, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        "create-campaign", "--name", name, "--lead", lead,
        "--starts", "2026-01-01", "--ends", "2027-06-30", *extra,
    )  # fmt: skip


def test_create_campaign_after_the_demo_leads_with_its_organisation(
    runner: Runner, session: Session
) -> None:
    assert runner.invoke("demo").exit_code == 0
    result = _create(runner, "Resfria möten 2026", "Kungälvs kommun")
    assert result.exit_code == 0, result.output
    assert "led by Kungälvs kommun (kungalv, an organisation that exists already)" in result.output
    assert "/campaigns/resfria-moten-2026/" in result.output
    kungalv = session.scalars(select(Organisation).where(Organisation.name == "Kungälvs kommun"))
    assert [o.slug for o in kungalv] == ["kungalv"]  # no second Kungälv
    campaign = campaign_with_slug(session, "resfria-moten-2026")
    assert campaign is not None and campaign.lead_organisation.slug == "kungalv"
    again = _create(runner, "Resfria möten 2026", "Kungälv")
    assert again.exit_code == 1 and "Traceback" not in again.output
    assert "A campaign with the slug 'resfria-moten-2026' exists already" in again.output
    named = _create(runner, "Resfria möten 2026", "kungalv", "--slug", "rm-2026-b")
    assert named.exit_code == 0, named.output
    bad = _create(runner, "X", "Y", "--slug", "Not A Slug")
    assert bad.exit_code == 2 and "lower-case letters" in bad.output


def test_with_another_lead_the_first_campaign_stays_whole(
    runner: Runner, session: Session, client: FlaskClient
) -> None:
    credentials = _load(runner)
    result = _create(runner, "Reisefrie møter", "Oslo kommune", "--lead-short", "Oslo")
    assert result.exit_code == 0 and "(oslo, a new organisation)" in result.output
    sign_in(client, *credentials["lead_admin"])
    assert client.get("/").headers["Location"] == demo_staff("/network")
    assert client.get(demo_staff("/organisations/vara")).status_code == 200
    assert client.get(demo_staff("/organisations/oslo")).status_code == 404
    assert client.get(staff("/network", "reisefrie-mter")).status_code == 404  # not Kungälv's
    rep = client.application.test_client()
    sign_in(rep, *credentials["member_rep"])
    start = rep.get("/").headers["Location"]
    assert start == demo_staff("/organisations/ale")
    assert rep.get(start).status_code == 200


def test_create_campaign_names_its_lead_by_slug_when_the_name_is_not_clear(
    runner: Runner, network: Network, session: Session
) -> None:
    session.add(
        Organisation(slug="alpha-2", name="Alpha kommun", short_name="Alpha 2",
                     kind=OrganisationKind.OTHER, created_at=START)
    )  # fmt: skip
    session.commit()
    unclear = _create(runner, "Ny", "Alpha kommun")
    assert unclear.exit_code == 1 and "alpha, alpha-2: name the lead with --lead-slug" in (
        unclear.output
    )
    chosen = _create(runner, "Ny", "Alpha kommun", "--lead-slug", "alpha-2")
    assert chosen.exit_code == 0, chosen.output
    campaign = campaign_with_slug(session, "ny")
    assert campaign is not None and campaign.lead_organisation.slug == "alpha-2"
    new = _create(runner, "Nyare", "Delta kommun", "--lead-slug", "delta")
    assert new.exit_code == 0 and "(delta, a new organisation)" in new.output


def test_a_command_of_one_campaign_names_it_when_there_are_several(
    runner: Runner, network: Network, second_campaign: SecondCampaign, tmp_path: Path
) -> None:
    out = str(tmp_path / "report.md")
    unnamed = runner.invoke("report", "--format", "md", "-o", out)
    assert unnamed.exit_code == 1
    assert "Choose the campaign with --campaign; the campaigns are: other, test." in unnamed.output
    unknown = runner.invoke("report", "--format", "md", "-o", out, "--campaign", "nope")
    assert unknown.exit_code == 1 and "There is no campaign 'nope'." in unknown.output
    named = runner.invoke("report", "--format", "md", "-o", out, "--campaign", "other")
    assert named.exit_code == 0, named.output
    assert "Andra överenskommelsen" in Path(out).read_text()
    file = tmp_path / "people.csv"
    file.write_text("E-post\nny@beta.se\n")
    args = ("import-participants", str(file), "--org", "beta", "--group", "G", "--dry-run")
    elsewhere = runner.invoke(*args, "--campaign", "other")
    assert elsewhere.exit_code == 1, elsewhere.output
    assert "Andra överenskommelsen has no member with the slug 'beta'." in elsewhere.output
    assert "Choose the campaign" in runner.invoke(*args).output
    no_group = runner.invoke(*args, "--campaign", "test").output
    assert "Beta högskola has no pilot group 'G'" in no_group
    assert "campaign create-group --org beta" in no_group  # none yet: how to make one
