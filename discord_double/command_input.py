"""What Discord's client sends for a typed slash command: its options, typed, and their ``resolved`` data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from discord_double import payloads
from discord_double.state import ChannelSpec, GuildSpec, LocalFile, RoleSpec, UserSpec
from discord_double.world import DoubleError, World

JSON = dict[str, Any]
T = TypeVar("T")

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = range(3, 12)


class CommandInput:
    """Builds an interaction's ``data.options`` and ``data.resolved`` from a test's Python values, refusing
    unknown options and wrong types always, and (with ``strict_options``) what Discord's client would not
    let a member send: missing required options, values outside the choices or bounds."""

    def __init__(
        self, world: World, guild: GuildSpec, channel: ChannelSpec, invoker: UserSpec, roles: Sequence[int]
    ) -> None:
        self.world = world
        self.strict = world.config.strict_options
        self.guild = guild
        self.channel = channel
        self.invoker = invoker
        self.invoker_roles = roles
        self.resolved: JSON = {}

    def options(
        self,
        definition: Mapping[str, Any],
        path: Sequence[str],
        values: Mapping[str, Any],
        focused: str | None = None,
    ) -> list[JSON]:
        declared = {o["name"]: o for o in definition.get("options") or []}
        if path:
            sub = declared.get(path[0])
            if sub is None or sub.get("type") not in (SUB_COMMAND, SUB_COMMAND_GROUP):
                raise DoubleError(f"no subcommand {path[0]!r}")
            inner = self.options(sub, path[1:], values, focused)
            return [{"name": sub["name"], "type": sub["type"], "options": inner}]
        if any(o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in declared.values()):
            raise DoubleError(f"/{definition['name']} needs a subcommand")
        missing = [n for n, o in declared.items() if o.get("required") and n not in values and n != focused]
        if missing and focused is None and self.strict:
            raise DoubleError(f"/{definition['name']} needs its required options {missing}")
        out: list[JSON] = []
        for option_name, value in values.items():
            option = declared.get(option_name)
            if option is None:
                raise DoubleError(f"/{definition['name']} has no option {option_name!r}")
            if option_name == focused:
                if not option.get("autocomplete"):
                    raise DoubleError(f"option {option_name!r} does not autocomplete")
                out.append(
                    {"name": option_name, "type": option["type"], "value": str(value), "focused": True}
                )
            else:
                out.append({"name": option_name, "type": option["type"], "value": self._value(option, value)})
        return out

    def _value(self, option: Mapping[str, Any], value: Any) -> Any:
        kind, name = int(option["type"]), option["name"]
        if kind == STRING:
            return self._checked(option, _typed(name, value, str), len(value), "length")
        if kind in (INTEGER, NUMBER):
            wanted: tuple[type, ...] = (int,) if kind == INTEGER else (int, float)
            if isinstance(value, bool) or not isinstance(value, wanted):
                raise DoubleError(f"option {name!r} takes a number, not {value!r}")
            return self._checked(option, value, value, "value")
        if kind == BOOLEAN:
            return _typed(name, value, bool)
        if kind == USER or (kind == MENTIONABLE and isinstance(value, UserSpec)):
            return self._user(_typed(name, value, UserSpec))
        if kind == ROLE or (kind == MENTIONABLE and isinstance(value, RoleSpec)):
            role = _typed(name, value, RoleSpec)
            if role not in self.guild.roles:
                raise DoubleError(f"role {role.name} is not in this guild")
            self.resolved.setdefault("roles", {})[str(role.id)] = payloads.role(role)
            return str(role.id)
        if kind == CHANNEL:
            return self._channel(option, _typed(name, value, ChannelSpec))
        if kind == ATTACHMENT:
            local = _typed(name, value, LocalFile)
            attachment = self.world.store_file(
                self.channel.id, local.filename, local.data, local.content_type
            )
            attachment["ephemeral"] = True
            self.resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            return attachment["id"]
        raise DoubleError(f"option {name!r} has a type the double does not model ({kind})")

    def _checked(self, option: Mapping[str, Any], value: Any, measure: Any, bound: str) -> Any:
        if not self.strict:
            return value
        choices = option.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise DoubleError(f"option {option['name']!r} takes one of its choices, not {value!r}")
        low, high = option.get(f"min_{bound}"), option.get(f"max_{bound}")
        if (low is not None and measure < low) or (high is not None and measure > high):
            raise DoubleError(f"option {option['name']!r}: {value!r} is outside {low}..{high}")
        return value

    def _user(self, target: UserSpec) -> str:
        self.resolved.setdefault("users", {})[str(target.id)] = payloads.user(target)
        if any(m.id == target.id for m in self.guild.members):
            roles = self.guild.member_roles.get(target.id, [])
            perms = self.world.member_permissions(self.guild, target, roles, self.channel)
            member = payloads.member(target, roles, permissions=perms)
            member.pop("user")
            self.resolved.setdefault("members", {})[str(target.id)] = member
        return str(target.id)

    def _channel(self, option: Mapping[str, Any], target: ChannelSpec) -> str:
        if self.guild.channel(target.id) is None:
            raise DoubleError(f"channel {target.name} is not in this guild")
        types = option.get("channel_types")
        if types and 0 not in types:
            raise DoubleError(f"option {option['name']!r} does not take text channels")
        perms = self.world.permissions_in(self.guild, self.invoker.id, self.invoker_roles, target)
        self.resolved.setdefault("channels", {})[str(target.id)] = payloads.resolved_channel(target, perms)
        return str(target.id)


def _typed(name: str, value: Any, kind: type[T]) -> T:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise DoubleError(f"option {name!r} takes a {kind.__name__}, not {value!r}")
    return value
