"""The plain poller's logic, apart from any I/O: what to show for each answer of ``/result``.

The plain poller is the baseline: it polls every job every ``POLL_EVERY_S`` seconds, edits its reply when
what the reply says changes, and uploads the video once the job is done (what RunComfy's own CLI does).
"""

from __future__ import annotations

from dataclasses import dataclass

from client.models import Cancelled, Completed, Failed, InProgress, JobStatus, Queued

POLL_EVERY_S = 2.0
MAX_FAILED_POLLS = 10


@dataclass(frozen=True, slots=True)
class Keep:
    """Nothing changed: poll again later."""


@dataclass(frozen=True, slots=True)
class Show:
    """Edit the reply to ``text`` and poll again later."""

    text: str


@dataclass(frozen=True, slots=True)
class Deliver:
    """Download ``video_url`` and end the reply with it."""

    video_url: str


@dataclass(frozen=True, slots=True)
class End:
    """End the reply with ``text``; the job will not produce a video."""

    text: str


Step = Keep | Show | Deliver | End


def describe(status: JobStatus) -> str:
    if isinstance(status, Queued):
        return (
            "Waiting at RunComfy"
            if status.position is None
            else f"Waiting at RunComfy ({status.position} ahead)"
        )
    if isinstance(status, InProgress):
        return "Generating your video…"
    if isinstance(status, Completed):
        return "Your video is ready."
    if isinstance(status, Cancelled):
        return "Cancelled."
    return f"The generation failed: {status.error or 'no reason given'}."


@dataclass(slots=True)
class PolledJob:
    """One job the poller follows: what its reply shows now, and how many polls in a row failed."""

    shown: str | None = None
    failed_polls: int = 0

    def observe(self, status: JobStatus) -> Step:
        """The step for one answer of ``/result``."""
        self.failed_polls = 0
        if isinstance(status, Completed):
            if status.video_url is None:
                return End("The generation finished without a video.")
            return Deliver(status.video_url)
        if isinstance(status, Cancelled | Failed):
            return End(describe(status))
        text = describe(status)
        if text == self.shown:
            return Keep()
        self.shown = text
        return Show(text)

    def poll_failed(self) -> Step:
        """The step after a poll that got no usable answer: keep trying, give up after a run of them."""
        self.failed_polls += 1
        if self.failed_polls >= MAX_FAILED_POLLS:
            return End("RunComfy stopped answering about this job.")
        return Keep()
