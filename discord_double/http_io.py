"""Reading Discord-style request bodies and writing Discord-style JSON answers (aiohttp)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict

from discord_double.state import UploadedFile

JSON_HEADERS = {"Content-Type": "application/json", "Via": "1.1 google"}


@dataclass
class Reply:
    """An answer before it becomes an aiohttp response; ``body`` None means 204 without a body, a ``str``
    body is sent as plain text (as Cloudflare's pages are), and ``via`` False drops the ``Via`` header."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    via: bool = True

    def to_response(self) -> web.Response:
        headers = CIMultiDict(JSON_HEADERS)
        if not self.via:
            del headers["Via"]
        headers.update(self.headers)
        if self.body is None and self.status == 204:
            del headers["Content-Type"]
            return web.Response(status=204, headers=headers)
        if isinstance(self.body, str):
            headers["Content-Type"] = "text/plain; charset=utf-8"
            return web.Response(status=self.status, body=self.body.encode(), headers=headers)
        return web.Response(status=self.status, body=json.dumps(self.body).encode(), headers=headers)


@dataclass(frozen=True)
class Body:
    """A request's JSON (from the body or ``payload_json``) and its uploaded files."""

    json: Any
    files: tuple[UploadedFile, ...]
    malformed: bool = False


async def read_body(request: web.Request) -> Body:
    if request.content_type.startswith("multipart/"):
        return await _read_multipart(request)
    raw = await request.read()
    if not raw:
        return Body(None, ())
    try:
        return Body(json.loads(raw), ())
    except ValueError:
        return Body(None, (), malformed=True)


async def _read_multipart(request: web.Request) -> Body:
    reader = await request.multipart()
    payload: Any = None
    files: list[UploadedFile] = []
    malformed = False
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        data = bytes(await part.read(decode=True))
        if part.name == "payload_json":
            try:
                payload = json.loads(data)
            except ValueError:
                malformed = True
        elif part.name is not None and part.name.startswith("file"):
            files.append(
                UploadedFile(
                    part.name,
                    part.filename or part.name,
                    part.headers.get("Content-Type", "application/octet-stream"),
                    data,
                )
            )
    return Body(payload, tuple(files), malformed)
