"""Every REST answer the double gives, as sent, for whoever is collecting (the test session's spec check)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RecordedAnswer:
    """One answer: the request's method and route template (``"<unknown>"`` for a path the double does not
    know), the status, and the body bytes exactly as sent with their content type."""

    method: str
    route: str
    status: int
    content_type: str | None
    body: bytes

    @property
    def is_json(self) -> bool:
        return self.content_type is not None and self.content_type.startswith("application/json")

    def json(self) -> Any:
        """The body parsed as JSON (``None`` for an empty body)."""
        return json.loads(self.body) if self.body else None

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"


@dataclass(eq=False)
class AnswerLog:
    """The answers recorded while this log was collecting, oldest first (logs are equal only to themselves,
    so stopping one never stops another that holds the same answers)."""

    answers: list[RecordedAnswer] = field(default_factory=list)


_collecting: list[AnswerLog] = []


def start_collecting() -> AnswerLog:
    """Begin a log that receives every answer of every double in this process until it is stopped."""
    log = AnswerLog()
    _collecting.append(log)
    return log


def stop_collecting(log: AnswerLog) -> None:
    _collecting[:] = [other for other in _collecting if other is not log]


@contextmanager
def collecting() -> Iterator[AnswerLog]:
    log = start_collecting()
    try:
        yield log
    finally:
        stop_collecting(log)


def record(answer: RecordedAnswer) -> None:
    """Hand ``answer`` to every log collecting now (nothing is kept when none is)."""
    for log in _collecting:
        log.answers.append(answer)
