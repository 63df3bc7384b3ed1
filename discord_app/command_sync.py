"""Sync application commands only when their definition changed since the last sync.

Discord rate-limits command sync hard, so a restart with the same commands must not sync again. The hash of
the exact payload (translations included) is kept in the store per application and scope.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import discord
from discord import app_commands

from bot.store import JobStore

log = logging.getLogger(__name__)


async def command_payload(tree: app_commands.CommandTree[Any], guild: discord.Object | None) -> list[Any]:
    translator = tree.translator
    commands = tree.get_commands(guild=guild)
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


async def sync_if_changed(
    tree: app_commands.CommandTree[Any], store: JobStore, application_id: int, guild_id: int | None
) -> bool:
    """Sync globally, or to ``guild_id`` (handy while developing); returns whether a sync happened."""
    guild = discord.Object(id=guild_id) if guild_id is not None else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    payload = await command_payload(tree, guild)
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    key = f"commands:{application_id}:{guild_id if guild_id is not None else 'global'}"
    if await store.get_meta(key) == digest:
        log.info("application commands unchanged; not syncing")
        return False
    await tree.sync(guild=guild)
    await store.set_meta(key, digest)
    log.info("synced %d application commands (%s)", len(payload), "guild" if guild else "global")
    return True
