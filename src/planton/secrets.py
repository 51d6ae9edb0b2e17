"""The credentials planton read from files in this process (a stack input's provider_config,
``--aws-provider-config``), by where they came from, for the crash report to blank: it knows the
environment's secret variables by name, but not what a file held."""

from __future__ import annotations

from collections.abc import Iterator

_KNOWN: dict[str, str] = {}


def remember(where: str, value: str | None) -> None:
    """Note ``value`` (read at ``where``: "aws.yaml secret_access_key") as a secret."""
    if value:
        _KNOWN[where] = value


def known() -> Iterator[tuple[str, str]]:
    """Every secret noted so far, as (where, value)."""
    yield from list(_KNOWN.items())
