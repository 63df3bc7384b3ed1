"""A local Discord (REST, gateway, CDN) that the real bot process runs against in tests and demos."""

from discord_double.double import DiscordDouble, InteractionHandle
from discord_double.images import make_image
from discord_double.ratelimits import RateLimitRule
from discord_double.state import (
    AutoModRule,
    ChannelSpec,
    GuildSpec,
    LocalFile,
    Overwrite,
    RecordedRequest,
    RoleSpec,
    StoredMessage,
    UserSpec,
)
from discord_double.world import DoubleConfig, DoubleError

__all__ = [
    "AutoModRule",
    "ChannelSpec",
    "DiscordDouble",
    "DoubleConfig",
    "DoubleError",
    "GuildSpec",
    "InteractionHandle",
    "LocalFile",
    "Overwrite",
    "RateLimitRule",
    "RecordedRequest",
    "RoleSpec",
    "StoredMessage",
    "UserSpec",
    "make_image",
]
