"""Faults a test plants on a route: the next answers of that route, before any handler runs."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from discord_double.http_io import Reply

CLOUDFLARE_BAN_TEXT = "error code: 1015"


def default_fault_body(status: int) -> Any:
    """What Discord's edge sends for ``status``: JSON ``{"message": "500: ...", "code": 0}``, or for a
    429 Cloudflare's plain-text ban page."""
    if status == 429:
        return CLOUDFLARE_BAN_TEXT
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return {"message": f"{status}: {phrase}", "code": 0}


@dataclass
class _Fault:
    reply: Reply
    remaining: int


@dataclass
class FaultPlan:
    """Planted answers per route key (``"PATCH /channels/{channel_id}/messages/{message_id}"``), FIFO."""

    _planted: dict[str, deque[_Fault]] = field(default_factory=dict)

    def plant(
        self,
        route_key: str,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``route_key`` with ``status``.

        A 429 has no ``Via`` header unless ``headers`` gives one (discord.py then takes it for a
        Cloudflare ban and gives up); every other status keeps the ``Via`` header Discord's API sends.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        given = dict(headers or {})
        via = status != 429 or any(k.lower() == "via" for k in given)
        reply = Reply(status, default_fault_body(status) if body is None else body, given, via=via)
        self._planted.setdefault(route_key, deque()).append(_Fault(reply, times))

    def take(self, route_key: str) -> Reply | None:
        """The planted answer for this request, if any (each use counts down its ``times``)."""
        queue = self._planted.get(route_key)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            queue.popleft()
        planted = fault.reply
        return Reply(planted.status, planted.body, dict(planted.headers), via=planted.via)

    def pending(self, route_key: str) -> int:
        """How many planted answers ``route_key`` has left."""
        return sum(f.remaining for f in self._planted.get(route_key, ()))
