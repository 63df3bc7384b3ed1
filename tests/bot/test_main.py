"""``python -m bot`` refuses to start with one readable line and a non-zero exit, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

import bot.__main__ as bot_main
from bot.settings import Settings

DISCORD_TOKEN = "MTAxMjM0NTY3ODkwMTIzNDU2Nzg.discord-secret"
RUNCOMFY_TOKEN = "rc-secret-0123456789abcdef"


def run_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_without_settings_it_names_every_missing_one(tmp_path: Path) -> None:
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "animate-bot: setting DISCORD_TOKEN is required but not set; "
        "setting RUNCOMFY_API_TOKEN is required but not set\n"
    )
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


def tokens_and(tmp_path: Path, **env: str) -> dict[str, str]:
    return {
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "RUNCOMFY_API_TOKEN": RUNCOMFY_TOKEN,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    }


def assert_one_line_failure(result: subprocess.CompletedProcess[str], line: str) -> None:
    """Exit 2; the only line that is not an INFO log record is ``line``; no secret, no traceback."""
    assert result.returncode == 2
    lines = [entry for entry in result.stderr.splitlines() if " INFO " not in entry]
    assert lines == [f"animate-bot: {line}"]
    assert DISCORD_TOKEN not in result.stderr + result.stdout
    assert RUNCOMFY_TOKEN not in result.stderr + result.stdout


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_a_refused_discord_api_is_one_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path, **tokens_and(tmp_path, DISCORD_API_BASE="http://127.0.0.1:9/api/v10"))
    assert_one_line_failure(result, "cannot reach DISCORD_API_BASE (127.0.0.1:9): connection refused")


def test_a_discord_api_name_that_does_not_resolve_is_one_line(tmp_path: Path) -> None:
    base = "http://discord-double.invalid/api/v10"
    result = run_bot(tmp_path, **tokens_and(tmp_path, DISCORD_API_BASE=base))
    assert_one_line_failure(
        result,
        "cannot reach DISCORD_API_BASE (discord-double.invalid:80): "
        "the host name does not resolve (DNS failure)",
    )


def test_a_discord_api_that_never_answers_is_one_line(tmp_path: Path, silent_port: int) -> None:
    base = f"http://127.0.0.1:{silent_port}/api/v10"
    result = run_bot(tmp_path, **tokens_and(tmp_path, DISCORD_API_BASE=base))
    assert_one_line_failure(result, "cannot reach DISCORD_API_BASE: no answer in time (timed out)")


def test_discord_itself_out_of_reach_or_refusing_is_one_line_without_voice_warnings(tmp_path: Path) -> None:
    result = run_bot(tmp_path, **tokens_and(tmp_path))
    lines = [entry for entry in result.stderr.splitlines() if " INFO " not in entry]
    assert result.returncode == 2
    assert lines in (
        ["animate-bot: cannot reach Discord (discord.com:443): the host name does not resolve (DNS failure)"],
        ["animate-bot: Discord refused DISCORD_TOKEN"],
    )
    assert "PyNaCl" not in result.stderr
    assert "davey" not in result.stderr


def test_a_database_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = run_bot(tmp_path, **tokens_and(tmp_path, DATABASE_URL="sqlite:///a-file/data/bot.sqlite3"))
    assert_one_line_failure(result, "cannot create or open a-file/data for DATABASE_URL: Not a directory")


def test_help_prints_help_without_any_setting(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m bot")
    assert "DISCORD_TOKEN" in result.stdout
    assert result.stderr == ""


def test_an_unknown_argument_is_one_line(tmp_path: Path) -> None:
    result = run_bot(tmp_path, "--colour")
    assert result.returncode == 2
    assert result.stderr == "animate-bot: unrecognized arguments: --colour (see python -m bot --help)\n"


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


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``main`` in this process, with tokens set and the process-wide logging left alone."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", RUNCOMFY_TOKEN)
    monkeypatch.setattr(bot_main, "configure_logging", lambda level, secrets: None)


def failing_run(error: BaseException) -> Callable[[Settings], Awaitable[None]]:
    async def run(settings: Settings) -> None:
        raise error

    return run


@pytest.mark.usefixtures("in_process")
def test_the_engine_failure_line_is_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    leak = f"RuntimeError('POST /interactions/123/{'x' * 40}/callback with {RUNCOMFY_TOKEN}')"
    monkeypatch.setattr(bot_main, "run", failing_run(bot_main.EngineFailure(leak)))
    assert bot_main.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "animate-bot: stopped after an internal failure (RuntimeError('POST /interactions/123/***"
    )
    assert RUNCOMFY_TOKEN not in err
    assert "x" * 40 not in err
    assert err.count("\n") == 1


@pytest.mark.usefixtures("in_process")
def test_anything_else_at_start_is_one_redacted_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    error = PermissionError(f"denied for Bot {DISCORD_TOKEN}\nsecond line")
    monkeypatch.setattr(bot_main, "run", failing_run(error))
    assert bot_main.main([]) == 1
    err = capsys.readouterr().err
    assert err == "animate-bot: could not start: PermissionError: denied for Bot ***\n"


def test_the_playground_missing_from_an_installation_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "playground.cli", None)  # as in the Docker image: no playground
    assert bot_main.main(["--playground"]) == 2
    assert capsys.readouterr().err == (
        "animate-bot: the playground is not part of this installation; run it from a checkout\n"
    )


def test_help_names_the_playground(tmp_path: Path) -> None:
    assert "--playground" in run_bot(tmp_path, "--help").stdout
