"""Settings: --lock-timeout's durations and CI detection."""

from __future__ import annotations

import pytest

from planton.errors import UsageError
from planton.settings import Duration, Given, parse_lock_timeout, running_in_ci


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("0s", 0.0), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0), ("1.5h", 5400.0), ("250ms", 0.25)],
)
def test_lock_timeout_durations(text: str, seconds: float) -> None:
    parsed = parse_lock_timeout(Given(text, "--lock-timeout"))
    assert parsed is not None
    assert parsed.seconds == pytest.approx(seconds)
    # terraform gets the duration as written (0 in a unit it takes)
    assert parsed.text == ("0s" if text == "0" else text)


@pytest.mark.parametrize("text", ["", "5", "five", "5 m", "m5", "-5s", "5d", "1h 30m", "30s;rm"])
def test_lock_timeout_rejects_what_terraform_would(text: str) -> None:
    with pytest.raises(UsageError, match=rf"^PLANTON_LOCK_TIMEOUT: {text!r} is not a duration; use a number"):
        parse_lock_timeout(Given(text, "PLANTON_LOCK_TIMEOUT"))


def test_lock_timeout_has_a_ceiling() -> None:
    with pytest.raises(UsageError, match="longer than 24h"):
        parse_lock_timeout(Given("30h", "--lock-timeout"))
    assert parse_lock_timeout(Given("24h", "--lock-timeout")) == Duration("24h", 86400.0)


def test_no_lock_timeout() -> None:
    assert parse_lock_timeout(None) is None


@pytest.mark.parametrize(
    ("value", "ci"),
    [
        (None, False),
        ("", False),
        ("false", False),
        ("0", False),
        ("no", False),
        ("true", True),
        ("1", True),
        ("TRUE", True),
    ],
)
def test_running_in_ci(value: str | None, ci: bool) -> None:
    assert running_in_ci({} if value is None else {"CI": value}) is ci
