"""A long queue in one channel: each card is edited a bounded number of times, however long the queue."""

from __future__ import annotations

import asyncio

import pytest

from bot.edit_budget import shown_place
from tests.conftest import EndToEnd
from tests.e2e.helpers import animate, assert_clean, has_video

QUEUE = 30
STATE_EDITS = 6
"""The first card, submitting, waiting at RunComfy, generating, the end, and one running refresh."""
EDITS_PER_QUEUE_CHANGE = 2


@pytest.mark.bot_env(ANIMATE_MAX_ACTIVE="1")
@pytest.mark.runcomfy_config(queue_s=0.0, run_s=0.5)
async def test_each_card_in_a_long_queue_is_edited_a_bounded_number_of_times(e2e: EndToEnd) -> None:
    handles = await asyncio.gather(*(animate(e2e, f"the cat number {n} yawns") for n in range(QUEUE)))

    finals = [await handle.wait_original(has_video, timeout=120) for handle in handles]

    # One edit per place text a card can pass through, not one per job that leaves the queue before it.
    places_shown = len({shown_place(position) for position in range(1, QUEUE + 1)})
    bound = places_shown + STATE_EDITS
    assert places_shown < QUEUE // 2
    edits = [final.edit_count for final in finals]
    assert max(edits) <= bound, edits
    # Beyond each job's own state edits, a small constant per queue change (each job enters and leaves once).
    queue_changes = 2 * QUEUE
    assert sum(edits) <= QUEUE * STATE_EDITS + EDITS_PER_QUEUE_CHANGE * queue_changes, edits
    assert_clean(e2e)
