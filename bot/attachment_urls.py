"""Discord's signed attachment URLs: when they expire, and whether one must be refreshed before use.

Discord signs attachment URLs with ``ex`` (expiry, hex Unix seconds), ``is`` and ``hm`` parameters. A job can
wait in the bot's queue longer than a URL lives, and RunComfy fetches the picture only when the job is
submitted, so the scheduler refreshes a URL that is close to its end before sending it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

# RunComfy fetches the picture some time after the submission is accepted; leave it room.
REFRESH_MARGIN = timedelta(hours=1)


def expires_at(url: str) -> datetime | None:
    """The moment a signed Discord URL stops working, or None for a URL without a (readable) expiry."""
    values = parse_qs(urlsplit(url).query).get("ex")
    if not values:
        return None
    try:
        return datetime.fromtimestamp(int(values[0], 16), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def needing_refresh(urls: Iterable[str], now: datetime, margin: timedelta = REFRESH_MARGIN) -> list[str]:
    """The signed URLs among ``urls`` that expire within ``margin`` of ``now`` (or already did)."""
    due = []
    for url in urls:
        expiry = expires_at(url)
        if expiry is not None and expiry - now < margin and url not in due:
            due.append(url)
    return due
