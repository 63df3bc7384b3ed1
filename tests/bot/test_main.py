"""``python -m bot`` refuses to start on bad settings with one readable line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DISCORD_TOKEN = "MTAxMjM0NTY3ODkwMTIzNDU2Nzg.discord-secret"
RUNCOMFY_TOKEN = "rc-secret-0123456789abcdef"


def run_bot(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_settings_it_names_the_first_missing_one(tmp_path: Path) -> None:
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert result.stderr == "animate-bot: setting DISCORD_TOKEN is required but not set\n"
    assert result.stdout == ""


def test_missing_api_key_is_named(tmp_path: Path) -> None:
    result = run_bot(tmp_path, DISCORD_TOKEN=DISCORD_TOKEN)
    assert result.stderr == "animate-bot: setting RUNCOMFY_API_TOKEN is required but not set\n"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ANIMATE_MAX_ACTIVE", "0"),
        ("ANIMATE_POLL_MIN_S", "soon"),
        ("RUNCOMFY_API_BASE", "not a url"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line(tmp_path: Path, name: str, value: str) -> None:
    result = run_bot(
        tmp_path, DISCORD_TOKEN=DISCORD_TOKEN, RUNCOMFY_API_TOKEN=RUNCOMFY_TOKEN, **{name: value}
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"animate-bot: setting {name} is invalid")
    assert result.stderr.count("\n") == 1


def test_an_unreachable_discord_api_is_one_line_without_secrets(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path,
        DISCORD_TOKEN=DISCORD_TOKEN,
        RUNCOMFY_API_TOKEN=RUNCOMFY_TOKEN,
        DISCORD_API_BASE="http://127.0.0.1:9/api/v10",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[-1] == "animate-bot: cannot reach DISCORD_API_BASE: ClientConnectorError"
    )
    assert "Traceback" not in result.stderr
    assert DISCORD_TOKEN not in result.stderr + result.stdout
    assert RUNCOMFY_TOKEN not in result.stderr + result.stdout


def test_an_unusable_database_url_is_named_without_its_password(tmp_path: Path) -> None:
    result = run_bot(
        tmp_path,
        DISCORD_TOKEN=DISCORD_TOKEN,
        RUNCOMFY_API_TOKEN=RUNCOMFY_TOKEN,
        DATABASE_URL="postgresql://bot:hunter2-password@127.0.0.1:9/animate",
    )
    assert result.returncode == 2
    last = result.stderr.splitlines()[-1]
    assert last.startswith("animate-bot: cannot open the database in DATABASE_URL")
    assert "hunter2-password" not in result.stderr
