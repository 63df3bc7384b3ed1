"""/animate against the more faithful RunComfy double: an error answered after RunComfy took the job, a
request that expires at RunComfy, and refusals whose status is not the one a client would guess."""

from __future__ import annotations

from client.fake import Fault, FaultKind
from tests.conftest import EndToEnd
from tests.e2e.helpers import animate, assert_clean, cancel_button, message_text, showing, wait_notice

FAILED_TITLE = "The video couldn't be made"
NOT_RESENT = "to avoid charging twice it was not resent"
TRY_AGAIN = "Please try again with /animate."


async def test_a_submit_answered_502_after_acceptance_fails_without_resending(e2e: EndToEnd) -> None:
    fake = e2e.runcomfy
    fake.inject(Fault.http(502, endpoint="submit", after=True))
    handle = await animate(e2e)
    final = await handle.wait_original(showing(FAILED_TITLE))

    text = message_text(final)
    assert NOT_RESENT in text
    assert TRY_AGAIN in text
    assert cancel_button(final) is None
    [submit] = fake.requests_to("submit")
    assert (submit.status, submit.fault) == (502, FaultKind.HTTP_AFTER)
    assert len(fake.jobs) == 1  # RunComfy holds the job the bot could not be sure of
    assert "your video failed" in (await wait_notice(e2e)).content
    assert len(fake.requests_to("submit")) == 1
    assert_clean(e2e)
