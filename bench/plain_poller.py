"""The benchmark's baseline: a plain discord.py bot that polls every job every 2 s.

``/animate`` defers, submits the job to RunComfy at once, then polls ``/result`` every 2 s, edits its reply
when what it says changes, and uploads the video at the end (what RunComfy's own CLI does). No queue, no
store, no fairness: the least a bot can do, done the obvious way. It reads the same environment as the
project's bot (``DISCORD_TOKEN``, ``DISCORD_API_BASE``, ``RUNCOMFY_API_TOKEN``, ``RUNCOMFY_API_BASE``).

    python -m bench.plain_poller
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
from typing import Literal

import aiohttp
import discord
from discord import app_commands

from bench.poller_model import POLL_EVERY_S, Deliver, End, Keep, PolledJob, Show
from client.api import RunComfyClient
from client.errors import RunComfyError
from client.models import AnimateInput
from discord_app.endpoints import use_discord_api

log = logging.getLogger("plain_poller")


class PlainPoller(discord.Client):
    def __init__(self, api: RunComfyClient, http: aiohttp.ClientSession) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.api = api
        self.http_session = http
        self.tree = app_commands.CommandTree(self)
        self.jobs: set[asyncio.Task[None]] = set()
        self.tree.add_command(animate)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def follow(
        self, interaction: discord.Interaction, image_url: str, prompt: str, resolution: str, duration: int
    ) -> None:
        try:
            job_input = AnimateInput.model_validate(
                {
                    "prompt": prompt,
                    "first_frame_image_url": image_url,
                    "resolution": resolution,
                    "duration": duration,
                }
            )
            submission = await self.api.submit(job_input)
        except (RunComfyError, ValueError) as exc:
            await interaction.edit_original_response(content=f"RunComfy refused the job: {exc}")
            return
        job = PolledJob()
        while True:
            await asyncio.sleep(POLL_EVERY_S)
            try:
                step = job.observe((await self.api.result(submission.request_id)).status)
            except RunComfyError:
                step = job.poll_failed()
            if isinstance(step, Show):
                await interaction.edit_original_response(content=step.text)
            elif isinstance(step, Deliver):
                await self.deliver(interaction, step.video_url)
                return
            elif isinstance(step, End):
                await interaction.edit_original_response(content=step.text)
                return
            else:
                assert isinstance(step, Keep)

    async def deliver(self, interaction: discord.Interaction, video_url: str) -> None:
        async with self.http_session.get(video_url) as answer:
            answer.raise_for_status()
            video = await answer.read()
        await interaction.edit_original_response(
            content=f"{interaction.user.mention} your video is ready.",
            attachments=[discord.File(io.BytesIO(video), filename="animate.mp4")],
        )


@app_commands.command(name="animate", description="Turn a picture into a short video")
@app_commands.guild_only()
async def animate(
    interaction: discord.Interaction[PlainPoller],
    image: discord.Attachment,
    prompt: app_commands.Range[str, 1, 1900],
    resolution: Literal["480p", "720p", "1080p"] = "480p",
    duration: Literal[5, 10] = 5,
) -> None:
    await interaction.response.defer(thinking=True)
    client = interaction.client
    task = asyncio.create_task(client.follow(interaction, image.url, prompt, resolution, duration))
    client.jobs.add(task)
    task.add_done_callback(client.jobs.discard)


async def run() -> None:
    token = os.environ["DISCORD_TOKEN"]
    async with aiohttp.ClientSession() as http:
        api_base = os.environ.get("DISCORD_API_BASE")
        if api_base:
            await use_discord_api(api_base, token, http)
        api = RunComfyClient(os.environ["RUNCOMFY_API_TOKEN"], os.environ["RUNCOMFY_API_BASE"], session=http)
        async with api, PlainPoller(api, http) as client:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            runner = asyncio.create_task(client.start(token))
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            for task in client.jobs:
                task.cancel()
            await client.close()
            stopper.cancel()
            if runner.done():
                runner.result()


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "WARNING"))
    asyncio.run(run())


if __name__ == "__main__":
    main()
