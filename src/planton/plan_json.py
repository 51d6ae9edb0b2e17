"""Reading terraform's ``show -json`` plan document defensively, for every module that reads it
(``plan_summary``, ``plan``, ``cost``): a resource change's ``change``, and a value down one of
its trees (``after``, ``after_unknown``, ...), where a malformed part reads as absent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def change_of(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """A ``resource_changes`` entry's ``change`` (empty when it has none)."""
    change = item.get("change")
    return change if isinstance(change, Mapping) else {}


def value_at(tree: Any, key: str | int) -> Any:
    """``tree[key]`` for a mapping's key or a list's position, else None. ``True`` (terraform's
    "all of this", as in ``after_unknown``) stays True all the way down."""
    if tree is True:
        return True
    if isinstance(tree, Mapping) and isinstance(key, str):
        return tree.get(key)
    if isinstance(tree, list) and isinstance(key, int) and key < len(tree):
        return tree[key]
    return None
