"""The one internal description of a table, whichever manifest dialect it came from.

Rendering, plans and (later) summaries read this, never the manifest models directly, so a new
dialect only needs a function that builds a ``TableDefinition``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
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


class KeyType(StrEnum):
    """A key schema element's role: partition (HASH) or sort (RANGE) key."""

    HASH = "HASH"
    RANGE = "RANGE"


class ProjectionType(StrEnum):
    """Which attributes an index copies from the table."""

    ALL = "ALL"
    KEYS_ONLY = "KEYS_ONLY"
    INCLUDE = "INCLUDE"


class StreamViewType(StrEnum):
    """What a stream record holds."""

    KEYS_ONLY = "KEYS_ONLY"
    NEW_IMAGE = "NEW_IMAGE"
    OLD_IMAGE = "OLD_IMAGE"
    NEW_AND_OLD_IMAGES = "NEW_AND_OLD_IMAGES"


class TableClass(StrEnum):
    """The table's storage class."""

    STANDARD = "STANDARD"
    STANDARD_INFREQUENT_ACCESS = "STANDARD_INFREQUENT_ACCESS"


# DynamoDB's limits (AWS developer guide, service quotas), shared by every dialect's rules.
MAX_GLOBAL_INDEXES = 20
MAX_LOCAL_INDEXES = 5
MAX_INCLUDED_ATTRIBUTES = 100
MAX_CAPACITY_UNITS = 40_000
MAX_TAGS = 50
PITR_PERIOD_DAYS = (1, 35)
SCALING_TARGET_PERCENT = (20, 90)
# CloudWatch: an alarm name is at most 255 characters, and an alarm looks back at most a day
# (period x evaluation periods).
MAX_ALARM_NAME = 255
MAX_ALARM_WINDOW_SECONDS = 86_400
# The operations DynamoDB reports SuccessfulRequestLatency for by table (its Operation dimension;
# a stream's GetRecords is reported by stream, so it is not one).
LATENCY_OPERATIONS = (
    "BatchExecuteStatement",
    "BatchGetItem",
    "BatchWriteItem",
    "DeleteItem",
    "ExecuteStatement",
    "ExecuteTransaction",
    "GetItem",
    "PutItem",
    "Query",
    "Scan",
    "TransactGetItems",
    "TransactWriteItems",
    "UpdateItem",
)


# Label keys that steer planton (terraform.project-planton.org/backend.type, ...): never tags.
_STEERING_LABEL = re.compile(r"([a-z0-9-]+\.)*project-planton\.org/.*")


def is_steering_label(key: str) -> bool:
    """True for label keys such as ``terraform.project-planton.org/backend.type``."""
    return bool(_STEERING_LABEL.fullmatch(key))


def looks_like_region(value: str) -> bool:
    """True for strings shaped like an AWS region code (us-east-1, us-gov-west-1, ...)."""
    return bool(_REGION.fullmatch(value))


@dataclass(frozen=True)
class Attribute:
    """An attribute that is part of a key schema."""

    name: str
    type: AttributeType


@dataclass(frozen=True)
class Projection:
    """The attributes an index copies: ``non_key_attributes`` only with INCLUDE."""

    type: ProjectionType = ProjectionType.ALL
    non_key_attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScalingPolicy:
    """Target tracking for one capacity dimension: ``min``..``max`` units at ``target`` % use."""

    min_capacity: int
    max_capacity: int
    target_utilization: float = 70.0


@dataclass(frozen=True)
class AutoScaling:
    """Provisioned auto scaling of reads and/or writes (table or one GSI)."""

    read: ScalingPolicy | None = None
    write: ScalingPolicy | None = None


@dataclass(frozen=True)
class OnDemandThroughput:
    """The most request units an on-demand table or GSI may use per second (None: unlimited)."""

    max_read_request_units: int | None = None
    max_write_request_units: int | None = None


@dataclass(frozen=True)
class AlarmWindow:
    """When one kind of alarm fires: above ``threshold`` in each of ``evaluation_periods``
    consecutive periods of ``period`` seconds."""

    threshold: float
    period: int
    evaluation_periods: int


@dataclass(frozen=True)
class Alarms:
    """CloudWatch alarms on the table and each global index; a kind that is None is off.

    ``throttles``: ReadThrottleEvents and WriteThrottleEvents (Sum), table and each index;
    ``system_errors``: SystemErrors (Sum) of the table; ``latency``: SuccessfulRequestLatency
    (Average, threshold in milliseconds) for each of ``latency_operations``; ``capacity``:
    consumed capacity as a percentage of provisioned capacity (PROVISIONED tables only), table
    and each index, reads and writes. ``sns_topic_arn`` is notified on ALARM and on OK."""

    sns_topic_arn: str | None = None
    throttles: AlarmWindow | None = None
    system_errors: AlarmWindow | None = None
    latency: AlarmWindow | None = None
    latency_operations: tuple[str, ...] = ()
    capacity: AlarmWindow | None = None


@dataclass(frozen=True)
class GlobalIndex:
    """A global secondary index."""

    name: str
    partition_key: Attribute
    sort_key: Attribute | None = None
    projection: Projection = Projection()
    read_capacity_units: int = 0
    write_capacity_units: int = 0
    on_demand_throughput: OnDemandThroughput | None = None
    autoscaling: AutoScaling | None = None

    @property
    def keys(self) -> tuple[Attribute, ...]:
        return tuple(key for key in (self.partition_key, self.sort_key) if key is not None)


@dataclass(frozen=True)
class LocalIndex:
    """A local secondary index: the table's partition key with another sort key."""

    name: str
    sort_key: Attribute
    projection: Projection = Projection()


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

    @property
    def key(self) -> str:
        """``metadata.name``, plus a short hash when org, env or id tell two same-named tables
        apart: the manifest's workspace, and its table's PlantonManifest tag."""
        if not (self.org or self.env or self.id):
            return self.name
        qualifier = "\0".join(part or "" for part in (self.org, self.env, self.id))
        return f"{self.name}-{hashlib.sha256(qualifier.encode()).hexdigest()[:10]}"


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
    # A customer-managed KMS key (ARN, key id, alias or alias ARN); None: the AWS managed key.
    kms_key: str | None = None
    point_in_time_recovery_period_days: int | None = None
    global_indexes: tuple[GlobalIndex, ...] = ()
    local_indexes: tuple[LocalIndex, ...] = ()
    ttl_attribute: str | None = None  # TTL is on exactly when this is set
    stream_view_type: StreamViewType | None = None  # the stream is on exactly when this is set
    table_class: TableClass = TableClass.STANDARD
    deletion_protection_enabled: bool = False
    contributor_insights_enabled: bool = False
    tags: Mapping[str, str] = field(default_factory=dict)  # spec.tags, beside the labels
    autoscaling: AutoScaling | None = None
    on_demand_throughput: OnDemandThroughput | None = None
    alarms: Alarms | None = None  # None: no alarms

    @property
    def attributes(self) -> tuple[Attribute, ...]:
        """Every attribute a key (table or index) refers to, each once, table keys first."""
        keys: list[Attribute] = [self.partition_key]
        keys += [self.sort_key] if self.sort_key else []
        keys += [key for index in self.global_indexes for key in index.keys]
        keys += [index.sort_key for index in self.local_indexes]
        return tuple(dict.fromkeys(keys))


def in_canonical_order(table: TableDefinition) -> TableDefinition:
    """``table`` with every list whose order means nothing to AWS sorted: the global and the
    local indexes by name, each index's non-key attributes, and ``metadata.tags``. Manifests that
    differ only in such order then render the same variables, and plan the same table (the order
    of local indexes and of their non-key attributes would otherwise reach the plan: see
    ``guards.keep_recorded_order`` for tables recorded in another order)."""
    return replace(
        table,
        identity=replace(table.identity, tags=tuple(sorted(table.identity.tags))),
        global_indexes=tuple(
            replace(index, projection=_sorted_projection(index.projection))
            for index in sorted(table.global_indexes, key=lambda index: index.name)
        ),
        local_indexes=tuple(
            replace(index, projection=_sorted_projection(index.projection))
            for index in sorted(table.local_indexes, key=lambda index: index.name)
        ),
    )


def _sorted_projection(projection: Projection) -> Projection:
    return replace(projection, non_key_attributes=tuple(sorted(projection.non_key_attributes)))
