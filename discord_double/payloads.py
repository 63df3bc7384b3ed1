"""Builders of Discord's JSON payloads, typed with discord.py's own TypedDicts where they fit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from discord.types.appinfo import AppInfo
    from discord.types.channel import PermissionOverwrite
    from discord.types.gateway import GatewayBot, ReadyEvent
    from discord.types.message import Attachment, Message
    from discord.types.role import Role
    from discord.types.user import User

from discord_double import rules
from discord_double.state import (
    AutoModRule,
    ChannelSpec,
    GuildSpec,
    RoleSpec,
    UserSpec,
    snowflake_time,
)

JSON = dict[str, Any]
APPLICATION_FLAGS = 1 << 23  # GATEWAY_MESSAGE_CONTENT_LIMITED: a bot without the message content intent


def iso_time(seconds: float) -> str:
    """Unix seconds as Discord's ISO 8601 timestamps."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def user(spec: UserSpec) -> User:
    payload: User = {
        "id": str(spec.id),
        "username": spec.username,
        "discriminator": "0",
        "avatar": None,
        "global_name": spec.global_name,
        "public_flags": 0,
        "flags": 0,
        # Discord sends null for a user without one; discord.py's TypedDict omits the null it accepts.
        "primary_guild": cast("Any", None),
    }
    if spec.bot:
        payload["bot"] = True
    return payload


def bot_user(spec: UserSpec) -> User:
    """The bot's own user as ``/users/@me`` and READY carry it."""
    payload = user(spec)
    payload.update({"bot": True, "verified": True, "mfa_enabled": False, "locale": "en-US"})
    return payload


def role(spec: RoleSpec, *, bot_id: int | None = None) -> Role:
    """A role; ``bot_id`` marks it as that bot's own managed role (as Discord makes on invite)."""
    payload: Role = {
        "id": str(spec.id),
        "name": spec.name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "position": spec.position,
        "permissions": str(spec.permissions),
        "managed": bot_id is not None,
        "mentionable": False,
        "flags": 0,
    }
    if bot_id is not None:
        payload["tags"] = {"bot_id": str(bot_id)}
    return payload


def member(spec: UserSpec, roles: Sequence[int], *, permissions: int | None = None) -> JSON:
    payload: JSON = {
        "user": user(spec),
        "roles": [str(r) for r in roles],
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
        "avatar": None,
        "banner": None,
        "premium_since": None,
        "pending": False,
        "communication_disabled_until": None,
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def channel(spec: ChannelSpec, guild_id: int, bot_id: int) -> JSON:
    overwrites: list[PermissionOverwrite] = [
        {"id": str(o.id), "type": cast("Any", o.type), "allow": str(o.allow), "deny": str(o.deny)}
        for o in spec.effective_overwrites(bot_id)
    ]
    return {
        "id": str(spec.id),
        "type": 0,
        "name": spec.name,
        "guild_id": str(guild_id),
        "position": spec.position,
        "permission_overwrites": overwrites,
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }


def guild_create(guild: GuildSpec, bot: UserSpec, bot_role_id: int, *, with_members: bool = False) -> JSON:
    """GUILD_CREATE: with only the ``guilds`` intent its members are the bot alone; ``with_members``
    (the privileged ``members`` intent) lists everyone."""
    tier = rules.premium_tier_for(guild.upload_limit)
    members = [member(bot, [bot_role_id])]
    if with_members:
        members += [member(m, guild.member_roles.get(m.id, [])) for m in guild.members]
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "region": "deprecated",
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 1,
        "explicit_content_filter": 0,
        "roles": [role(r, bot_id=bot.id if r.id == bot_role_id else None) for r in guild.roles],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "nsfw_level": 0,
        "application_id": None,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": tier,
        "premium_subscription_count": {0: 0, 2: 7, 3: 14}[tier],
        "preferred_locale": guild.preferred_locale,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "nsfw": False,
        "incidents_data": None,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
        "large": False,
        "unavailable": False,
        "member_count": len(guild.members) + 1,
        "voice_states": [],
        "members": members,
        "channels": [channel(c, guild.id, bot.id) for c in guild.channels],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "lazy": True,
    }


def resolved_channel(spec: ChannelSpec, permissions: int) -> JSON:
    """A channel in an interaction's ``resolved``: Discord's partial channel, with the invoking member's
    permissions there."""
    return {"id": str(spec.id), "name": spec.name, "type": 0, "permissions": str(permissions)}


def automod_rule(rule: AutoModRule) -> JSON:
    """A KEYWORD (trigger type 1) AutoMod rule as Discord returns it."""
    return {
        "id": str(rule.id),
        "guild_id": str(rule.guild_id),
        "name": rule.name,
        "creator_id": str(rule.creator_id),
        "event_type": rule.event_type,
        "trigger_type": 1,
        "trigger_metadata": {
            "keyword_filter": list(rule.keyword_filter),
            "regex_patterns": list(rule.regex_patterns),
            "allow_list": list(rule.allow_list),
        },
        "actions": [dict(a) for a in rule.actions],
        "enabled": rule.enabled,
        "exempt_roles": [str(r) for r in rule.exempt_roles],
        "exempt_channels": [str(c) for c in rule.exempt_channels],
    }


def ready(
    bot: UserSpec,
    application_id: int,
    guild_ids: Sequence[int],
    session_id: str,
    resume_url: str,
    shard: tuple[int, int] = (0, 1),
) -> ReadyEvent:
    return {
        "v": 10,
        "user": bot_user(bot),
        "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
        "session_id": session_id,
        "resume_gateway_url": resume_url,
        "shard": [shard[0], shard[1]],
        "application": {"id": str(application_id), "flags": APPLICATION_FLAGS},
    }


def gateway_bot(url: str, shards: int = 1) -> GatewayBot:
    return {
        "url": url,
        "shards": shards,
        "session_start_limit": {
            "total": 1000,
            "remaining": 999,
            "reset_after": 86_400_000,
            "max_concurrency": 1,
        },
    }


def application_info(application_id: int, bot: UserSpec, owner: UserSpec) -> AppInfo:
    info: dict[str, Any] = {
        "id": str(application_id),
        "name": bot.username,
        "icon": None,
        "description": "",
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "bot": bot_user(bot),
        "owner": user(owner),
        "team": None,
        "summary": "",
        "verify_key": "0" * 64,
        "type": None,
        "flags": APPLICATION_FLAGS,
        "flags_new": str(APPLICATION_FLAGS),
        "tags": [],
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "approximate_user_authorization_count": 0,
        "explicit_content_filter": 0,
        "eligible_oauth2_scopes": ["applications.commands", "bot"],
    }
    return cast("AppInfo", info)


def attachment(
    attachment_id: int,
    filename: str,
    size: int,
    content_type: str,
    url: str,
    proxy_url: str,
    dimensions: tuple[int, int] | None,
    *,
    ephemeral: bool = False,
) -> Attachment:
    payload: Attachment = {
        "id": str(attachment_id),
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": proxy_url,
        "content_type": content_type,
    }
    if dimensions is not None:
        payload["width"], payload["height"] = dimensions
    if ephemeral:
        payload["ephemeral"] = True
    return payload


def message(
    *,
    message_id: int,
    channel_id: int,
    guild_id: int | None,
    author: UserSpec,
    body: Mapping[str, Any],
    attachments: Sequence[Attachment],
    flags: int,
    webhook_id: int | None = None,
    interaction_metadata: JSON | None = None,
    message_type: int = 0,
) -> Message:
    """A message as Discord returns it after creating it from ``body``."""
    payload: Message = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": user(author),
        "content": str(body.get("content") or ""),
        "timestamp": iso_time(snowflake_time(message_id)),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": list(attachments),
        "embeds": cast("Any", [normalise_embed(e) for e in body.get("embeds") or []]),
        "pinned": False,
        "type": cast("Any", message_type),
        "flags": flags,
        "components": cast("Any", numbered_components(body.get("components") or [])),
    }
    if guild_id is not None:
        payload["guild_id"] = str(guild_id)
    if webhook_id is not None:
        payload["webhook_id"] = str(webhook_id)
        payload["application_id"] = str(webhook_id)
    if interaction_metadata is not None:
        payload["interaction_metadata"] = cast("Any", interaction_metadata)
    return payload


def numbered_components(components: Sequence[Mapping[str, Any]]) -> list[JSON]:
    """Components as Discord stores them: each keeps the integer ``id`` the sender gave, and every other
    gets the next free number in the order they appear (depth first, from 1), never one already taken."""
    taken: set[int] = set()

    def collect(items: Sequence[Mapping[str, Any]]) -> None:
        for item in items:
            if isinstance(item.get("id"), int):
                taken.add(item["id"])
            collect(item.get("components") or [])

    collect(components)
    counter = 0

    def number(items: Sequence[Mapping[str, Any]]) -> list[JSON]:
        nonlocal counter
        out: list[JSON] = []
        for item in items:
            copy = dict(item)
            if not isinstance(copy.get("id"), int):
                counter += 1
                while counter in taken:
                    counter += 1
                copy["id"] = counter
            if "components" in copy:
                copy["components"] = number(copy.get("components") or [])
            out.append(copy)
        return out

    return number(components)


def normalise_embed(embed: Mapping[str, Any]) -> JSON:
    out = dict(embed)
    out.setdefault("type", "rich")
    return out


def interaction_metadata(
    record_id: int,
    interaction_type: int,
    user_spec: UserSpec,
    guild_id: int,
    name: str | None,
    interacted_message_id: int | None = None,
) -> JSON:
    """A message's ``interaction_metadata``; a component interaction names the message that was used."""
    meta: JSON = {
        "id": str(record_id),
        "type": interaction_type,
        "user": user(user_spec),
        "authorizing_integration_owners": {"0": str(guild_id)},
    }
    if name is not None:
        meta["name"] = name
    if interacted_message_id is not None:
        meta["interacted_message_id"] = str(interacted_message_id)
    return meta
