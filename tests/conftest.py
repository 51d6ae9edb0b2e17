"""Ordering for the whole suite: the slow end-to-end tests start first, so that with two
workers the quick unit and CLI tests fill the gaps at the end instead of a long e2e test
running alone on one core while the other idles."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    items.sort(key=lambda item: 0 if item.get_closest_marker("e2e") else 1)
