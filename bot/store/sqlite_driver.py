"""SQLAlchemy's aiosqlite adapter with one trip to aiosqlite's thread per statement.

The stock adapter makes a trip each to open a cursor, run the statement, fetch its rows and close the
cursor, and one more for every COMMIT or ROLLBACK even when no transaction is open; each trip wakes the
thread and then the event loop. Here the statement runs, its rows are read and its cursor is closed in one
trip, and COMMIT and ROLLBACK are sent only inside a transaction (outside one sqlite3 does nothing for
them either).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.util import await_only

_Outcome = tuple[Any, list[Any], int, int | None]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """In aiosqlite's thread: the statement's description, all its rows, rowcount and lastrowid."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor:
    """A DBAPI cursor whose statement has run and been read in full by the time ``execute`` returns."""

    server_side = False

    def __init__(self, adapt_connection: OneTripConnection) -> None:
        self._adapt_connection = adapt_connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1

    def execute(self, operation: str, parameters: Any = None) -> None:
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: str, seq_of_parameters: Sequence[Any]) -> None:
        self._trip(operation, seq_of_parameters, many=True)

    def _trip(self, operation: str, parameters: Any, *, many: bool) -> None:
        connection = self._adapt_connection.driver_connection
        try:
            outcome: _Outcome = await_only(connection._execute(_run, connection, operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self.description, rows, self.rowcount, self.lastrowid = outcome
        self._rows = deque(rows)

    def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        count = min(size or self.arraysize, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    def fetchall(self) -> list[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._rows.popleft()

    def setinputsizes(self, *inputsizes: Any) -> None:
        pass

    def close(self) -> None:
        self._rows.clear()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async layer closes a cursor here before its rows are read: they already are."""


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def cursor(self, server_side: bool = False) -> Any:
        return super().cursor(server_side=True) if server_side else OneTripCursor(self)

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def _in_transaction(self) -> bool:
        connection: aiosqlite.Connection = self.driver_connection
        return connection._connection is not None and connection.in_transaction


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to give ``create_async_engine(module=...)`` for a sqlite+aiosqlite URL."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        stock = super().connect(*arg, **kw)
        return OneTripConnection(self, stock.driver_connection)
