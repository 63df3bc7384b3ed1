"""The CDN: signed attachment URLs on loopback that serve the stored bytes (uploads and test images alike)."""

from __future__ import annotations

from aiohttp import web

from discord_double.world import World


class Cdn:
    """Serves ``/cdn/attachments/{channel_id}/{attachment_id}/{filename}`` (and the ``/media`` proxy) to
    requests whose ``ex``/``is``/``hm`` signature is intact and unexpired on the double's clock."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.fetches: list[int] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        attachment_id = request.match_info["attachment_id"]
        stored = self.world.files.get(int(attachment_id)) if attachment_id.isdigit() else None
        filename = request.match_info["filename"]
        path = f"/attachments/{request.match_info['channel_id']}/{attachment_id}/{filename}"
        if (
            stored is None
            or stored.expired
            or stored.filename != filename
            or not self.world.signer.valid(path, request.query)
        ):
            return web.Response(status=404, text="This content is no longer available.")
        self.fetches.append(int(attachment_id))
        return web.Response(body=stored.data, headers={"Content-Type": stored.content_type})
