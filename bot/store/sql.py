"""The job store on SQLAlchemy's asyncio engine: SQLite (aiosqlite) by default, PostgreSQL (asyncpg) shared.

Every write is one statement in its own transaction. :meth:`SqlJobStore.save` only writes over the version
it was read at, so two writers (tasks or processes) never silently overwrite each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import asyncpg  # type: ignore[import-untyped]
from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ColumnElement,
    Executable,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    case,
    delete,
    event,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.util import greenlet_spawn

from bot.jobs import ACTIVE_STATES, TERMINAL_STATES, Job, JobState
from bot.moderation.audit import AuditEntry, ModAction, TargetKind
from bot.moderation.server_settings import ServerSettings
from bot.moderation.turn_order import Member
from bot.store.base import (
    AdmissionFacts,
    AdmissionRule,
    JobExistsError,
    JobStore,
    Lease,
    LeaseHeldError,
    Notice,
    StaleJobError,
)
from bot.store.prepared import PreparedStatement
from bot.store.snapshots import JobSnapshots, jobs_by_id, keys_of, known_jobs, read_known
from bot.store.sqlite_driver import OneTripDbapi
from bot.store.tables import (
    approved_jobs,
    audit_log,
    front_requests,
    job_to_row,
    jobs,
    member_blocks,
    member_turns,
    meta,
    row_to_job,
    server_settings,
)

log = logging.getLogger(__name__)

MIGRATIONS_DIR: Final = Path(__file__).parent / "migrations"
SQLITE_DRIVERS: Final = frozenset({"sqlite", "sqlite+aiosqlite"})
POSTGRES_DRIVERS: Final = frozenset({"postgres", "postgresql", "postgresql+asyncpg"})
SQLITE_BUSY_TIMEOUT_MS: Final = 15_000
# Every connection is kept (with SQLAlchemy's overflow, a burst opened and closed connections again every few
# calls, each a new thread, file and PRAGMA), and each keeps a small page cache: with 15 of them at SQLite's
# default cache the bot held 5,000 jobs in 284 MB, with 8 at 512 KiB in 226 MB, for the same CPU.
SQLITE_POOL_SIZE: Final = 8
SQLITE_CACHE_KIB: Final = 512
WAL_SWITCH_ATTEMPTS: Final = 20
WAL_SWITCH_PAUSE_S: Final = 0.05  # times the attempt number: about 10 s in all
POSTGRES_CONNECT_TIMEOUT_S: Final = 10
# pg_advisory_xact_lock key that serialises migrations of processes opening one database at once.
MIGRATION_LOCK_KEY: Final = 0x616E696D6174655F  # "animate_"
# Loggers that print statement parameters or result rows at DEBUG, whatever the engine's hide_parameters.
ROW_LOGGING_LOGGERS: Final = ("sqlalchemy.engine.Engine", "aiosqlite")
# Execution option naming the statement that opens a SQLite transaction (see _enable_sqlite_transactions).
SQLITE_BEGIN_OPTION: Final = "animate_sqlite_begin"
# pg_advisory_xact_lock key that serialises admission claims of every process sharing one database.
ADMISSION_LOCK_KEY: Final = 0x616E696D61746531  # "animate1"
# LISTEN/NOTIFY channel on which a process tells the others that the queue or its places changed.
NOTIFY_CHANNEL: Final = "animate_jobs"


class StoreUnavailableError(RuntimeError):
    """The database named by DATABASE_URL could not be opened or migrated (the URL shown without password)."""


def normalise_database_url(database_url: str) -> URL:
    """The async SQLAlchemy URL for a DATABASE_URL value; ``ValueError`` (never showing it) if unusable."""
    try:
        url = make_url(database_url.strip())
    except (ArgumentError, ValueError):
        raise ValueError(
            "DATABASE_URL is not a database URL; expected sqlite:///path/to/file or "
            "postgresql://user:password@host:port/database"
        ) from None
    if url.drivername in SQLITE_DRIVERS:
        if not url.database or url.database == ":memory:" or "mode=memory" in url.database:
            raise ValueError("DATABASE_URL must name a SQLite file (sqlite:///path/to/file), not memory")
        return url.set(drivername="sqlite+aiosqlite")
    if url.drivername in POSTGRES_DRIVERS:
        url = url.set(drivername="postgresql+asyncpg")
        if "sslmode" in url.query:  # libpq's spelling; asyncpg takes the same values as "ssl"
            url = url.update_query_dict({"ssl": url.query["sslmode"]}).difference_update_query(["sslmode"])
        return url
    raise ValueError(
        f"DATABASE_URL must start with sqlite:// or postgresql://, not {url.drivername}:// "
        "(supported drivers: sqlite+aiosqlite, postgresql+asyncpg)"
    )


class _DropDebugRecords(logging.Filter):
    """Drops a logger's DEBUG records: SQLAlchemy logs result rows there and aiosqlite every statement's
    parameters, and job rows hold interaction tokens."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def keep_job_rows_out_of_logs() -> None:
    """Make sure no logging configuration can print a job row (idempotent)."""
    for name in ROW_LOGGING_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, _DropDebugRecords) for existing in logger.filters):
            logger.addFilter(_DropDebugRecords())


def create_engine_for(database_url: str) -> AsyncEngine:
    """An engine for DATABASE_URL that never shows job rows or SQL parameters (interaction tokens) in logs
    or errors; on SQLite, WAL mode, a busy timeout and real transactions."""
    url = normalise_database_url(database_url)
    keep_job_rows_out_of_logs()
    if url.get_backend_name() == "sqlite":
        assert url.database is not None  # checked by normalise_database_url
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url,
            hide_parameters=True,
            module=OneTripDbapi(),
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=0,
        )
        _enable_sqlite_transactions(engine)
        return engine
    return create_async_engine(
        url,
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"timeout": POSTGRES_CONNECT_TIMEOUT_S},
    )


def _enable_sqlite_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, emit BEGIN, so reads and DDL are transactional too.

    See SQLAlchemy's "Enabling Non-Legacy SQLite Transactional Modes"; a connection may ask for
    ``BEGIN IMMEDIATE`` (take the write lock at once) through the :data:`SQLITE_BEGIN_OPTION` option.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        begin = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "BEGIN")
        if begin:
            connection.exec_driver_sql(begin)


async def use_write_ahead_log(engine: AsyncEngine) -> None:
    """Put the SQLite file in WAL mode (readers never block the writer), which the file then keeps.

    Switching needs the file to itself and SQLite answers "locked" at once rather than waiting, so a new
    file opened by two processes together is retried for a few seconds.
    """
    for attempt in range(1, WAL_SWITCH_ATTEMPTS + 1):
        try:
            async with engine.connect() as connection:
                await connection.execution_options(**{SQLITE_BEGIN_OPTION: ""})  # no transaction around it
                mode = (await connection.exec_driver_sql("PRAGMA journal_mode=WAL")).scalar_one()
        except OperationalError:
            if attempt == WAL_SWITCH_ATTEMPTS:
                raise
        else:
            if str(mode).lower() == "wal":
                return
            raise StoreUnavailableError(f"SQLite refused WAL mode (journal mode stays {mode})")
        await asyncio.sleep(WAL_SWITCH_PAUSE_S * attempt)


async def migrate_to_head(engine: AsyncEngine) -> None:
    """Run the Alembic migrations to head in one transaction, one process at a time."""
    if engine.dialect.name == "sqlite":
        await use_write_ahead_log(engine)
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            await connection.execution_options(**{SQLITE_BEGIN_OPTION: "BEGIN IMMEDIATE"})
        async with connection.begin():
            if engine.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await connection.run_sync(_upgrade_to_head)


def _upgrade_to_head(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def open_store(database_url: str) -> JobStore:
    """Open (and migrate to the current schema) the store DATABASE_URL names.

    Raises ``ValueError`` for an unusable URL and :class:`StoreUnavailableError` when the database cannot be
    reached or migrated; neither message shows the password.
    """
    engine = create_engine_for(database_url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        await migrate_to_head(engine)
    except (OSError, TimeoutError, SQLAlchemyError) as exc:
        await engine.dispose()
        raise StoreUnavailableError(
            f"cannot open the database in DATABASE_URL ({shown}): {_reason(exc)}"
        ) from exc
    log.info("job store open at %s", shown)
    return SqlJobStore(engine)


def _reason(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first_line = (str(cause).strip().splitlines() or [""])[0]
    return f"{type(cause).__name__}: {first_line}" if first_line else type(cause).__name__


class SqlJobStore:
    """:class:`bot.store.base.JobStore` on SQLAlchemy; create it with :func:`open_store`.

    The statements are built once (module constants, parameters bound at execution), so a call costs a
    cached compilation's lookup rather than building and hashing a new statement tree. Those every job
    runs (its creation, its writes, its read by id, the queue's keys, a member's standing) are compiled
    once for the dialect and run on the pool's DBAPI connection (:mod:`bot.store.prepared`). A call that
    is one statement, which SQLite runs atomically on its own, sends no ``BEGIN`` around it on SQLite:
    that was one more trip to the database thread per call.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._owned = engine
        if engine.dialect.name == "sqlite":
            engine = engine.execution_options(**{SQLITE_BEGIN_OPTION: ""})
        self._engine = engine
        self._sync = engine.sync_engine
        self._known = JobSnapshots()
        dialect = engine.dialect
        self._insert_job = PreparedStatement(_INSERT_JOB, dialect)
        self._get_job = PreparedStatement(_GET_JOB, dialect)
        self._save_job = PreparedStatement(_SAVE_JOB, dialect)
        self._save_leased_job = PreparedStatement(_SAVE_LEASED_JOB, dialect)
        self._member_standing = PreparedStatement(_MEMBER_STANDING, dialect)
        self._queued_keys = PreparedStatement(_QUEUED_KEYS, dialect)
        self._queued_limited_keys = PreparedStatement(_QUEUED_LIMITED_KEYS, dialect)
        self._claimed_keys = PreparedStatement(_CLAIMED_KEYS, dialect)
        self._front_requests = PreparedStatement(_FRONT_REQUESTS, dialect)

    def __repr__(self) -> str:
        return f"SqlJobStore({self._engine.url.render_as_string(hide_password=True)})"

    async def create(self, job: Job, lease: Lease | None = None) -> Job:
        stored = dataclasses.replace(job, version=1)
        row = job_to_row(stored) | (_lease_columns(stored, lease) if lease is not None else {})
        try:
            await greenlet_spawn(self._insert_job.write, self._sync, row)
        except IntegrityError:
            if await self.get(job.id) is not None:
                raise JobExistsError(job.id) from None
            raise
        self._remember_queued(stored)
        return stored

    def _remember_queued(self, stored: Job) -> None:
        """A queued job as written is its row: the queue's next read takes this copy (and shares it with
        whoever holds it) instead of building another."""
        if stored.state is JobState.QUEUED:
            self._known.keep([stored])

    async def get(self, job_id: str) -> Job | None:
        found = await greenlet_spawn(self._get_job.mappings, self._sync, {"job_id": job_id})
        return row_to_job(found[0]) if found else None

    async def save(self, job: Job, lease: Lease | None = None) -> Job:
        stored = dataclasses.replace(job, version=job.version + 1)
        values = job_to_row(stored)
        del values["id"]
        if job.state is not JobState.QUEUED:
            values["admitted_at"] = None
        values["where_id"] = job.id
        values["where_version"] = job.version
        statement = self._save_job
        if lease is not None:
            values |= _lease_columns(stored, lease)
            values["where_owner"] = lease.owner
            values["where_now"] = lease.now
            statement = self._save_leased_job
        if await greenlet_spawn(statement.write, self._sync, values) != 1:
            raise await self._why_refused(job, lease)
        self._remember_queued(stored)
        return stored

    async def _why_refused(self, job: Job, lease: Lease | None) -> StaleJobError:
        if lease is not None:
            held_by = select(jobs.c.lease_owner).where(jobs.c.id == job.id, ~_claimable_by(lease))
            async with self._engine.connect() as connection:
                owner = (await connection.execute(held_by)).scalar_one_or_none()
            if owner is not None:
                return LeaseHeldError(job.id, job.version, str(owner))
        return StaleJobError(job.id, job.version)

    async def admit(self, lease: Lease, rule: AdmissionRule) -> list[Job]:
        async with self._serialised() as connection:
            waiting: list[Job] = []
            claimable: set[str] = set()
            for job, row in await connection.run_sync(read_known, _WAITING_KEYS, None, self._known):
                if job.state is not JobState.QUEUED:
                    continue  # written since the keys were read (PostgreSQL lets a save run beside a claim)
                waiting.append(job)
                if _may_claim(row.lease_owner, row.lease_expires_at, lease):
                    claimable.add(job.id)
            in_use_by_member = {
                (int(g), int(u)): int(n) for g, u, n in (await connection.execute(_PLACES_BY_MEMBER)).all()
            }
            in_use_by_guild: Counter[int] = Counter()
            for (guild_id, _), count in in_use_by_member.items():
                in_use_by_guild[guild_id] += count
            served = await _last_served(connection, {(job.guild_id, job.user_id) for job in waiting})
            facts = AdmissionFacts(
                waiting,
                frozenset(claimable),
                sum(in_use_by_member.values()),
                served,
                dict(in_use_by_guild),
                in_use_by_member,
            )
            chosen = [job for job in rule(facts) if job.id in claimable]
            if chosen:
                claim = {
                    "job_ids": [job.id for job in chosen],
                    "claim_at": lease.now,
                    "claim_owner": lease.owner,
                    "claim_expires_at": lease.expires_at,
                }
                await connection.execute(_CLAIM, claim)
                turns = [
                    {"guild_id": guild_id, "user_id": user_id, "served_at": lease.now}
                    for guild_id, user_id in dict.fromkeys((job.guild_id, job.user_id) for job in chosen)
                ]
                await connection.execute(_upsert_turn(connection.dialect.name), turns)
        return await self._queued_known(self._claimed_keys, {"owner": lease.owner})

    async def last_served(self) -> dict[Member, datetime]:
        async with self._engine.connect() as connection:
            members = (
                await connection.execute(
                    select(jobs.c.guild_id, jobs.c.user_id).where(_is_queued()).distinct()
                )
            ).all()
            return await _last_served(connection, {(row.guild_id, row.user_id) for row in members})

    async def renew_leases(self, lease: Lease) -> dict[str, int]:
        renewed = bindparam("renewed", lease.expires_at, type_=jobs.c.lease_expires_at.type)
        statement = (
            update(jobs)
            .where(jobs.c.lease_owner == lease.owner, _unfinished())
            # A heartbeat that lands late never shortens the lease of a write made meanwhile.
            .values(
                lease_expires_at=case(
                    (jobs.c.lease_expires_at > renewed, jobs.c.lease_expires_at), else_=renewed
                )
            )
            .returning(jobs.c.id, jobs.c.version)
        )
        async with self._engine.begin() as connection:
            return {row.id: row.version for row in await connection.execute(statement)}

    async def adopt(self, lease: Lease, *, at_start: bool) -> list[tuple[Job, str | None]]:
        takeable = jobs.c.lease_expires_at <= lease.now
        if at_start:
            takeable = or_(takeable, jobs.c.lease_owner.is_(None), jobs.c.lease_owner == lease.owner)
        async with self._serialised() as connection:
            rows = (
                await connection.execute(_oldest_first(select(jobs).where(_unfinished(), takeable)))
            ).mappings()
            found = [(row_to_job(row), row["lease_owner"]) for row in rows]
            if not found:
                return []
            # Taken only if still takeable: a late write of the old owner (which PostgreSQL's advisory
            # lock does not hold back) renewed its lease after the read.
            taken = await connection.execute(
                update(jobs)
                .where(jobs.c.id.in_([job.id for job, _ in found]), takeable)
                .values(lease_owner=lease.owner, lease_expires_at=lease.expires_at)
                .returning(jobs.c.id)
            )
            adopted = set(taken.scalars())
        return [(job, owner) for job, owner in found if job.id in adopted]

    async def next_lease_expiry(self, owner: str) -> datetime | None:
        statement = select(func.min(jobs.c.lease_expires_at)).where(
            _unfinished(), jobs.c.lease_owner.is_not(None), jobs.c.lease_owner != owner
        )
        async with self._engine.connect() as connection:
            earliest: datetime | None = (await connection.execute(statement)).scalar_one()
        return earliest

    async def tally(self) -> tuple[dict[JobState, int], dict[int, int]]:
        by_state = select(jobs.c.state, func.count()).group_by(jobs.c.state)
        by_guild = select(jobs.c.guild_id, func.count()).where(_is_queued()).group_by(jobs.c.guild_id)
        async with self._engine.connect() as connection:
            states = {
                JobState(state): int(count) for state, count in (await connection.execute(by_state)).all()
            }
            guilds = {int(guild): int(count) for guild, count in (await connection.execute(by_guild)).all()}
        return states, guilds

    async def announce(self) -> None:
        if self._engine.dialect.name != "postgresql":
            return  # one process per SQLite file: the in-process wake-ups suffice
        async with self._engine.begin() as connection:
            await connection.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})

    async def listen(self, notice: Notice) -> Callable[[], Awaitable[None]]:
        if self._engine.dialect.name != "postgresql":

            async def nothing_to_stop() -> None:
                return None

            return nothing_to_stop
        # A connection of its own, outside the pool: it stays open, listening, while the bot runs.
        dsn = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = await asyncpg.connect(dsn, timeout=POSTGRES_CONNECT_TIMEOUT_S)

        def heard(*_args: object) -> None:
            notice()

        await connection.add_listener(NOTIFY_CHANNEL, heard)

        async def stop() -> None:
            await connection.close(timeout=POSTGRES_CONNECT_TIMEOUT_S)

        return stop

    @contextlib.asynccontextmanager
    async def _atomic(self) -> AsyncIterator[AsyncConnection]:
        """A transaction around several statements: on SQLite the store sends no BEGIN around one."""
        async with self._engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                await connection.execution_options(**{SQLITE_BEGIN_OPTION: "BEGIN"})
            async with connection.begin():
                yield connection

    @contextlib.asynccontextmanager
    async def _serialised(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that no other claimer (task or process) runs beside: an advisory lock on
        PostgreSQL, the database's write lock taken at BEGIN on SQLite."""
        async with self._engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                await connection.execution_options(**{SQLITE_BEGIN_OPTION: "BEGIN IMMEDIATE"})
            async with connection.begin():
                if connection.dialect.name == "postgresql":
                    await connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADMISSION_LOCK_KEY}
                    )
                yield connection

    async def find_by_state(self, states: Sequence[JobState]) -> list[Job]:
        if not states:
            return []
        return await self._select_jobs(_IN_STATES, {"states": _state_values(states)})

    async def queued_jobs(self, limit: int | None = None) -> list[Job]:
        if limit is None:
            return await self._queued_known(self._queued_keys, {}, whole=True)
        return await self._queued_known(self._queued_limited_keys, {"limit": limit})

    async def _queued_known(
        self, keys: PreparedStatement, parameters: Mapping[str, Any], *, whole: bool = False
    ) -> list[Job]:
        """Queued jobs ``keys`` selects, rebuilt only where this process has not read them at that
        version; one written out of the queue between the two reads is left out."""
        found = await greenlet_spawn(_read_known_jobs, self._sync, keys, parameters, self._known, whole)
        return [job for job in found if job.state is JobState.QUEUED]

    async def jobs_for_user(self, guild_id: int, user_id: int, states: Sequence[JobState]) -> list[Job]:
        if not states:
            return []
        parameters = {"guild_id": guild_id, "user_id": user_id, "states": _state_values(states)}
        return await self._select_jobs(_FOR_USER, parameters)

    async def unfinished(self) -> list[Job]:
        return await self._select_jobs(_oldest_first(select(jobs).where(_unfinished())))

    async def count_in_states(self, states: Sequence[JobState]) -> int:
        if not states:
            return 0
        async with self._engine.connect() as connection:
            result = await connection.execute(_COUNT_IN_STATES, {"states": _state_values(states)})
            return int(result.scalar_one())

    async def guild_jobs(self, guild_id: int, since: datetime) -> list[Job]:
        recent_or_open = or_(jobs.c.created_at > since, ~_in_states(list(TERMINAL_STATES)))
        statement = select(jobs).where(jobs.c.guild_id == guild_id, recent_or_open)
        return await self._select_jobs(_oldest_first(statement))

    async def server_settings(self, guild_ids: Collection[int]) -> dict[int, ServerSettings]:
        if not guild_ids:
            return {}
        async with self._engine.connect() as connection:
            rows = (
                (await connection.execute(_SERVER_SETTINGS, {"guild_ids": list(guild_ids)})).mappings().all()
            )
        return {row["guild_id"]: _settings_from(row["settings"]) for row in rows}

    async def save_server_settings(self, guild_id: int, settings: ServerSettings, entry: AuditEntry) -> None:
        values = {"settings": json.dumps(settings.to_dict()), "updated_at": entry.at}
        async with self._atomic() as connection:
            await connection.execute(_upsert(connection, server_settings, {"guild_id": guild_id}, values))
            await connection.execute(insert(audit_log).values(_entry_to_row(entry)))

    async def blocked_until(self, guild_id: int, user_id: int) -> datetime | None:
        member = {"guild_id": guild_id, "user_id": user_id}
        async with self._engine.connect() as connection:
            until: datetime | None = (await connection.execute(_BLOCKED_UNTIL, member)).scalar_one_or_none()
            return until

    async def member_standing(self, guild_id: int, user_id: int) -> tuple[ServerSettings, datetime | None]:
        member = {"guild_id": guild_id, "user_id": user_id}
        ((settings, until),) = await greenlet_spawn(self._member_standing.rows, self._sync, member)
        return (ServerSettings() if settings is None else _settings_from(settings)), until

    async def block_member(self, guild_id: int, user_id: int, until: datetime, entry: AuditEntry) -> None:
        key = {"guild_id": guild_id, "user_id": user_id}
        async with self._atomic() as connection:
            await connection.execute(_upsert(connection, member_blocks, key, {"blocked_until": until}))
            await connection.execute(insert(audit_log).values(_entry_to_row(entry)))

    async def unblock_member(self, guild_id: int, user_id: int, entry: AuditEntry) -> bool:
        statement = delete(member_blocks).where(
            member_blocks.c.guild_id == guild_id, member_blocks.c.user_id == user_id
        )
        async with self._atomic() as connection:
            if (await connection.execute(statement)).rowcount != 1:
                return False
            await connection.execute(insert(audit_log).values(_entry_to_row(entry)))
        return True

    async def front_requests(self) -> dict[str, datetime]:
        rows = await greenlet_spawn(self._front_requests.rows, self._sync, {})
        return {job_id: at for job_id, at in rows}

    async def request_front(self, job_id: str, guild_id: int, entry: AuditEntry) -> None:
        values = {"guild_id": guild_id, "requested_at": entry.at}
        async with self._atomic() as connection:
            await connection.execute(_upsert(connection, front_requests, {"job_id": job_id}, values))
            await connection.execute(insert(audit_log).values(_entry_to_row(entry)))

    async def approve_job(self, job_id: str, guild_id: int, entry: AuditEntry) -> None:
        values = {"guild_id": guild_id, "approved_at": entry.at}
        async with self._atomic() as connection:
            await connection.execute(_upsert(connection, approved_jobs, {"job_id": job_id}, values))
            await connection.execute(insert(audit_log).values(_entry_to_row(entry)))

    async def approved_jobs(self, job_ids: Collection[str]) -> set[str]:
        if not job_ids:
            return set()
        async with self._engine.connect() as connection:
            return set((await connection.execute(_APPROVED, {"job_ids": list(job_ids)})).scalars())

    async def record_action(self, entry: AuditEntry) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(insert(audit_log).values(_entry_to_row(entry)))

    async def audit_entries(self, guild_id: int, limit: int = 50) -> list[AuditEntry]:
        statement = (
            select(audit_log)
            .where(audit_log.c.guild_id == guild_id)
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            result = await connection.execute(statement)
            return [_row_to_entry(row) for row in result.mappings()]

    async def get_meta(self, key: str) -> str | None:
        async with self._engine.connect() as connection:
            result = await connection.execute(select(meta.c.value).where(meta.c.key == key))
            value: str | None = result.scalar_one_or_none()
            return value

    async def set_meta(self, key: str, value: str) -> None:
        async with self._engine.begin() as connection:
            await connection.execute(_upsert_meta(connection, key, value))

    async def close(self) -> None:
        await self._owned.dispose()

    async def _select_jobs(
        self, statement: Select[Any], parameters: dict[str, Any] | None = None
    ) -> list[Job]:
        return await greenlet_spawn(_read_jobs, self._sync, statement, parameters)


# A read of many jobs runs its whole connection in one switch into SQLAlchemy's synchronous layer, where its
# asyncio facade makes one for each step (checkout, execute, commit, close).
def _read_known_jobs(
    engine: Engine, keys: PreparedStatement, parameters: Mapping[str, Any], known: JobSnapshots, whole: bool
) -> list[Job]:
    def read(job_ids: list[str]) -> list[Job]:
        with engine.connect() as connection:
            return jobs_by_id(connection, job_ids)

    return [job for job, _ in known_jobs(keys.rows(engine, parameters), read, known, whole=whole)]


def _read_jobs(engine: Engine, statement: Select[Any], parameters: Any) -> list[Job]:
    with engine.connect() as connection:
        rows: Any = connection.execute(statement, parameters).mappings()
        return [row_to_job(row) for row in rows]


def _is_queued() -> ColumnElement[bool]:
    return jobs.c.state == JobState.QUEUED.value


def _unfinished() -> ColumnElement[bool]:
    """Something is left to do: not terminal, or terminal with its reply not final yet."""
    return or_(~_in_states(list(TERMINAL_STATES)), jobs.c.reply_final.is_(false()))


def _holds_a_place() -> ColumnElement[bool]:
    """The job takes one of the places the global limit counts, whichever process holds it."""
    return or_(_in_states(list(ACTIVE_STATES)), and_(_is_queued(), jobs.c.admitted_at.is_not(None)))


def _claimable_by(lease: Lease | None) -> ColumnElement[bool]:
    if lease is None:
        return true()
    return _claimable(lease.owner, lease.now)


def _claimable(owner: Any, now: Any) -> ColumnElement[bool]:
    """The job is unleased, held by ``owner``, or its lease ran out by ``now`` (values or bind parameters)."""
    return or_(jobs.c.lease_owner.is_(None), jobs.c.lease_owner == owner, jobs.c.lease_expires_at <= now)


def _may_claim(owner: str | None, expires_at: datetime | None, lease: Lease) -> bool:
    """Admission takes only jobs the claimer holds or whose lease ran out; an unleased job (one written
    outside the write path, or left from before leases) is adopted first, when a process starts."""
    return owner == lease.owner or (expires_at is not None and expires_at <= lease.now)


def _lease_columns(job: Job, lease: Lease) -> dict[str, Any]:
    """The lease a write by ``lease.owner`` leaves: held while something is left to do, then dropped."""
    if job.state.is_terminal and job.reply_final:
        return {"lease_owner": None, "lease_expires_at": None}
    return {"lease_owner": lease.owner, "lease_expires_at": lease.expires_at}


async def _last_served(connection: AsyncConnection, members: set[Member]) -> dict[Member, datetime]:
    if not members:
        return {}
    guilds = sorted({guild_id for guild_id, _ in members})
    users = sorted({user_id for _, user_id in members})
    rows = (await connection.execute(_TURNS, {"guild_ids": guilds, "user_ids": users})).all()
    turns = {(row.guild_id, row.user_id): row.served_at for row in rows}
    return {member: served for member, served in turns.items() if member in members}


@functools.cache
def _upsert_turn(dialect: str) -> Executable:
    """Records when members were last served (one parameter set each), built once per database kind."""
    build = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = build(member_turns)
    keys = [member_turns.c.guild_id, member_turns.c.user_id]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={"served_at": statement.excluded.served_at}
    )


def _in_states(states: Sequence[JobState]) -> ColumnElement[bool]:
    return jobs.c.state.in_([state.value for state in states])


def _state_values(states: Sequence[JobState]) -> list[str]:
    return [state.value for state in states]


def _oldest_first(statement: Select[Any]) -> Select[Any]:
    return statement.order_by(jobs.c.created_at, jobs.c.id)


_STATES_PARAMETER: Final = bindparam("states", type_=jobs.c.state.type, expanding=True)
_INSERT_JOB: Final = insert(jobs)
_GET_JOB: Final = select(jobs).where(jobs.c.id == bindparam("job_id"))
# The SET clause comes from the parameters named like columns; the WHERE ones must not share their names.
_SAVE_JOB: Final = update(jobs).where(
    jobs.c.id == bindparam("where_id"), jobs.c.version == bindparam("where_version")
)
_SAVE_LEASED_JOB: Final = _SAVE_JOB.where(_claimable(bindparam("where_owner"), bindparam("where_now")))
_IN_STATES: Final = _oldest_first(select(jobs).where(jobs.c.state.in_(_STATES_PARAMETER)))
_QUEUED: Final = _oldest_first(select(jobs).where(jobs.c.state == JobState.QUEUED.value))
_QUEUED_LIMITED: Final = _QUEUED.limit(bindparam("limit"))
_FOR_USER: Final = _oldest_first(
    select(jobs).where(
        jobs.c.guild_id == bindparam("guild_id"),
        jobs.c.user_id == bindparam("user_id"),
        jobs.c.state.in_(_STATES_PARAMETER),
    )
)
_UNFINISHED: Final = _oldest_first(
    select(jobs).where(or_(~_in_states(list(TERMINAL_STATES)), jobs.c.reply_final.is_(false())))
)
_COUNT_IN_STATES: Final = select(func.count()).select_from(jobs).where(jobs.c.state.in_(_STATES_PARAMETER))
_QUEUED_KEYS: Final = keys_of(_QUEUED)
_QUEUED_LIMITED_KEYS: Final = keys_of(_QUEUED_LIMITED)
_WAITING_UNCLAIMED: Final = _oldest_first(select(jobs).where(_is_queued(), jobs.c.admitted_at.is_(None)))
_WAITING_KEYS: Final = _WAITING_UNCLAIMED.with_only_columns(
    jobs.c.id, jobs.c.version, jobs.c.lease_owner, jobs.c.lease_expires_at
)
_PLACES_BY_MEMBER: Final = (
    select(jobs.c.guild_id, jobs.c.user_id, func.count())
    .where(_holds_a_place())
    .group_by(jobs.c.guild_id, jobs.c.user_id)
)
_CLAIM: Final = (
    update(jobs)
    .where(
        jobs.c.id.in_(bindparam("job_ids", expanding=True)),
        # Still as the claim read it: waiting, unclaimed, and this claimer's or with its lease run out.
        _is_queued(),
        jobs.c.admitted_at.is_(None),
        or_(jobs.c.lease_owner == bindparam("claim_owner"), jobs.c.lease_expires_at <= bindparam("claim_at")),
    )
    .values(
        admitted_at=bindparam("claim_at"),
        lease_owner=bindparam("claim_owner"),
        lease_expires_at=bindparam("claim_expires_at"),
    )
)
_CLAIMED_BY: Final = _oldest_first(
    select(jobs).where(
        _is_queued(), jobs.c.admitted_at.is_not(None), jobs.c.lease_owner == bindparam("owner")
    )
)
_CLAIMED_KEYS: Final = keys_of(_CLAIMED_BY)
_TURNS: Final = select(member_turns).where(
    member_turns.c.guild_id.in_(bindparam("guild_ids", expanding=True)),
    member_turns.c.user_id.in_(bindparam("user_ids", expanding=True)),
)
_SERVER_SETTINGS: Final = select(server_settings).where(
    server_settings.c.guild_id.in_(bindparam("guild_ids", expanding=True))
)
_BLOCKED_UNTIL: Final = select(member_blocks.c.blocked_until).where(
    member_blocks.c.guild_id == bindparam("guild_id"), member_blocks.c.user_id == bindparam("user_id")
)
_MEMBER_STANDING: Final = select(
    select(server_settings.c.settings)
    .where(server_settings.c.guild_id == bindparam("guild_id"))
    .scalar_subquery(),
    _BLOCKED_UNTIL.scalar_subquery(),
)
_FRONT_REQUESTS: Final = (
    select(front_requests.c.job_id, front_requests.c.requested_at)
    .join(jobs, jobs.c.id == front_requests.c.job_id)
    .where(jobs.c.state == JobState.QUEUED.value)
)
_APPROVED: Final = select(approved_jobs.c.job_id).where(
    approved_jobs.c.job_id.in_(bindparam("job_ids", expanding=True))
)


def _upsert_meta(connection: AsyncConnection, key: str, value: str) -> Executable:
    return _upsert(connection, meta, {"key": key}, {"value": value})


def _upsert(
    connection: AsyncConnection, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> Executable:
    """Insert ``key`` and ``values`` into ``table``, or update ``values`` where a row has that key."""
    build = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = build(table).values({**key, **values})
    return statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in key],
        set_={name: statement.excluded[name] for name in values},
    )


def _entry_to_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "guild_id": entry.guild_id,
        "moderator_id": entry.moderator_id,
        "action": entry.action.value,
        "at": entry.at,
        "target_kind": entry.target_kind.value,
        "target": entry.target,
        "detail": entry.detail,
        "reason": entry.reason,
    }


def _row_to_entry(row: RowMapping) -> AuditEntry:
    return AuditEntry(
        guild_id=row["guild_id"],
        moderator_id=row["moderator_id"],
        action=ModAction(row["action"]),
        at=row["at"],
        target_kind=TargetKind(row["target_kind"]),
        target=row["target"],
        detail=row["detail"],
        reason=row["reason"],
    )


def _settings_from(stored: str) -> ServerSettings:
    return ServerSettings.from_dict(json.loads(stored))
