"""A faithful local double of RunComfy's Model API (Seedance 1.0 Lite image-to-video), for tests and demos.

    async with FakeRunComfy(token="t", config=FakeConfig(manual=True)) as fake:
        fake.inject(Fault.http(503, endpoint="status", times=2, retry_after=1))
        ...  # point the client at fake.base_url

Run it alone with ``python -m client.fake --port 8188``.
"""

from client.fake.faults import Endpoint, Fault, FaultKind
from client.fake.jobs import JobFailure, JobStatus, JobView
from client.fake.server import FakeConfig, FakeRunComfy, OutputShape, RecordedRequest
from client.fake.timings import JobTiming, SeededTimings, TimingPlan

__all__ = [
    "Endpoint",
    "FakeConfig",
    "FakeRunComfy",
    "Fault",
    "FaultKind",
    "JobFailure",
    "JobStatus",
    "JobTiming",
    "JobView",
    "OutputShape",
    "RecordedRequest",
    "SeededTimings",
    "TimingPlan",
]
