"""What the page draws: the double's stored messages, members and commands as plain JSON.

Links to the double's CDN become the playground's own ``/files/...`` addresses, mentions become names. Text
stays text: the page puts every string into the document with ``textContent``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from discord_double.state import StoredMessage, snowflake_time
from playground.stack import Stack

JSON = dict[str, Any]
_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_CHANNEL = re.compile(r"<#(\d+)>")
_JUMP = re.compile(r"https://discord\.com/channels/\d+/\d+/(\d+)")
_FLAG_LOADING = 1 << 7


def _cdn_pattern(base_url: str) -> re.Pattern[str]:
    return re.compile(
        re.escape(base_url) + r"/(?:cdn|media)/attachments/\d+/(\d+)/([^\s?)>\"]+)(?:\?[^\s)>\"]*)?"
    )


class Renderer:
    """Turns the stack's state into the page's JSON."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._cdn = _cdn_pattern(stack.discord.base_url)

    def text(self, value: Any) -> str:
        world = self.stack.discord.world
        names = {u.id: u.global_name or u.username for u in world.guild.members}
        names[world.bot.id] = world.bot.username
        roles = {r.id: r.name for r in world.guild.roles}
        channels = {c.id: c.name for c in world.guild.channels}
        out = self._cdn.sub(lambda m: f"/files/{m.group(1)}/{m.group(2)}", str(value or ""))
        out = _JUMP.sub(lambda m: f"[this message](#m{m.group(1)})", out)
        out = _MENTION.sub(lambda m: "@" + names.get(int(m.group(1)), "unknown"), out)
        out = _ROLE.sub(lambda m: "@" + roles.get(int(m.group(1)), "role"), out)
        return _CHANNEL.sub(lambda m: "#" + channels.get(int(m.group(1)), "channel"), out)

    def _url(self, value: Any) -> str | None:
        """A local address for an image or file, or None for anything that would leave the machine."""
        text = self.text(value)
        return text if text.startswith("/files/") else None

    def _embed(self, embed: Mapping[str, Any]) -> JSON:
        return {
            "title": self.text(embed.get("title")),
            "description": self.text(embed.get("description")),
            "color": embed.get("color"),
            "fields": [
                {
                    "name": self.text(f.get("name")),
                    "value": self.text(f.get("value")),
                    "inline": bool(f.get("inline")),
                }
                for f in embed.get("fields") or []
            ],
            "footer": self.text((embed.get("footer") or {}).get("text")),
            "thumbnail": self._url((embed.get("thumbnail") or {}).get("url")),
            "image": self._url((embed.get("image") or {}).get("url")),
        }

    def _components(self, rows: Any) -> list[list[JSON]]:
        return [
            [
                {
                    "custom_id": str(c.get("custom_id", "")),
                    "label": self.text(c.get("label")),
                    "style": int(c.get("style", 2)),
                    "disabled": bool(c.get("disabled")),
                    "emoji": self.text((c.get("emoji") or {}).get("name")),
                }
                for c in row.get("components", [])
                if c.get("type", 2) == 2
            ]
            for row in rows or []
        ]

    def message(self, message: StoredMessage) -> JSON:
        feed = self.stack.feed
        payload = message.payload
        viewer = feed.viewer_of(message)
        answered = feed.interaction_of(message)
        return {
            "id": str(message.id),
            "author": self.stack.discord.bot_user.username,
            "content": self.text(payload.get("content")),
            "embeds": [self._embed(e) for e in payload.get("embeds") or []],
            "components": self._components(payload.get("components")),
            "attachments": [
                {
                    "filename": str(a.get("filename", "")),
                    "url": f"/files/{a['id']}/{a.get('filename', 'file')}",
                    "content_type": str(a.get("content_type", "")),
                }
                for a in message.attachments
            ],
            "ephemeral": message.ephemeral,
            "visible_to": str(viewer.id) if viewer is not None else None,
            "loading": bool(message.flags & _FLAG_LOADING),
            "edited": message.edit_count > 0,
            "time": snowflake_time(message.id),
            "command": {"user": answered[0].global_name, "name": answered[1]} if answered else None,
        }

    def state(self) -> JSON:
        stack = self.stack
        double = stack.discord
        return {
            "server": double.guild.name,
            "channel": double.channel.name,
            "bot": {
                "name": double.bot_user.username,
                "running": stack.bot.running,
                "connected": double.bot_ready(require_commands=False),
            },
            "members": [
                {
                    "key": m.key,
                    "id": str(m.user.id),
                    "name": m.user.global_name or m.user.username,
                    "moderator": m.moderator,
                }
                for m in stack.members.values()
            ],
            "commands": [self._command(c) for c in double.world.commands.all()],
            "messages": [self.message(m) for m in stack.feed.messages()],
            "controls": {
                "queue_s": stack.queue_s,
                "run_s": stack.run_s,
                "api_faults": len(stack.runcomfy.pending_faults),
            },
        }

    @staticmethod
    def _command(command: Mapping[str, Any]) -> JSON:
        """A registered command as the composer needs it (names, localised descriptions, options)."""

        def option(o: Mapping[str, Any]) -> JSON:
            return {
                "name": o["name"],
                "type": int(o["type"]),
                "description": o.get("description", ""),
                "descriptions": o.get("description_localizations") or {},
                "required": bool(o.get("required")),
                "choices": [
                    {"name": c["name"], "names": c.get("name_localizations") or {}, "value": c["value"]}
                    for c in o.get("choices") or []
                ],
                "options": [option(inner) for inner in o.get("options") or []],
            }

        return {
            "name": command["name"],
            "description": command.get("description", ""),
            "descriptions": command.get("description_localizations") or {},
            "options": [option(o) for o in command.get("options") or []],
        }
