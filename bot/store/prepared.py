"""The store's hottest statements, run on a pooled DBAPI connection without SQLAlchemy's execution layer.

A job's write, its read by id and a member's standing run for every command and every change of a job.
Through a :class:`~sqlalchemy.engine.Connection` each of them also built a connection, a transaction, an
execution context and a result, and converted every parameter by looking up its type's converter again:
about twice the CPU the statement itself took. Here a statement is compiled once for the engine's dialect
(and for each set of parameter names it is given), its parameters' and columns' converters are looked
up once, and a call checks a connection out of the same pool, runs the statement, and gives it back.

What stays as it was: the SQL (SQLAlchemy compiles it, as for any statement), the pool and its checks, the
transaction (a write commits, the pool rolls back whatever a read left open), the engine's statement log
(the SQL, never its parameters), and the errors, which are SQLAlchemy's own
(:class:`~sqlalchemy.exc.IntegrityError`, :class:`~sqlalchemy.exc.StatementError`, ...) with their
parameters hidden. A connection the database dropped, or one a cancelled call left mid-statement, is
invalidated, and a schema changed by another process refreshes asyncpg's statement cache, as SQLAlchemy
does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from sqlalchemy import ClauseElement
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import is_exit_exception

_Converter = Callable[[Any], Any] | None
_REQUIRED: Final = object()
FORMS_MAX: Final = 16
"""Parameter-name sets compiled at most per statement; each comes from one call site, so a few."""


class _Form:
    """One compiled form of a statement: its SQL, and how to turn values into parameters and rows back."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, names: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(names))
        if not isinstance(compiled, SQLCompiler):
            raise TypeError(f"not a SQL statement: {statement!r}")
        if compiled.escaped_bind_names or any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a prepared statement takes plain bound parameters (no IN lists, no odd names)")
        if compiled.positiontup is None:  # both drivers the store runs on take positional parameters
            raise ValueError(f"a prepared statement needs positional parameters, not {dialect.paramstyle}")
        self.sql = compiled.string
        self.binds: list[tuple[str, Any, _Converter]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            default = _REQUIRED if bind.required or bind.callable is not None else bind.value
            self.binds.append((name, default, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        self.keys: list[str] = []
        self.converters: list[_Converter] = []
        for column in getattr(statement, "selected_columns", ()):
            self.keys.append(column.key)
            self.converters.append(column.type.dialect_impl(dialect).result_processor(dialect, None))

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        converted: list[Any] = []
        for name, default, convert in self.binds:
            value = values.get(name, default)
            if value is _REQUIRED:
                raise KeyError(f"no value for the statement's parameter {name!r}")
            converted.append(value if convert is None else convert(value))
        return converted

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if convert is None else convert(value)
            for convert, value in zip(self.converters, raw, strict=True)
        )


class PreparedStatement:
    """``statement`` (a SQLAlchemy Core statement without IN lists), run straight on the DBAPI.

    Its methods are synchronous, as in SQLAlchemy's synchronous layer: an asyncio engine runs them
    through ``greenlet_spawn`` on its ``sync_engine``.
    """

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        self._statement = statement
        self._dialect = dialect
        self._forms: dict[tuple[str, ...], _Form] = {}

    def write(self, engine: Engine, values: Mapping[str, Any]) -> int:
        """Runs the statement in its own transaction; the rows it changed."""
        form = self._form(values)
        return int(self._run(engine, form, self._parameters(form, values), commit=True)[1])

    def rows(self, engine: Engine, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows the statement reads, in its selected columns' order, converted as SQLAlchemy does."""
        return self._rows(engine, self._form(values), values)

    def mappings(self, engine: Engine, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """:meth:`rows`, each by its columns' keys."""
        form = self._form(values)
        return [dict(zip(form.keys, row, strict=True)) for row in self._rows(engine, form, values)]

    def _rows(self, engine: Engine, form: _Form, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        raw, _ = self._run(engine, form, self._parameters(form, values), commit=False)
        return [form.row(row) for row in raw]

    def _form(self, values: Mapping[str, Any]) -> _Form:
        names = tuple(values)
        form = self._forms.get(names)
        if form is None:
            if len(self._forms) >= FORMS_MAX:
                self._forms.clear()
            form = self._forms[names] = _Form(self._statement, self._dialect, names)
        return form

    def _parameters(self, form: _Form, values: Mapping[str, Any]) -> list[Any]:
        """The values as the driver takes them; a value missing, or one a column's type refuses, raises
        SQLAlchemy's :class:`~sqlalchemy.exc.StatementError`, as from its execution layer."""
        try:
            return form.parameters(values)
        except Exception as error:
            raise self._wrapped(error, form, None) from error

    def _run(
        self, engine: Engine, form: _Form, parameters: list[Any], *, commit: bool
    ) -> tuple[Sequence[Any], int]:
        dbapi_error: type[Exception] = self._dialect.loaded_dbapi.Error
        connection: PoolProxiedConnection | None = None
        if engine.logger.isEnabledFor(logging.INFO):
            engine.logger.info("%s", form.sql)
            engine.logger.info("[prepared] [SQL parameters hidden]")
        try:
            connection = engine.raw_connection()
            cursor = connection.cursor()
            try:
                _before_execute(self._dialect, cursor)
                cursor.execute(form.sql, parameters)
                found = cursor.fetchall() if cursor.description else []
                changed = cursor.rowcount
            finally:
                cursor.close()
            if commit:
                connection.commit()
            return found, changed
        except dbapi_error as error:
            _after_error(self._dialect, error)
            raise self._wrapped(error, form, connection) from error
        except BaseException as error:
            # Cancelled or stopped mid-statement, the driver's state is unknown (asyncpg may have begun a
            # transaction SQLAlchemy's adapter never saw): the connection is dropped, as SQLAlchemy does.
            if connection is not None and is_exit_exception(error):
                connection.invalidate(error)
            raise
        finally:
            if connection is not None:
                connection.close()

    def _wrapped(self, error: Exception, form: _Form, connection: PoolProxiedConnection | None) -> Exception:
        dbapi_connection = connection.dbapi_connection if connection is not None else None
        dbapi_error: type[Exception] = self._dialect.loaded_dbapi.Error
        dropped = isinstance(error, dbapi_error) and bool(
            self._dialect.is_disconnect(error, dbapi_connection, None)  # type: ignore[arg-type]
        )
        if dropped and connection is not None:
            connection.invalidate(error)
        wrapped: Exception = DBAPIError.instance(
            form.sql,
            None,
            error,
            dbapi_error,
            hide_parameters=True,
            connection_invalidated=dropped,
            dialect=self._dialect,
        )
        return wrapped


# What SQLAlchemy's asyncpg execution context does around a statement, so that asyncpg's cache of prepared
# statements is dropped once another process changed the schema (SQLAlchemy is held to its minor release).
def _before_execute(dialect: Dialect, cursor: Any) -> None:
    schema_as_of = getattr(dialect, "_invalidate_schema_cache_asof", None)
    if schema_as_of is not None:
        cursor._invalidate_schema_cache_asof = schema_as_of


def _after_error(dialect: Dialect, error: Exception) -> None:
    dbapi = dialect.loaded_dbapi
    stale_schema = tuple(
        getattr(dbapi, name)
        for name in ("InvalidCachedStatementError", "InternalServerError")
        if hasattr(dbapi, name)
    )
    if stale_schema and isinstance(error, stale_schema):
        dialect._invalidate_schema_cache()  # type: ignore[attr-defined]
