"""Persistence of jobs: open one store with :func:`open_store` and use it through :class:`JobStore`."""

from bot.store.base import JobExistsError, JobStore, StaleJobError
from bot.store.sql import SqlJobStore, StoreUnavailableError, open_store

__all__ = [
    "JobExistsError",
    "JobStore",
    "SqlJobStore",
    "StaleJobError",
    "StoreUnavailableError",
    "open_store",
]
