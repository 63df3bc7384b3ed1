"""One line, for the operator, for whatever stops the bot at start. Pure: no I/O, no discord.py."""

from __future__ import annotations

import socket
from collections.abc import Iterable

import aiohttp

from bot.redaction import redact


def describe_unreachable(what: str, exc: BaseException) -> str:
    """``cannot reach <what> (<host:port>): <why>`` for a connection that failed before any answer."""
    where = ""
    if isinstance(exc, aiohttp.ClientConnectorError):
        where = f" ({exc.host}:{exc.port})"
    return f"cannot reach {what}{where}: {_why_unreachable(exc)}"


def describe_database_os_error(exc: OSError) -> str:
    """A database file or folder that cannot be created or opened."""
    reason = exc.strerror or type(exc).__name__
    if exc.filename:
        return f"cannot create or open {exc.filename} for DATABASE_URL: {reason}"
    return f"cannot create or open the database in DATABASE_URL: {reason}"


def describe_unexpected(exc: BaseException, secrets: Iterable[str]) -> str:
    """Anything else: its type and the first line of its message, with secrets masked."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return "could not start: " + redact(detail[:300], secrets)


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the other side could not be reached (no answer at all)."""
    return isinstance(exc, aiohttp.ClientConnectionError | TimeoutError | socket.gaierror | ConnectionError)


def _why_unreachable(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return "the host name does not resolve (DNS failure)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, TimeoutError):
            return "timed out connecting"
        return f"could not connect ({cause.strerror or type(cause).__name__})"
    if isinstance(exc, TimeoutError):
        return "no answer in time (timed out)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"the connection failed ({type(exc).__name__})"
