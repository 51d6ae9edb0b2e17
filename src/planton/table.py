"""The one internal description of a table, whichever manifest dialect it came from.

Rendering, plans and (later) summaries read this, never the manifest models directly, so a new
dialect only needs a function that builds a ``TableDefinition``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}")


class BillingMode(StrEnum):
    """How DynamoDB bills the table, as AWS spells it."""

    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


class AttributeType(StrEnum):
    """A key attribute's scalar type, as AWS spells it."""

    STRING = "S"
    NUMBER = "N"
    BINARY = "B"


def looks_like_region(value: str) -> bool:
    """True for strings shaped like an AWS region code (us-east-1, us-gov-west-1, ...)."""
    return bool(_REGION.fullmatch(value))


@dataclass(frozen=True)
class Attribute:
    """An attribute that is part of a key schema."""

    name: str
    type: AttributeType


@dataclass(frozen=True)
class ResourceIdentity:
    """The manifest's metadata: who the table belongs to and how it is labelled."""

    name: str
    id: str | None = None
    org: str | None = None
    env: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableDefinition:
    """A DynamoDB table as planton will ask terraform to build it."""

    identity: ResourceIdentity
    table_name: str
    aws_region: str | None
    billing_mode: BillingMode
    partition_key: Attribute
    sort_key: Attribute | None
    read_capacity_units: int
    write_capacity_units: int
    point_in_time_recovery_enabled: bool
    server_side_encryption_enabled: bool

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        """Every attribute a key refers to, each once, partition key first."""
        keys = (self.partition_key, self.sort_key)
        return tuple(key for key in keys if key is not None)
