from datetime import UTC, datetime, timedelta

from bot.attachment_urls import REFRESH_MARGIN, expires_at, needing_refresh

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def signed(moment: datetime) -> str:
    expiry = format(int(moment.timestamp()), "x")
    return f"https://cdn.discordapp.com/attachments/1/2/cat.png?ex={expiry}&is=6740a000&hm=abc123&"


def test_the_expiry_is_read_from_the_hex_ex_parameter() -> None:
    assert expires_at(signed(NOW)) == NOW


def test_urls_without_a_readable_expiry_have_none() -> None:
    assert expires_at("https://example.com/cat.png") is None
    assert expires_at("https://cdn.discordapp.com/a.png?ex=zz") is None


def test_only_urls_ending_within_the_margin_need_refreshing() -> None:
    soon = signed(NOW + REFRESH_MARGIN - timedelta(minutes=1))
    gone = signed(NOW - timedelta(hours=3))
    fine = signed(NOW + REFRESH_MARGIN + timedelta(minutes=1))
    plain = "https://example.com/cat.png"
    assert needing_refresh([soon, gone, fine, plain, soon], NOW) == [soon, gone]
