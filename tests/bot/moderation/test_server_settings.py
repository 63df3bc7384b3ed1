import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.moderation.server_settings import (
    LIMIT_SETTINGS,
    MAX_BLOCKED_WORDS,
    MAX_COOLDOWN_S,
    MAX_WORD_CHARS,
    ServerSettings,
    SettingError,
    SettingProblem,
)


def test_defaults_limit_nothing() -> None:
    s = ServerSettings()
    assert (s.member_active, s.member_daily, s.queue_max, s.daily_budget) == (None, None, None, None)
    assert (s.cooldown_s, s.max_resolution, s.max_duration) == (0, "1080p", 10)
    assert not s.approval
    assert not s.paused
    assert s.allowed_channels == s.allowed_roles == frozenset()
    assert s.blocked_words == ()


@pytest.mark.parametrize("name", sorted(LIMIT_SETTINGS))
def test_limits_take_one_to_their_maximum_and_zero_means_none(name: str) -> None:
    high = LIMIT_SETTINGS[name]
    assert getattr(ServerSettings().with_setting(name, 1), name) == 1
    assert getattr(ServerSettings().with_setting(name, high), name) == high
    assert getattr(ServerSettings().with_setting(name, 3).with_setting(name, 0), name) is None
    for bad in (-1, high + 1):
        with pytest.raises(SettingError) as caught:
            ServerSettings().with_setting(name, bad)
        assert (caught.value.setting, caught.value.problem) == (name, SettingProblem.OUT_OF_RANGE)
        assert (caught.value.low, caught.value.high) == (1, high)


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("cooldown_s", -1, SettingProblem.OUT_OF_RANGE),
        ("cooldown_s", MAX_COOLDOWN_S + 1, SettingProblem.OUT_OF_RANGE),
        ("cooldown_s", "5", SettingProblem.WRONG_TYPE),
        ("member_daily", True, SettingProblem.WRONG_TYPE),
        ("max_resolution", "4k", SettingProblem.NOT_A_CHOICE),
        ("max_duration", 7, SettingProblem.NOT_A_CHOICE),
        ("max_duration", True, SettingProblem.NOT_A_CHOICE),
        ("approval", 1, SettingProblem.WRONG_TYPE),
        ("log_channel", 0, SettingProblem.OUT_OF_RANGE),
        ("moderator_role", "123", SettingProblem.WRONG_TYPE),
        ("colour", 1, SettingProblem.UNKNOWN),
    ],
)
def test_bad_changes_name_the_setting_and_the_problem(
    name: str, value: object, problem: SettingProblem
) -> None:
    with pytest.raises(SettingError) as caught:
        ServerSettings().with_setting(name, value)
    assert caught.value.setting == name
    assert caught.value.problem is problem


def test_cooldown_bounds_are_inclusive() -> None:
    assert ServerSettings().with_setting("cooldown_s", 0).cooldown_s == 0
    assert ServerSettings().with_setting("cooldown_s", MAX_COOLDOWN_S).cooldown_s == MAX_COOLDOWN_S


def test_choices_and_ids_are_set() -> None:
    s = (
        ServerSettings()
        .with_setting("max_resolution", "720p")
        .with_setting("max_duration", 5)
        .with_setting("approval", True)
        .with_setting("log_channel", 55)
        .with_setting("moderator_role", 66)
    )
    assert (s.max_resolution, s.max_duration, s.approval, s.log_channel, s.moderator_role) == (
        "720p",
        5,
        True,
        55,
        66,
    )
    assert s.with_setting("log_channel", None).log_channel is None


def test_channels_and_roles_are_allowed_and_disallowed_one_at_a_time() -> None:
    s = (
        ServerSettings()
        .with_channel(1, allowed=True)
        .with_channel(2, allowed=True)
        .with_role(9, allowed=True)
    )
    assert s.allowed_channels == {1, 2}
    assert s.with_channel(1, allowed=False).allowed_channels == {2}
    assert s.with_role(9, allowed=False).allowed_roles == frozenset()


def test_words_are_trimmed_deduplicated_and_removed_regardless_of_case() -> None:
    s = ServerSettings().with_word("  Bad   Word ").with_word("bad word").with_word("other")
    assert s.blocked_words == ("Bad Word", "other")
    assert s.without_word("BAD WORD").blocked_words == ("other",)


def test_word_limits() -> None:
    with pytest.raises(SettingError) as empty:
        ServerSettings().with_word("   ")
    assert empty.value.problem is SettingProblem.EMPTY
    with pytest.raises(SettingError) as long:
        ServerSettings().with_word("x" * (MAX_WORD_CHARS + 1))
    assert long.value.problem is SettingProblem.TOO_LONG
    assert ServerSettings().with_word("x" * MAX_WORD_CHARS).blocked_words == ("x" * MAX_WORD_CHARS,)
    full = ServerSettings(blocked_words=tuple(f"w{i}" for i in range(MAX_BLOCKED_WORDS)))
    with pytest.raises(SettingError) as many:
        full.with_word("one more")
    assert many.value.problem is SettingProblem.TOO_MANY
    assert full.with_word("W0") is full


def test_pause_and_resume() -> None:
    paused = ServerSettings().paused_for("maintenance")
    assert (paused.paused, paused.pause_reason) == (True, "maintenance")
    assert ServerSettings().paused_for("").pause_reason is None
    assert paused.resumed() == ServerSettings()


settings_strategy = st.builds(
    ServerSettings,
    member_active=st.none() | st.integers(1, LIMIT_SETTINGS["member_active"]),
    member_daily=st.none() | st.integers(1, LIMIT_SETTINGS["member_daily"]),
    cooldown_s=st.integers(0, MAX_COOLDOWN_S),
    queue_max=st.none() | st.integers(1, LIMIT_SETTINGS["queue_max"]),
    max_resolution=st.sampled_from(["480p", "720p", "1080p"]),
    max_duration=st.sampled_from([5, 10]),
    daily_budget=st.none() | st.integers(1, LIMIT_SETTINGS["daily_budget"]),
    approval=st.booleans(),
    log_channel=st.none() | st.integers(1, 2**63),
    moderator_role=st.none() | st.integers(1, 2**63),
    allowed_channels=st.frozensets(st.integers(1, 2**63), max_size=5),
    allowed_roles=st.frozensets(st.integers(1, 2**63), max_size=5),
    blocked_words=st.lists(
        st.from_regex(r"[a-z]{1,10}( [a-z]{1,10})?", fullmatch=True), max_size=5, unique=True
    ).map(tuple),
    paused=st.booleans(),
)


@given(settings_strategy, st.text(min_size=1, max_size=50).filter(str.strip))
def test_json_round_trip_keeps_every_setting(settings: ServerSettings, reason: str) -> None:
    if settings.paused:
        settings = settings.paused_for(reason)
    assert ServerSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


def test_stored_form_tolerates_missing_and_unknown_keys_but_not_bad_values() -> None:
    assert ServerSettings.from_dict({"queue_max": 5, "from_the_future": 1}) == ServerSettings(queue_max=5)
    with pytest.raises(SettingError) as caught:
        ServerSettings.from_dict({"cooldown_s": -5})
    assert caught.value.setting == "cooldown_s"
    with pytest.raises(SettingError):
        ServerSettings.from_dict({"allowed_roles": ["x"]})
