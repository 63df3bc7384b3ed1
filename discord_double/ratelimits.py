"""Discord-style rate limit buckets: fixed windows per route and major parameter, with Discord's headers."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

Scope = Literal["user", "shared", "global"]


@dataclass(frozen=True)
class RateLimitRule:
    """``limit`` requests per ``per_s`` seconds for each value of the route's major parameter.

    ``scope`` is what a 429 of this rule says in ``X-RateLimit-Scope``: ``user`` (the bot's own bucket)
    or ``shared`` (a limit on the resource that every caller shares)."""

    limit: int
    per_s: float
    scope: Literal["user", "shared"] = "user"


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass(frozen=True)
class Verdict:
    """What the limiter says about one request: allowed or not, and the headers to send either way."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    scope: Scope = "user"

    @property
    def is_global(self) -> bool:
        return self.scope == "global"

    def body(self) -> dict[str, Any]:
        return {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.is_global,
        }


# Buckets close to what Discord's headers show for these routes; Discord does not publish its numbers
# and may change them, so tests that depend on one set it with ``set_rule``.
DEFAULT_RULES: dict[str, RateLimitRule] = {
    "POST /channels/{channel_id}/messages": RateLimitRule(5, 5.0),
    "PATCH /channels/{channel_id}/messages/{message_id}": RateLimitRule(5, 5.0),
    "DELETE /channels/{channel_id}/messages/{message_id}": RateLimitRule(5, 1.0),
    "POST /webhooks/{application_id}/{token}": RateLimitRule(5, 2.0),
    "PATCH /webhooks/{application_id}/{token}/messages/{message_id}": RateLimitRule(5, 2.0),
}


@dataclass
class RateLimiter:
    """Counts requests per (route, major parameter) in fixed windows and decides 200 or 429."""

    rules: dict[str, RateLimitRule] = field(default_factory=lambda: dict(DEFAULT_RULES))
    global_rule: RateLimitRule | None = None
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)
    _global_window: _Window | None = None

    def set_global(self, rule: RateLimitRule | None) -> None:
        """Limit every bot-token request together (``None``: no global limit)."""
        self.global_rule = rule
        self._global_window = None

    def check_global(self, *, now: float | None = None) -> Verdict | None:
        """Count one bot-token request against the global limit; ``None`` when there is none."""
        rule = self.global_rule
        if rule is None:
            return None
        now = time.monotonic() if now is None else now
        window = self._global_window
        if window is None or now - window.started >= rule.per_s:
            window = self._global_window = _Window(started=now)
        if window.count < rule.limit:
            window.count += 1
            return Verdict(True, {})
        retry_after = max(rule.per_s - (now - window.started), 0.0)
        headers = {
            "X-RateLimit-Global": "true",
            "X-RateLimit-Scope": "global",
            "Retry-After": str(math.ceil(retry_after)),
        }
        return Verdict(False, headers, round(retry_after, 3), scope="global")

    def set_rule(self, route_key: str, rule: RateLimitRule | None) -> None:
        """Configure (or with ``None`` remove) the limit of ``"METHOD /route/{template}"``."""
        if rule is None:
            self.rules.pop(route_key, None)
        else:
            self.rules[route_key] = rule
        self._windows = {k: w for k, w in self._windows.items() if k[0] != route_key}

    def check(self, route_key: str, major: str, *, now: float | None = None) -> Verdict | None:
        """Count one request; ``None`` when the route has no limit configured."""
        rule = self.rules.get(route_key)
        if rule is None:
            return None
        now = time.monotonic() if now is None else now
        window = self._windows.get((route_key, major))
        if window is None or now - window.started >= rule.per_s:
            window = self._windows[(route_key, major)] = _Window(started=now)
        reset_after = max(rule.per_s - (now - window.started), 0.0)
        headers = {
            "X-RateLimit-Limit": str(rule.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(route_key.encode(), usedforsecurity=False).hexdigest()[:32],
        }
        if window.count >= rule.limit:
            headers["X-RateLimit-Remaining"] = "0"
            headers["X-RateLimit-Scope"] = rule.scope
            headers["Retry-After"] = str(math.ceil(reset_after))
            return Verdict(False, headers, round(reset_after, 3), scope=rule.scope)
        window.count += 1
        headers["X-RateLimit-Remaining"] = str(rule.limit - window.count)
        return Verdict(True, headers)
