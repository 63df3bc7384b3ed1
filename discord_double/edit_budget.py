"""Discord's cap on edits of messages older than an hour (error 30046), counted per channel."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from discord_double.state import snowflake_time

OLD_MESSAGE_AGE_S = 3600.0


@dataclass
class OldMessageEditBudget:
    """At most ``budget`` edits of old messages per channel in any ``window_s`` seconds.

    Discord does not publish the numbers; the defaults only make the rule exist, tests set their own.
    """

    budget: int
    window_s: float
    _spent: dict[int, deque[float]] = field(default_factory=dict)

    def spend(self, channel_id: int, message_id: int, now: float) -> float | None:
        """Count one edit; ``None`` when allowed, else the seconds until the channel may edit again."""
        if now - snowflake_time(message_id) <= OLD_MESSAGE_AGE_S:
            return None
        spent = self._spent.setdefault(channel_id, deque())
        while spent and now - spent[0] >= self.window_s:
            spent.popleft()
        if len(spent) >= self.budget:
            return max(self.window_s - (now - spent[0]), 0.0)
        spent.append(now)
        return None
