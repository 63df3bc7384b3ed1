"""Typed settings, read once at start from the environment and ``.env``."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/animate-bot.sqlite3"


class Settings(BaseSettings):
    """Every setting of the bot. The env names are part of the project's contract."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    discord_token: SecretStr = Field(validation_alias="DISCORD_TOKEN", min_length=1)
    runcomfy_api_token: SecretStr = Field(validation_alias="RUNCOMFY_API_TOKEN", min_length=1)
    runcomfy_api_base: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://model-api.runcomfy.net"), validation_alias="RUNCOMFY_API_BASE"
    )
    discord_api_base: AnyHttpUrl | None = Field(default=None, validation_alias="DISCORD_API_BASE")
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL", min_length=1)
    poll_min_s: float = Field(default=2.0, gt=0, le=600, validation_alias="ANIMATE_POLL_MIN_S")
    poll_max_s: float = Field(default=15.0, gt=0, le=600, validation_alias="ANIMATE_POLL_MAX_S")
    max_active: int = Field(default=4, ge=1, le=1000, validation_alias="ANIMATE_MAX_ACTIVE")
    max_active_per_server: int | None = Field(
        default=None, ge=1, le=1000, validation_alias="ANIMATE_MAX_ACTIVE_PER_SERVER"
    )
    max_active_per_member: int | None = Field(
        default=None, ge=1, le=1000, validation_alias="ANIMATE_MAX_ACTIVE_PER_MEMBER"
    )
    job_max_s: float = Field(default=1800.0, gt=0, validation_alias="ANIMATE_JOB_MAX_S")
    edit_interval_s: float = Field(default=3.0, ge=0, le=60, validation_alias="ANIMATE_EDIT_INTERVAL_S")
    dev_guild_id: int | None = Field(default=None, validation_alias="ANIMATE_DEV_GUILD_ID")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", validation_alias="LOG_LEVEL"
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _poll_bounds_ordered(self) -> Self:
        if self.poll_min_s > self.poll_max_s:
            raise ValueError("ANIMATE_POLL_MIN_S must not exceed ANIMATE_POLL_MAX_S")
        return self


class SettingsError(Exception):
    """A missing or malformed setting, described in one line that names it and shows no value."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_settings_error(exc)) from None


def describe_settings_error(exc: ValidationError) -> str:
    """Every problem at once, each naming its setting and never its value, joined with "; "."""
    problems: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        message = error["msg"].removeprefix("Value error, ")
        if not error["loc"]:
            problems.append("settings are inconsistent: " + message)
        elif error["type"] == "missing":
            problems.append(f"setting {error['loc'][0]} is required but not set")
        else:
            problems.append(f"setting {error['loc'][0]} is invalid: {message}")
    return "; ".join(dict.fromkeys(problems))
