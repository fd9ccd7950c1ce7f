"""Configuration: defaults, precedence, the generated secret key, and errors naming the setting."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from campaign import create_app
from campaign.config import ConfigError


def _app(tmp_path: Path, **settings: str):  # type: ignore[no-untyped-def]
    return create_app({"INSTANCE_PATH": str(tmp_path), **settings})


def test_defaults_use_the_instance_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CAMPAIGN_"):
            monkeypatch.delenv(name)
    app = _app(tmp_path)
    assert app.config["CAMPAIGN_DATABASE_URL"] == f"sqlite:///{tmp_path / 'campaign.sqlite3'}"
    assert "CAMPAIGN_TIMEZONE" not in app.config  # times are shown in the campaign's own zone
    assert app.config["CAMPAIGN_SMTP_URL"] is None
    assert app.config["CAMPAIGN_MAILDIR"] == str(tmp_path / "maildir")
    assert app.config["CAMPAIGN_DEFAULT_LANGUAGE"] == "sv"


def test_secret_key_is_generated_once_and_private(tmp_path: Path) -> None:
    first = _app(tmp_path).config["SECRET_KEY"]
    second = _app(tmp_path).config["SECRET_KEY"]
    key_file = tmp_path / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _app(tmp_path / "other").config["SECRET_KEY"] != first


def test_environment_overrides_instance_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config.py").write_text(
        'CAMPAIGN_DISPATCH_BATCH = "50"\nCAMPAIGN_BASE_URL = "https://a.example.se"\n'
    )
    monkeypatch.setenv("CAMPAIGN_DISPATCH_BATCH", "70")
    app = _app(tmp_path)
    assert app.config["CAMPAIGN_DISPATCH_BATCH"] == "70"
    assert app.config["CAMPAIGN_BASE_URL"] == "https://a.example.se"
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("CAMPAIGN_DATABASE_URL", "not a url", "not a database URL"),
        ("CAMPAIGN_DATABASE_URL", "mysql://x/y", "sqlite:// or postgresql://"),
        ("CAMPAIGN_BASE_URL", "kampanj.example.se", "http:// or https://"),
        ("CAMPAIGN_SMTP_URL", "smtp://mail.example.se:abc", "port that is not a number"),
        ("CAMPAIGN_SMTP_URL", "http://mail.example.se", "smtp://"),
        ("CAMPAIGN_SMTP_URL", "smtp://kampanj:l%C3%B6sen@mail.example.se", "å, ä, ö"),
        ("CAMPAIGN_DISPATCH_BATCH", "0", "at least 1"),
        ("CAMPAIGN_DKIM_KEY_FILE", "/no/such/key.pem", "process can read"),
        ("CAMPAIGN_MAIL_FROM", "Kampanj <nobody>", "not an e-mail address"),
        ("CAMPAIGN_DEFAULT_LANGUAGE", "de", "sv or en"),
    ],
)
def test_bad_values_name_the_setting(tmp_path: Path, name: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _app(tmp_path, **{name: value})
    assert str(caught.value).startswith(f"{name}=")
    assert words in str(caught.value)


def test_smtp_needs_a_real_sender(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CAMPAIGN_MAIL_FROM must be set"):
        _app(tmp_path, CAMPAIGN_SMTP_URL="smtp://mail.example.se:587")
    app = _app(
        tmp_path,
        CAMPAIGN_SMTP_URL="smtp://mail.example.se:587",
        CAMPAIGN_MAIL_FROM="Kampanj <kampanj@kungalv.se>",
    )
    assert app.config["CAMPAIGN_SMTP_URL"] == "smtp://mail.example.se:587"


def test_broken_instance_config_is_reported(tmp_path: Path) -> None:
    (tmp_path / "config.py").write_text("CAMPAIGN_BASE_URL = \n")
    with pytest.raises(ConfigError, match="config.py could not be read"):
        _app(tmp_path)


def test_command_line_prints_one_sentence_not_a_traceback(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "CAMPAIGN_INSTANCE_PATH": str(tmp_path),
        "CAMPAIGN_DEFAULT_LANGUAGE": "de",
    }
    result = subprocess.run(
        [sys.executable, "-m", "campaign", "init-db"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == "Error: CAMPAIGN_DEFAULT_LANGUAGE='de' must be sv or en."


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CAMPAIGN_DEFAULT_LANGUAGE=en\n")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAMPAIGN_")}
    environment["CAMPAIGN_INSTANCE_PATH"] = str(tmp_path / "instance")
    code = (
        "from campaign import create_app; print(create_app().config['CAMPAIGN_DEFAULT_LANGUAGE'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "en", result.stderr
