import re
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[2]
ALIASES = {str(field.validation_alias) for field in Settings.model_fields.values()}


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ALIASES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def example_entries() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and not line.startswith("#"))
    return {name: value for name, value in pairs}


def test_env_example_lists_exactly_the_settings() -> None:
    assert set(example_entries()) == ALIASES


def test_env_example_shows_each_default() -> None:
    entries = example_entries()
    for field in Settings.model_fields.values():
        name = str(field.validation_alias)
        if field.is_required() or field.default is None:
            assert entries[name] == "", name
        else:
            assert str(field.default).rstrip("/") == entries[name] or float(entries[name]) == field.default


def test_every_env_example_line_has_help_above_it() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z_]+=", line):
            assert lines[index - 1].startswith("# "), line


def test_every_bad_setting_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc-secret-value-123")
    monkeypatch.setenv("ANIMATE_MAX_ACTIVE", "many")
    monkeypatch.setenv("ANIMATE_POLL_MIN_S", "-1")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    problems = str(caught.value).split("; ")
    assert [problem.split(" is ")[0] for problem in problems] == [
        "setting DISCORD_TOKEN",
        "setting ANIMATE_POLL_MIN_S",
        "setting ANIMATE_MAX_ACTIVE",
        "setting LOG_LEVEL",
    ]
    assert "\n" not in str(caught.value)
    for value in ("many", "LOUD", "rc-secret-value-123"):
        assert value not in str(caught.value)
    assert "Value error" not in str(caught.value)


@pytest.mark.parametrize(("value", "level"), [("info", "INFO"), ("Debug", "DEBUG"), (" warning ", "WARNING")])
def test_the_log_level_is_accepted_in_any_case(
    monkeypatch: pytest.MonkeyPatch, value: str, level: str
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value-123")
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc-secret-value-123")
    monkeypatch.setenv("LOG_LEVEL", value)
    assert load_settings().log_level == level


def test_missing_token_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc-secret-value-123")
    with pytest.raises(SettingsError, match=r"^setting DISCORD_TOKEN is required but not set$"):
        load_settings()


def test_malformed_value_names_the_setting_and_hides_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value-123")
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc-secret-value-123")
    monkeypatch.setenv("ANIMATE_MAX_ACTIVE", "many")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("setting ANIMATE_MAX_ACTIVE is invalid")
    assert "many" not in str(caught.value)


def test_poll_bounds_must_be_ordered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret-value-123")
    monkeypatch.setenv("RUNCOMFY_API_TOKEN", "rc-secret-value-123")
    monkeypatch.setenv("ANIMATE_POLL_MIN_S", "20")
    monkeypatch.setenv("ANIMATE_POLL_MAX_S", "5")
    with pytest.raises(
        SettingsError,
        match=r"^settings are inconsistent: ANIMATE_POLL_MIN_S must not exceed ANIMATE_POLL_MAX_S$",
    ):
        load_settings()


def test_dotenv_file_is_read_and_empty_values_mean_default(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=from-dotenv-token-1\nRUNCOMFY_API_TOKEN=rc-from-dotenv-2\nDISCORD_API_BASE=\n"
    )
    settings = load_settings()
    assert settings.discord_token.get_secret_value() == "from-dotenv-token-1"
    assert settings.discord_api_base is None
    assert "from-dotenv-token-1" not in repr(settings)
