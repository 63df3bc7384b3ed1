"""Who counts as a moderator of a server's queue."""

from __future__ import annotations

from collections.abc import Collection

ADMINISTRATOR = 0x8
MANAGE_GUILD = 0x20


def is_moderator(permissions: int, role_ids: Collection[int], moderator_role: int | None) -> bool:
    """Whether a member with these permission bits (the interaction's computed ``member.permissions``)
    and roles may moderate: Administrator, Manage Server, or the server's configured moderator role."""
    if permissions & (ADMINISTRATOR | MANAGE_GUILD):
        return True
    return moderator_role is not None and moderator_role in role_ids
