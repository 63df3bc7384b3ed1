"""Keep secrets out of every log line, whatever logger writes it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from bot.log_fields import LINE_FORMAT, JobIdFilter

# Interaction and webhook tokens travel inside URL paths; discord.py logs those paths at DEBUG.
_TOKEN_IN_PATH = re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]{20,}")
_BEARER = re.compile(r"\b(Bearer|Bot)\s+[A-Za-z0-9_.\-]{20,}")
MASK = "***"
# Shorter values would garble ordinary words; real tokens are far longer.
MIN_SECRET_LENGTH = 8


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every token-shaped URL segment masked."""
    for secret in secrets:
        if len(secret) >= MIN_SECRET_LENGTH:
            text = text.replace(secret, MASK)
    text = _TOKEN_IN_PATH.sub(lambda m: m.group(1) + MASK, text)
    return _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with :func:`redact` before any handler formats it."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secrets)
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            cleaned = cleaned + "\n" + redact(formatted, self._secrets)
            record.exc_info = None
            record.exc_text = None
        record.msg = cleaned
        record.args = None
        return True


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    """One stderr handler for the whole process, with secrets masked on the handler itself."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LINE_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    handler.addFilter(JobIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, root.level))
    logging.getLogger("alembic").setLevel(logging.WARNING)
