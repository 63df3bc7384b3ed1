"""The Discord side of :class:`bot.presenter.ReplyPort`: edits, deliveries and end notices.

While the interaction token lives, the reply is edited through the interaction webhook. After that (or when
Discord says the token is dead) it is edited as an ordinary message of the bot's in the channel; if even that
is refused, a new message is posted in the channel, says the job continues there, and is used from then on.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
import discord

from bot import texts
from bot.jobs import FailureReason, Job, ReplyTarget, utcnow
from bot.markdown_safety import shown_url
from bot.presenter import DeliveryError
from bot.render import Card
from client.video_download import DownloadRefused, ShowLinkInstead, VideoBytes, VideoDownloader
from cogs.cards import to_embed, to_view
from cogs.end_notices import EndNotices, Notice, joined, mentions_of
from cogs.long_rate_limits import long_wait_refusing_session
from cogs.report import report_view

if TYPE_CHECKING:
    from discord_app.bot import AnimateBot

log = logging.getLogger(__name__)

TOKEN_MARGIN = timedelta(seconds=60)
DEFAULT_UPLOAD_LIMIT = 10 * 1024 * 1024
UNSAFE = FailureReason.UNSAFE_VIDEO
# Codes that mean the interaction webhook can no longer be used.
DEAD_TOKEN_CODES = {10015, 50027}
# Codes that mean the file itself will not be taken: too large, or no Attach Files permission.
UPLOAD_REFUSED_CODES = {40005, 50013}


class TokenExpiredError(Exception):
    pass


class DiscordReplies:
    def __init__(self, bot: AnimateBot, *, api_base: str, clock: Callable[[], datetime] = utcnow) -> None:
        """``api_base`` is ``RUNCOMFY_API_BASE``: it decides where a video may be fetched from."""
        self._bot = bot
        self._videos = VideoDownloader(api_base=api_base)
        self._clock = clock
        self._webhook_session: aiohttp.ClientSession | None = None
        self._notices = EndNotices(self._post_notices)

    async def close(self) -> None:
        """Stop posting end notices; close the sessions the interaction webhooks and the downloads use
        (each opened on first use)."""
        await self._notices.close()
        await self._videos.close()
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None

    async def show(self, job: Job, card: Card) -> ReplyTarget:
        return await self._edit(job, embed=to_embed(card), view=to_view(job.id, card))

    async def deliver(self, job: Job, card: Card) -> ReplyTarget:
        embed = to_embed(card)
        video = await self._download(job)
        if video is not None:
            try:
                view = report_view(job.id, job.locale)
                return await self._edit(job, video=(f"animate-{job.id}.mp4", video), embed=embed, view=view)
            except discord.HTTPException as exc:
                if exc.code not in UPLOAD_REFUSED_CODES and exc.status != 413:
                    raise
                log.info("job %s: Discord refused the upload (%s); linking instead", job.id, exc.code)
        assert job.video_url is not None
        if shown_url(job.video_url) is None:
            raise DeliveryError("the video's link cannot be shown", permanent=True, reason=UNSAFE)
        note = texts.video_too_large(job.locale, job.video_url)
        return await self._edit(job, content=note, embed=embed, view=report_view(job.id, job.locale))

    async def announce(self, job: Job) -> None:
        await self._notices.announce(job)

    async def _post_notices(self, channel_id: int, notices: list[Notice]) -> dict[str, Exception]:
        """One message in the channel; a single notice replies to its card. Where the bot may not post,
        each notice goes through its job's interaction webhook while the token lives, each on its own."""
        first, _line = notices[0]
        channel = self._bot.get_partial_messageable(channel_id, guild_id=first.guild_id)
        message_id = first.reply.fallback_message_id or first.reply.message_id
        content, mentions = joined(notices), mentions_of(notices)
        try:
            if len(notices) == 1 and message_id:
                reference = discord.MessageReference(
                    message_id=message_id, channel_id=channel_id, fail_if_not_exists=False
                )
                await channel.send(content, allowed_mentions=mentions, reference=reference)
            else:
                await channel.send(content, allowed_mentions=mentions)
        except discord.Forbidden:
            failures: dict[str, Exception] = {}
            for job, line in notices:
                if not self._token_alive(job):
                    log.warning("job %s: cannot post the end notice in channel %s", job.id, channel_id)
                    continue
                try:
                    await self._webhook(job).send(line, allowed_mentions=mentions_of([(job, line)]))
                except Exception as exc:
                    failures[job.id] = exc
            return failures
        return {}

    def _token_alive(self, job: Job) -> bool:
        reply = job.reply
        return bool(reply.interaction_token) and self._clock() < reply.token_expires_at - TOKEN_MARGIN

    def _webhook(self, job: Job) -> discord.Webhook:
        """The job's interaction webhook; a long 429 on it raises instead of holding the call."""
        if self._webhook_session is None:
            self._webhook_session = long_wait_refusing_session()
        return discord.Webhook.partial(
            job.reply.application_id,
            job.reply.interaction_token,
            client=self._bot,
            session=self._webhook_session,
        )

    async def _edit(self, job: Job, *, video: tuple[str, bytes] | None = None, **fields: Any) -> ReplyTarget:
        """Show ``fields`` on the job's reply, wherever it lives now; ``video`` is attached as a file (a
        fresh one per request: a file object is read to its end by the first request that sends it)."""
        target = job.reply
        if target.fallback_message_id is None and self._token_alive(job):
            try:
                message_id: Any = target.message_id if target.message_id is not None else "@original"
                edited = await self._webhook(job).edit_message(message_id, **fields, **_attached(video))
            except discord.HTTPException as exc:
                if exc.code in DEAD_TOKEN_CODES or exc.status == 401:
                    log.info(
                        "job %s: the interaction token is no longer valid; editing in the channel", job.id
                    )
                    target = _with(target, token_expires_at=self._clock())  # never try the dead token again
                elif isinstance(exc, discord.NotFound):
                    log.info("job %s: the reply is gone (%s); carrying on in the channel", job.id, exc.code)
                else:
                    raise
            else:
                return _with(target, message_id=edited.id)
        channel = self._bot.get_partial_messageable(job.channel_id, guild_id=job.guild_id)
        existing = target.fallback_message_id or target.message_id
        if existing is not None:
            try:
                await channel.get_partial_message(existing).edit(**fields, **_attached(video))
                return target
            except (discord.NotFound, discord.Forbidden) as exc:
                log.info("job %s: cannot edit the reply in the channel (%s); posting anew", job.id, exc.code)
        sendable = _sendable(fields)
        if video is not None:
            sendable["files"] = _attached(video)["attachments"]
        moved = "\n".join(
            filter(None, [texts.card_moved(job.locale, job.user_id), sendable.pop("content", None)])
        )
        message = await channel.send(
            content=moved[:2000], allowed_mentions=discord.AllowedMentions.none(), **sendable
        )
        return _with(target, fallback_message_id=message.id)

    def _guild_upload_limit(self, guild_id: int) -> int:
        guild = self._bot.get_guild(guild_id)
        return guild.filesize_limit if guild is not None else DEFAULT_UPLOAD_LIMIT

    async def _download(self, job: Job) -> bytes | None:
        """The video's bytes when they are an MP4 within this server's upload limit; None when only its
        link may be shown; :class:`DeliveryError` when neither the bytes nor the link may be posted."""
        if not job.video_url:
            raise DeliveryError("completed job without a video", permanent=True)
        limit = job.reply.upload_limit or self._guild_upload_limit(job.guild_id)
        outcome = await self._videos.download(job.video_url, max_bytes=limit)
        match outcome:
            case VideoBytes(data=data):
                return data
            case ShowLinkInstead(problem=problem, detail=detail):
                log.info("job %s: video not uploaded (%s: %s); linking", job.id, problem, detail)
                return None
            case DownloadRefused(problem=problem, detail=detail):
                log.warning("job %s: video refused (%s: %s)", job.id, problem, detail)
                raise DeliveryError(detail, permanent=True, reason=UNSAFE)


def _with(target: ReplyTarget, **changes: Any) -> ReplyTarget:
    return replace(target, **changes)


def _attached(video: tuple[str, bytes] | None) -> dict[str, Any]:
    if video is None:
        return {}
    filename, data = video
    return {"attachments": [discord.File(io.BytesIO(data), filename=filename)]}


def _sendable(fields: dict[str, Any]) -> dict[str, Any]:
    """Edit arguments as ``send`` takes them (no view means none)."""
    sendable = {k: v for k, v in fields.items() if k != "view"}
    if fields.get("view") is not None:
        sendable["view"] = fields["view"]
    return sendable
