"""Values users give planton through options and environment variables, with where each came
from, so that an error names the option or the variable the user actually set.

The CLI reads options and the environment variables that back them (Typer's ``envvar=``); the
core receives the resolved value and its source, never re-reads the environment for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from planton.errors import UsageError

_Value = TypeVar("_Value")

CI_VARIABLE = "CI"
# Set by a fleet for each planton child it starts, never by users: how many terraform runs share
# the machine's memory (for terraform's Go runtime), the pipe its status lines go to, and the
# token that marks the plans a fleet's apply makes for itself (see saved_plan_files).
RUNS_AT_ONCE_ENV = "PLANTON_RUNS_AT_ONCE"
STATUS_FD_ENV = "PLANTON_STATUS_FD"
OWN_PLANS_ENV = "PLANTON_OWN_PLANS"
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})

# A Go duration, as terraform's -lock-timeout takes it: 30s, 5m, 1h30m, 1.5h, 0.
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
# Longer than any CI job runs; a typo such as 30h is then caught rather than waited out.
MAX_DURATION_SECONDS = 24 * 3600.0


@dataclass(frozen=True)
class Given(Generic[_Value]):
    """A value a user gave, and the option or environment variable it came from."""

    value: _Value
    source: str


@dataclass(frozen=True)
class Duration:
    """A duration a user gave (``--lock-timeout``, ``--timeout``), in terraform's spelling (passed
    on to it) and in seconds (for planton's own waits)."""

    text: str
    seconds: float


def parse_lock_timeout(given: Given[str] | None) -> Duration | None:
    """``--lock-timeout``: how long to wait for a workspace or state lock another command holds,
    as terraform takes it (``30s``, ``5m``, ``1h30m``, ``0``), or a UsageError."""
    if given is None:
        return None
    if given.value.strip() == "0":
        return Duration("0s", 0.0)
    return _duration(given)


def parse_timeout(given: Given[str] | None) -> Duration | None:
    """``--timeout``: how long the whole command may take before terraform is interrupted (as
    Ctrl-C would), or a UsageError."""
    if given is None:
        return None
    duration = _duration(given)
    if duration.seconds <= 0:
        raise UsageError(f"{given.source}: {given.value!r} leaves no time at all; give a duration such as 30m")
    return duration


def _duration(given: Given[str]) -> Duration:
    text = given.value.strip()
    position, seconds = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if not text or position != len(text):
        raise UsageError(
            f"{given.source}: {given.value!r} is not a duration; use a number with a unit, such as 30s, 5m or 1h30m"
        )
    if seconds > MAX_DURATION_SECONDS:
        raise UsageError(f"{given.source}: {given.value!r} is longer than 24h; give a shorter one")
    return Duration(text, seconds)


def running_in_ci(environ: Mapping[str, str]) -> bool:
    """True when ``CI`` is set to anything but a false word (CI systems set ``CI=true``)."""
    value = environ.get(CI_VARIABLE)
    return value is not None and value.strip().lower() not in _FALSE_WORDS


# Environment variables behind options: here, so that declaring the options imports neither the
# runner nor the workspace.
BINARY_ENV = "PLANTON_TOFU_BINARY"
WORK_DIR_ENV = "PLANTON_WORK_DIR"
PLUGIN_MIRROR_ENV = "PLANTON_PLUGIN_MIRROR"
LOCK_TIMEOUT_ENV = "PLANTON_LOCK_TIMEOUT"
TIMEOUT_ENV = "PLANTON_TIMEOUT"


def runs_at_once(environ: Mapping[str, str]) -> int:
    """How many terraform runs share the machine (``PLANTON_RUNS_AT_ONCE``, set by a fleet for
    its children): 1 unless it holds a whole number above 1."""
    value = environ.get(RUNS_AT_ONCE_ENV, "")
    return int(value) if value.isdigit() and int(value) > 1 else 1
