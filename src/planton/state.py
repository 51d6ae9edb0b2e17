"""What a workspace's local state records about the table, read without running terraform.

Used only to tell people the truth after an interruption (was the table recorded? tainted?);
every decision about changing the table is made on a plan (``plan.py``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TYPE = "aws_dynamodb_table"
_NAME = "this"


@dataclass(frozen=True)
class RecordedTable:
    """The table as the state records it: its name, its region (from its ARN), whether it is
    tainted, and its attribute types by name."""

    name: str
    tainted: bool
    region: str | None = None
    attribute_types: Mapping[str, str] = field(default_factory=dict)
    managed_by_planton: bool = False
    deletion_protection: bool = False


def recorded_table(state_path: Path) -> RecordedTable | None:
    """The table in the state file, or None when the state has none (or cannot be read)."""
    try:
        document = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for resource in _list(document, "resources"):
        if resource.get("mode") == "managed" and resource.get("type") == _TYPE and resource.get("name") == _NAME:
            for instance in _list(resource, "instances"):
                attributes = instance.get("attributes")
                if not isinstance(attributes, Mapping):
                    attributes = {}
                return RecordedTable(
                    name=str(attributes.get("name") or "?"),
                    tainted=instance.get("status") == "tainted",
                    region=arn_region(attributes.get("arn")),
                    attribute_types={
                        str(item.get("name")): str(item.get("type"))
                        for item in _list(attributes, "attribute")
                        if item.get("name") and item.get("type")
                    },
                    managed_by_planton=_tag(attributes, "ManagedBy") == "planton",
                    deletion_protection=attributes.get("deletion_protection_enabled") is True,
                )
    return None


def _tag(attributes: Mapping[str, Any], key: str) -> Any:
    tags = attributes.get("tags")
    return tags.get(key) if isinstance(tags, Mapping) else None


def arn_region(arn: Any) -> str | None:
    """``arn:aws:dynamodb:REGION:ACCOUNT:table/NAME`` -> REGION."""
    if not isinstance(arn, str):
        return None
    parts = arn.split(":")
    return (parts[3] or None) if len(parts) > 5 else None


def _list(document: Any, key: str) -> list[Mapping[str, Any]]:
    items = document.get(key) if isinstance(document, Mapping) else None
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []
