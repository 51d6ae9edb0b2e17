"""The table capabilities both dialects spell the same way (streams, TTL, point-in-time recovery,
table class, protection, insights, tags, auto scaling, on-demand throughput), their rules, and the
rules on keys, capacity and indexes that each dialect applies to its own field paths.

Problems are ``(loc, message, value)`` with snake_case field names in both ``loc`` and message;
the loader respells them the way the user wrote the manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import Field, model_validator

from planton.manifest.base import (
    AttributeName,
    BillingModeField,
    Loc,
    ManifestModel,
    Metadata,
    Problems,
    Region,
    SnsTopicArn,
    StreamViewTypeField,
    TableClassField,
    TableName,
    bounded,
    describe_value,
    is_kms_key,
    is_path_safe,
    located,
    raise_problems,
    sns_topic_region,
    tag_problems,
)
from planton.table import (
    LATENCY_OPERATIONS,
    MAX_ALARM_NAME,
    MAX_ALARM_WINDOW_SECONDS,
    MAX_CAPACITY_UNITS,
    MAX_GLOBAL_INDEXES,
    MAX_INCLUDED_ATTRIBUTES,
    MAX_LOCAL_INDEXES,
    MAX_TAGS,
    PITR_PERIOD_DAYS,
    SCALING_TARGET_PERCENT,
    Alarms,
    AlarmWindow,
    Attribute,
    AttributeType,
    AutoScaling,
    BillingMode,
    GlobalIndex,
    LocalIndex,
    OnDemandThroughput,
    Projection,
    ProjectionType,
    ResourceIdentity,
    ScalingPolicy,
    TableClass,
    looks_like_region,
)

# ---------------------------------------------------------------------------------------------
# Shared sub-models


class TtlSpec(ManifestModel):
    """Time to live: items expire at the epoch seconds held in ``attribute_name``."""

    enabled: bool = False
    attribute_name: AttributeName | None = None

    def problems(self) -> Problems:
        """The attribute exactly when TTL is on."""
        if self.enabled and not self.attribute_name:
            return [(("attribute_name",), "required when enabled is true", None)]
        if not self.enabled and self.attribute_name:
            return [
                (
                    ("attribute_name",),
                    "set only when enabled is true; set enabled: true or remove attribute_name",
                    self.attribute_name,
                )
            ]
        return []


Units = Annotated[int, bounded(1, MAX_CAPACITY_UNITS)]


class ScalingPolicySpec(ManifestModel):
    """Auto scaling of one capacity dimension."""

    min_capacity: Units
    max_capacity: Units
    target_utilization: Annotated[float, bounded(*SCALING_TARGET_PERCENT)] = 70.0

    def problems(self) -> Problems:
        if self.min_capacity > self.max_capacity:
            return [(("min_capacity",), f"must not exceed max_capacity ({self.max_capacity})", self.min_capacity)]
        return []

    def policy(self) -> ScalingPolicy:
        return ScalingPolicy(self.min_capacity, self.max_capacity, self.target_utilization)


class AutoScalingSpec(ManifestModel):
    """Provisioned auto scaling for reads and/or writes."""

    read: ScalingPolicySpec | None = None
    write: ScalingPolicySpec | None = None

    def problems(self) -> Problems:
        if self.read is None and self.write is None:
            return [((), "give read, write or both; or remove autoscaling", None)]
        problems = located(("read",), self.read.problems()) if self.read else []
        return problems + (located(("write",), self.write.problems()) if self.write else [])

    def scaling(self) -> AutoScaling:
        return AutoScaling(
            read=self.read.policy() if self.read else None, write=self.write.policy() if self.write else None
        )


# A sanity bound (terraform reads these as 64-bit integers; AWS's quotas are far lower).
MAX_REQUEST_UNITS = 2**31 - 1


class OnDemandThroughputSpec(ManifestModel):
    """The most request units per second an on-demand table or index may use."""

    max_read_request_units: Annotated[int, bounded(1, MAX_REQUEST_UNITS)] | None = None
    max_write_request_units: Annotated[int, bounded(1, MAX_REQUEST_UNITS)] | None = None

    def throughput(self) -> OnDemandThroughput | None:
        if self.max_read_request_units is None and self.max_write_request_units is None:
            return None
        return OnDemandThroughput(self.max_read_request_units, self.max_write_request_units)


# ---------------------------------------------------------------------------------------------
# CloudWatch alarms

# DynamoDB publishes its metrics once a minute: a shorter period would find no data to judge.
METRIC_INTERVAL_SECONDS = 60
MAX_EVALUATION_PERIODS = MAX_ALARM_WINDOW_SECONDS // METRIC_INTERVAL_SECONDS
DEFAULT_LATENCY_OPERATIONS = ("GetItem", "PutItem", "Query")

Period = Annotated[int, bounded(METRIC_INTERVAL_SECONDS, MAX_ALARM_WINDOW_SECONDS)]
EvaluationPeriods = Annotated[int, bounded(1, MAX_EVALUATION_PERIODS)]


class _AlarmKindSpec(ManifestModel):
    """What every kind of alarm has: on unless ``enabled: false``; a period of seconds and how
    many consecutive periods must breach (each kind sets its own defaults)."""

    enabled: bool = True
    period: Period
    evaluation_periods: EvaluationPeriods

    def problems(self) -> Problems:
        """A whole number of minutes, at most a day of periods; nothing else set when off."""
        if not self.enabled:
            return [
                ((field,), f"set only when enabled is true; set enabled: true or remove {field}", None)
                for field in sorted(self.model_fields_set - {"enabled"})
            ]
        problems: Problems = []
        if self.period >= METRIC_INTERVAL_SECONDS and self.period % METRIC_INTERVAL_SECONDS:  # (else: too short)
            problems.append(
                (
                    ("period",),
                    f"must be a multiple of {METRIC_INTERVAL_SECONDS} seconds: DynamoDB publishes its metrics "
                    "once a minute (60, 300, 900, ...)",
                    self.period,
                )
            )
        in_range = self.evaluation_periods <= MAX_EVALUATION_PERIODS  # else reported as such
        if in_range and self.period * self.evaluation_periods > MAX_ALARM_WINDOW_SECONDS:
            problems.append(
                (
                    ("evaluation_periods",),
                    f"times period ({self.period} s) is {self.period * self.evaluation_periods} s, and CloudWatch "
                    f"looks back at most {MAX_ALARM_WINDOW_SECONDS} s (a day); use fewer or shorter periods",
                    self.evaluation_periods,
                )
            )
        return problems

    def window(self, threshold: float) -> AlarmWindow | None:
        return AlarmWindow(threshold, self.period, self.evaluation_periods) if self.enabled else None


class ThrottleAlarmSpec(_AlarmKindSpec):
    """ReadThrottleEvents and WriteThrottleEvents (Sum), on the table and each global index: by
    default, any throttling in each of 5 consecutive minutes."""

    threshold: Annotated[float, bounded(0)] = 0
    period: Period = 60
    evaluation_periods: EvaluationPeriods = 5


class SystemErrorsAlarmSpec(_AlarmKindSpec):
    """SystemErrors (Sum, HTTP 500s from DynamoDB) on the table: by default, any in each of 15
    consecutive minutes."""

    threshold: Annotated[float, bounded(0)] = 0
    period: Period = 60
    evaluation_periods: EvaluationPeriods = 15


class LatencyAlarmSpec(_AlarmKindSpec):
    """SuccessfulRequestLatency (Average, milliseconds) for each of ``operations``: by default,
    above 100 ms in each of 10 consecutive minutes."""

    threshold_ms: Annotated[float, bounded(0)] = 100
    period: Period = 60
    evaluation_periods: EvaluationPeriods = 10
    operations: list[str] = Field(default_factory=lambda: list(DEFAULT_LATENCY_OPERATIONS))

    def problems(self) -> Problems:
        problems = super().problems()
        if not self.enabled:
            return problems
        if self.threshold_ms <= 0:
            problems.append((("threshold_ms",), "must be greater than 0 (milliseconds)", self.threshold_ms))
        if not self.operations:
            problems.append(
                (
                    ("operations",),
                    "names no operation; list some (such as GetItem, Query) or set enabled: false",
                    None,
                )
            )
        for position, operation in enumerate(self.operations):
            if operation not in LATENCY_OPERATIONS:
                problems.append(
                    (
                        ("operations", position),
                        f"{describe_value(operation)} is not an operation DynamoDB reports latency for; use "
                        f"{', '.join(LATENCY_OPERATIONS)}",
                        operation,
                    )
                )
            elif operation in self.operations[:position]:
                problems.append((("operations", position), f"{operation} is listed more than once", operation))
        return problems


class CapacityAlarmSpec(_AlarmKindSpec):
    """Consumed capacity as a share of provisioned capacity, reads and writes, on the table and
    each global index (PROVISIONED only): by default, above 80 % in each of 3 consecutive
    5-minute periods."""

    percent: Annotated[float, bounded(1, 100)] = 80
    period: Period = 300
    evaluation_periods: EvaluationPeriods = 3


class AlarmsSpec(ManifestModel):
    """CloudWatch alarms, off unless ``enabled: true`` (which alone turns every kind on, with its
    defaults); ``sns_topic_arn`` is notified when an alarm fires and when it is OK again."""

    enabled: bool = False
    sns_topic_arn: SnsTopicArn | None = None
    throttles: ThrottleAlarmSpec = Field(default_factory=ThrottleAlarmSpec)
    system_errors: SystemErrorsAlarmSpec = Field(default_factory=SystemErrorsAlarmSpec)
    latency: LatencyAlarmSpec = Field(default_factory=LatencyAlarmSpec)
    capacity: CapacityAlarmSpec = Field(default_factory=CapacityAlarmSpec)

    def problems(self, billing_mode: BillingMode, region: str | None) -> Problems:
        """Nothing set while off; each kind's own rules; capacity only when PROVISIONED; the
        topic in the table's region."""
        if not self.enabled:
            return [
                ((field,), f"set only when enabled is true; set enabled: true or remove {field}", None)
                for field in sorted(self.model_fields_set - {"enabled"})
            ]
        problems: Problems = []
        for field in ("throttles", "system_errors", "latency", "capacity"):
            kind: _AlarmKindSpec = getattr(self, field)
            problems += located((field,), kind.problems())
        if (
            "capacity" in self.model_fields_set
            and self.capacity.enabled
            and billing_mode is BillingMode.PAY_PER_REQUEST
        ):
            problems.append(
                (
                    ("capacity",),
                    "only for billing_mode PROVISIONED: an on-demand table has no provisioned capacity to compare "
                    "with (remove capacity, or set enabled: false)",
                    None,
                )
            )
        topic = self.sns_topic_arn
        topic_region = sns_topic_region(topic) if topic else None
        # (Compared only with a region that is one: a malformed region is reported on its own.)
        if region and looks_like_region(region) and topic_region and topic_region != region:
            problems.append(
                (
                    ("sns_topic_arn",),
                    f"is a topic in {topic_region}, and CloudWatch notifies only topics in the alarm's region "
                    f"{region} (the table's); use a topic there",
                    topic,
                )
            )
        return problems

    def alarms(self, billing_mode: BillingMode) -> Alarms | None:
        """The alarms as the table layer keeps them; None when off."""
        if not self.enabled:
            return None
        provisioned = billing_mode is BillingMode.PROVISIONED
        return Alarms(
            sns_topic_arn=self.sns_topic_arn,
            throttles=self.throttles.window(self.throttles.threshold),
            system_errors=self.system_errors.window(self.system_errors.threshold),
            latency=self.latency.window(self.latency.threshold_ms),
            latency_operations=tuple(self.latency.operations) if self.latency.enabled else (),
            capacity=self.capacity.window(self.capacity.percent) if provisioned else None,
        )


def alarm_name_problems(table_name: str, index_names: Sequence[tuple[Loc, str]], alarms: Alarms) -> Problems:
    """CloudWatch's 255-character limit on the alarm names the module derives from the table and
    index names (as alarms.tf spells them): the longest of the table's, and of each index's."""
    problems: Problems = []
    table_names = []
    if alarms.latency is not None:
        table_names += [f"{table_name}/SuccessfulRequestLatency/{op}" for op in alarms.latency_operations]
    for kind, suffix in ((alarms.throttles, "WriteThrottleEvents"), (alarms.capacity, "WriteCapacityUtilization")):
        if kind is not None:
            table_names.append(f"{table_name}/{suffix}")
    longest = max(table_names, key=len, default="")
    if len(longest) > MAX_ALARM_NAME:
        problems.append(
            (
                ("spec", "alarms"),
                f"names an alarm {longest[:40]}..., {len(longest)} characters, and CloudWatch allows "
                f"{MAX_ALARM_NAME}; use a shorter table name",
                None,
            )
        )
    suffix = "WriteCapacityUtilization" if alarms.capacity is not None else "WriteThrottleEvents"
    if alarms.throttles is None and alarms.capacity is None:
        return problems
    for loc, index_name in index_names:
        name = f"{table_name}/index/{index_name}/{suffix}"
        if len(name) > MAX_ALARM_NAME:
            problems.append(
                (
                    (*loc, "name"),
                    f"names an alarm {name[:40]}..., {len(name)} characters, and CloudWatch allows "
                    f"{MAX_ALARM_NAME}; use a shorter table or index name",
                    index_name,
                )
            )
    return problems


# ---------------------------------------------------------------------------------------------
# Rules each dialect applies at its own paths


@dataclass(frozen=True)
class GivenCapacity:
    """A table's or global index's throughput settings as its dialect spells them: the read and
    write units (and where they are written), auto scaling and on-demand maximums."""

    read: int | None
    write: int | None
    autoscaling: AutoScalingSpec | None
    on_demand: OnDemandThroughputSpec | None
    read_loc: Loc
    write_loc: Loc

    def problems(self, billing_mode: BillingMode) -> Problems:
        """Capacity >= 1 exactly when PROVISIONED (unless auto scaling sets that dimension, and
        then within its range), auto scaling only when PROVISIONED, on-demand maximums only when
        PAY_PER_REQUEST."""
        problems: Problems = []
        scaled = (self.autoscaling.read, self.autoscaling.write) if self.autoscaling else (None, None)
        for loc, value, policy in ((self.read_loc, self.read, scaled[0]), (self.write_loc, self.write, scaled[1])):
            if billing_mode is BillingMode.PROVISIONED:
                if policy is not None:
                    # (A range with min above max is reported as such, not against this value.)
                    impossible = policy.min_capacity > policy.max_capacity or not (
                        policy.min_capacity >= 1 and policy.max_capacity <= MAX_CAPACITY_UNITS
                    )  # a range that is itself wrong is reported as such, not against this value
                    in_range = impossible or policy.min_capacity <= (value or 0) <= policy.max_capacity
                    if value and not in_range:
                        problems.append(
                            (
                                loc,
                                f"must lie within auto scaling's {policy.min_capacity}-{policy.max_capacity}, "
                                "or be omitted (auto scaling starts at min_capacity)",
                                value,
                            )
                        )
                elif not value or value < 0:  # -1 too: "0 or more" alone would let 0 look right
                    problems.append((loc, "must be greater than 0 when billing_mode is PROVISIONED", value))
            elif value:
                problems.append(
                    (
                        loc,
                        "must be 0 or omitted when billing_mode is PAY_PER_REQUEST "
                        "(on-demand tables have no provisioned capacity)",
                        value,
                    )
                )
        if self.autoscaling is not None:
            problems += located(("autoscaling",), self.autoscaling.problems())
        if self.autoscaling is not None and billing_mode is not BillingMode.PROVISIONED:
            problems.append(
                (
                    ("autoscaling",),
                    "auto scaling needs billing_mode PROVISIONED; on-demand tables scale by themselves",
                    None,
                )
            )
        if self.on_demand is not None and billing_mode is not BillingMode.PAY_PER_REQUEST:
            problems.append(
                (
                    ("on_demand_throughput",),
                    "only for billing_mode PAY_PER_REQUEST; provisioned capacity already caps throughput",
                    None,
                )
            )
        return problems

    def units(self, billing_mode: BillingMode) -> tuple[int, int]:
        """The read and write units to create with: as given, else auto scaling's minimum; 0
        for an on-demand table."""
        if billing_mode is not BillingMode.PROVISIONED:
            return 0, 0
        scaled = (self.autoscaling.read, self.autoscaling.write) if self.autoscaling else (None, None)
        return (
            self.read or (scaled[0].min_capacity if scaled[0] else 0),
            self.write or (scaled[1].min_capacity if scaled[1] else 0),
        )

    def scaling(self, billing_mode: BillingMode) -> AutoScaling | None:
        provisioned = billing_mode is BillingMode.PROVISIONED
        return self.autoscaling.scaling() if self.autoscaling is not None and provisioned else None

    def on_demand_throughput(self, billing_mode: BillingMode) -> OnDemandThroughput | None:
        on_demand = billing_mode is BillingMode.PAY_PER_REQUEST
        return self.on_demand.throughput() if self.on_demand is not None and on_demand else None


def global_index(
    name: str,
    partition_key: Attribute,
    sort_key: Attribute | None,
    projection: Projection,
    capacity: GivenCapacity,
    billing_mode: BillingMode,
) -> GlobalIndex:
    """A global index as the table layer keeps it, from either dialect's parts."""
    read, write = capacity.units(billing_mode)
    return GlobalIndex(
        name=name,
        partition_key=partition_key,
        sort_key=sort_key,
        projection=projection,
        read_capacity_units=read,
        write_capacity_units=write,
        on_demand_throughput=capacity.on_demand_throughput(billing_mode),
        autoscaling=capacity.scaling(billing_mode),
    )


class _GlobalIndexEntry(Protocol):
    """What both dialects' global index models offer."""

    @property
    def name(self) -> str: ...

    @property
    def autoscaling(self) -> AutoScalingSpec | None: ...

    def capacity(self) -> GivenCapacity: ...


def projection_problems(
    projection: ProjectionType, non_key_attributes: Sequence[str], *, type_loc: Loc, attributes_loc: Loc
) -> Problems:
    """INCLUDE exactly when there are non-key attributes, each named once."""
    if projection is ProjectionType.INCLUDE and not non_key_attributes:
        return [(attributes_loc, "required when the projection is INCLUDE; list the attributes to copy", None)]
    if projection is not ProjectionType.INCLUDE and non_key_attributes:
        return [
            (
                type_loc,
                f"must be INCLUDE to copy non_key_attributes (a {projection.value} projection takes none)",
                projection.value,
            )
        ]
    repeated = sorted({name for name in non_key_attributes if non_key_attributes.count(name) > 1})
    if repeated:
        return [(attributes_loc, f"names {', '.join(repr(name) for name in repeated)} more than once", None)]
    return []


def index_problems(
    global_indexes: Sequence[tuple[Loc, GlobalIndex]],
    local_indexes: Sequence[tuple[Loc, LocalIndex]],
    *,
    table_sort_key: Attribute | None,
    sort_key_field: str,
    global_loc: Loc,
    local_loc: Loc,
    included_loc: Callable[[Loc], Loc],
) -> Problems:
    """Index counts, unique names, LSIs needing a table sort key, the INCLUDE total."""
    problems: Problems = []
    if len(global_indexes) > MAX_GLOBAL_INDEXES:
        problems.append(
            (
                global_loc,
                f"at most {MAX_GLOBAL_INDEXES} global secondary indexes per table; found {len(global_indexes)}",
                None,
            )
        )
    if len(local_indexes) > MAX_LOCAL_INDEXES:
        problems.append(
            (
                local_loc,
                f"at most {MAX_LOCAL_INDEXES} local secondary indexes per table; found {len(local_indexes)}",
                None,
            )
        )
    if local_indexes and table_sort_key is None:
        problems.append(
            (
                local_loc,
                f"local secondary indexes need the table to have a sort key; set {sort_key_field} "
                "or use global_secondary_indexes",
                None,
            )
        )
    first_use: dict[str, Loc] = {}
    included = 0
    indexes: list[tuple[Loc, GlobalIndex | LocalIndex]] = [*global_indexes, *local_indexes]
    for loc, index in indexes:
        if index.name in first_use:
            problems.append(
                (
                    (*loc, "name"),
                    f"{index.name!r} is already the name of {_dotted(first_use[index.name])}; "
                    "index names must be unique across global and local indexes",
                    index.name,
                )
            )
        first_use.setdefault(index.name, loc)
        before = included
        included += len(index.projection.non_key_attributes)
        if before <= MAX_INCLUDED_ATTRIBUTES < included:
            problems.append(
                (
                    included_loc(loc),
                    f"brings the INCLUDE-projected attributes across all indexes to {included}; "
                    f"AWS allows {MAX_INCLUDED_ATTRIBUTES} (an attribute in two indexes counts twice)",
                    None,
                )
            )
    return problems


def kms_problems(key: str | None, *, encrypted: bool, region: str | None, key_loc: Loc, enabled_field: str) -> Problems:
    """A customer-managed key only with encryption on, and in the table's own region."""
    if key is None:
        return []
    if not encrypted:
        return [(key_loc, f"needs {enabled_field}: true (a KMS key is only used for that encryption)", key)]
    parts = key.split(":")
    key_region = parts[3] if key.startswith("arn:") and len(parts) > 5 and is_kms_key(key) else None
    # (Compared only with a region that is one: a malformed region is reported on its own.)
    if region and looks_like_region(region) and key_region and key_region != region:
        return [
            (
                key_loc,
                f"is a key in {key_region}, and DynamoDB needs one in the table's region {region}; use a key "
                "from there (or an alias, looked up in that region)",
                key,
            )
        ]
    return []


def ttl_problems(ttl: TtlSpec | None, key_types: Mapping[str, AttributeType]) -> Problems:
    """TTL reads epoch seconds from a Number: a key attribute of another type would never expire."""
    name = ttl.attribute_name if ttl is not None and ttl.enabled else None
    if name is None or key_types.get(name, AttributeType.NUMBER) is AttributeType.NUMBER:
        return []
    return [
        (
            ("ttl", "attribute_name"),
            f"{name!r} is a key attribute of type {key_types[name].name}, and TTL reads epoch seconds from a "
            "Number: no item would ever expire; use a Number attribute",
            name,
        )
    ]


def _dotted(loc: Loc) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else ("." if i else "") + part for i, part in enumerate(loc))


def attribute_type_problems(keys: Sequence[tuple[Loc, Attribute]]) -> Problems:
    """A key attribute used in several keys must have one type everywhere."""
    problems: Problems = []
    first: dict[str, tuple[Loc, Attribute]] = {}
    for loc, attribute in keys:
        if attribute.name in first and first[attribute.name][1].type is not attribute.type:
            where, earlier = first[attribute.name]
            problems.append(
                (
                    loc,
                    f"{attribute.name!r} is {earlier.type.name} at {_dotted(where)}; "
                    "an attribute has one type in every key",
                    attribute.type.name,
                )
            )
        first.setdefault(attribute.name, (loc, attribute))
    return problems


# ---------------------------------------------------------------------------------------------
# The spec fields both dialects share


class CommonSpec(ManifestModel):
    """Fields spelled the same in both dialects; each dialect's spec extends this."""

    table_name: TableName | None = None
    aws_region: Region | None = None
    billing_mode: BillingModeField = BillingMode.PAY_PER_REQUEST
    stream_enabled: bool = False
    stream_view_type: StreamViewTypeField | None = None
    point_in_time_recovery_enabled: bool = False
    point_in_time_recovery_period_days: Annotated[int, bounded(*PITR_PERIOD_DAYS)] | None = None
    ttl: TtlSpec | None = None
    table_class: TableClassField = TableClass.STANDARD
    deletion_protection_enabled: bool = False
    contributor_insights_enabled: bool = False
    tags: dict[str, str] = Field(default_factory=dict)
    autoscaling: AutoScalingSpec | None = None
    on_demand_throughput: OnDemandThroughputSpec | None = None
    alarms: AlarmsSpec | None = None

    def common_problems(self) -> Problems:
        """The rules among the shared fields (each dialect's validator calls this)."""
        problems: Problems = located(("tags",), tag_problems(self.tags, what="tag"))
        if self.ttl is not None:
            problems += located(("ttl",), self.ttl.problems())
        if self.stream_enabled and self.stream_view_type is None:
            problems.append(
                (
                    ("stream_view_type",),
                    "required when stream_enabled is true; use KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or NEW_AND_OLD_IMAGES",
                    None,
                )
            )
        if not self.stream_enabled and self.stream_view_type is not None:
            problems.append(
                (
                    ("stream_view_type",),
                    "set only when stream_enabled is true; set stream_enabled: true or remove stream_view_type",
                    self.stream_view_type.value,
                )
            )
        if self.point_in_time_recovery_period_days is not None and not self.point_in_time_recovery_enabled:
            problems.append(
                (
                    ("point_in_time_recovery_period_days",),
                    "set only when point_in_time_recovery_enabled is true",
                    self.point_in_time_recovery_period_days,
                )
            )
        if self.alarms is not None:
            problems += located(("alarms",), self.alarms.problems(self.billing_mode, self.aws_region))
        return problems

    def capacity(self) -> GivenCapacity:
        """The table's throughput settings, as the dialect spells them."""
        raise NotImplementedError

    def global_index_entries(self) -> Sequence[_GlobalIndexEntry]:
        """The dialect's ``global_secondary_indexes``."""
        raise NotImplementedError

    def capacity_problems(self) -> Problems:
        """The capacity rules for the table and each global index."""
        problems = self.capacity().problems(self.billing_mode)
        for position, index in enumerate(self.global_index_entries()):
            problems += located(("global_secondary_indexes", position), index.capacity().problems(self.billing_mode))
        return problems

    def scaled_indexes(self) -> list[tuple[Loc, str, AutoScalingSpec]]:
        """(loc, name, scaling) of each global index with auto scaling."""
        return [
            (("global_secondary_indexes", position), index.name, index.autoscaling)
            for position, index in enumerate(self.global_index_entries())
            if index.autoscaling is not None
        ]

    def common_table_fields(self) -> dict[str, Any]:
        """The ``TableDefinition`` fields that come from the shared part of the spec."""
        capacity = self.capacity()
        read, write = capacity.units(self.billing_mode)
        return {
            "read_capacity_units": read,
            "write_capacity_units": write,
            "aws_region": self.aws_region,
            "billing_mode": self.billing_mode,
            "point_in_time_recovery_enabled": self.point_in_time_recovery_enabled,
            "point_in_time_recovery_period_days": self.point_in_time_recovery_period_days,
            "ttl_attribute": self.ttl.attribute_name if self.ttl is not None and self.ttl.enabled else None,
            "stream_view_type": self.stream_view_type if self.stream_enabled else None,
            "table_class": self.table_class,
            "deletion_protection_enabled": self.deletion_protection_enabled,
            "contributor_insights_enabled": self.contributor_insights_enabled,
            "tags": dict(self.tags),
            "autoscaling": capacity.scaling(self.billing_mode),
            "on_demand_throughput": capacity.on_demand_throughput(self.billing_mode),
            "alarms": self.alarms.alarms(self.billing_mode) if self.alarms is not None else None,
        }


MIN_TABLE_NAME = 3
MAX_POLICY_NAME = 255  # Application Auto Scaling policy names


class ManifestEnvelope(ManifestModel):
    """``apiVersion``, ``kind`` and ``metadata``; each dialect adds its ``spec``."""

    api_version: Literal["aws.project-planton.org/v1"]
    kind: Literal["AwsDynamodb"]
    metadata: Metadata

    @model_validator(mode="after")
    def _sections_agree(self) -> ManifestEnvelope:
        spec = getattr(self, "spec", None)
        problems = self._tag_problems(spec.tags if isinstance(spec, CommonSpec) else {})
        if isinstance(spec, CommonSpec):
            problems += self._derived_name_problems(spec)
        raise_problems("AwsDynamodb", problems)
        return self

    def _tag_problems(self, spec_tags: Mapping[str, str]) -> Problems:
        labels = self.metadata.tag_labels
        problems: Problems = []
        for key in sorted(set(labels) & set(spec_tags)):
            problems.append(
                (("spec", "tags", key), f"is also set by metadata.labels.{key}; keep one of them", spec_tags[key])
            )
        # Name, ManagedBy and PlantonManifest always; Environment and Organization when metadata
        # sets them.
        ours = 3 + (self.metadata.env is not None) + (self.metadata.org is not None)
        room = MAX_TAGS - ours
        if len(labels) + len(spec_tags) > room:
            where: Loc = ("spec", "tags") if spec_tags else ("metadata", "labels")
            given = "labels" if not spec_tags else "labels and spec.tags together"
            problems.append(
                (
                    where,
                    f"AWS allows {MAX_TAGS} tags per table and planton sets {ours} here; use at most {room} {given}",
                    len(labels) + len(spec_tags),
                )
            )
        return problems

    def _derived_name_problems(self, spec: CommonSpec) -> Problems:
        """Names AWS derives from the table name: the table's own (from metadata.name when
        spec.table_name is not set) and each auto scaling policy's."""
        problems: Problems = []
        table_name = spec.table_name or self.metadata.name
        # (A name that breaks its own rule is reported as such.)
        if spec.table_name is None and is_path_safe(table_name) and len(table_name) < MIN_TABLE_NAME:
            problems.append(
                (
                    ("metadata", "name"),
                    f"names the table too (spec.table_name is not set), and DynamoDB table names need "
                    f"{MIN_TABLE_NAME}-255 characters; lengthen it or set spec.table_name",
                    table_name,
                )
            )
        alarms = spec.alarms.alarms(spec.billing_mode) if spec.alarms is not None else None
        if alarms is not None:
            problems += alarm_name_problems(
                table_name,
                [
                    (("spec", "global_secondary_indexes", position), index.name)
                    for position, index in enumerate(spec.global_index_entries())
                ],
                alarms,
            )
        scaled: list[tuple[Loc, str, AutoScalingSpec]] = []
        if spec.autoscaling is not None:
            scaled.append((("spec", "autoscaling"), f"table/{table_name}", spec.autoscaling))
        for loc, index_name, scaling in spec.scaled_indexes():
            scaled.append((("spec", *loc, "autoscaling"), f"table/{table_name}/index/{index_name}", scaling))
        for loc, resource, scaling in scaled:
            dimensions = [name for name, policy in (("Write", scaling.write), ("Read", scaling.read)) if policy]
            if not dimensions:
                continue
            policy = f"DynamoDB{dimensions[0]}CapacityUtilization:{resource}"  # the longest one in use
            if len(policy) > MAX_POLICY_NAME:
                problems.append(
                    (
                        loc,
                        f"names its scaling policy {policy[:40]}..., {len(policy)} characters, and AWS allows "
                        f"{MAX_POLICY_NAME}; use a shorter table or index name",
                        None,
                    )
                )
        return problems


def identity_of(manifest: ManifestEnvelope) -> ResourceIdentity:
    """The manifest's metadata as the table layer keeps it."""
    metadata = manifest.metadata
    return ResourceIdentity(
        name=metadata.name,
        id=metadata.id,
        org=metadata.org,
        env=metadata.env,
        labels=dict(metadata.labels),
        annotations=dict(metadata.annotations),
        tags=tuple(metadata.tags),
    )
