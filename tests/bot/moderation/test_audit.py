from datetime import UTC, datetime

import pytest

from bot.moderation.audit import AuditEntry, ModAction, TargetKind, escape_text, log_line

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("**bold** _it_", r"\*\*bold\*\* \_it\_"),
        ("@everyone look", "@\u200beveryone look"),
        ("<@123> hi", "<\u200b@\u200b123\\> hi"),
        ("[link](https://x.example)", r"\[link\](https://x.example)"),
        ("two\nlines", "two lines"),
        ("`code` > quote", r"\`code\` \> quote"),
    ],
)
def test_escaping_shows_text_as_text(text: str, shown: str) -> None:
    assert escape_text(text) == shown


def test_a_block_with_reason() -> None:
    entry = AuditEntry(
        guild_id=1,
        moderator_id=42,
        action=ModAction.BLOCK,
        at=AT,
        target_kind=TargetKind.MEMBER,
        target="77",
        detail="24 h",
        reason="spam @everyone",
    )
    assert log_line("en", entry) == (
        f"<t:{int(AT.timestamp())}:f> <@42> blocked <@77> (24 h). Reason: spam @\u200beveryone"
    )
    assert "<@42> 님이 <@77> 님을 차단했어요" in log_line("ko", entry)


def test_a_job_target_cannot_break_out_of_its_code_span() -> None:
    entry = AuditEntry(1, 42, ModAction.CANCEL, AT, TargetKind.JOB, "ab`cd")
    assert "`abcd`" in log_line("en", entry)


def test_a_non_numeric_member_target_is_refused() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        log_line("en", AuditEntry(1, 42, ModAction.UNBLOCK, AT, TargetKind.MEMBER, "<@everyone>"))


@pytest.mark.parametrize("action", list(ModAction))
@pytest.mark.parametrize("locale", ["en-US", "ko"])
def test_every_action_renders_in_both_languages(action: ModAction, locale: str) -> None:
    line = log_line(locale, AuditEntry(1, 42, action, AT, TargetKind.SETTING, "queue_max", "5", "r"))
    assert line.startswith(f"<t:{int(AT.timestamp())}:f> <@42>")
    assert "{" not in line
    assert line.endswith(": r")


def test_long_reasons_are_cut() -> None:
    line = log_line("en", AuditEntry(1, 42, ModAction.PAUSE, AT, reason="x" * 5000))
    assert len(line) < 400
    assert line.endswith("…")
