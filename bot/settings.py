"""Typed settings, read once at start from the environment and ``.env``."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    poll_min_s: float = Field(default=1.8, gt=0, le=600, validation_alias="ANIMATE_POLL_MIN_S")
    poll_max_s: float = Field(default=30.0, gt=0, le=600, validation_alias="ANIMATE_POLL_MAX_S")
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
    # several processes sharing one PostgreSQL queue (see the README's "Several processes")
    instance_id: str | None = Field(
        default=None, min_length=1, max_length=200, validation_alias="ANIMATE_INSTANCE_ID"
    )
    lease_s: float = Field(default=30.0, ge=3, le=600, validation_alias="ANIMATE_LEASE_S")
    shard_count: int | None = Field(default=None, ge=1, le=10_000, validation_alias="ANIMATE_SHARD_COUNT")
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = Field(
        default=None, validation_alias="ANIMATE_SHARD_IDS"
    )
    metrics_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="ANIMATE_METRICS_PORT")

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level_in_any_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _shards_consistent(self) -> Self:
        if self.shard_ids is None:
            return self
        if self.shard_count is None:
            raise ValueError("ANIMATE_SHARD_IDS needs ANIMATE_SHARD_COUNT")
        if not self.shard_ids or any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
            raise ValueError("ANIMATE_SHARD_IDS must list shard numbers from 0 to ANIMATE_SHARD_COUNT - 1")
        if len(set(self.shard_ids)) != len(self.shard_ids):
            raise ValueError("ANIMATE_SHARD_IDS lists a shard twice")
        return self

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
