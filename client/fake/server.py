"""FakeRunComfy: a local double of RunComfy's Model API (aiohttp.web), with fault injection.

Choices where RunComfy's documentation is silent (kept conservative; see also ``images.py``):

* A body that is not JSON is answered 400 with ``error_code`` 422001 and a ``json_invalid`` detail.
* ``?include_cost=true`` adds ``cost`` only to finished jobs' results (0 unless completed).
* The video URL needs no token (like a CDN URL) and answers 404 until the job has completed.
* A path or method the API does not have is answered 404 ``{"detail": "Not Found"}`` (the web framework's
  own answer, with no ``error_code``, so it cannot be mistaken for an expired request, 404001). No token is
  asked for and no fault is used up; the request is kept in :attr:`FakeRunComfy.unknown_requests`.
* A fault's latency is spent before the request is processed; a client that gives up meanwhile may still
  find that its job was created, as with a slow real server.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Literal, Self, get_args

import aiohttp
from aiohttp import web

from client.fake.faults import Endpoint, Fault, FaultBook, FaultKind, FaultPlan, error_body
from client.fake.images import check_image_url
from client.fake.jobs import JobBoard, JobFailure, JobStatus, JobView, _Job
from client.fake.media import padded_video, sample_video
from client.fake.schema import DECIMAL_MEGABYTE, IMAGE_FIELDS, MODEL_PATH, FieldIssue, validate_input
from client.fake.timings import TimingPlan

_Handler = Callable[[web.Request, bytes], Awaitable[web.Response]]
OutputShape = Literal["video", "videos", "both"]


@dataclass(frozen=True, slots=True)
class FakeConfig:
    """How the fake behaves. Timings are in seconds.

    ``manual``: jobs stay put until the test moves them. ``max_running``: at most this many jobs run at
    once, the rest wait in the queue. ``video_size_bytes``: pad the served MP4 to exactly this size.
    ``check_images``: fetch and check the image URLs at submit time. ``other_tokens``: further valid
    tokens (other accounts), so a test can see a request refused to a token that did not make it.
    ``megabyte_bytes``: how many bytes the seed's ``file_size_mb<`` rule counts as a megabyte (the seed does
    not say; 10^6 by default, 2^20 for the other reading). ``output_shape``: which of the seed's output
    fields a completed result carries: ``"video"`` (one URL), ``"videos"`` (a list of one) or ``"both"``.
    """

    queue_s: float = 0.3
    run_s: float = 0.6
    manual: bool = False
    max_running: int | None = None
    video_size_bytes: int | None = None
    check_images: bool = True
    image_fetch_timeout_s: float = 5.0
    job_cost: float = 0.09
    megabyte_bytes: int = DECIMAL_MEGABYTE
    output_shape: OutputShape = "both"
    other_tokens: tuple[str, ...] = field(default=(), repr=False)
    timings: TimingPlan | None = None

    def __post_init__(self) -> None:
        if self.megabyte_bytes < 1:
            raise ValueError("megabyte_bytes must be a positive number of bytes")
        if self.output_shape not in get_args(OutputShape):
            raise ValueError(f"output_shape must be one of {get_args(OutputShape)}")


@dataclass(frozen=True, slots=True)
class ServedFile:
    """What ``GET /files/{name}`` answers: a body, or a redirect when ``location`` is set."""

    body: bytes = b""
    content_type: str = "text/plain"
    location: str | None = None


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake received. ``status`` is ``None`` when the connection was cut instead;
    ``at`` is the event loop's (monotonic) clock when the answer was decided."""

    method: str
    path: str
    query: Mapping[str, str]
    endpoint: Endpoint | None
    json: Any
    headers: Mapping[str, str]
    status: int | None
    fault: FaultKind | None
    at: float


class FakeRunComfy:
    """A local RunComfy Model API for tests and demos; one valid ``token``.

    Use ``async with FakeRunComfy(token) as fake:`` or ``await fake.start()`` / ``await fake.stop()``.
    """

    def __init__(self, token: str, config: FakeConfig | None = None) -> None:
        self._config = config or FakeConfig()
        self._valid_tokens = (token, *self._config.other_tokens)
        self._video = sample_video()
        if self._config.video_size_bytes is not None:
            self._video = padded_video(self._video, self._config.video_size_bytes)
        self._faults = FaultBook()
        self._requests: list[RecordedRequest] = []
        self._changed = asyncio.Event()
        self._board = JobBoard(
            queue_s=self._config.queue_s,
            run_s=self._config.run_s,
            manual=self._config.manual,
            max_running=self._config.max_running,
            on_change=self._signal_change,
            timings=self._config.timings,
        )
        self._files: dict[str, ServedFile] = {}
        self._next_request_ids: list[str] = []
        self._output_url: str | None = None
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._base_url: str | None = None

    def __repr__(self) -> str:
        return f"<FakeRunComfy base_url={self._base_url!r} jobs={len(self._board.views())}>"

    # -- what tests read ---------------------------------------------------------------------------

    @property
    def config(self) -> FakeConfig:
        return self._config

    @property
    def base_url(self) -> str:
        """``http://host:port`` of the running fake (no trailing slash)."""
        if self._base_url is None:
            raise RuntimeError("the fake is not started")
        return self._base_url

    @property
    def jobs(self) -> Mapping[str, JobView]:
        """Every job by request id, in submission order (a snapshot)."""
        return self._board.views()

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received so far, in order."""
        return tuple(self._requests)

    @property
    def unknown_requests(self) -> list[RecordedRequest]:
        """Requests to a path or method the API does not have (a typo in the client, say)."""
        return [r for r in self._requests if r.endpoint is None]

    def requests_to(self, endpoint: Endpoint | str) -> list[RecordedRequest]:
        """The requests received by one endpoint (``"any"`` for all of them)."""
        wanted = Endpoint(endpoint)
        return [r for r in self._requests if wanted is Endpoint.ANY or r.endpoint == wanted]

    @property
    def video(self) -> bytes:
        """The MP4 served for every completed job."""
        return self._video

    # -- what tests do -----------------------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        """Arm faults; they are used up in the order armed."""
        for fault in faults:
            self._faults.arm(fault)

    def set_timing(self, *, queue_s: float, run_s: float) -> None:
        """Change how long new jobs queue and run (``config`` keeps the values the fake started with)."""
        self._board.set_timing(queue_s=queue_s, run_s=run_s)

    def serve_file(
        self,
        name: str,
        body: bytes = b"",
        *,
        content_type: str = "text/plain",
        redirect_to: str | None = None,
    ) -> str:
        """Serve ``body`` (or a 302 to ``redirect_to``) at ``/files/{name}``; returns its URL. Not part of
        RunComfy: a place a hostile or broken output URL can point at."""
        self._files[name] = ServedFile(body, content_type, redirect_to)
        return f"{self.base_url}/files/{name}"

    def answer_request_ids(self, *request_ids: str) -> None:
        """The next submits are accepted under these request ids, in order, whatever they look like (a
        broken or hostile RunComfy answering ``../../admin``)."""
        self._next_request_ids.extend(request_ids)

    def set_output_url(self, url: str | None) -> None:
        """Completed results name ``url`` as their video from now on (None: the fake's own MP4 again)."""
        self._output_url = url

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def pending_faults(self) -> tuple[Fault, ...]:
        return self._faults.pending

    def fail_next_jobs(
        self, count: int = 1, *, message: str = "The generation failed.", code: int | str = 500001
    ) -> None:
        """The next ``count`` jobs submitted fail when their run ends."""
        self._board.fail_next(count, JobFailure(message, code))

    def fail_job(
        self, request_id: str, *, message: str = "The generation failed.", code: int | str = 500001
    ) -> None:
        """This job fails when its run ends."""
        self._board.fail(request_id, JobFailure(message, code))

    def expire(self, request_id: str) -> None:
        """The request expires at RunComfy: from now on its status, result and cancel answer 404 (code
        404001) and its video URL 404. The job stays in :attr:`jobs` with ``expired`` set."""
        self._board.expire(request_id)

    def advance(self, request_id: str) -> JobStatus:
        """Move a job one step (in_queue → in_progress → completed/failed); returns its new status."""
        return self._board.advance(request_id)

    def set_state(
        self,
        request_id: str,
        status: JobStatus | str,
        *,
        message: str = "The generation failed.",
        code: int | str = 500001,
    ) -> JobStatus:
        """Put a job in any state at once (``message``/``code`` describe a failure)."""
        return self._board.set_state(request_id, status, JobFailure(message, code))

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Return once ``predicate()`` holds, re-checked after every request and job change.

        Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    async def wait_for_requests(
        self,
        endpoint: Endpoint | str,
        count: int,
        timeout: float = 10.0,  # noqa: ASYNC109 (the tests' own bound)
    ) -> list[RecordedRequest]:
        """Wait until ``endpoint`` has received at least ``count`` requests; returns them all."""
        await self.wait_for(lambda: len(self.requests_to(endpoint)) >= count, timeout)
        return self.requests_to(endpoint)

    async def wait_for_status(
        self,
        request_id: str,
        status: JobStatus | str,
        timeout: float = 10.0,  # noqa: ASYNC109 (the tests' own bound)
    ) -> JobView:
        """Wait until a job reaches ``status``; returns its view."""
        wanted = JobStatus(status)
        await self.wait_for(lambda: self._status_of(request_id) is wanted, timeout)
        return self.jobs[request_id]

    # -- life cycle --------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False) -> str:
        """Serve on ``host:port`` (0 picks a free port); returns the base URL."""
        if self._runner is not None:
            raise RuntimeError("the fake is already started")
        self._session = aiohttp.ClientSession()
        quiet: dict[str, Any] = {} if access_log else {"access_log": None}
        runner = web.AppRunner(self._build_app(), shutdown_timeout=1.0, **quiet)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        shown_host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104 (only compared)
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        self._base_url = f"http://{shown_host}:{bound_port}"
        return self._base_url

    async def stop(self) -> None:
        """Stop serving; jobs stop moving. Safe to call twice."""
        self._board.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- the HTTP side -----------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        app = web.Application()
        routes = (
            ("POST", "/v1/models/{model:.+}", Endpoint.SUBMIT, self._submit),
            ("GET", "/v1/requests/{request_id}/status", Endpoint.STATUS, self._status),
            ("GET", "/v1/requests/{request_id}/result", Endpoint.RESULT, self._result),
            ("POST", "/v1/requests/{request_id}/cancel", Endpoint.CANCEL, self._cancel),
            ("GET", "/media/{request_id}.mp4", Endpoint.MEDIA, self._media),
            ("GET", "/files/{name}", Endpoint.MEDIA, self._file),
        )
        for method, path, endpoint, handler in routes:
            app.router.add_route(method, path, self._serving(endpoint, handler))
        app.router.add_route("*", "/{tail:.*}", self._serving(None, self._not_found))
        return app

    def _serving(
        self, endpoint: Endpoint | None, handler: _Handler
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            return await self._serve(request, endpoint, handler)

        return serve

    async def _serve(
        self, request: web.Request, endpoint: Endpoint | None, handler: _Handler
    ) -> web.StreamResponse:
        body = await request.read()
        plan = FaultPlan() if endpoint is None else self._faults.take(endpoint)
        for delay in plan.delays:
            await asyncio.sleep(delay)
        fault = plan.answer
        kind = None if fault is None else fault.kind
        response: web.Response | None
        if fault is not None and fault.kind is FaultKind.DROP_BEFORE:
            response = None
        elif fault is not None and fault.kind is FaultKind.HTTP:
            response = _fault_answer(fault)
        elif fault is not None and fault.kind is FaultKind.ERROR_200:
            response = web.json_response(fault.body)
        else:
            response = await handler(request, body)
            if kind is FaultKind.DROP_AFTER:
                response = None
            elif fault is not None and fault.kind is FaultKind.HTTP_AFTER:
                response = _fault_answer(fault)
            elif kind is FaultKind.MALFORMED:
                response = _cut_in_half(response)
        self._record(request, endpoint, body, response, kind)
        if response is None:
            if request.transport is not None:
                request.transport.abort()
            return web.Response()
        return response

    def _record(
        self,
        request: web.Request,
        endpoint: Endpoint | None,
        body: bytes,
        response: web.Response | None,
        fault: FaultKind | None,
    ) -> None:
        try:
            decoded: Any = json.loads(body) if body else None
        except ValueError:
            decoded = None
        headers = {name: value for name, value in request.headers.items() if name.lower() != "authorization"}
        self._requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=MappingProxyType(dict(request.query)),
                endpoint=endpoint,
                json=decoded,
                headers=MappingProxyType(headers),
                status=None if response is None else response.status,
                fault=fault,
                at=asyncio.get_running_loop().time(),
            )
        )
        self._signal_change()

    async def _submit(self, request: web.Request, body: bytes) -> web.Response:
        owner = self._owner(request)
        if owner is None:
            return _error(401)
        model = request.match_info["model"]
        if model != MODEL_PATH:
            return _error(400, 400001, f"Unknown model: {model}.")
        try:
            payload = json.loads(body)
        except ValueError:
            detail = [{"loc": ["body"], "msg": "JSON decode error", "type": "json_invalid"}]
            return _json(
                {**error_body(422, message="The request body is not valid JSON."), "detail": detail}, 400
            )
        job_input, issues = validate_input(payload)
        if not issues and self._config.check_images:
            issues = await self._check_images(job_input)
        if issues:
            return _invalid(issues)
        planned = self._next_request_ids.pop(0) if self._next_request_ids else None
        job = self._board.create(owner, job_input, planned)
        urls = self._urls(job.request_id)
        return _json({"request_id": job.request_id, **urls})

    async def _check_images(self, job_input: Mapping[str, Any]) -> list[FieldIssue]:
        assert self._session is not None
        issues: list[FieldIssue] = []
        for name in IMAGE_FIELDS:
            if name in job_input:
                issues += await check_image_url(
                    self._session,
                    name,
                    job_input[name],
                    self._config.image_fetch_timeout_s,
                    megabyte_bytes=self._config.megabyte_bytes,
                )
        return issues

    async def _status(self, request: web.Request, body: bytes) -> web.Response:
        job = self._owned_job(request)
        if isinstance(job, web.Response):
            return job
        urls = self._urls(job.request_id)
        answer: dict[str, Any] = {
            "request_id": job.request_id,
            "status": job.status.value,
            "status_url": urls["status_url"],
            "result_url": urls["result_url"],
        }
        position = self._board.queue_position(job)
        if position is not None:
            answer["queue_position"] = position
        return _json(answer)

    async def _result(self, request: web.Request, body: bytes) -> web.Response:
        job = self._owned_job(request)
        if isinstance(job, web.Response):
            return job
        answer: dict[str, Any] = {"request_id": job.request_id, "status": job.status.value}
        if job.status is JobStatus.COMPLETED:
            video_url = self._output_url or f"{self.base_url}/media/{job.request_id}.mp4"
            answer["output"] = _output(video_url, self._config.output_shape)
            answer["created_at"] = job.created_at.isoformat()
            answer["finished_at"] = job.finished_at.isoformat() if job.finished_at else None
        elif job.status is JobStatus.FAILED:
            failure = job.failure or JobFailure()
            answer["error"] = {"code": failure.code, "message": failure.message}
        if job.status.is_finished and request.query.get("include_cost", "").lower() in ("true", "1"):
            answer["cost"] = self._config.job_cost if job.status is JobStatus.COMPLETED else 0.0
        return _json(answer)

    async def _cancel(self, request: web.Request, body: bytes) -> web.Response:
        job = self._owned_job(request)
        if isinstance(job, web.Response):
            return job
        outcome = "cancelled" if self._board.cancel(job.request_id) else "not_cancellable"
        return _json({"request_id": job.request_id, "status": job.status.value, "outcome": outcome})

    async def _media(self, request: web.Request, body: bytes) -> web.Response:
        job = self._board.known(request.match_info["request_id"])
        if job is None or job.status is not JobStatus.COMPLETED:
            return _error(404, message="Media not found.")
        return web.Response(body=self._video, content_type="video/mp4")

    async def _file(self, request: web.Request, body: bytes) -> web.Response:
        served = self._files.get(request.match_info["name"])
        if served is None:
            return _error(404, message="Media not found.")
        if served.location is not None:
            return web.Response(status=302, headers={"Location": served.location})
        return web.Response(body=served.body, headers={"Content-Type": served.content_type})

    async def _not_found(self, request: web.Request, body: bytes) -> web.Response:
        return _json({"detail": "Not Found"}, 404)

    # -- helpers -----------------------------------------------------------------------------------

    def _owner(self, request: web.Request) -> str | None:
        """The caller's account (a fingerprint of its token), or ``None`` when the token is not valid."""
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        given = token.strip().encode()
        for valid in self._valid_tokens:
            if hmac.compare_digest(given, valid.encode()):
                return hashlib.sha256(given).hexdigest()
        return None

    def _owned_job(self, request: web.Request) -> _Job | web.Response:
        owner = self._owner(request)
        if owner is None:
            return _error(401)
        job = self._board.known(request.match_info["request_id"])
        if job is None:
            return _error(404)
        if job.owner != owner:
            return _error(403)
        return job

    def _urls(self, request_id: str) -> dict[str, str]:
        base = f"{self.base_url}/v1/requests/{request_id}"
        return {
            "status_url": f"{base}/status",
            "result_url": f"{base}/result",
            "cancel_url": f"{base}/cancel",
        }

    def _status_of(self, request_id: str) -> JobStatus | None:
        job = self._board.get(request_id)
        return None if job is None else job.status

    def _signal_change(self) -> None:
        # An Event swapped on every change, not a Condition: job changes come from sync code (timers,
        # advance/set_state), which cannot take a Condition's lock to notify.
        self._changed.set()
        self._changed = asyncio.Event()


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _error(status: int, error_code: int | None = None, message: str | None = None) -> web.Response:
    return _json(error_body(status, error_code=error_code, message=message), status)


def _invalid(issues: list[FieldIssue]) -> web.Response:
    message = "; ".join(dict.fromkeys(issue.text for issue in issues))
    body = {**error_body(422, message=message), "detail": [issue.as_detail() for issue in issues]}
    return _json(body, 422)


def _output(video_url: str, shape: OutputShape) -> dict[str, Any]:
    output: dict[str, Any] = {}
    if shape in ("video", "both"):
        output["video"] = video_url
    if shape in ("videos", "both"):
        output["videos"] = [video_url]
    return output


def _fault_answer(fault: Fault) -> web.Response:
    headers = {} if fault.retry_after is None else {"Retry-After": _seconds_text(fault.retry_after)}
    return web.json_response(fault.body, status=fault.status, headers=headers)


def _cut_in_half(response: web.Response) -> web.Response:
    body = response.body if isinstance(response.body, bytes) else b""
    return web.Response(
        body=body[: len(body) // 2], status=response.status, content_type=response.content_type
    )


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
