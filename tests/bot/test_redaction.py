import logging

import pytest

from bot.redaction import RedactingFilter, redact

TOKEN = "MTIzNDU2Nzg5.discord-token-value"


def test_known_secrets_are_masked() -> None:
    assert redact(f"login with {TOKEN} failed", [TOKEN]) == "login with *** failed"


def test_short_values_are_not_treated_as_secrets() -> None:
    assert redact("Context impl", ["x"]) == "Context impl"


def test_interaction_tokens_in_paths_are_masked() -> None:
    path = "PATCH /api/v10/webhooks/123456/aW50ZXJhY3Rpb246MTIzOmFiY2RlZmdoaWprbG1ub3A/messages/@original"
    assert redact(path) == "PATCH /api/v10/webhooks/123456/***/messages/@original"


def test_authorization_values_are_masked() -> None:
    assert redact("Authorization: Bearer rk_live_0123456789abcdefghij") == "Authorization: Bearer ***"


def test_filter_masks_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactingFilter([TOKEN]))
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("token is %s", TOKEN)
            try:
                raise RuntimeError(f"bad {TOKEN}")
            except RuntimeError:
                logger.exception("boom")
    finally:
        logger.filters.clear()
    text = caplog.text
    assert TOKEN not in text
    assert "token is ***" in text
    assert "RuntimeError: bad ***" in text
