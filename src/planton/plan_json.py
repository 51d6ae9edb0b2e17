"""Reading terraform's ``show -json`` plan document defensively, for every module that reads it
(``plan_summary``, ``plan``, ``cost``): the entries of a list such as ``resource_changes``, a
resource change's ``change``, and a value down one of its trees (``after``, ``after_unknown``,
...), where a malformed part reads as absent (a malformed list is an error)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planton.errors import PlanUnreadable


def entries(document: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """The objects listed under ``key`` (``resource_changes``, ...); none when it is absent.
    ``PlanUnreadable`` when it is not a list: a plan planton cannot read is never applied."""
    items = document.get(key) or []
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise PlanUnreadable(f"terraform's plan has a malformed {key}; nothing was applied")
    return [item for item in items if isinstance(item, Mapping)]


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
