"""Every validation rule of issue 7, with its exact path and message, in both dialects (the flat
seed form and the current keySchema form) and in both spellings (snake_case and camelCase)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from planton.errors import ManifestError
from planton.manifest.base import API_VERSION, KIND, snake_to_camel
from planton.manifest.keyschema import KeySchemaManifest
from planton.manifest.loader import validate_document
from planton.manifest.normalise import table_from_manifest
from planton.manifest.seed import SeedManifest

SOURCE = "m.yaml"
# Maps whose keys are the user's own (tag keys), never field names.
_USER_KEYED = {"tags", "labels"}


def _fields(model: Any, seen: set[Any] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for inner in _models(field.annotation):
            if inner not in seen:
                names |= _fields(inner, seen)
    return names


def _models(annotation: Any) -> list[Any]:
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [inner for argument in get_args(annotation) for inner in _models(argument)]


FIELDS = _fields(SeedManifest) | _fields(KeySchemaManifest)


def camel(value: Any) -> Any:
    """A document with every field name in camelCase (user-keyed maps left alone)."""
    if isinstance(value, dict):
        return {snake_to_camel(k): (v if k in _USER_KEYED else camel(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [camel(item) for item in value]
    return value


def camel_line(line: str) -> str:
    """An expected problem line as it reads for a camelCase manifest."""
    return re.sub(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+", lambda m: snake_to_camel(m[0]) if m[0] in FIELDS else m[0], line)


def flat(**spec: Any) -> dict[str, Any]:
    """A flat-dialect manifest (snake_case) with ``spec`` merged into a minimal valid one."""
    base = {"aws_region": "us-east-1", "partition_key_name": "pk", "partition_key_type": "S"}
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "orders"}, "spec": {**base, **spec}}


def current(**spec: Any) -> dict[str, Any]:
    """A keySchema-dialect manifest (snake_case) with ``spec`` merged into a minimal valid one."""
    base = {
        "aws_region": "us-east-1",
        "attribute_definitions": [{"name": "pk", "type": "S"}],
        "key_schema": [{"attribute_name": "pk", "key_type": "HASH"}],
    }
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "orders"}, "spec": {**base, **spec}}


def problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(ManifestError) as excinfo:
        validate_document(document, SOURCE)
    return excinfo.value.problems


def assert_problems(document: dict[str, Any], expected: list[str]) -> None:
    """``expected`` (snake_case) for the document as given, and camelCased for its camel twin."""
    assert problems(document) == expected
    assert problems(camel(document)) == [camel_line(line) for line in expected]


# ---------------------------------------------------------------------------------------------
# Rules on the shared fields: the same in both dialects


SHARED_CASES = [
    pytest.param(
        {"stream_enabled": True},
        [
            "spec.stream_view_type: required when stream_enabled is true; use KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or "
            "NEW_AND_OLD_IMAGES"
        ],
        id="stream-without-view-type",
    ),
    pytest.param(
        {"stream_view_type": "NEW_IMAGE"},
        [
            "spec.stream_view_type: set only when stream_enabled is true; set stream_enabled: true or remove "
            "stream_view_type"
        ],
        id="view-type-without-stream",
    ),
    pytest.param(
        {"stream_enabled": True, "stream_view_type": "ALL_IMAGES"},
        [
            "spec.stream_view_type: 'ALL_IMAGES' is not a stream view type; use KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or "
            "NEW_AND_OLD_IMAGES"
        ],
        id="bad-view-type",
    ),
    pytest.param(
        {"ttl": {"enabled": True}},
        ["spec.ttl.attribute_name: required when enabled is true"],
        id="ttl-without-attribute",
    ),
    pytest.param(
        {"ttl": {"attribute_name": "expires_at"}},
        ["spec.ttl.attribute_name: set only when enabled is true; set enabled: true or remove attribute_name"],
        id="ttl-attribute-without-enabled",
    ),
    pytest.param(
        {"point_in_time_recovery_enabled": True, "point_in_time_recovery_period_days": 0},
        ["spec.point_in_time_recovery_period_days: must be 1 or more"],
        id="pitr-period-0",
    ),
    pytest.param(
        {"point_in_time_recovery_enabled": True, "point_in_time_recovery_period_days": 36},
        ["spec.point_in_time_recovery_period_days: must be 35 or less"],
        id="pitr-period-36",
    ),
    pytest.param(
        {"point_in_time_recovery_period_days": 7},
        ["spec.point_in_time_recovery_period_days: set only when point_in_time_recovery_enabled is true"],
        id="pitr-period-without-pitr",
    ),
    pytest.param(
        {"table_class": "GLACIER"},
        ["spec.table_class: 'GLACIER' is not a table class; use STANDARD or STANDARD_INFREQUENT_ACCESS"],
        id="bad-table-class",
    ),
    pytest.param(
        {"tags": {"aws:created-by": "me"}},
        ["spec.tags.aws:created-by: tag keys starting with 'aws:' are reserved by AWS; rename the tag"],
        id="tag-aws-prefix",
    ),
    pytest.param(
        {"tags": {"ManagedBy": "me"}},
        ["spec.tags.ManagedBy: planton sets the ManagedBy tag from planton; remove this tag or rename it"],
        id="tag-reserved",
    ),
    pytest.param(
        {"tags": {"k" * 129: "v"}},
        [f"spec.tags.{'k' * 129}: tag key must be 1-128 characters"],
        id="tag-key-129",
    ),
    pytest.param(
        {"tags": {"team": "a#b"}},
        ["spec.tags.team: tag value 'a#b' may only use letters, digits, spaces and _ . : / = + - @"],
        id="tag-value-char",
    ),
    pytest.param(
        {"tags": {f"t{i}": "v" for i in range(48)}},
        [
            "spec.tags: AWS allows 50 tags per table and planton sets 3 here; use at most 47 labels and "
            "spec.tags together"
        ],
        id="48-tags",
    ),
    pytest.param(
        {"on_demand_throughput": {"max_read_request_units": 0}},
        ["spec.on_demand_throughput.max_read_request_units: must be 1 or more"],
        id="on-demand-0",
    ),
    pytest.param(
        {"billing_mode": "PROVISIONED", "on_demand_throughput": {"max_read_request_units": 10}},
        [
            "spec.on_demand_throughput: only for billing_mode PAY_PER_REQUEST; provisioned capacity already caps "
            "throughput"
        ],
        id="on-demand-under-provisioned",
    ),
    pytest.param(
        {"autoscaling": {"read": {"min_capacity": 5, "max_capacity": 10}}},
        ["spec.autoscaling: auto scaling needs billing_mode PROVISIONED; on-demand tables scale by themselves"],
        id="autoscaling-on-demand",
    ),
    pytest.param(
        {"billing_mode": "PROVISIONED", "autoscaling": {"read": {"min_capacity": 20, "max_capacity": 10}}},
        ["spec.autoscaling.read.min_capacity: must not exceed max_capacity (10)"],
        id="autoscaling-min-above-max",
    ),
    pytest.param(
        {"billing_mode": "PROVISIONED", "autoscaling": {}},
        ["spec.autoscaling: give read, write or both; or remove autoscaling"],
        id="autoscaling-empty",
    ),
    pytest.param(
        {
            "billing_mode": "PROVISIONED",
            "autoscaling": {"read": {"min_capacity": 1, "max_capacity": 10, "target_utilization": 95}},
        },
        ["spec.autoscaling.read.target_utilization: must be 90 or less"],
        id="autoscaling-target-95",
    ),
    pytest.param(
        {
            "billing_mode": "PROVISIONED",
            "autoscaling": {"write": {"min_capacity": 1, "max_capacity": 10, "target_utilization": 10}},
        },
        ["spec.autoscaling.write.target_utilization: must be 20 or more"],
        id="autoscaling-target-10",
    ),
    pytest.param(
        {"billing_mode": "PROVISIONED", "autoscaling": {"write": {"min_capacity": 0, "max_capacity": 40001}}},
        [
            "spec.autoscaling.write.min_capacity: must be 1 or more",
            "spec.autoscaling.write.max_capacity: must be 40000 or less",
        ],
        id="autoscaling-bounds",
    ),
]

TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"
SHARED_CASES += [
    pytest.param(
        {"alarms": {"sns_topic_arn": TOPIC, "latency": {"threshold_ms": 20}}},
        [
            "spec.alarms.latency: set only when enabled is true; set enabled: true or remove latency",
            "spec.alarms.sns_topic_arn: set only when enabled is true; set enabled: true or remove sns_topic_arn",
        ],
        id="alarm-settings-while-alarms-are-off",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "system_errors": {"enabled": False, "evaluation_periods": 3}}},
        [
            "spec.alarms.system_errors.evaluation_periods: set only when enabled is true; set enabled: true or "
            "remove evaluation_periods"
        ],
        id="alarm-kind-settings-while-it-is-off",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "sns_topic_arn": "arn:aws:sqs:us-east-1:123456789012:oncall"}},
        [
            "spec.alarms.sns_topic_arn: 'arn:aws:sqs:us-east-1:123456789012:oncall' is not an SNS topic ARN; use "
            "arn:aws:sns:REGION:ACCOUNT:NAME (a standard topic: its name 1-256 letters, digits, '-' and '_'; "
            "CloudWatch cannot notify a FIFO topic)"
        ],
        id="alarm-topic-not-an-sns-arn",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:oncall"}},
        [
            "spec.alarms.sns_topic_arn: is a topic in eu-west-1, and CloudWatch notifies only topics in the "
            "alarm's region us-east-1 (the table's); use a topic there"
        ],
        id="alarm-topic-in-another-region",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "throttles": {"period": 90, "threshold": -1}, "system_errors": {"period": 30}}},
        [
            "spec.alarms.throttles.threshold: must be 0 or more",
            "spec.alarms.system_errors.period: must be 60 or more",
            "spec.alarms.throttles.period: must be a multiple of 60 seconds: DynamoDB publishes its metrics once a "
            "minute (60, 300, 900, ...)",
        ],
        id="alarm-periods-and-thresholds",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "latency": {"period": 3600, "evaluation_periods": 25}}},
        [
            "spec.alarms.latency.evaluation_periods: times period (3600 s) is 90000 s, and CloudWatch looks back "
            "at most 86400 s (a day); use fewer or shorter periods"
        ],
        id="alarm-window-longer-than-a-day",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "latency": {"threshold_ms": 0, "operations": ["GetItem", "Get", "GetItem"]}}},
        [
            "spec.alarms.latency.threshold_ms: must be greater than 0 (milliseconds)",
            "spec.alarms.latency.operations[1]: 'Get' is not an operation DynamoDB reports latency for; use "
            "BatchExecuteStatement, BatchGetItem, BatchWriteItem, DeleteItem, ExecuteStatement, ExecuteTransaction, "
            "GetItem, PutItem, Query, Scan, TransactGetItems, TransactWriteItems, UpdateItem",
            "spec.alarms.latency.operations[2]: GetItem is listed more than once",
        ],
        id="alarm-latency-operations",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "latency": {"operations": []}}},
        [
            "spec.alarms.latency.operations: names no operation; list some (such as GetItem, Query) or set "
            "enabled: false"
        ],
        id="alarm-latency-without-operations",
    ),
    pytest.param(
        {"alarms": {"enabled": True, "capacity": {"percent": 50}}},
        [
            "spec.alarms.capacity: only for billing_mode PROVISIONED: an on-demand table has no provisioned "
            "capacity to compare with (remove capacity, or set enabled: false)"
        ],
        id="alarm-capacity-on-demand",
    ),
    pytest.param(
        {"billing_mode": "PROVISIONED", "alarms": {"enabled": True, "capacity": {"percent": 0}}},
        ["spec.alarms.capacity.percent: must be 1 or more"],
        id="alarm-capacity-percent",
    ),
    pytest.param(
        {"table_name": "t" * 230, "alarms": {"enabled": True}},
        [
            f"spec.alarms: names an alarm {'t' * 40}..., 263 characters, and CloudWatch allows 255; use a "
            "shorter table name"
        ],
        id="alarm-name-too-long",
    ),
]


def _capacity(dialect: str, read: int, write: int) -> dict[str, Any]:
    if dialect == "flat":
        return {"read_capacity_units": read, "write_capacity_units": write}
    return {"provisioned_throughput": {"read_capacity_units": read, "write_capacity_units": write}}


@pytest.mark.parametrize("dialect", ["flat", "current"])
@pytest.mark.parametrize(("spec", "expected"), SHARED_CASES)
def test_shared_rules(dialect: str, spec: dict[str, Any], expected: list[str]) -> None:
    """The spec's provisioned capacity, when it needs one, is given in the dialect's own fields."""
    build = flat if dialect == "flat" else current
    if spec.get("billing_mode") == "PROVISIONED":
        spec = {**_capacity(dialect, 5, 5), **spec}
    assert_problems(build(**spec), expected)


def test_labels_and_tags_share_the_limit_and_may_not_repeat_a_key() -> None:
    document = flat(tags={"team": "b"})
    document["metadata"]["labels"] = {"team": "a", **{f"l{i}": "v" for i in range(46)}}
    assert problems(document) == [
        "spec.tags.team: is also set by metadata.labels.team; keep one of them",
        "spec.tags: AWS allows 50 tags per table and planton sets 3 here; use at most 47 labels and spec.tags together",
    ]


def test_steering_labels_are_not_tags() -> None:
    document = current()
    labels = {"terraform.project-planton.org/backend.type": "s3", **{f"l{i}": "v" for i in range(46)}}
    document["metadata"]["labels"] = labels
    table = table_from_manifest(validate_document(document, SOURCE))
    assert dict(table.identity.labels) == labels  # kept (the module leaves steering labels off the tags)


# ---------------------------------------------------------------------------------------------
# Capacity, in each dialect's own fields


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            flat(billing_mode="PROVISIONED", read_capacity_units=40001, write_capacity_units=1),
            ["spec.read_capacity_units: must be 40000 or less"],
            id="flat-40001",
        ),
        pytest.param(
            current(
                billing_mode="PROVISIONED",
                provisioned_throughput={"read_capacity_units": 1, "write_capacity_units": 40001},
            ),
            ["spec.provisioned_throughput.write_capacity_units: must be 40000 or less"],
            id="current-40001",
        ),
        pytest.param(
            current(billing_mode="PROVISIONED"),
            [
                "spec.provisioned_throughput.read_capacity_units: must be greater than 0 when billing_mode is "
                "PROVISIONED",
                "spec.provisioned_throughput.write_capacity_units: must be greater than 0 when billing_mode is "
                "PROVISIONED",
            ],
            id="current-provisioned-without-throughput",
        ),
        pytest.param(
            current(provisioned_throughput={"read_capacity_units": 5, "write_capacity_units": 0}),
            [
                "spec.provisioned_throughput.read_capacity_units: must be 0 or omitted when billing_mode is "
                "PAY_PER_REQUEST (on-demand tables have no provisioned capacity)"
            ],
            id="current-capacity-on-demand",
        ),
        pytest.param(
            flat(
                billing_mode="PROVISIONED",
                read_capacity_units=500,
                write_capacity_units=5,
                autoscaling={"read": {"min_capacity": 5, "max_capacity": 100}},
            ),
            [
                "spec.read_capacity_units: must lie within auto scaling's 5-100, or be omitted (auto scaling starts "
                "at min_capacity)"
            ],
            id="flat-capacity-outside-scaling",
        ),
    ],
)
def test_capacity_rules(document: dict[str, Any], expected: list[str]) -> None:
    assert_problems(document, expected)


def test_provisioned_capacity_may_be_left_to_auto_scaling() -> None:
    document = current(
        billing_mode="PROVISIONED",
        autoscaling={"read": {"min_capacity": 3, "max_capacity": 9}, "write": {"min_capacity": 4, "max_capacity": 9}},
    )
    table = table_from_manifest(validate_document(document, SOURCE))
    assert (table.read_capacity_units, table.write_capacity_units) == (3, 4)


# ---------------------------------------------------------------------------------------------
# The keySchema dialect's own rules


def _defs(*names: str, kind: str = "S") -> list[dict[str, str]]:
    return [{"name": name, "type": kind} for name in names]


def _keys(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"attribute_name": name, "key_type": kind} for name, kind in pairs]


def _gsi(name: str, *pairs: tuple[str, str], **more: Any) -> dict[str, Any]:
    return {"name": name, "key_schema": _keys(*pairs), **more}


KEY_SCHEMA_CASES = [
    pytest.param(
        {"key_schema": _keys(("pk", "HASH"), ("sk", "RANGE"))},
        ["spec.key_schema[1].attribute_name: 'sk' is not in attribute_definitions; add it with its type (S, N or B)"],
        id="undefined-key",
    ),
    pytest.param(
        {"attribute_definitions": _defs("pk", "extra")},
        [
            "spec.attribute_definitions[1]: 'extra' is not used by any key schema (table or index); remove it, "
            "DynamoDB only takes definitions of key attributes"
        ],
        id="unused-definition",
    ),
    pytest.param(
        {"attribute_definitions": [*_defs("pk"), {"name": "pk", "type": "N"}]},
        ["spec.attribute_definitions[1].name: 'pk' is already defined at attribute_definitions[0]"],
        id="definition-twice",
    ),
    pytest.param(
        {"attribute_definitions": _defs("pk", "sk"), "key_schema": _keys(("pk", "HASH"), ("sk", "HASH"))},
        ["spec.key_schema: needs exactly one HASH element (the partition key); found 2"],
        id="two-hash",
    ),
    pytest.param(
        {"key_schema": _keys(("pk", "RANGE"))},
        ["spec.key_schema: needs exactly one HASH element (the partition key); found 0"],
        id="no-hash",
    ),
    pytest.param(
        {
            "attribute_definitions": _defs("pk", "a", "b"),
            "key_schema": _keys(("pk", "HASH"), ("a", "RANGE"), ("b", "RANGE")),
        },
        ["spec.key_schema: takes at most one RANGE element (the sort key); found 2"],
        id="two-range",
    ),
    pytest.param(
        {"key_schema": _keys(("pk", "HASH"), ("pk", "RANGE"))},
        ["spec.key_schema[1].attribute_name: 'pk' is already part of this key schema"],
        id="attribute-twice",
    ),
    pytest.param(
        {"key_schema": _keys(("pk", "PRIMARY"))},
        ["spec.key_schema[0].key_type: 'PRIMARY' is not a key type; use HASH or RANGE"],
        id="bad-key-type",
    ),
    pytest.param(
        {"attribute_definitions": _defs("pk", "g"), "global_secondary_indexes": [_gsi("by-g", ("g", "RANGE"))]},
        ["spec.global_secondary_indexes[0].key_schema: needs exactly one HASH element (the partition key); found 0"],
        id="gsi-without-hash",
    ),
    pytest.param(
        {
            "attribute_definitions": _defs("pk", "sk"),
            "key_schema": _keys(("pk", "HASH"), ("sk", "RANGE")),
            "local_secondary_indexes": [_gsi("by-x", ("pk", "HASH"))],
        },
        [
            "spec.local_secondary_indexes[0].key_schema: a local index needs exactly one RANGE element (its sort "
            "key); found 0"
        ],
        id="lsi-without-range",
    ),
    pytest.param(
        {
            "attribute_definitions": _defs("pk", "sk", "other", "x"),
            "key_schema": _keys(("pk", "HASH"), ("sk", "RANGE")),
            "local_secondary_indexes": [_gsi("by-x", ("other", "HASH"), ("x", "RANGE"))],
        },
        [
            "spec.local_secondary_indexes[0].key_schema[0].attribute_name: must be the table's partition key 'pk': "
            "a local index shares it (use a global index for another partition key)"
        ],
        id="lsi-other-partition-key",
    ),
    pytest.param(
        {
            "attribute_definitions": _defs("pk", "x"),
            "local_secondary_indexes": [_gsi("by-x", ("pk", "HASH"), ("x", "RANGE"))],
        },
        [
            "spec.local_secondary_indexes: local secondary indexes need the table to have a sort key; set a RANGE "
            "element in key_schema or use global_secondary_indexes"
        ],
        id="lsi-without-table-sort-key",
    ),
    pytest.param(
        {"server_side_encryption": {"kms_key_arn": "alias/mine"}},
        ["spec.server_side_encryption.kms_key_arn: needs enabled: true (a KMS key is only used for that encryption)"],
        id="kms-without-sse",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), KEY_SCHEMA_CASES)
def test_key_schema_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert_problems(current(**spec), expected)


# ---------------------------------------------------------------------------------------------
# The flat dialect's own rules


FLAT_CASES = [
    pytest.param(
        {
            "sort_key_name": "sk",
            "sort_key_type": "S",
            "local_secondary_indexes": [{"name": "by-pk", "sort_key_name": "pk", "sort_key_type": "S"}],
        },
        [
            "spec.local_secondary_indexes[0].sort_key_name: must differ from the table's partition_key_name (an LSI "
            "shares the table's partition key)"
        ],
        id="lsi-sort-is-partition",
    ),
    pytest.param(
        {"global_secondary_indexes": [{"name": "by-pk", "partition_key_name": "pk", "partition_key_type": "N"}]},
        [
            "spec.global_secondary_indexes[0].partition_key_type: 'pk' is STRING at partition_key_type; an attribute "
            "has one type in every key"
        ],
        id="type-clash",
    ),
    pytest.param(
        {
            "global_secondary_indexes": [
                {"name": "by-x", "partition_key_name": "x", "partition_key_type": "S", "sort_key_name": "y"}
            ]
        },
        ["spec.global_secondary_indexes[0].sort_key_type: required when sort_key_name is set; give both or neither"],
        id="gsi-sort-without-type",
    ),
    pytest.param(
        {"server_side_encryption_enabled": False, "kms_key_arn": "alias/mine"},
        ["spec.kms_key_arn: needs server_side_encryption_enabled: true (a KMS key is only used for that encryption)"],
        id="kms-without-sse",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), FLAT_CASES)
def test_flat_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert_problems(flat(**spec), expected)


# ---------------------------------------------------------------------------------------------
# Index rules, in each dialect's spelling of an index


def _index(
    dialect: str, name: str, key: str, *, projection: str = "ALL", attributes: list[str] | None = None, **more: Any
) -> dict[str, Any]:
    if dialect == "flat":
        return {
            "name": name,
            "partition_key_name": key,
            "partition_key_type": "S",
            "projection_type": projection,
            **({"non_key_attributes": attributes} if attributes is not None else {}),
            **more,
        }
    projected: dict[str, Any] = {"type": projection}
    if attributes is not None:
        projected["non_key_attributes"] = attributes
    return {"name": name, "key_schema": _keys((key, "HASH")), "projection": projected, **more}


def _with_indexes(dialect: str, indexes: list[dict[str, Any]], **spec: Any) -> dict[str, Any]:
    if dialect == "flat":
        return flat(global_secondary_indexes=indexes, **spec)
    keys = sorted({index["key_schema"][0]["attribute_name"] for index in indexes} | {"pk"})
    return current(attribute_definitions=_defs(*keys), global_secondary_indexes=indexes, **spec)


def _projection_path(dialect: str, field: str) -> str:
    return (
        field
        if dialect == "flat"
        else {"projection_type": "projection.type", "non_key_attributes": "projection.non_key_attributes"}[field]
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_more_than_20_global_indexes(dialect: str) -> None:
    indexes = [_index(dialect, f"gsi-{i:02}", f"k{i}") for i in range(21)]
    assert_problems(
        _with_indexes(dialect, indexes),
        ["spec.global_secondary_indexes: at most 20 global secondary indexes per table; found 21"],
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_20_global_indexes_are_accepted(dialect: str) -> None:
    indexes = [_index(dialect, f"gsi-{i:02}", f"k{i}") for i in range(20)]
    assert len(table_from_manifest(validate_document(_with_indexes(dialect, indexes), SOURCE)).global_indexes) == 20


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_more_than_5_local_indexes(dialect: str) -> None:
    if dialect == "flat":
        lsis = [{"name": f"lsi-{i}", "sort_key_name": f"s{i}", "sort_key_type": "N"} for i in range(6)]
        document = flat(sort_key_name="sk", sort_key_type="S", local_secondary_indexes=lsis)
    else:
        lsis = [_gsi(f"lsi-{i}", ("pk", "HASH"), (f"s{i}", "RANGE")) for i in range(6)]
        document = current(
            attribute_definitions=_defs("pk", "sk", *[f"s{i}" for i in range(6)]),
            key_schema=_keys(("pk", "HASH"), ("sk", "RANGE")),
            local_secondary_indexes=lsis,
        )
    assert_problems(document, ["spec.local_secondary_indexes: at most 5 local secondary indexes per table; found 6"])


@pytest.mark.parametrize("dialect", ["flat", "current"])
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", "'ab' is not a valid index name; use 3-255 characters of letters, digits, '_', '-' and '.'"),
        (
            "by customer",
            "'by customer' is not a valid index name; use 3-255 characters of letters, digits, '_', '-' and '.'",
        ),
    ],
)
def test_index_name_rules(dialect: str, name: str, message: str) -> None:
    assert_problems(
        _with_indexes(dialect, [_index(dialect, name, "g")]), [f"spec.global_secondary_indexes[0].name: {message}"]
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_index_names_are_unique(dialect: str) -> None:
    indexes = [_index(dialect, "by-g", "g"), _index(dialect, "by-g", "h")]
    assert_problems(
        _with_indexes(dialect, indexes),
        [
            "spec.global_secondary_indexes[1].name: 'by-g' is already the name of global_secondary_indexes[0]; "
            "index names must be unique across global and local indexes"
        ],
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_include_needs_attributes(dialect: str) -> None:
    path = _projection_path(dialect, "non_key_attributes")
    assert_problems(
        _with_indexes(dialect, [_index(dialect, "by-g", "g", projection="INCLUDE")]),
        [
            f"spec.global_secondary_indexes[0].{path}: required when the projection is INCLUDE; list the attributes "
            f"to copy"
        ],
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
@pytest.mark.parametrize("projection", ["ALL", "KEYS_ONLY"])
def test_only_include_takes_attributes(dialect: str, projection: str) -> None:
    path = _projection_path(dialect, "projection_type")
    assert_problems(
        _with_indexes(dialect, [_index(dialect, "by-g", "g", projection=projection, attributes=["a"])]),
        [
            f"spec.global_secondary_indexes[0].{path}: must be INCLUDE to copy non_key_attributes "
            f"(a {projection} projection takes none)"
        ],
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_at_most_100_included_attributes_across_indexes(dialect: str) -> None:
    first = _index(dialect, "by-g", "g", projection="INCLUDE", attributes=[f"a{i}" for i in range(60)])
    second = _index(dialect, "by-h", "h", projection="INCLUDE", attributes=[f"a{i}" for i in range(41)])
    path = _projection_path(dialect, "non_key_attributes")
    assert_problems(
        _with_indexes(dialect, [first, second]),
        [
            f"spec.global_secondary_indexes[1].{path}: brings the INCLUDE-projected attributes across all indexes "
            "to 101; AWS allows 100 (an attribute in two indexes counts twice)"
        ],
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_100_included_attributes_are_accepted(dialect: str) -> None:
    first = _index(dialect, "by-g", "g", projection="INCLUDE", attributes=[f"a{i}" for i in range(60)])
    second = _index(dialect, "by-h", "h", projection="INCLUDE", attributes=[f"a{i}" for i in range(40)])
    validate_document(_with_indexes(dialect, [first, second]), SOURCE)


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_index_capacity_follows_the_billing_mode(dialect: str) -> None:
    throughput = "" if dialect == "flat" else "provisioned_throughput."
    provisioned = _with_indexes(
        dialect, [_index(dialect, "by-g", "g")], billing_mode="PROVISIONED", **_capacity(dialect, 5, 5)
    )
    assert_problems(
        provisioned,
        [
            f"spec.global_secondary_indexes[0].{throughput}read_capacity_units: must be greater than 0 when "
            f"billing_mode is PROVISIONED",
            f"spec.global_secondary_indexes[0].{throughput}write_capacity_units: must be greater than 0 when "
            f"billing_mode is PROVISIONED",
        ],
    )
    on_demand = _with_indexes(dialect, [_index(dialect, "by-g", "g", **_capacity(dialect, 1, 0))])
    assert_problems(
        on_demand,
        [
            f"spec.global_secondary_indexes[0].{throughput}read_capacity_units: must be 0 or omitted when billing_mode "
            "is PAY_PER_REQUEST (on-demand tables have no provisioned capacity)"
        ],
    )


def _with_kms_key(dialect: str, key: str) -> tuple[dict[str, Any], str]:
    """A manifest of ``dialect`` encrypted with ``key``, and the path of the key's field."""
    if dialect == "flat":
        return flat(kms_key_arn=key), "spec.kms_key_arn"
    return current(
        server_side_encryption={"enabled": True, "kms_key_arn": key}
    ), "spec.server_side_encryption.kms_key_arn"


@pytest.mark.parametrize("dialect", ["flat", "current"])
@pytest.mark.parametrize(
    "key",
    [
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-1:111122223333:alias/orders",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/orders",
    ],
)
def test_kms_key_forms_accepted(dialect: str, key: str) -> None:
    document, _ = _with_kms_key(dialect, key)
    assert table_from_manifest(validate_document(document, SOURCE)).kms_key == key


@pytest.mark.parametrize("dialect", ["flat", "current"])
@pytest.mark.parametrize(
    "key",
    [
        "my-key",
        "arn:aws:s3:::bucket",
        "alias/",
        "arn:aws:kms:us-east-1:1:key/x",
        "arn:aws:kms:us-east-1:123456789012:key/x",
    ],
)
def test_kms_key_forms_rejected(dialect: str, key: str) -> None:
    document, path = _with_kms_key(dialect, key)
    assert_problems(
        document,
        [
            f"{path}: '{key}' is not a KMS key; use a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), a key id, "
            "an alias (alias/NAME) or an alias ARN"
        ],
    )


# ---------------------------------------------------------------------------------------------
# Every problem at once, and dialect detection


def test_every_problem_is_reported_in_one_run() -> None:
    """A bad value of one field (a name, a range) no longer hides the rules between fields."""
    document = camel(
        current(
            billing_mode="PROVISIONED",
            stream_enabled=True,
            tags={"aws:owner": "x"},
            ttl={"enabled": True},
            point_in_time_recovery_period_days=40,
            global_secondary_indexes=[{"name": "ab", "key_schema": [{"attribute_name": "g", "key_type": "HASH"}]}],
        )
    )
    document["spec"]["attributeDefinitions"].append({"name": "unused", "type": "S"})
    assert [line.split(":", 1)[0] for line in problems(document)] == [
        "spec.pointInTimeRecoveryPeriodDays",
        "spec.globalSecondaryIndexes[0].name",
        "spec.globalSecondaryIndexes[0].keySchema[0].attributeName",
        "spec.attributeDefinitions[1]",
        "spec.provisionedThroughput.readCapacityUnits",
        "spec.provisionedThroughput.writeCapacityUnits",
        "spec.globalSecondaryIndexes[0].provisionedThroughput.readCapacityUnits",
        "spec.globalSecondaryIndexes[0].provisionedThroughput.writeCapacityUnits",
        "spec.tags.aws",
        "spec.ttl.attributeName",
        "spec.streamViewType",
        "spec.pointInTimeRecoveryPeriodDays",
    ]


def test_a_value_of_the_wrong_type_still_stops_its_model() -> None:
    document = current(point_in_time_recovery_enabled="yes", stream_enabled=True)
    assert problems(document) == ["spec.point_in_time_recovery_enabled: must be true or false"]


def test_mixing_the_dialects_names_the_clashing_fields() -> None:
    document = current(partition_key_name="pk", read_capacity_units=5)
    assert problems(document) == [
        "spec: mixes the two manifest dialects: attribute_definitions, key_schema (the keySchema form) with "
        "partition_key_name, read_capacity_units (the flat form); describe the keys one way: "
        "attribute_definitions + key_schema, or partition_key_name / partition_key_type"
    ]
    assert problems(camel(document)) == [
        "spec: mixes the two manifest dialects: attributeDefinitions, keySchema (the keySchema form) with "
        "partitionKeyName, readCapacityUnits (the flat form); describe the keys one way: "
        "attributeDefinitions + keySchema, or partitionKeyName / partitionKeyType"
    ]


def test_dialect_is_chosen_by_its_own_fields() -> None:
    assert isinstance(validate_document(flat(), SOURCE), SeedManifest)
    assert isinstance(validate_document(current(), SOURCE), KeySchemaManifest)
    assert isinstance(validate_document(camel(current()), SOURCE), KeySchemaManifest)


# ---------------------------------------------------------------------------------------------
# Every enum spelling Project Planton has used


@pytest.mark.parametrize(("hash_key", "range_key"), [("HASH", "RANGE"), ("KEY_TYPE_HASH", "KEY_TYPE_RANGE")])
def test_key_type_spellings(hash_key: str, range_key: str) -> None:
    document = current(
        attribute_definitions=_defs("pk", "sk"),
        key_schema=[{"attribute_name": "sk", "key_type": range_key}, {"attribute_name": "pk", "key_type": hash_key}],
    )
    table = table_from_manifest(validate_document(document, SOURCE))
    assert table.partition_key.name == "pk"
    assert table.sort_key is not None
    assert table.sort_key.name == "sk"


@pytest.mark.parametrize(
    ("spelling", "value"),
    [
        ("ALL", "ALL"),
        ("PROJECTION_TYPE_ALL", "ALL"),
        ("KEYS_ONLY", "KEYS_ONLY"),
        ("PROJECTION_TYPE_KEYS_ONLY", "KEYS_ONLY"),
        ("KEYS_ONLY_PROJECTION", "KEYS_ONLY"),
        ("INCLUDE", "INCLUDE"),
        ("PROJECTION_TYPE_INCLUDE", "INCLUDE"),
    ],
)
@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_projection_spellings(dialect: str, spelling: str, value: str) -> None:
    attributes = ["a"] if value == "INCLUDE" else None
    document = _with_indexes(dialect, [_index(dialect, "by-g", "g", projection=spelling, attributes=attributes)])
    [index] = table_from_manifest(validate_document(document, SOURCE)).global_indexes
    assert index.projection.type.value == value


@pytest.mark.parametrize("view", ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"])
@pytest.mark.parametrize("prefix", ["", "STREAM_VIEW_TYPE_"])
@pytest.mark.parametrize("build", [flat, current], ids=["flat", "current"])
def test_stream_view_type_spellings(build: Any, prefix: str, view: str) -> None:
    table = table_from_manifest(validate_document(build(stream_enabled=True, stream_view_type=prefix + view), SOURCE))
    assert table.stream_view_type is not None
    assert table.stream_view_type.value == view


@pytest.mark.parametrize("table_class", ["STANDARD", "STANDARD_INFREQUENT_ACCESS"])
@pytest.mark.parametrize("prefix", ["", "TABLE_CLASS_"])
@pytest.mark.parametrize("build", [flat, current], ids=["flat", "current"])
def test_table_class_spellings(build: Any, prefix: str, table_class: str) -> None:
    table = table_from_manifest(validate_document(build(table_class=prefix + table_class), SOURCE))
    assert table.table_class.value == table_class


@pytest.mark.parametrize("spelling", ["S", "ATTRIBUTE_TYPE_S", "STRING", "ATTRIBUTE_TYPE_STRING"])
def test_attribute_definition_type_spellings(spelling: str) -> None:
    document = current(attribute_definitions=[{"name": "pk", "type": spelling}])
    assert table_from_manifest(validate_document(document, SOURCE)).partition_key.type.value == "S"


def test_null_lists_and_maps_are_unset_in_the_current_dialect() -> None:
    document = current(
        global_secondary_indexes=None,
        local_secondary_indexes=None,
        tags=None,
        stream_enabled=None,
        point_in_time_recovery_enabled=None,
        ttl={"enabled": None},
        provisioned_throughput=None,
    )
    table = table_from_manifest(validate_document(camel(document), SOURCE))
    assert (table.global_indexes, table.local_indexes, dict(table.tags)) == ((), (), {})
    assert table.stream_view_type is None
    assert table.ttl_attribute is None


def test_tag_keys_do_not_decide_how_fields_are_spelled() -> None:
    document = camel(current(billing_mode="PROVISIONED"))
    document["spec"]["tags"] = {"cost_center": "a", "team_name": "b", "data_class": "c", "owner_email": "d"}
    assert problems(document) == [
        "spec.provisionedThroughput.readCapacityUnits: must be greater than 0 when billingMode is PROVISIONED",
        "spec.provisionedThroughput.writeCapacityUnits: must be greater than 0 when billingMode is PROVISIONED",
    ]


def test_a_field_given_twice_is_quoted_as_written() -> None:
    document = camel(current())
    document["spec"]["billing_mode"] = "PROVISIONED"
    document["spec"]["billingMode"] = "PROVISIONED"
    assert problems(document) == ["spec: billing_mode and billingMode are the same field; keep one"]


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_a_kms_key_from_another_region_is_refused(dialect: str) -> None:
    key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    document, path = _with_kms_key(dialect, key)
    assert_problems(
        document,
        [
            f"{path}: is a key in eu-west-1, and DynamoDB needs one in the table's region us-east-1; use a key "
            "from there (or an alias, looked up in that region)"
        ],
    )


@pytest.mark.parametrize("dialect", ["flat", "current"])
def test_ttl_on_a_key_attribute_that_is_not_a_number(dialect: str) -> None:
    document = (
        flat(ttl={"enabled": True, "attribute_name": "pk"})
        if dialect == "flat"
        else current(ttl={"enabled": True, "attribute_name": "pk"})
    )
    assert_problems(
        document,
        [
            "spec.ttl.attribute_name: 'pk' is a key attribute of type STRING, and TTL reads epoch seconds from a "
            "Number: no item would ever expire; use a Number attribute"
        ],
    )


def test_ttl_on_a_number_key_attribute_is_accepted() -> None:
    document = current(
        attribute_definitions=[{"name": "pk", "type": "N"}], ttl={"enabled": True, "attribute_name": "pk"}
    )
    assert table_from_manifest(validate_document(document, SOURCE)).ttl_attribute == "pk"


def test_an_auto_scaling_policy_name_must_fit() -> None:
    name = "t" * 215  # the table's read policy takes 253 characters, the index's 264
    scaling = {"read": {"min_capacity": 1, "max_capacity": 5}}
    index = {
        "name": "by-g",
        "partition_key_name": "g",
        "partition_key_type": "S",
        "write_capacity_units": 1,
        "autoscaling": scaling,
    }
    document = flat(
        table_name=name,
        billing_mode="PROVISIONED",
        write_capacity_units=1,
        autoscaling=scaling,
        global_secondary_indexes=[index],
    )
    found = problems(document)
    assert [line.split(":", 1)[0] for line in found] == ["spec.global_secondary_indexes[0].autoscaling"]
    assert found[0].endswith("264 characters, and AWS allows 255; use a shorter table or index name")


def test_a_key_that_is_no_string_among_fields() -> None:
    document = current()
    document["spec"]["attribute_definitions"][0][7] = 1
    assert problems(document) == ["spec.attribute_definitions[0]: keys here must be strings, not 7"]


def test_mixing_the_dialects_inside_an_index_names_the_fields() -> None:
    index = {"name": "by-g", "key_schema": [{"attribute_name": "g", "key_type": "HASH"}]}
    assert problems(camel(flat(global_secondary_indexes=[index]))) == [
        "spec: mixes the two manifest dialects: globalSecondaryIndexes[0].keySchema (the keySchema form) with "
        "partitionKeyName, partitionKeyType (the flat form); describe the keys one way: "
        "attributeDefinitions + keySchema, or partitionKeyName / partitionKeyType"
    ]
    index = {"name": "by-g", "partition_key_name": "g", "partition_key_type": "S"}
    assert problems(current(global_secondary_indexes=[index])) == [
        "spec: mixes the two manifest dialects: attribute_definitions, key_schema (the keySchema form) with "
        "global_secondary_indexes[0].partition_key_name, global_secondary_indexes[0].partition_key_type (the flat "
        "form); describe the keys one way: attribute_definitions + key_schema, or partition_key_name / "
        "partition_key_type"
    ]


@pytest.mark.parametrize("key", ["arn:aws", "arn:aws:kms:us-east-1"])
def test_a_malformed_kms_arn_is_one_problem(key: str) -> None:
    assert_problems(
        flat(kms_key_arn=key),
        [
            f"spec.kms_key_arn: '{key}' is not a KMS key; use a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), a key "
            "id, an alias (alias/NAME) or an alias ARN"
        ],
    )


def test_a_kms_key_is_not_blamed_for_a_malformed_region() -> None:
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert [line.split(":", 1)[0] for line in problems(flat(aws_region="US-EAST-1", kms_key_arn=key))] == [
        "spec.aws_region"
    ]


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_scaling_target_must_be_a_number(value: float) -> None:
    scaling = {"read": {"min_capacity": 1, "max_capacity": 5, "target_utilization": value}}
    found = problems(flat(billing_mode="PROVISIONED", write_capacity_units=1, autoscaling=scaling))
    assert found == [f"spec.autoscaling.read.target_utilization: must be a number, not {value!r}"]


def test_quoted_values_are_not_respelled() -> None:
    document = camel(
        current(
            key_schema=[
                {"attribute_name": "pk", "key_type": "HASH"},
                {"attribute_name": "table_name", "key_type": "RANGE"},
            ]
        )
    )
    assert problems(document) == [
        "spec.keySchema[1].attributeName: 'table_name' is not in attributeDefinitions; add it with its type (S, N or B)"
    ]


def test_on_demand_maximums_have_a_ceiling() -> None:
    found = problems(flat(on_demand_throughput={"max_read_request_units": 2**64}))
    assert found == ["spec.on_demand_throughput.max_read_request_units: must be 2147483647 or less"]


def test_index_rules_are_judged_even_when_keys_have_problems() -> None:
    indexes = [
        {"name": "by-g", "key_schema": [{"attribute_name": "g", "key_type": "HASH"}]},
        {"name": "by-g", "key_schema": [{"attribute_name": "h", "key_type": "HASH"}]},
    ]
    lsis = [
        {
            "name": "by-x",
            "key_schema": [{"attribute_name": "pk", "key_type": "HASH"}, {"attribute_name": "x", "key_type": "RANGE"}],
        }
    ]
    document = current(global_secondary_indexes=indexes, local_secondary_indexes=lsis)
    document["spec"]["attribute_definitions"] += [{"name": "unused", "type": "S"}]
    assert [line.split(": ", 1)[0] for line in problems(document)] == [
        "spec.global_secondary_indexes[0].key_schema[0].attribute_name",
        "spec.global_secondary_indexes[1].key_schema[0].attribute_name",
        "spec.local_secondary_indexes[0].key_schema[1].attribute_name",
        "spec.attribute_definitions[1]",
        "spec.local_secondary_indexes",
        "spec.global_secondary_indexes[1].name",
    ]
