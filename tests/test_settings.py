"""Settings: a bad value stops the server at start naming the variable; unknown names are warned about;
secrets can come from files."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rejoinder.settings import Settings, SettingsError

from .support.servers import ROOT


def test_a_misspelt_boolean_is_refused_not_read_as_false() -> None:
    """REJOINDER_SMTP_STARTTLS=flase used to turn STARTTLS off, so the SMTP password went in clear."""
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"REJOINDER_SMTP_STARTTLS": "flase"})
    assert "REJOINDER_SMTP_STARTTLS='flase'" in str(refused.value) and "true or false" in str(refused.value)
    for value, expected in (("false", False), ("FALSE", False), ("0", False), ("off", False), ("yes", True)):
        assert Settings.from_env({"REJOINDER_SMTP_STARTTLS": value}).smtp_starttls is expected


def test_every_bad_value_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"REJOINDER_PORT": "80x", "REJOINDER_RATE_IP_WRITES": "lots", "REJOINDER_LOG_LEVEL": "loud",
                           "REJOINDER_REDIS_URL": "http://db:6379", "REJOINDER_WORKERS": "0"})
    lines = str(refused.value).splitlines()
    assert len(lines) == 5
    for name in ("REJOINDER_PORT", "REJOINDER_RATE_IP_WRITES", "REJOINDER_LOG_LEVEL", "REJOINDER_REDIS_URL",
                 "REJOINDER_WORKERS"):
        assert any(line.startswith(name + "=") for line in lines), (name, lines)


def test_an_unknown_name_is_warned_about_with_what_it_probably_meant(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rejoinder.settings"):
        settings = Settings.from_env({"REJOINDER_SMTP_STARTLS": "1", "REJOINDER_RATE_IP_WRITE": "5"})
    assert settings.smtp_starttls is True and settings.rate_ip_writes == 30  # unchanged defaults
    warned = "\n".join(r.getMessage() for r in caplog.records)
    assert "REJOINDER_SMTP_STARTLS is not a Rejoinder setting" in warned and "REJOINDER_SMTP_STARTTLS?" in warned
    assert "did you mean REJOINDER_RATE_IP_WRITES?" in warned


def test_secrets_come_from_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-a-file\n")
    (tmp_path / "smtp").write_text("s3cret")
    settings = Settings.from_env({"REJOINDER_SECRET_KEY_FILE": str(tmp_path / "key"),
                                  "REJOINDER_SMTP_PASSWORD_FILE": str(tmp_path / "smtp")})
    assert settings.secret_key == "from-a-file" and settings.smtp_password == "s3cret"
    with pytest.raises(SettingsError, match="cannot read"):
        Settings.from_env({"REJOINDER_SECRET_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(SettingsError, match="both set"):
        Settings.from_env({"REJOINDER_SECRET_KEY_FILE": str(tmp_path / "key"), "REJOINDER_SECRET_KEY": "x"})


def test_the_server_refuses_to_start_with_a_bad_value_and_says_why() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REJOINDER_")}
    env.update({"REJOINDER_SMTP_STARTTLS": "flase", "REJOINDER_REDIS_URL": "redis://127.0.0.1:9/0"})
    out = subprocess.run([sys.executable, "-m", "rejoinder", "serve"], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "REJOINDER_SMTP_STARTTLS='flase': must be true or false" in out.stderr
