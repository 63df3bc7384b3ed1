import pytest

from bot.moderation.moderators import is_moderator


@pytest.mark.parametrize(
    ("permissions", "roles", "moderator_role", "expected"),
    [
        (0x8, set(), None, True),
        (0x20, set(), None, True),
        (0x2000, set(), None, False),
        (0, {5}, 5, True),
        (0, {5}, 6, False),
        (0, set(), None, False),
        (0x10 | 0x40, {1, 2}, None, False),
    ],
)
def test_who_moderates(permissions: int, roles: set[int], moderator_role: int | None, expected: bool) -> None:
    assert is_moderator(permissions, roles, moderator_role) is expected
