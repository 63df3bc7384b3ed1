"""Fetch a result video only when it plausibly is one, from a place it may come from.

RunComfy's answer names the video's URL; nothing in that answer is trusted. A download is allowed only to
``https`` (plain ``http`` only to the host of ``RUNCOMFY_API_BASE``), never to a loopback, private,
link-local, unspecified or multicast address unless ``RUNCOMFY_API_BASE`` is itself on one (local
doubles), with at most :data:`MAX_REDIRECTS` redirects, each checked again, and its body is taken only when
it is an MP4 (``Content-Type: video/*`` and an ``ftyp`` box at offset 4) within the caller's size cap.

:func:`download_video` (or :meth:`VideoDownloader.download`, which keeps its connections for the next
download) returns one of :class:`VideoBytes`, :class:`ShowLinkInstead` (the URL may be
shown; the bytes were not usable) or :class:`DownloadRefused` (fail the job; never show or post it).
Every address a host name resolves to is checked, by the resolver of the very connection that is made.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT_S = 60.0
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CHUNK_BYTES = 64 * 1024
_MP4_BOX = b"ftyp"

Resolve = Callable[[str, int], Awaitable[Sequence[str]]]
"""``(host, port) -> IP addresses``; injectable so tests need no real DNS."""


class DownloadProblem(StrEnum):
    """Why the bytes were not taken; stable names for catalog keys and logs."""

    UNSAFE_URL = "unsafe_url"
    PRIVATE_ADDRESS = "private_address"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    NOT_A_VIDEO = "not_a_video"
    TOO_LARGE = "too_large"
    HTTP_ERROR = "http_error"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class VideoBytes:
    """The video, whole: an MP4 no larger than the cap."""

    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class ShowLinkInstead:
    """The place is allowed but its bytes could not be taken (too large, unreachable, an HTTP error)."""

    problem: DownloadProblem
    detail: str


@dataclass(frozen=True, slots=True)
class DownloadRefused:
    """The URL or what it served is not acceptable: fail the job with a plain reason, show nothing of it."""

    problem: DownloadProblem
    detail: str


VideoDownload = VideoBytes | ShowLinkInstead | DownloadRefused


@dataclass(frozen=True, slots=True)
class DownloadPolicy:
    """Where a video may come from, derived from ``RUNCOMFY_API_BASE``."""

    api_host: str
    allow_private: bool

    @classmethod
    def for_api_base(cls, api_base: str) -> DownloadPolicy:
        """The policy for a client whose base URL is ``api_base``."""
        host = (URL(api_base).host or "").lower()
        literal = _ip_or_none(host)
        private = host == "localhost" or (literal is not None and not is_public_address(literal))
        return cls(api_host=host, allow_private=private)

    def check_url(self, url: URL) -> DownloadRefused | None:
        """Refusal for a URL whose scheme, host or IP literal is not allowed (no I/O)."""
        scheme = url.scheme.lower()
        host = (url.host or "").lower()
        if not host or url.user is not None or url.password is not None:
            return DownloadRefused(DownloadProblem.UNSAFE_URL, "the video URL has no usable host")
        if scheme != "https" and not (scheme == "http" and host == self.api_host):
            return DownloadRefused(
                DownloadProblem.UNSAFE_URL,
                "the video URL is neither https nor plain http to RUNCOMFY_API_BASE's host",
            )
        literal = _ip_or_none(host)
        if literal is not None:
            return self.check_address(literal)
        return None

    def check_address(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> DownloadRefused | None:
        """Refusal for an address the video may not be fetched from."""
        if self.allow_private or is_public_address(address):
            return None
        return DownloadRefused(
            DownloadProblem.PRIVATE_ADDRESS,
            "the video URL leads to a loopback, private, link-local or otherwise non-public address",
        )


def is_public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether ``address`` is a global unicast address (an IPv4-mapped IPv6 address counts as its IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def media_type_of(content_type: str | None) -> str:
    """``video/mp4`` from ``Video/MP4; charset=x``; empty when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_video_type(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` header names a ``video/*`` type."""
    media_type = media_type_of(content_type)
    return media_type.startswith("video/") and len(media_type) > len("video/")


def has_mp4_signature(head: bytes) -> bool:
    """Whether the bytes start with an MP4 box whose type, at offset 4, is ``ftyp``."""
    return head[4:8] == _MP4_BOX


def looks_like_mp4(content_type: str | None, head: bytes) -> bool:
    """Whether a body is an MP4: a ``video/*`` type and the ``ftyp`` box at offset 4."""
    return is_video_type(content_type) and has_mp4_signature(head)


async def download_video(
    url: str,
    *,
    api_base: str,
    max_bytes: int,
    resolve: Resolve | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_redirects: int = MAX_REDIRECTS,
) -> VideoDownload:
    """Fetch the video at ``url`` under :class:`DownloadPolicy` ``for_api_base(api_base)``, through a
    :class:`VideoDownloader` of its own.

    ``max_bytes`` is the largest body taken (e.g. Discord's upload limit). Never raises for anything the
    remote side does; the outcome says what happened.
    """
    downloader = VideoDownloader(
        api_base=api_base, resolve=resolve, timeout_s=timeout_s, max_redirects=max_redirects
    )
    try:
        return await downloader.download(url, max_bytes=max_bytes)
    finally:
        await downloader.close()


class VideoDownloader:
    """Downloads under one :class:`DownloadPolicy` through one session, whose connections are kept for the
    next download from the same host: the addresses of each were checked as it was made."""

    def __init__(
        self,
        *,
        api_base: str,
        resolve: Resolve | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_redirects: int = MAX_REDIRECTS,
    ) -> None:
        self._policy = DownloadPolicy.for_api_base(api_base)
        self._resolver = _CheckingResolver(self._policy, resolve or _system_resolve)
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._max_redirects = max_redirects
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def download(self, url: str, *, max_bytes: int) -> VideoDownload:
        """The outcome of fetching the video at ``url``; never raises for anything the remote side does."""
        try:
            target = URL(url)
        except (ValueError, TypeError):
            return DownloadRefused(DownloadProblem.UNSAFE_URL, "the video URL cannot be parsed")
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=self._resolver, use_dns_cache=False)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        for _ in range(self._max_redirects + 1):
            refused = self._policy.check_url(target)
            if refused is not None:
                return refused
            try:
                outcome = await _fetch_once(self._session, target, max_bytes)
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, _AddressRefusedError):
                    return exc.os_error.refusal
                return ShowLinkInstead(
                    DownloadProblem.UNREACHABLE, f"could not connect ({type(exc).__name__})"
                )
            except (aiohttp.ClientError, TimeoutError) as exc:
                return ShowLinkInstead(
                    DownloadProblem.UNREACHABLE, f"the download failed ({type(exc).__name__})"
                )
            if not isinstance(outcome, URL):
                return outcome
            target = outcome
        return DownloadRefused(
            DownloadProblem.TOO_MANY_REDIRECTS,
            f"the video URL redirects more than {self._max_redirects} times",
        )


async def _fetch_once(session: aiohttp.ClientSession, target: URL, max_bytes: int) -> VideoDownload | URL:
    """The outcome of one GET, or the URL it redirects to."""
    async with session.get(target, allow_redirects=False) as response:
        if response.status in _REDIRECT_STATUSES:
            location = response.headers.get("Location")
            if not location:
                return DownloadRefused(DownloadProblem.UNSAFE_URL, "a redirect without a Location")
            try:
                return target.join(URL(location))
            except (ValueError, TypeError):
                return DownloadRefused(DownloadProblem.UNSAFE_URL, "a redirect to an unparsable URL")
        if response.status != 200:
            return ShowLinkInstead(
                DownloadProblem.HTTP_ERROR, f"the video URL answered HTTP {response.status}"
            )
        content_type = response.headers.get("Content-Type")
        if not is_video_type(content_type):
            return DownloadRefused(DownloadProblem.NOT_A_VIDEO, "the video URL does not serve a video/* type")
        if response.content_length is not None and response.content_length > max_bytes:
            return ShowLinkInstead(DownloadProblem.TOO_LARGE, f"the video is larger than {max_bytes} bytes")
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK_BYTES):
            body += chunk
            if len(body) > max_bytes:
                return ShowLinkInstead(
                    DownloadProblem.TOO_LARGE, f"the video is larger than {max_bytes} bytes"
                )
        if not looks_like_mp4(content_type, bytes(body[:8])):
            return DownloadRefused(
                DownloadProblem.NOT_A_VIDEO, "the video URL serves something that is not an MP4"
            )
        return VideoBytes(bytes(body), media_type_of(content_type))


class _AddressRefusedError(OSError):
    """The host resolves to an address the policy refuses; ``refusal`` says which problem it is."""

    def __init__(self, refusal: DownloadRefused) -> None:
        super().__init__("the host resolves to an address that is not allowed")
        self.refusal = refusal


class _CheckingResolver(AbstractResolver):
    """Resolves with ``resolve`` and refuses the host unless every address it has is allowed."""

    def __init__(self, policy: DownloadPolicy, resolve: Resolve) -> None:
        self._policy = policy
        self._resolve = resolve

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            addresses = [ipaddress.ip_address(a) for a in await self._resolve(host, port)]
        except ValueError:
            raise OSError("the resolver answered something that is not an address") from None
        if not addresses:
            raise OSError("the host has no address")
        for address in addresses:
            refusal = self._policy.check_address(address)
            if refusal is not None:
                raise _AddressRefusedError(refusal)
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None


async def _system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _ip_or_none(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
