"""The manifest model: spellings, enums, defaults and every validation rule.

Rules are checked through ``validate_document`` so each test asserts the exact
``dotted.path: message`` line a user would see.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from planton.errors import EXIT_BAD_MANIFEST, ManifestError
from planton.manifest.base import API_VERSION, KIND, camel_to_snake, snake_to_camel
from planton.manifest.loader import validate_document
from planton.manifest.seed import SeedManifest
from planton.table import AttributeType, BillingMode, looks_like_region

from support import example_blocks, slug

SOURCE = "m.yaml"


def manifest(*, metadata: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """A minimal valid manifest document; ``spec`` keys are added to (or override) the spec."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders", **(metadata or {})},
        "spec": {"partition_key_name": "id", "partition_key_type": "STRING", **spec},
    }


def provisioned(**spec: Any) -> dict[str, Any]:
    """A valid PROVISIONED manifest with capacity 5/5 unless overridden."""
    fields: dict[str, Any] = {"billing_mode": "PROVISIONED", "read_capacity_units": 5, "write_capacity_units": 5}
    fields.update(spec)
    return manifest(**fields)


def problems(document: dict[str, Any]) -> list[str]:
    """The problem lines validation reports for ``document`` (fails the test if it is valid)."""
    with pytest.raises(ManifestError) as excinfo:
        validate_document(document, SOURCE)
    assert excinfo.value.source == SOURCE
    return excinfo.value.problems


def valid(document: dict[str, Any]) -> SeedManifest:
    return validate_document(document, SOURCE)


# ---------------------------------------------------------------------------------------------
# A minimal manifest and the defaults


def test_minimal_manifest_is_valid() -> None:
    model = valid(manifest())
    assert model.api_version == API_VERSION
    assert model.kind == KIND
    assert model.metadata.name == "orders"
    assert model.spec.partition_key_name == "id"
    assert model.spec.partition_key_type is AttributeType.STRING


def test_defaults() -> None:
    model = valid(manifest())
    spec, metadata = model.spec, model.metadata
    assert spec.billing_mode is BillingMode.PAY_PER_REQUEST
    assert spec.server_side_encryption_enabled is True
    assert spec.point_in_time_recovery_enabled is False
    assert spec.table_name is None
    assert spec.aws_region is None
    assert spec.sort_key_name is None
    assert spec.sort_key_type is None
    assert spec.read_capacity_units is None
    assert spec.write_capacity_units is None
    assert metadata.id is None
    assert metadata.org is None
    assert metadata.env is None
    assert metadata.labels == {}
    assert metadata.annotations == {}
    assert metadata.tags == []


def test_model_validate_directly_accepts_minimal_manifest() -> None:
    model = SeedManifest.model_validate(manifest())
    assert model.metadata.name == "orders"


def test_model_is_frozen() -> None:
    model = valid(manifest())
    with pytest.raises(ValidationError):
        model.spec.table_name = "other"  # type: ignore[misc]


def test_validate_document_accepts_any_mapping_without_mutating_it() -> None:
    document = manifest(tableName="orders")
    snapshot = repr(document)
    valid(document)
    assert repr(document) == snapshot


# ---------------------------------------------------------------------------------------------
# Field-name spellings


@pytest.mark.parametrize(
    ("camel", "snake"),
    [
        ("apiVersion", "api_version"),
        ("tableName", "table_name"),
        ("awsRegion", "aws_region"),
        ("billingMode", "billing_mode"),
        ("partitionKeyName", "partition_key_name"),
        ("partitionKeyType", "partition_key_type"),
        ("sortKeyName", "sort_key_name"),
        ("sortKeyType", "sort_key_type"),
        ("readCapacityUnits", "read_capacity_units"),
        ("writeCapacityUnits", "write_capacity_units"),
        ("pointInTimeRecoveryEnabled", "point_in_time_recovery_enabled"),
        ("serverSideEncryptionEnabled", "server_side_encryption_enabled"),
    ],
)
def test_camel_and_snake_conversions(camel: str, snake: str) -> None:
    assert camel_to_snake(camel) == snake
    assert camel_to_snake(snake) == snake
    assert snake_to_camel(snake) == camel


SNAKE_SPEC = {
    "table_name": "orders-table",
    "aws_region": "eu-west-2",
    "billing_mode": "PROVISIONED",
    "partition_key_name": "pk",
    "partition_key_type": "STRING",
    "sort_key_name": "sk",
    "sort_key_type": "NUMBER",
    "read_capacity_units": 3,
    "write_capacity_units": 4,
    "point_in_time_recovery_enabled": True,
    "server_side_encryption_enabled": False,
}


def _snake_document() -> dict[str, Any]:
    return {"api_version": API_VERSION, "kind": KIND, "metadata": {"name": "orders"}, "spec": dict(SNAKE_SPEC)}


def _camel_document() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders"},
        "spec": {snake_to_camel(key): value for key, value in SNAKE_SPEC.items()},
    }


def test_snake_case_manifest_is_valid() -> None:
    spec = valid(_snake_document()).spec
    assert spec.table_name == "orders-table"
    assert spec.aws_region == "eu-west-2"
    assert spec.billing_mode is BillingMode.PROVISIONED
    assert spec.partition_key_name == "pk"
    assert spec.partition_key_type is AttributeType.STRING
    assert spec.sort_key_name == "sk"
    assert spec.sort_key_type is AttributeType.NUMBER
    assert spec.read_capacity_units == 3
    assert spec.write_capacity_units == 4
    assert spec.point_in_time_recovery_enabled is True
    assert spec.server_side_encryption_enabled is False


def test_camel_case_manifest_equals_snake_case_manifest() -> None:
    camel = _camel_document()
    assert "partitionKeyName" in camel["spec"]  # the helper really produced camelCase
    assert valid(camel) == valid(_snake_document())


def test_camel_and_snake_can_be_mixed() -> None:
    document = manifest(tableName="orders-table", aws_region="us-east-1", pointInTimeRecoveryEnabled=True)
    spec = valid(document).spec
    assert spec.table_name == "orders-table"
    assert spec.aws_region == "us-east-1"
    assert spec.point_in_time_recovery_enabled is True


@pytest.mark.parametrize(
    ("camel", "snake", "value"),
    [
        ("tableName", "table_name", "orders"),
        ("partitionKeyName", "partition_key_name", "id"),
        ("readCapacityUnits", "read_capacity_units", 0),
        ("pointInTimeRecoveryEnabled", "point_in_time_recovery_enabled", True),
    ],
)
def test_same_spec_field_in_both_spellings_is_an_error(camel: str, snake: str, value: Any) -> None:
    document = manifest()
    document["spec"] = {"partition_key_name": "id", "partition_key_type": "S", snake: value, camel: value}
    assert problems(document) == [f"spec: {snake} and {camel} are the same field; keep one"]


def test_same_top_level_field_in_both_spellings_is_an_error() -> None:
    document = manifest()
    document["api_version"] = API_VERSION
    assert problems(document) == ["(document): apiVersion and api_version are the same field; keep one"]


# ---------------------------------------------------------------------------------------------
# Enum spellings


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("PAY_PER_REQUEST", BillingMode.PAY_PER_REQUEST),
        ("BILLING_MODE_PAY_PER_REQUEST", BillingMode.PAY_PER_REQUEST),
        ("pay_per_request", BillingMode.PAY_PER_REQUEST),
        ("billing_mode_pay_per_request", BillingMode.PAY_PER_REQUEST),
        ("PROVISIONED", BillingMode.PROVISIONED),
        ("BILLING_MODE_PROVISIONED", BillingMode.PROVISIONED),
        ("provisioned", BillingMode.PROVISIONED),
        ("billing_mode_provisioned", BillingMode.PROVISIONED),
        (" Provisioned ", BillingMode.PROVISIONED),
    ],
)
def test_billing_mode_spellings(spelling: str, expected: BillingMode) -> None:
    spec = valid(
        provisioned(billing_mode=spelling) if expected is BillingMode.PROVISIONED else manifest(billing_mode=spelling)
    ).spec
    assert spec.billing_mode is expected


def test_billing_mode_values_are_aws_spellings() -> None:
    assert BillingMode.PAY_PER_REQUEST.value == "PAY_PER_REQUEST"
    assert BillingMode.PROVISIONED.value == "PROVISIONED"


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("STRING", "S"),
        ("ATTRIBUTE_TYPE_STRING", "S"),
        ("S", "S"),
        ("ATTRIBUTE_TYPE_S", "S"),
        ("string", "S"),
        ("s", "S"),
        ("attribute_type_s", "S"),
        ("NUMBER", "N"),
        ("ATTRIBUTE_TYPE_NUMBER", "N"),
        ("N", "N"),
        ("ATTRIBUTE_TYPE_N", "N"),
        ("number", "N"),
        ("n", "N"),
        ("BINARY", "B"),
        ("ATTRIBUTE_TYPE_BINARY", "B"),
        ("B", "B"),
        ("ATTRIBUTE_TYPE_B", "B"),
        ("binary", "B"),
        ("attribute_type_binary", "B"),
    ],
)
def test_attribute_type_spellings(spelling: str, expected: str) -> None:
    spec = valid(manifest(partition_key_type=spelling, sort_key_name="sk", sort_key_type=spelling)).spec
    assert spec.partition_key_type == expected
    assert spec.partition_key_type.value == expected
    assert spec.sort_key_type == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("FREE", "'FREE'"),
        ("ON_DEMAND", "'ON_DEMAND'"),
        ("BILLING_MODE_", "'BILLING_MODE_'"),
        ("", "''"),
        (1, "1"),
        (True, "true"),
        (["PROVISIONED"], "['PROVISIONED']"),
    ],
)
def test_invalid_billing_mode(value: Any, shown: str) -> None:
    assert problems(manifest(billing_mode=value)) == [
        f"spec.billing_mode: {shown} is not a billing mode; use PAY_PER_REQUEST or PROVISIONED"
    ]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("STR", "'STR'"),
        ("BOOL", "'BOOL'"),
        ("ATTRIBUTE_TYPE_BOOL", "'ATTRIBUTE_TYPE_BOOL'"),
        ("SS", "'SS'"),
        ("", "''"),
        (3, "3"),
    ],
)
def test_invalid_partition_key_type(value: Any, shown: str) -> None:
    assert problems(manifest(partition_key_type=value)) == [
        f"spec.partition_key_type: {shown} is not an attribute type; use STRING (S), NUMBER (N) or BINARY (B)"
    ]


def test_a_huge_value_is_cut_short_in_its_message() -> None:
    nested: Any = ["lol"] * 10
    for _ in range(6):
        nested = [nested] * 10  # what a YAML alias bomb builds: a million strings, shared
    [problem] = problems(manifest(billing_mode=nested))
    assert problem == (
        "spec.billing_mode: [[[...], [...], [...], [...], ...], [[...], [...], [...], [...], ...], "
        "[[...], [...], [...], [...], ...], [[...], [...], [...], [...], ...], ...] is not a billing mode; "
        "use PAY_PER_REQUEST or PROVISIONED"
    )
    long_text = "x" * 100_000 + "\n"
    [problem] = problems(manifest(partition_key_type=long_text))
    assert len(problem) < 200


def test_invalid_sort_key_type() -> None:
    assert problems(manifest(sort_key_name="sk", sort_key_type="X")) == [
        "spec.sort_key_type: 'X' is not an attribute type; use STRING (S), NUMBER (N) or BINARY (B)"
    ]


# ---------------------------------------------------------------------------------------------
# Capacity


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"billing_mode": "PROVISIONED"},
            [
                "spec.read_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
                "spec.write_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
            ],
            id="provisioned-both-missing",
        ),
        pytest.param(
            {"billing_mode": "PROVISIONED", "read_capacity_units": 0, "write_capacity_units": 0},
            [
                "spec.read_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
                "spec.write_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
            ],
            id="provisioned-both-zero",
        ),
        pytest.param(
            {"billing_mode": "PROVISIONED", "write_capacity_units": 5},
            ["spec.read_capacity_units: must be greater than 0 when billing_mode is PROVISIONED"],
            id="provisioned-read-missing",
        ),
        pytest.param(
            {"billing_mode": "PROVISIONED", "read_capacity_units": 5, "write_capacity_units": 0},
            ["spec.write_capacity_units: must be greater than 0 when billing_mode is PROVISIONED"],
            id="provisioned-write-zero",
        ),
        pytest.param(
            {"billing_mode": "PAY_PER_REQUEST", "read_capacity_units": 5},
            [
                "spec.read_capacity_units: must be 0 or omitted when billing_mode is PAY_PER_REQUEST "
                "(on-demand tables have no provisioned capacity)"
            ],
            id="on-demand-read-set",
        ),
        pytest.param(
            {"write_capacity_units": 1},
            [
                "spec.write_capacity_units: must be 0 or omitted when billing_mode is PAY_PER_REQUEST "
                "(on-demand tables have no provisioned capacity)"
            ],
            id="default-on-demand-write-set",
        ),
        pytest.param(
            {"billing_mode": "PROVISIONED", "read_capacity_units": -1, "write_capacity_units": 5},
            # Both: "0 or more" alone would make 0 look right, which PROVISIONED refuses too.
            [
                "spec.read_capacity_units: must be 0 or more",
                "spec.read_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
            ],
            id="provisioned-negative-read",
        ),
        pytest.param(
            {"write_capacity_units": -3},
            [
                "spec.write_capacity_units: must be 0 or more",
                "spec.write_capacity_units: must be 0 or omitted when billing_mode is PAY_PER_REQUEST "
                "(on-demand tables have no provisioned capacity)",
            ],
            id="on-demand-negative-write",
        ),
    ],
)
def test_capacity_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert problems(manifest(**spec)) == expected


@pytest.mark.parametrize(
    "spec",
    [
        {"billing_mode": "PROVISIONED", "read_capacity_units": 1, "write_capacity_units": 1},
        {"billing_mode": "PAY_PER_REQUEST", "read_capacity_units": 0, "write_capacity_units": 0},
        {"billing_mode": "PAY_PER_REQUEST"},
        {},
    ],
)
def test_capacity_accepted(spec: dict[str, Any]) -> None:
    valid(manifest(**spec))


# ---------------------------------------------------------------------------------------------
# Keys


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"sort_key_name": "sk"},
            ["spec.sort_key_type: required when sort_key_name is set; give both or neither"],
            id="name-without-type",
        ),
        pytest.param(
            {"sort_key_type": "NUMBER"},
            ["spec.sort_key_name: required when sort_key_type is set; give both or neither"],
            id="type-without-name",
        ),
        pytest.param(
            {"sort_key_name": "id", "sort_key_type": "NUMBER"},
            ["spec.sort_key_name: must differ from partition_key_name"],
            id="sort-equals-partition",
        ),
        pytest.param(
            {"partition_key_name": ""},
            ["spec.partition_key_name: a key attribute name must be 1-255 bytes long"],
            id="empty-partition-key-name",
        ),
        pytest.param(
            {"partition_key_name": "é" * 128},
            ["spec.partition_key_name: a key attribute name must be 1-255 bytes long"],
            id="partition-key-name-256-bytes",
        ),
        pytest.param(
            {"sort_key_name": "", "sort_key_type": "S"},
            ["spec.sort_key_name: a key attribute name must be 1-255 bytes long"],
            id="empty-sort-key-name",
        ),
    ],
)
def test_key_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert problems(manifest(**spec)) == expected


def test_key_name_of_255_bytes_is_accepted() -> None:
    assert valid(manifest(partition_key_name="k" * 255)).spec.partition_key_name == "k" * 255


def test_sort_key_both_given_is_accepted() -> None:
    spec = valid(manifest(sort_key_name="sk", sort_key_type="N")).spec
    assert (spec.sort_key_name, spec.sort_key_type) == ("sk", AttributeType.NUMBER)


# ---------------------------------------------------------------------------------------------
# Table name and region


@pytest.mark.parametrize(
    "name",
    ["abc", "t" * 255, "orders-table_1.v2", "A.B-c_9"],
    ids=["3-chars", "255-chars", "mixed", "upper"],
)
def test_table_name_accepted(name: str) -> None:
    assert valid(manifest(table_name=name)).spec.table_name == name


@pytest.mark.parametrize(
    "name",
    ["ab", "t" * 256, "my table", "tbl/x", "tbl:x", "", "tábla"],
    ids=["2-chars", "256-chars", "space", "slash", "colon", "empty", "non-ascii"],
)
def test_table_name_rejected(name: str) -> None:
    shown = name if len(name) <= 80 else name[:77] + "..."
    assert problems(manifest(table_name=name)) == [
        f"spec.table_name: '{shown}' is not a valid DynamoDB table name; "
        "use 3-255 characters of letters, digits, '_', '-' and '.'"
    ]


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-west-2", "us-gov-west-1", "ap-southeast-4", "cn-north-1", "us-isob-east-1"]
)
def test_region_accepted(region: str) -> None:
    assert looks_like_region(region)
    assert valid(manifest(aws_region=region)).spec.aws_region == region


@pytest.mark.parametrize("region", ["useast1", "US-EAST-1", "us-east", "", "us-east-1a", " us-east-1"])
def test_region_rejected(region: str) -> None:
    assert not looks_like_region(region)
    assert problems(manifest(aws_region=region)) == [
        f"spec.aws_region: '{region}' does not look like an AWS region; use a code such as us-east-1 or eu-west-2"
    ]


# ---------------------------------------------------------------------------------------------
# metadata.name


@pytest.mark.parametrize("name", ["orders-table_1.v2", "a", "9lives", "n" * 63])
def test_metadata_name_accepted(name: str) -> None:
    # A name shorter than a table name may be (3) needs its own spec.table_name.
    assert valid(manifest(metadata={"name": name}, table_name="orders")).metadata.name == name


@pytest.mark.parametrize("name", ["a", "ab"])
def test_a_short_metadata_name_cannot_name_the_table(name: str) -> None:
    assert problems(manifest(metadata={"name": name})) == [
        "metadata.name: names the table too (spec.table_name is not set), and DynamoDB table names need 3-255 "
        "characters; lengthen it or set spec.table_name"
    ]


@pytest.mark.parametrize(
    "name",
    ["../x", "a/b", ".hidden", "", "n" * 64, "-dash", "_under", "a b", "a\\b"],
    ids=["parent", "slash", "hidden", "empty", "64-chars", "leading-dash", "leading-underscore", "space", "backslash"],
)
def test_metadata_name_rejected(name: str) -> None:
    assert problems(manifest(metadata={"name": name})) == [
        f"metadata.name: '{name}' must be 1-63 characters of letters, digits, '.', '_' and '-', starting "
        "with a letter or digit (planton uses it in a directory name)"
    ]


# ---------------------------------------------------------------------------------------------
# Labels (they become AWS tags)


@pytest.mark.parametrize(
    ("key", "source"),
    [
        ("Name", "spec.table_name"),
        ("Environment", "metadata.env"),
        ("Organization", "metadata.org"),
        ("ManagedBy", "planton"),
    ],
)
def test_reserved_label_keys_rejected(key: str, source: str) -> None:
    assert problems(manifest(metadata={"labels": {key: "x"}})) == [
        f"metadata.labels.{key}: planton sets the {key} tag from {source}; remove this label or rename it"
    ]


@pytest.mark.parametrize("key", ["aws:created-by", "AWS:x", "Aws:cloudformation:stack"])
def test_aws_prefixed_label_keys_rejected(key: str) -> None:
    assert problems(manifest(metadata={"labels": {key: "x"}})) == [
        f"metadata.labels.{key}: tag keys starting with 'aws:' are reserved by AWS; rename the label"
    ]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        pytest.param(
            {"k" * 129: "v"},
            [f"metadata.labels.{'k' * 129}: label key must be 1-128 characters"],
            id="key-129",
        ),
        pytest.param(
            {"team": "v" * 257},
            ["metadata.labels.team: label value must be 0-256 characters"],
            id="value-257",
        ),
        pytest.param(
            {"": "v"},
            ["metadata.labels.: label key must be 1-128 characters"],
            id="empty-key",
        ),
        pytest.param(
            {"team!": "v"},
            ["metadata.labels.team!: label key 'team!' may only use letters, digits, spaces and _ . : / = + - @"],
            id="key-bad-char",
        ),
        pytest.param(
            {"team": "a#b"},
            ["metadata.labels.team: label value 'a#b' may only use letters, digits, spaces and _ . : / = + - @"],
            id="value-bad-char",
        ),
        pytest.param(
            {"a{b}": "v"},
            ["metadata.labels.a{b}: label key 'a{b}' may only use letters, digits, spaces and _ . : / = + - @"],
            id="key-braces",
        ),
        pytest.param(
            {"team": 5},
            ["metadata.labels.team: must be a string"],
            id="value-not-string",
        ),
    ],
)
def test_label_rules(labels: dict[str, Any], expected: list[str]) -> None:
    assert problems(manifest(metadata={"labels": labels})) == expected


def test_label_edge_values_accepted() -> None:
    labels = {
        "k" * 128: "v" * 256,
        "empty": "",
        "cost-centre/team_a:b=c+d@e f.g": "value with spaces_./:=+-@",
        "name": "lower-case name is not the reserved Name tag",
    }
    assert valid(manifest(metadata={"labels": labels})).metadata.labels == labels


def test_47_labels_accepted() -> None:
    # planton adds Name, ManagedBy and PlantonManifest; Environment and Organization only when
    # env/org are set.
    labels = {f"k{i}": "v" for i in range(47)}
    assert valid(manifest(metadata={"labels": labels})).metadata.labels == labels


def test_48_labels_rejected() -> None:
    labels = {f"k{i}": "v" for i in range(48)}
    assert problems(manifest(metadata={"labels": labels})) == [
        "metadata.labels: AWS allows 50 tags per table and planton sets 3 here; use at most 47 labels"
    ]


def test_env_and_org_take_room_from_the_labels() -> None:
    labels = {f"k{i}": "v" for i in range(46)}
    assert problems(manifest(metadata={"labels": labels, "env": "prod", "org": "acme"})) == [
        "metadata.labels: AWS allows 50 tags per table and planton sets 5 here; use at most 45 labels"
    ]
    assert valid(manifest(metadata={"labels": dict(list(labels.items())[:45]), "env": "prod", "org": "acme"}))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "env",
            "prod (eu)!",
            "becomes the Environment tag, whose value 'prod (eu)!' may only use letters, digits, spaces and "
            "_ . : / = + - @",
        ),
        ("org", "o" * 257, "becomes the Organization tag, whose value must be 0-256 characters"),
    ],
)
def test_env_and_org_follow_the_tag_value_rules(field: str, value: str, message: str) -> None:
    assert problems(manifest(metadata={field: value})) == [f"metadata.{field}: {message}"]


def test_every_bad_label_is_reported() -> None:
    labels = {"Name": "x", "aws:y": "x", "ok": "fine", "bad!": "x"}
    found = problems(manifest(metadata={"labels": labels}))
    assert [line.split(": ", 1)[0] for line in found] == [
        "metadata.labels.Name",
        "metadata.labels.aws:y",
        "metadata.labels.bad!",
    ]


# ---------------------------------------------------------------------------------------------
# Required fields, apiVersion and kind


@pytest.mark.parametrize(
    ("section", "field", "path"),
    [
        ("metadata", "name", "metadata.name"),
        ("spec", "partition_key_name", "spec.partition_key_name"),
        ("spec", "partition_key_type", "spec.partition_key_type"),
    ],
)
def test_required_fields(section: str, field: str, path: str) -> None:
    document = manifest()
    del document[section][field]
    assert problems(document) == [f"{path}: required"]


def test_all_missing_required_fields_reported_together() -> None:
    document = manifest()
    del document["metadata"]["name"]
    document["spec"] = {}
    assert problems(document) == [
        "metadata.name: required",
        "spec.partition_key_name: required",
        "spec.partition_key_type: required",
    ]


def test_empty_document_lists_every_top_level_field() -> None:
    assert problems({}) == ["apiVersion: required", "kind: required", "metadata: required", "spec: required"]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("apiVersion", "v1", "apiVersion: must be aws.project-planton.org/v1, not 'v1'"),
        (
            "apiVersion",
            "aws.project-planton.org/v2",
            "apiVersion: must be aws.project-planton.org/v1, not 'aws.project-planton.org/v2'",
        ),
        ("kind", "AwsDynamoDb", "kind: must be AwsDynamodb, not 'AwsDynamoDb'"),
        ("kind", "GcpBucket", "kind: must be AwsDynamodb, not 'GcpBucket'"),
    ],
)
def test_wrong_api_version_or_kind(key: str, value: str, expected: str) -> None:
    document = manifest()
    document[key] = value
    assert problems(document) == [expected]


@pytest.mark.parametrize(
    ("section", "value"),
    [("metadata", "orders"), ("spec", ["a"])],
)
def test_section_not_a_mapping(section: str, value: Any) -> None:
    document = manifest()
    document[section] = value
    assert problems(document) == [f"{section}: must be a mapping of fields"]


def test_null_is_the_same_as_leaving_a_field_out() -> None:
    """As Project Planton reads manifests (protojson): the default applies, or it is missing."""
    document = manifest(billing_mode=None, sort_key_name=None, sort_key_type=None, table_name=None)
    document["metadata"]["labels"] = None
    model = valid(document)
    assert model.spec.billing_mode.value == "PAY_PER_REQUEST"
    assert model.metadata.labels == {}
    document["metadata"] = None
    assert problems(document) == ["metadata: required"]


# ---------------------------------------------------------------------------------------------
# Unknown fields


SPEC_FIELDS_SNAKE = (
    "alarms, autoscaling, aws_region, billing_mode, contributor_insights_enabled, deletion_protection_enabled, "
    "global_secondary_indexes, kms_key_arn, local_secondary_indexes, on_demand_throughput, partition_key_name, "
    "partition_key_type, point_in_time_recovery_enabled, point_in_time_recovery_period_days, read_capacity_units, "
    "server_side_encryption_enabled, sort_key_name, sort_key_type, stream_enabled, stream_view_type, table_class, "
    "table_name, tags, ttl, write_capacity_units"
)
SPEC_FIELDS_CAMEL = (
    "alarms, autoscaling, awsRegion, billingMode, contributorInsightsEnabled, deletionProtectionEnabled, "
    "globalSecondaryIndexes, kmsKeyArn, localSecondaryIndexes, onDemandThroughput, partitionKeyName, "
    "partitionKeyType, pointInTimeRecoveryEnabled, pointInTimeRecoveryPeriodDays, readCapacityUnits, "
    "serverSideEncryptionEnabled, sortKeyName, sortKeyType, streamEnabled, streamViewType, tableClass, "
    "tableName, tags, ttl, writeCapacityUnits"
)


@pytest.mark.parametrize(
    ("section", "typo", "expected"),
    [
        ("spec", "tabel_name", "spec.tabel_name: unknown field; did you mean 'table_name'?"),
        ("spec", "tabelName", "spec.tabelName: unknown field; did you mean 'tableName'?"),
        ("spec", "billing_mod", "spec.billing_mod: unknown field; did you mean 'billing_mode'?"),
        ("spec", "sortKeyTyp", "spec.sortKeyTyp: unknown field; did you mean 'sortKeyType'?"),
        ("metadata", "lables", "metadata.lables: unknown field; did you mean 'labels'?"),
        (None, "apiVersoin", "apiVersoin: unknown field; did you mean 'apiVersion'?"),
        (None, "spce", "spce: unknown field; did you mean 'spec'?"),
    ],
)
def test_unknown_field_suggests_close_match(section: str | None, typo: str, expected: str) -> None:
    document = manifest()
    (document[section] if section else document)[typo] = "x"
    assert problems(document) == [expected]


@pytest.mark.parametrize(
    ("typo", "known"),
    [("zzzz", SPEC_FIELDS_SNAKE), ("zzZz", SPEC_FIELDS_CAMEL)],
    ids=["snake", "camel"],
)
def test_unknown_spec_field_without_close_match_lists_known_fields(typo: str, known: str) -> None:
    assert problems(manifest(**{typo: 1})) == [f"spec.{typo}: unknown field; known fields here: {known}"]


def test_unknown_metadata_field_without_close_match_lists_known_fields() -> None:
    assert problems(manifest(metadata={"owner": "me"})) == [
        "metadata.owner: unknown field; known fields here: annotations, env, id, labels, name, org, tags"
    ]


def test_unknown_top_level_field_without_close_match_lists_known_fields() -> None:
    document = manifest()
    document["status"] = {}
    assert problems(document) == ["status: unknown field; known fields here: apiVersion, kind, metadata, spec"]


# ---------------------------------------------------------------------------------------------
# Strict types


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("read_capacity_units", "5", "must be a whole number"),
        ("read_capacity_units", 5.0, "must be a whole number"),
        ("write_capacity_units", True, "must be a whole number"),
        ("point_in_time_recovery_enabled", "yes", "must be true or false"),
        ("point_in_time_recovery_enabled", "true", "must be true or false"),
        ("server_side_encryption_enabled", 1, "must be true or false"),
        ("table_name", 123, "must be a string"),
        ("aws_region", 5, "must be a string"),
        ("partition_key_name", 7, "must be a string"),
    ],
)
def test_strict_types_are_not_coerced(field: str, value: Any, message: str) -> None:
    spec: dict[str, Any] = {field: value}
    if field.endswith("capacity_units"):
        spec = {"billing_mode": "PROVISIONED", "read_capacity_units": 5, "write_capacity_units": 5, **spec}
    assert problems(manifest(**spec)) == [f"spec.{field}: {message}"]


def test_metadata_tags_must_be_strings() -> None:
    assert problems(manifest(metadata={"tags": ["a", 5]})) == ["metadata.tags[1]: must be a string"]


def test_metadata_tags_must_be_a_list() -> None:
    assert problems(manifest(metadata={"tags": "a"})) == ["metadata.tags: must be a list"]


def test_metadata_labels_must_be_a_mapping() -> None:
    assert problems(manifest(metadata={"labels": ["a"]})) == ["metadata.labels: must be a mapping"]


# ---------------------------------------------------------------------------------------------
# Error paths use the user's spelling


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"tableName": "my table"},
            "spec.tableName: 'my table' is not a valid DynamoDB table name; "
            "use 3-255 characters of letters, digits, '_', '-' and '.'",
            id="table-name",
        ),
        pytest.param(
            {"awsRegion": "useast1"},
            "spec.awsRegion: 'useast1' does not look like an AWS region; use a code such as us-east-1 or eu-west-2",
            id="region",
        ),
        pytest.param(
            {"billingMode": "FREE"},
            "spec.billingMode: 'FREE' is not a billing mode; use PAY_PER_REQUEST or PROVISIONED",
            id="billing-mode",
        ),
        pytest.param(
            {"readCapacityUnits": "5"},
            "spec.readCapacityUnits: must be a whole number",
            id="strict-int",
        ),
        pytest.param(
            {"pointInTimeRecoveryEnabled": "yes"},
            "spec.pointInTimeRecoveryEnabled: must be true or false",
            id="strict-bool",
        ),
        pytest.param(
            {"writeCapacityUnits": 3},
            "spec.writeCapacityUnits: must be 0 or omitted when billing_mode is PAY_PER_REQUEST "
            "(on-demand tables have no provisioned capacity)",
            id="cross-field",
        ),
        pytest.param(
            {"sortKeyName": "id", "sortKeyType": "S"},
            "spec.sortKeyName: must differ from partition_key_name",
            id="sort-equals-partition",
        ),
    ],
)
def test_error_paths_use_camel_case_when_the_user_did(spec: dict[str, Any], expected: str) -> None:
    assert problems(manifest(**spec)) == [expected]


def test_error_path_uses_camel_case_api_version() -> None:
    document = manifest()
    assert "apiVersion" in document
    document["apiVersion"] = "v1"
    assert problems(document) == ["apiVersion: must be aws.project-planton.org/v1, not 'v1'"]


def test_error_path_uses_snake_case_api_version() -> None:
    document = manifest()
    document["api_version"] = document.pop("apiVersion")
    document["api_version"] = "v1"
    assert problems(document) == ["api_version: must be aws.project-planton.org/v1, not 'v1'"]


def test_provisioned_error_path_uses_each_fields_own_spelling() -> None:
    assert problems(manifest(billingMode="PROVISIONED", readCapacityUnits=0)) == [
        "spec.readCapacityUnits: must be greater than 0 when billing_mode is PROVISIONED",
        "spec.write_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
    ]


def test_several_problems_reported_in_one_error() -> None:
    document = manifest(table_name="ab", aws_region="nowhere", billing_mode="PROVISIONED")
    document["metadata"]["name"] = "../x"
    found = problems(document)
    paths = [line.split(": ", 1)[0] for line in found]
    assert paths == [
        "metadata.name",
        "spec.table_name",
        "spec.aws_region",
        "spec.read_capacity_units",
        "spec.write_capacity_units",
    ]


def test_manifest_error_lines_start_with_header() -> None:
    with pytest.raises(ManifestError) as excinfo:
        validate_document(manifest(table_name="ab"), "dir/m.yaml")
    lines = excinfo.value.lines()
    assert lines[0] == "dir/m.yaml is not a valid AwsDynamodb manifest:"
    assert lines[1:] == excinfo.value.problems
    assert excinfo.value.exit_code == EXIT_BAD_MANIFEST


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [("TABLE_NAME", "'table_name'"), ("table_Name", "'table_name'"), ("TableName", "'tableName'")],
)
def test_only_snake_and_camel_spellings_are_field_names(key: str, suggestion: str) -> None:
    document = manifest()
    document["spec"][key] = "orders"
    assert problems(document) == [f"spec.{key}: unknown field; did you mean {suggestion}?"]


@pytest.mark.parametrize("key", ["Kind", "API_VERSION", "ApiVersion"])
def test_top_level_fields_need_their_exact_spelling(key: str) -> None:
    document = manifest()
    document[key] = document.pop("kind" if key == "Kind" else "api_version", None) or document.pop("apiVersion")
    assert any(line.startswith(f"{key}: unknown field") for line in problems(document))


def test_missing_field_is_named_in_camel_case_when_the_mapping_is_camel_case() -> None:
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders"},
        "spec": {"partitionKeyName": "pk", "awsRegion": "us-east-1"},
    }
    assert problems(document) == ["spec.partitionKeyType: required"]


# ---------------------------------------------------------------------------------------------
# Text that cannot leave planton: one rule for every text field, reported without the value

LONE_SURROGATE = (
    "holds a lone surrogate (U+D800-U+DFFF), which is not a character: an escape of half of one "
    '("\\ud83d") or bytes that are not UTF-8; write the character itself'
)
NUL = "holds a NUL character (\\0), which no text planton passes on may hold"


def _text_leaves(node: Any, path: str = "") -> list[tuple[str, tuple[str | int, ...]]]:
    """(dotted path, position) of every string value in a document, and of every mapping key
    (position ending in a ``None`` step: the key itself); paths as the loader spells them."""
    found: list[tuple[str, tuple[str | int, ...]]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            inner = f"{path}.{key}" if path else str(key)
            found += [(where, (key, *position)) for where, position in _text_leaves(value, inner)]
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += [(where, (index, *position)) for where, position in _text_leaves(value, f"{path}[{index}]")]
    elif isinstance(node, str):
        found.append((path, ()))
    return found


def _with(document: Any, position: tuple[str | int, ...], change: Any) -> Any:
    copy = yaml.safe_load(yaml.safe_dump(document))
    node = copy
    for step in position[:-1]:
        node = node[step]
    node[position[-1]] = change(node[position[-1]])
    return copy


EXAMPLE_DOCUMENTS = [(slug(heading), yaml.safe_load(text)) for heading, text in example_blocks()]


@pytest.mark.parametrize(("name", "document"), EXAMPLE_DOCUMENTS, ids=[name for name, _ in EXAMPLE_DOCUMENTS])
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        pytest.param(chr(0xD83D), LONE_SURROGATE, id="half-of-a-character"),
        pytest.param(chr(0xDCFF), LONE_SURROGATE, id="a-byte-that-is-not-utf8"),
        pytest.param("\0", NUL, id="nul"),
    ],
)
def test_every_text_value_of_every_example_must_be_text(name: str, document: Any, bad: str, message: str) -> None:
    # Whichever field holds it (names, enum spellings, labels, tags, annotations, ids), in both
    # dialects: the one problem is the field's, and no other rule quotes the value.
    leaves = _text_leaves(document)
    assert leaves, name
    for path, position in leaves:
        found = problems(_with(document, position, lambda text: f"{text[:2]}{bad}{text[2:]}"))
        assert found == [f"{path}: {message}"], (name, path)


def test_a_key_that_is_not_text_is_blamed_on_its_mapping() -> None:
    document = manifest(metadata={"labels": {"team": "core", "own\ud800er": "me"}, "annotations": {"\0": "x"}})
    assert problems(document) == [
        f"metadata.labels: a key here {LONE_SURROGATE}",
        f"metadata.annotations: a key here {NUL}",
    ]


def test_text_problems_come_with_the_manifests_other_problems() -> None:
    document = manifest(table_name="ab", billing_mode="PROVISIONED", metadata={"id": "x\0"})
    assert problems(document) == [
        f"metadata.id: {NUL}",
        "spec.table_name: 'ab' is not a valid DynamoDB table name; use 3-255 characters of letters, digits, "
        "'_', '-' and '.'",
        "spec.read_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
        "spec.write_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
    ]
