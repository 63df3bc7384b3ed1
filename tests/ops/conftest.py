"""The core's fixtures (an empty SQLite store)."""

from tests.bot.conftest import store

__all__ = ["store"]
