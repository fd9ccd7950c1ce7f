"""The shared clock of simulations (CAMPAIGN_CLOCK_FILE): one simulated moment that the driver
writes and every process reads, refused beside a mail server elsewhere; and `campaign worker
--only`, which lets a simulation's workers run only the dispatcher."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaign import create_app, jobs
from campaign.config import ConfigError
from campaign.timing import SharedClock, clock_of, write_shared_moment

MOMENT = datetime(2014, 3, 3, 8, 0, tzinfo=UTC)


def _app(folder: Path, **settings: str):  # type: ignore[no-untyped-def]
    return create_app(
        {
            "INSTANCE_PATH": str(folder / "instance"),
            "CAMPAIGN_DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "CAMPAIGN_SECRET_KEY": "test-secret-key",
            **settings,
        }
    )


def test_a_standing_clock_reads_the_moment_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    write_shared_moment(path, MOMENT)
    clock = SharedClock(path, cache_seconds=0)
    assert clock.now() == MOMENT
    write_shared_moment(path, MOMENT + timedelta(hours=3))
    assert clock.now() == MOMENT + timedelta(hours=3)


def test_a_flowing_clock_runs_on_from_its_moment(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    write_shared_moment(path, MOMENT, rate=1.0)
    clock = SharedClock(path, cache_seconds=0)
    first = clock.now()
    time.sleep(0.05)
    later = clock.now()
    assert MOMENT <= first < later < MOMENT + timedelta(minutes=1)


def test_another_process_sees_the_same_moment(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    write_shared_moment(path, MOMENT + timedelta(days=40))
    code = (
        "import sys; from pathlib import Path; from campaign.timing import SharedClock;"
        " print(SharedClock(Path(sys.argv[1])).now().isoformat())"
    )
    seen = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert datetime.fromisoformat(seen) == MOMENT + timedelta(days=40)


def test_the_setting_gives_the_app_the_shared_clock(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    write_shared_moment(path, MOMENT)
    app = _app(tmp_path, CAMPAIGN_CLOCK_FILE=str(path))
    assert isinstance(clock_of(app), SharedClock)
    assert clock_of(app).now() == MOMENT
    assert not isinstance(clock_of(_app(tmp_path)), SharedClock)


def test_the_shared_clock_is_refused_beside_a_mail_server_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    write_shared_moment(path, MOMENT)
    mail = {"CAMPAIGN_MAIL_FROM": "Kampanj <kampanj@kungalv.se>", "CAMPAIGN_CLOCK_FILE": str(path)}
    with pytest.raises(ConfigError, match="CAMPAIGN_CLOCK_FILE is for simulations"):
        _app(tmp_path, CAMPAIGN_SMTP_URL="smtp://mail.example.se:587", **mail)
    local = _app(tmp_path, CAMPAIGN_SMTP_URL="smtp://127.0.0.1:2525?starttls=off", **mail)
    assert clock_of(local).now() == MOMENT


def test_a_missing_clock_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CAMPAIGN_CLOCK_FILE="):
        _app(tmp_path, CAMPAIGN_CLOCK_FILE=str(tmp_path / "none.json"))


def test_a_worker_may_run_only_some_jobs(tmp_path: Path) -> None:
    app = _app(tmp_path)
    only = jobs.build_scheduler(app, blocking=False, only=frozenset({"dispatch"}))
    assert [job.id for job in only.get_jobs()] == ["dispatch"]
    every = jobs.build_scheduler(app, blocking=False)
    assert [job.id for job in every.get_jobs()] == [job.name for job in jobs.JOBS]
