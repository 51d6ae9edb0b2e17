"""``--set PATH=VALUE``: parsing, the paths and value types the models allow, how a document
changes (and does not), and which override a validation problem is blamed on."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from planton.errors import EXIT_USAGE, ManifestError, UsageError
from planton.manifest.keyschema import KeySchemaManifest
from planton.manifest.loader import parse_yaml, read_manifest_document, validate_document
from planton.manifest.overrides import (
    Override,
    OverrideError,
    apply_overrides,
    from_overrides,
    parse_override,
)
from planton.manifest.seed import SeedManifest
from planton.source import ManifestSource, load_input
from planton.table import AttributeType, BillingMode, KeyType, ProjectionType

from support import HACK_MANIFEST, example_blocks

SEED: dict[str, Any] = {
    "apiVersion": "aws.project-planton.org/v1",
    "kind": "AwsDynamodb",
    "metadata": {"name": "orders"},
    "spec": {"partition_key_name": "pk", "partition_key_type": "S"},
}

KEY_SCHEMA: dict[str, Any] = {
    "apiVersion": "aws.project-planton.org/v1",
    "kind": "AwsDynamodb",
    "metadata": {"name": "orders"},
    "spec": {
        "attributeDefinitions": [{"name": "pk", "type": "S"}, {"name": "gpk", "type": "S"}],
        "keySchema": [{"attributeName": "pk", "keyType": "HASH"}],
        "globalSecondaryIndexes": [
            {"name": "by-gpk", "keySchema": [{"attributeName": "gpk", "keyType": "HASH"}]},
        ],
    },
}


def example(heading: str) -> dict[str, Any]:
    """The manifest under ``heading`` in examples.md, parsed."""
    text = next(text for title, text in example_blocks() if title == heading)
    document = parse_yaml(text, heading)
    assert isinstance(document, dict)
    return document


def hack() -> dict[str, Any]:
    document, _ = read_manifest_document(HACK_MANIFEST)
    return dict(document)


def applied(document: Mapping[str, Any], *raws: str) -> dict[str, Any]:
    return apply_overrides(document, [parse_override(raw) for raw in raws])


def at(document: Any, *path: str | int) -> Any:
    for key in path:
        document = document[key]
    return document


def parse_error(raw: str) -> str:
    with pytest.raises(OverrideError) as excinfo:
        parse_override(raw)
    return str(excinfo.value)


def apply_error(document: Mapping[str, Any], *raws: str) -> str:
    overrides = [parse_override(raw) for raw in raws]
    with pytest.raises(OverrideError) as excinfo:
        apply_overrides(document, overrides)
    return str(excinfo.value)


# ---------------------------------------------------------------------------------------------
# Parsing


@pytest.mark.parametrize(
    ("raw", "path", "text", "dotted"),
    [
        ("spec.tags.team=core", ("spec", "tags", "team"), "core", "spec.tags.team"),
        (
            "spec.globalSecondaryIndexes[0].keySchema[0].attributeName=pk",
            ("spec", "globalSecondaryIndexes", 0, "keySchema", 0, "attributeName"),
            "pk",
            "spec.globalSecondaryIndexes[0].keySchema[0].attributeName",
        ),
        (
            "spec.global_secondary_indexes[12].name=by-x",
            ("spec", "global_secondary_indexes", 12, "name"),
            "by-x",
            "spec.global_secondary_indexes[12].name",
        ),
        (
            r"metadata.labels.terraform\.project-planton\.org/backend\.type=s3",
            ("metadata", "labels", "terraform.project-planton.org/backend.type"),
            "s3",
            r"metadata.labels.terraform\.project-planton\.org/backend\.type",
        ),
        (r"metadata.labels.a\\b=x", ("metadata", "labels", "a\\b"), "x", r"metadata.labels.a\\b"),
        (r"metadata.labels.a\[0]=x", ("metadata", "labels", "a[0]"), "x", r"metadata.labels.a\[0]"),
        ("spec.tags.note=a=b==c", ("spec", "tags", "note"), "a=b==c", "spec.tags.note"),
        ("spec.table_name=", ("spec", "table_name"), "", "spec.table_name"),
        ("spec.table_name= spaced ", ("spec", "table_name"), " spaced ", "spec.table_name"),
        ("apiVersion=aws.project-planton.org/v1", ("apiVersion",), "aws.project-planton.org/v1", "apiVersion"),
    ],
)
def test_parse(raw: str, path: tuple[str | int, ...], text: str, dotted: str) -> None:
    override = parse_override(raw)
    assert override == Override(raw=raw, path=path, text=text)
    assert override.dotted == dotted
    # The dotted form reads back as the same path.
    assert parse_override(f"{override.dotted}={override.text}").path == path


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("spec.billing_mode", "expected PATH=VALUE, such as spec.billing_mode=PROVISIONED"),
        ("=PROVISIONED", "the path before '=' is empty; write PATH=VALUE, such as spec.billing_mode=PROVISIONED"),
        *[
            (
                raw,
                "the path has an empty part (a '.' at its start or end, two '.' in a row, or [N] with no name "
                "before it); write a dot inside a key as \\.",
            )
            for raw in ("spec..table_name=x", ".spec=x", "spec.=x", "spec.[0]=x", "[0]=x")
        ],
        (
            "spec.global_secondary_indexes[x].name=a",
            "malformed list position '[x]'; write [N] with N a whole number ([0] is the first entry)",
        ),
        (
            "spec.global_secondary_indexes[].name=a",
            "malformed list position '[]'; write [N] with N a whole number ([0] is the first entry)",
        ),
        (
            "spec.global_secondary_indexes[0.name=a",
            "malformed list position '[0.name'; write [N] with N a whole number ([0] is the first entry)",
        ),
        (
            "spec.global_secondary_indexes[-1].name=a",
            "[-1]: list positions count from [0] (the first entry); negative positions are not supported",
        ),
        (
            "spec.global_secondary_indexes[0]name=a",
            "expected '.' or '[' after 'spec.global_secondary_indexes[0]', not 'n'",
        ),
        (
            "spec.tags.a\\=x",
            "expected PATH=VALUE, such as spec.billing_mode=PROVISIONED",
        ),  # the escaped = is part of the key: no value follows
    ],
)
def test_parse_errors(raw: str, message: str) -> None:
    assert parse_error(raw) == f"--set {raw}: {message}"


def test_override_error_is_a_usage_error() -> None:
    with pytest.raises(OverrideError) as excinfo:
        parse_override("spec.nope=1")
    assert isinstance(excinfo.value, UsageError)
    assert excinfo.value.exit_code == EXIT_USAGE
    assert excinfo.value.lines()[0].startswith("--set spec.nope=1: ")


# ---------------------------------------------------------------------------------------------
# Values, typed by the model, in both dialects and both spellings


@pytest.mark.parametrize(
    ("document", "raw", "path", "expected"),
    [
        # text: as given, even when YAML would read a number or a boolean
        (SEED, "spec.table_name=123", ("spec", "table_name"), "123"),
        (SEED, "spec.tableName=true", ("spec", "tableName"), "true"),
        (SEED, "spec.table_name='orders'", ("spec", "table_name"), "orders"),
        (SEED, 'spec.table_name="null"', ("spec", "table_name"), "null"),
        (SEED, "spec.table_name='it''s'", ("spec", "table_name"), "it's"),
        (SEED, "spec.table_name='half", ("spec", "table_name"), "'half"),
        (SEED, "metadata.env=2024", ("metadata", "env"), "2024"),
        (SEED, "apiVersion=aws.project-planton.org/v1", ("apiVersion",), "aws.project-planton.org/v1"),
        (SEED, "kind=AwsDynamodb", ("kind",), "AwsDynamodb"),
        # enums: any spelling, left for the model to read
        (SEED, "spec.billing_mode=PROVISIONED", ("spec", "billing_mode"), "PROVISIONED"),
        (SEED, "spec.partitionKeyType=attribute_type_n", ("spec", "partition_key_type"), "attribute_type_n"),
        (KEY_SCHEMA, "spec.keySchema[0].keyType=RANGE", ("spec", "keySchema", 0, "keyType"), "RANGE"),
        (KEY_SCHEMA, "spec.key_schema[0].key_type=1", ("spec", "keySchema", 0, "keyType"), "1"),
        (KEY_SCHEMA, "spec.attributeDefinitions[1].type=N", ("spec", "attributeDefinitions", 1, "type"), "N"),
        # the values of labels, annotations and tags are text
        (SEED, "spec.tags.cost=42", ("spec", "tags", "cost"), "42"),
        (SEED, "metadata.labels.tier=1.5", ("metadata", "labels", "tier"), "1.5"),
        (SEED, "metadata.annotations.note=yes", ("metadata", "annotations", "note"), "yes"),
        (SEED, "metadata.tags[0]=7", ("metadata", "tags", 0), "7"),
        # whole numbers
        (SEED, "spec.read_capacity_units=5", ("spec", "read_capacity_units"), 5),
        (SEED, "spec.point_in_time_recovery_period_days=-3", ("spec", "point_in_time_recovery_period_days"), -3),
        (
            KEY_SCHEMA,
            "spec.provisionedThroughput.readCapacityUnits=10",
            ("spec", "provisionedThroughput", "readCapacityUnits"),
            10,
        ),
        (
            KEY_SCHEMA,
            "spec.global_secondary_indexes[0].provisioned_throughput.write_capacity_units=3",
            ("spec", "globalSecondaryIndexes", 0, "provisioned_throughput", "write_capacity_units"),
            3,
        ),
        # numbers
        (
            SEED,
            "spec.autoscaling.read.target_utilization=70",
            ("spec", "autoscaling", "read", "target_utilization"),
            70,
        ),
        (
            SEED,
            "spec.autoscaling.read.targetUtilization=72.5",
            ("spec", "autoscaling", "read", "targetUtilization"),
            72.5,
        ),
        (
            KEY_SCHEMA,
            "spec.autoscaling.write.target_utilization=1e1",
            ("spec", "autoscaling", "write", "target_utilization"),
            10.0,
        ),
        # booleans
        (SEED, "spec.stream_enabled=true", ("spec", "stream_enabled"), True),
        (SEED, "spec.streamEnabled=FALSE", ("spec", "streamEnabled"), False),
        (KEY_SCHEMA, "spec.serverSideEncryption.enabled=True", ("spec", "serverSideEncryption", "enabled"), True),
        (SEED, "spec.server_side_encryption_enabled=false", ("spec", "server_side_encryption_enabled"), False),
        # lists, mappings and models: YAML flow syntax
        (
            KEY_SCHEMA,
            "spec.globalSecondaryIndexes[0].projection.nonKeyAttributes=[total, status]",
            ("spec", "globalSecondaryIndexes", 0, "projection", "nonKeyAttributes"),
            ["total", "status"],
        ),
        (
            SEED,
            "spec.global_secondary_indexes[0].non_key_attributes=[1, true]",
            ("spec", "global_secondary_indexes", 0, "non_key_attributes"),
            [1, True],
        ),
        (SEED, "metadata.tags=[a, b]", ("metadata", "tags"), ["a", "b"]),
        (
            KEY_SCHEMA,
            "spec.ttl={enabled: true, attributeName: expires_at}",
            ("spec", "ttl"),
            {"enabled": True, "attributeName": "expires_at"},
        ),
        (SEED, "spec.tags={team: core, cost: 42}", ("spec", "tags"), {"team": "core", "cost": 42}),
        (SEED, "metadata.labels={}", ("metadata", "labels"), {}),
        (
            SEED,
            "spec.global_secondary_indexes=[{name: g, partition_key_name: x, partition_key_type: S}]",
            ("spec", "global_secondary_indexes"),
            [{"name": "g", "partition_key_name": "x", "partition_key_type": "S"}],
        ),
        (
            KEY_SCHEMA,
            "spec.globalSecondaryIndexes[0].keySchema[0]={attributeName: gpk, keyType: HASH}",
            ("spec", "globalSecondaryIndexes", 0, "keySchema", 0),
            {"attributeName": "gpk", "keyType": "HASH"},
        ),
    ],
)
def test_value_typed_by_model(document: dict[str, Any], raw: str, path: tuple[str | int, ...], expected: Any) -> None:
    value = at(applied(document, raw), *path)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("spec.read_capacity_units=five", "spec.read_capacity_units takes a whole number, not 'five'"),
        ("spec.readCapacityUnits=true", "spec.readCapacityUnits takes a whole number, not 'true'"),
        ("spec.read_capacity_units=1.5", "spec.read_capacity_units takes a whole number, not '1.5'"),
        ("spec.read_capacity_units='5'", "spec.read_capacity_units takes a whole number, not ''5''"),
        ("spec.read_capacity_units=", "spec.read_capacity_units takes a whole number, not ''"),
        (
            "spec.provisionedThroughput.readCapacityUnits=lots",
            "spec.provisionedThroughput.readCapacityUnits takes a whole number, not 'lots'",
        ),
        (
            "spec.autoscaling.read.target_utilization=high",
            "spec.autoscaling.read.target_utilization takes a number, not 'high'",
        ),
        (
            "spec.autoscaling.read.target_utilization=true",
            "spec.autoscaling.read.target_utilization takes a number, not 'true'",
        ),
        ("spec.stream_enabled=yes", "spec.stream_enabled takes true or false, not 'yes'"),
        # YAML 1.1 and 1.2 read these numbers differently: refused, saying both readings
        (
            "spec.readCapacityUnits=0x10",
            "spec.readCapacityUnits takes a whole number, not '0x10': '0x10' is 16 written in base 16; "
            "write it in decimal digits, or quote it for text",
        ),
        (
            "spec.readCapacityUnits=010",
            "spec.readCapacityUnits takes a whole number, not '010': '010' is 8 to YAML 1.1 (base 8, for the "
            "leading 0) and 10 to YAML 1.2; write it without the leading 0, or quote it for text",
        ),
        (
            "spec.readCapacityUnits=1:30",
            "spec.readCapacityUnits takes a whole number, not '1:30': '1:30' is 90 to YAML 1.1 and the text "
            "'1:30' to YAML 1.2; write the number in decimal digits, or quote it for text",
        ),
        (
            "spec.ttl={enabled: yes}",
            "spec.ttl takes a mapping in YAML flow syntax, such as {enabled: ..., attribute_name: ...}; "
            "'{enabled: yes}' does not read as YAML (enabled: 'yes' is true to YAML 1.1 and the text 'yes' to "
            "YAML 1.2; quote it for text, or write true or false for a boolean)",
        ),
        ("spec.serverSideEncryption.enabled=1", "spec.serverSideEncryption.enabled takes true or false, not '1'"),
        (
            "spec.ttl=yes",
            "spec.ttl takes a mapping in YAML flow syntax, such as {enabled: ..., attribute_name: ...}, not 'yes'",
        ),
        (
            "spec.onDemandThroughput=[1]",
            "spec.onDemandThroughput takes a mapping in YAML flow syntax, such as "
            "{maxReadRequestUnits: ..., maxWriteRequestUnits: ...}, not '[1]'",
        ),
        ("spec.tags=a", "spec.tags takes a mapping in YAML flow syntax, such as {key: value}, not 'a'"),
        (
            "spec.global_secondary_indexes=x",
            "spec.global_secondary_indexes takes a list in YAML flow syntax, such as "
            "[{name: ..., partition_key_name: ...}], not 'x'",
        ),
        (
            "spec.globalSecondaryIndexes[0].projection.nonKeyAttributes=total",
            "spec.globalSecondaryIndexes[0].projection.nonKeyAttributes takes a list in YAML flow syntax, such "
            "as [a, b], not 'total'",
        ),
        (
            "metadata.tags=[a",
            "metadata.tags takes a list in YAML flow syntax, such as [a, b]; '[a' does not read as YAML (line 1, "
            "column 3: while parsing a flow sequence expected ',' or ']', but got '<stream end>')",
        ),
        (
            "spec.tags={a: 1, a: 2}",
            "spec.tags takes a mapping in YAML flow syntax, such as {key: value}; '{a: 1, a: 2}' does not read "
            "as YAML (line 1, column 8: key 'a' appears twice in the same mapping)",
        ),
    ],
)
def test_value_errors(raw: str, message: str) -> None:
    # Refused when parsed, before any manifest is read.
    assert parse_error(raw) == f"--set {raw}: {message}"


def test_hand_made_override_is_checked_when_applied() -> None:
    with pytest.raises(OverrideError, match=r"^--set x: spec.read_capacity_units takes a whole number, not 'x'$"):
        apply_overrides(SEED, [Override(raw="x", path=("spec", "read_capacity_units"), text="x")])
    with pytest.raises(OverrideError, match=r"^--set y: spec has no field 'bogus'"):
        apply_overrides(SEED, [Override(raw="y", path=("spec", "bogus"), text="1")])


# ---------------------------------------------------------------------------------------------
# Paths the models do not have


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("spec.billng_mode=PROVISIONED", "spec has no field 'billng_mode'; did you mean spec.billing_mode?"),
        ("spec.billngMode=PROVISIONED", "spec has no field 'billngMode'; did you mean spec.billingMode?"),
        ("spec.BILLING_MODE=PROVISIONED", "spec has no field 'BILLING_MODE'; did you mean spec.billing_mode?"),
        ("spek.table_name=x", "the manifest has no field 'spek'; did you mean spec?"),
        ("apiversion=x", "the manifest has no field 'apiversion'; did you mean apiVersion?"),
        ("api_verison=x", "the manifest has no field 'api_verison'; did you mean api_version?"),
        ("metadata.nmae=x", "metadata has no field 'nmae'; did you mean metadata.name?"),
        # a lowercase word takes the style of the rest of the path
        (
            "spec.provisionedThroughput.readcapacityunits=1",
            "spec.provisionedThroughput has no field 'readcapacityunits'; did you mean "
            "spec.provisionedThroughput.readCapacityUnits?",
        ),
        (
            "spec.provisioned_throughput.read_capacity=1",
            "spec.provisioned_throughput has no field 'read_capacity'; did you mean "
            "spec.provisioned_throughput.read_capacity_units?",
        ),
        # index entries: the fields of both dialects' index models
        (
            "spec.global_secondary_indexes[0].projection_typ=ALL",
            "spec.global_secondary_indexes[0] has no field 'projection_typ'; did you mean "
            "spec.global_secondary_indexes[0].projection_type?",
        ),
        (
            "spec.globalSecondaryIndexes[0].keySchem=[]",
            "spec.globalSecondaryIndexes[0] has no field 'keySchem'; did you mean "
            "spec.globalSecondaryIndexes[0].keySchema?",
        ),
        (
            "spec.localSecondaryIndexes[0].provisionedThroughput={}",
            "spec.localSecondaryIndexes[0] has no field 'provisionedThroughput'; the fields there are "
            "keySchema, name, nonKeyAttributes, projection, projectionType, sortKeyName, sortKeyType",
        ),
        # nothing close: the fields there
        ("spec.ttl.zzz=1", "spec.ttl has no field 'zzz'; the fields there are attribute_name, enabled"),
        (
            "spec.onDemandThroughput.zzz=1",
            "spec.onDemandThroughput has no field 'zzz'; the fields there are maxReadRequestUnits, "
            "maxWriteRequestUnits",
        ),
        ("zzz=1", "the manifest has no field 'zzz'; the fields there are apiVersion, kind, metadata, spec"),
        # lists, and what is not one
        (
            "spec.global_secondary_indexes.name=x",
            "spec.global_secondary_indexes is a list; pick an entry with [N], such as "
            "spec.global_secondary_indexes[0].name",
        ),
        ("metadata.tags.x=y", "metadata.tags is a list; pick an entry with [N], such as metadata.tags[0].x"),
        ("spec.ttl[0].enabled=true", "spec.ttl is not a list, so [0] does not apply; remove it"),
        ("spec.tags[0]=x", "spec.tags is not a list, so [0] does not apply; remove it"),
        ("spec.table_name[1]=x", "spec.table_name is not a list, so [1] does not apply; remove it"),
        ("spec.key_schema[0][0]=x", "spec.key_schema[0] is not a list, so [0] does not apply; remove it"),
        # nothing under a single value
        ("spec.table_name.x=1", "spec.table_name is a single value and has no field 'x'"),
        ("metadata.name.first=1", "metadata.name is a single value and has no field 'first'"),
        (
            "metadata.labels.terraform.project-planton.org/backend.type=s3",
            "metadata.labels.terraform is a single value and has no field 'project-planton'; to name a key with "
            "dots in it, escape them: metadata.labels.terraform\\.project-planton\\.org/backend\\.type",
        ),
        ("spec.tags.a[0]=x", "spec.tags.a is not a list, so [0] does not apply; remove it"),
    ],
)
def test_unknown_paths(raw: str, message: str) -> None:
    assert parse_error(raw) == f"--set {raw}: {message}"


@pytest.mark.parametrize(
    "raw",
    [
        # either dialect's fields are valid under spec and index entries (mixing is validation's job)
        "spec.partition_key_name=pk",
        "spec.keySchema=[]",
        "spec.kms_key_arn=alias/x",
        "spec.serverSideEncryption.kmsKeyArn=alias/x",
        "spec.global_secondary_indexes[0].projection_type=ALL",
        "spec.globalSecondaryIndexes[0].projection.type=ALL",
        "spec.local_secondary_indexes[0].sort_key_name=x",
        "spec.localSecondaryIndexes[0].keySchema[1].keyType=RANGE",
        "spec.global_secondary_indexes[0].autoscaling.read.min_capacity=1",
        # both spellings at the top level and in metadata
        "api_version=aws.project-planton.org/v1",
        "metadata.org=acme",
        # labels, annotations and tags take any key
        "metadata.labels.Any-Key_at/all=x",
        "metadata.annotations.example\\.com/owner=x",
        "spec.tags.billing_mode=x",
        "spec.tags.tableName=x",
    ],
)
def test_known_paths(raw: str) -> None:
    assert parse_override(raw).raw == raw


# ---------------------------------------------------------------------------------------------
# How the document changes


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        ({"billingMode": "PAY_PER_REQUEST"}, "spec.billing_mode=PROVISIONED", {"billingMode": "PROVISIONED"}),
        ({"billing_mode": "PAY_PER_REQUEST"}, "spec.billingMode=PROVISIONED", {"billing_mode": "PROVISIONED"}),
        ({"billing_mode": "X"}, "spec.billing_mode=PROVISIONED", {"billing_mode": "PROVISIONED"}),
        # a new key takes the user's spelling
        ({}, "spec.billingMode=PROVISIONED", {"billingMode": "PROVISIONED"}),
        ({}, "spec.billing_mode=PROVISIONED", {"billing_mode": "PROVISIONED"}),
        # nested: the existing spelling at each level
        (
            {"provisionedThroughput": {"readCapacityUnits": 10}},
            "spec.provisioned_throughput.read_capacity_units=5",
            {"provisionedThroughput": {"readCapacityUnits": 5}},
        ),
        (
            {"provisionedThroughput": {"readCapacityUnits": 10}},
            "spec.provisioned_throughput.write_capacity_units=5",
            {"provisionedThroughput": {"readCapacityUnits": 10, "write_capacity_units": 5}},
        ),
        # both spellings already (validation reports that): the user's one is set
        ({"billingMode": "A", "billing_mode": "B"}, "spec.billing_mode=C", {"billingMode": "A", "billing_mode": "C"}),
        # keys of tags are the user's own words: never respelled
        ({"tags": {"costCentre": "a"}}, "spec.tags.cost_centre=b", {"tags": {"costCentre": "a", "cost_centre": "b"}}),
    ],
)
def test_existing_spelling_is_reused(spec: dict[str, Any], raw: str, expected: dict[str, Any]) -> None:
    assert applied({"spec": spec}, raw)["spec"] == expected


def test_top_level_spelling_is_reused() -> None:
    result = applied(SEED, "api_version=aws.project-planton.org/v2")
    assert result["apiVersion"] == "aws.project-planton.org/v2"
    assert "api_version" not in result


@pytest.mark.parametrize(
    ("document", "raw", "expected"),
    [
        ({}, "spec.ttl.enabled=true", {"spec": {"ttl": {"enabled": True}}}),
        ({"spec": {"ttl": None}}, "spec.ttl.enabled=true", {"spec": {"ttl": {"enabled": True}}}),
        (
            {},
            "spec.globalSecondaryIndexes[0].keySchema[0].attributeName=pk",
            {"spec": {"globalSecondaryIndexes": [{"keySchema": [{"attributeName": "pk"}]}]}},
        ),
        (
            {"spec": {"global_secondary_indexes": [None]}},
            "spec.global_secondary_indexes[0].name=g",
            {"spec": {"global_secondary_indexes": [{"name": "g"}]}},
        ),
        ({}, "metadata.labels.team=core", {"metadata": {"labels": {"team": "core"}}}),
    ],
)
def test_missing_intermediates_are_created(document: dict[str, Any], raw: str, expected: dict[str, Any]) -> None:
    assert applied(document, raw) == expected


@pytest.mark.parametrize(
    ("document", "raw", "message"),
    [
        (
            {"spec": {"ttl": "yes"}},
            "spec.ttl.enabled=true",
            "spec.ttl is 'yes' in the manifest, not a mapping; set spec.ttl as a whole instead",
        ),
        (
            {"spec": ["a"]},
            "spec.table_name=x",
            "spec is a list in the manifest, not a mapping; set spec as a whole instead",
        ),
        (
            {"spec": {"globalSecondaryIndexes": {"name": "g"}}},
            "spec.globalSecondaryIndexes[0].name=g",
            "spec.globalSecondaryIndexes is a mapping in the manifest, not a list; set spec.globalSecondaryIndexes "
            "as a whole instead",
        ),
        (
            {"spec": {"global_secondary_indexes": [5]}},
            "spec.global_secondary_indexes[0].name=g",
            "spec.global_secondary_indexes[0] is 5 in the manifest, not a mapping; set "
            "spec.global_secondary_indexes[0] as a whole instead",
        ),
        (
            {"metadata": {"labels": True}},
            "metadata.labels.team=null",
            "metadata.labels is true in the manifest, not a mapping; set metadata.labels as a whole instead",
        ),
    ],
)
def test_intermediate_of_the_wrong_kind(document: dict[str, Any], raw: str, message: str) -> None:
    assert apply_error(document, raw) == f"--set {raw}: {message}"


def test_list_positions_replace_and_append() -> None:
    document = {"metadata": {"tags": ["a", "b"]}}
    assert applied(document, "metadata.tags[0]=x")["metadata"]["tags"] == ["x", "b"]
    assert applied(document, "metadata.tags[2]=c")["metadata"]["tags"] == ["a", "b", "c"]
    assert applied(document, "metadata.tags[2]=c", "metadata.tags[3]=d")["metadata"]["tags"] == ["a", "b", "c", "d"]
    assert applied({}, "metadata.tags[0]=a")["metadata"]["tags"] == ["a"]


def test_list_position_descends_into_an_entry() -> None:
    document = example("Global secondary indexes")
    result = applied(document, "spec.globalSecondaryIndexes[1].name=by-state")
    indexes = result["spec"]["globalSecondaryIndexes"]
    assert [index["name"] for index in indexes] == ["by-customer", "by-state"]
    assert indexes[1]["keySchema"] == [{"attributeName": "status", "keyType": "HASH"}]
    result = applied(document, "spec.globalSecondaryIndexes[2].name=by-total")
    assert result["spec"]["globalSecondaryIndexes"][2] == {"name": "by-total"}


@pytest.mark.parametrize(
    ("count", "raw", "message"),
    [
        (0, "metadata.tags[1]=x", "metadata.tags has no entries; use [0] to add one"),
        (1, "metadata.tags[2]=x", "metadata.tags has 1 entry; use [0] to change it or [1] to add one"),
        (2, "metadata.tags[5]=x", "metadata.tags has 2 entries; use [0] or [1] to change one, or [2] to add one"),
        (4, "metadata.tags[9]=x", "metadata.tags has 4 entries; use [0] to [3] to change one, or [4] to add one"),
        (1, "metadata.tags[1]=null", "metadata.tags has 1 entry; [1] is not one of them"),
    ],
)
def test_list_position_out_of_range(count: int, raw: str, message: str) -> None:
    document = {"metadata": {"tags": [f"t{i}" for i in range(count)]}}
    assert apply_error(document, raw) == f"--set {raw}: {message}"


def test_list_position_out_of_range_on_the_way() -> None:
    document = {"spec": {"global_secondary_indexes": [{"name": "g"}]}}
    raw = "spec.global_secondary_indexes[2].name=x"
    assert apply_error(document, raw) == (
        f"--set {raw}: spec.global_secondary_indexes has 1 entry; use [0] to change it or [1] to add one"
    )
    raw = "spec.global_secondary_indexes[1].autoscaling=null"
    assert (
        apply_error(document, raw) == f"--set {raw}: spec.global_secondary_indexes has 1 entry; [1] is not one of them"
    )


@pytest.mark.parametrize(
    ("document", "raw", "expected"),
    [
        ({"spec": {"billingMode": "X", "tableName": "t"}}, "spec.billing_mode=null", {"spec": {"tableName": "t"}}),
        ({"spec": {"billing_mode": "X"}}, "spec.billingMode=null", {"spec": {}}),
        ({"spec": {"billingMode": "A", "billing_mode": "B"}}, "spec.billing_mode=null", {"spec": {}}),
        ({"spec": {"read_capacity_units": 5}}, "spec.read_capacity_units=null", {"spec": {}}),
        ({"spec": {"ttl": {"enabled": True}}}, "spec.ttl=null", {"spec": {}}),
        (
            {"metadata": {"labels": {"a": "1", "b": "2"}}},
            "metadata.labels.a=null",
            {"metadata": {"labels": {"b": "2"}}},
        ),
        # nothing there to remove: nothing changes, nothing is created
        ({"spec": {}}, "spec.table_name=null", {"spec": {}}),
        ({"spec": {}}, "spec.ttl.enabled=null", {"spec": {}}),
        ({}, "spec.globalSecondaryIndexes[0].name=null", {}),
        ({"spec": {"ttl": None}}, "spec.ttl.enabled=null", {"spec": {"ttl": None}}),
        # a list entry is removed, the later ones move up
        ({"metadata": {"tags": ["a", "b", "c"]}}, "metadata.tags[1]=null", {"metadata": {"tags": ["a", "c"]}}),
        (
            {"spec": {"gsis": None, "global_secondary_indexes": [{"name": "a", "autoscaling": {}}]}},
            "spec.global_secondary_indexes[0].autoscaling=null",
            {"spec": {"gsis": None, "global_secondary_indexes": [{"name": "a"}]}},
        ),
    ],
)
def test_null_removes(document: dict[str, Any], raw: str, expected: dict[str, Any]) -> None:
    assert applied(document, raw) == expected


def test_quoted_null_is_text() -> None:
    assert applied(SEED, "spec.table_name='null'")["spec"]["table_name"] == "null"
    assert applied(SEED, 'metadata.labels.state="null"')["metadata"]["labels"]["state"] == "null"


def test_later_overrides_win() -> None:
    result = applied(
        SEED,
        "spec.billing_mode=PROVISIONED",
        "spec.billingMode=PAY_PER_REQUEST",
        "spec.ttl={enabled: true, attribute_name: a}",
        "spec.ttl.attribute_name=b",
        "spec.tags.x=1",
        "spec.tags=null",
    )
    assert result["spec"] == {
        "partition_key_name": "pk",
        "partition_key_type": "S",
        "billing_mode": "PAY_PER_REQUEST",
        "ttl": {"enabled": True, "attribute_name": "b"},
    }


def test_input_is_not_changed() -> None:
    document = example("Global secondary indexes")
    before = copy.deepcopy(document)
    result = applied(
        document,
        "spec.globalSecondaryIndexes[0].projection.nonKeyAttributes=[total]",
        "spec.globalSecondaryIndexes[1]=null",
        "spec.attributeDefinitions[0].name=id",
        "metadata.labels.team=core",
        "spec.billing_mode=null",
    )
    assert document == before
    assert result != before
    # Nothing is shared: changing the result leaves the input alone.
    result["spec"]["keySchema"][0]["attributeName"] = "changed"
    result["spec"]["globalSecondaryIndexes"][0]["keySchema"].append({})
    assert document == before


def test_no_overrides_gives_a_plain_copy() -> None:
    document = MappingProxyType({"spec": MappingProxyType({"tags": MappingProxyType({"a": "1"})}), "x": ("a", ["b"])})
    result = apply_overrides(document, [])
    assert result == {"spec": {"tags": {"a": "1"}}, "x": ["a", ["b"]]}
    assert type(result) is dict
    assert type(result["spec"]["tags"]) is dict
    assert type(result["x"]) is list


def test_flow_values_are_fresh_each_time() -> None:
    override = parse_override("spec.tags={a: b}")
    first, second = apply_overrides({}, [override]), apply_overrides({}, [override])
    first["spec"]["tags"]["a"] = "changed"
    assert second["spec"]["tags"] == {"a": "b"}


# ---------------------------------------------------------------------------------------------
# Which override a problem comes from

BLAMED = [
    parse_override("spec.ttl={enabled: true}"),
    parse_override("spec.ttl.enabled=true"),
    parse_override("spec.billing_mode=FOO"),
    parse_override("spec.globalSecondaryIndexes[0].name=x"),
    parse_override(r"metadata.labels.a\.b=x"),
    parse_override("apiVersion=v9"),
]


@pytest.mark.parametrize(
    ("problem_path", "blamed"),
    [
        ("spec.ttl.enabled", 1),  # the last of two that match
        ("spec.ttl.attributeName", 0),
        ("spec.ttl", 0),
        ("spec.ttlx", None),
        ("spec.billing_mode", 2),
        ("spec.billingMode", 2),  # the document may spell the field the other way
        ("spec.billing_mode_x", None),
        ("spec.globalSecondaryIndexes[0].name", 3),
        ("spec.global_secondary_indexes[0].name", 3),
        ("spec.globalSecondaryIndexes[0].name.x", 3),
        ("spec.globalSecondaryIndexes[0]", None),
        ("spec.globalSecondaryIndexes[1].name", None),
        ("spec.globalSecondaryIndexes[01].name", None),
        ("metadata.labels.a.b", 4),
        (r"metadata.labels.a\.b", 4),
        ("metadata.labels.a", None),
        ("metadata.labels.a.bc", None),
        ("apiVersion", 5),
        ("api_version", 5),
        ("spec", None),
        ("(document)", None),
        ("", None),
    ],
)
def test_from_overrides(problem_path: str, blamed: int | None) -> None:
    found = from_overrides(problem_path, BLAMED)
    assert found is (None if blamed is None else BLAMED[blamed])


def test_from_overrides_with_none_given() -> None:
    assert from_overrides("spec.ttl", []) is None


def test_from_overrides_with_a_hand_made_override() -> None:
    override = Override(raw="spec.bogus.x=1", path=("spec", "bogus", "x"), text="1")
    assert from_overrides("spec.bogus.x", [override]) is override
    assert from_overrides("spec.bogusx", [override]) is None


# ---------------------------------------------------------------------------------------------
# Through validation


def test_hack_manifest_switched_to_provisioned() -> None:
    document = hack()
    manifest = validate_document(
        applied(
            document,
            "spec.billing_mode=PROVISIONED",
            "spec.readCapacityUnits=8",  # camelCase in a snake_case manifest
            "spec.write_capacity_units=4",
            "spec.tags.owner=core",
            "spec.point_in_time_recovery_enabled=false",
        ),
        "m.yaml",
    )
    assert isinstance(manifest, SeedManifest)
    spec = manifest.spec
    assert spec.billing_mode is BillingMode.PROVISIONED
    assert (spec.read_capacity_units, spec.write_capacity_units) == (8, 4)
    assert spec.tags == {"owner": "core"}
    assert spec.point_in_time_recovery_enabled is False
    assert spec.table_name == "planton-demo-orders"  # untouched


def test_key_schema_example_changed() -> None:
    document = example("Global secondary indexes")
    manifest = validate_document(
        applied(
            document,
            "spec.billing_mode=PROVISIONED",
            "spec.provisionedThroughput={readCapacityUnits: 10, writeCapacityUnits: 5}",
            "spec.globalSecondaryIndexes[0].provisionedThroughput={readCapacityUnits: 2, writeCapacityUnits: 2}",
            "spec.global_secondary_indexes[1].provisioned_throughput.read_capacity_units=3",
            "spec.global_secondary_indexes[1].provisioned_throughput.write_capacity_units=1",
            "spec.globalSecondaryIndexes[0].projection.nonKeyAttributes=[total, status]",
            "spec.ttl={enabled: true, attributeName: expires_at}",
            "spec.attributeDefinitions[1].type=ATTRIBUTE_TYPE_B",
            "metadata.labels.terraform\\.project-planton\\.org/backend\\.type=local",
        ),
        "m.yaml",
    )
    assert isinstance(manifest, KeySchemaManifest)
    spec = manifest.spec
    assert spec.billing_mode is BillingMode.PROVISIONED
    assert spec.provisioned_throughput is not None
    assert (spec.provisioned_throughput.read_capacity_units, spec.provisioned_throughput.write_capacity_units) == (
        10,
        5,
    )
    first, second = spec.global_secondary_indexes
    assert first.projection.type is ProjectionType.INCLUDE
    assert first.projection.non_key_attributes == ["total", "status"]
    assert first.provisioned_throughput is not None
    assert first.provisioned_throughput.read_capacity_units == 2
    assert second.provisioned_throughput is not None
    assert (second.provisioned_throughput.read_capacity_units, second.provisioned_throughput.write_capacity_units) == (
        3,
        1,
    )
    assert first.key_schema[0].key_type is KeyType.HASH
    assert spec.attribute_definitions[1].type is AttributeType.BINARY
    assert spec.ttl is not None
    assert (spec.ttl.enabled, spec.ttl.attribute_name) == (True, "expires_at")
    assert manifest.metadata.labels == {"terraform.project-planton.org/backend.type": "local"}


@pytest.mark.parametrize(
    ("raws", "problem", "blamed"),
    [
        (
            ["spec.billingMode=FOO"],
            "spec.billing_mode: 'FOO' is not a billing mode; use PAY_PER_REQUEST or PROVISIONED",
            0,
        ),
        (
            ["spec.tags.owner=core", "spec.ttl={enabled: true}"],
            "spec.ttl.attribute_name: required when enabled is true",
            1,
        ),
        (
            ["spec.ttl={enabled: true, attributeNam: x}"],
            "spec.ttl.attributeNam: unknown field; did you mean 'attributeName'?",
            0,
        ),
        (
            ["spec.billing_mode=PROVISIONED"],
            "spec.read_capacity_units: must be greater than 0 when billing_mode is PROVISIONED",
            None,
        ),
    ],
)
def test_validation_problem_blamed_on_its_override(raws: list[str], problem: str, blamed: int | None) -> None:
    overrides = [parse_override(raw) for raw in raws]
    with pytest.raises(ManifestError) as excinfo:
        validate_document(apply_overrides(hack(), overrides), "m.yaml")
    assert problem in excinfo.value.problems
    found = from_overrides(problem.partition(": ")[0], overrides)
    assert found is (None if blamed is None else overrides[blamed])


def test_an_escaped_equals_sign_is_part_of_the_key() -> None:
    # AWS allows '=' in tag keys; the first unescaped '=' ends the path.
    override = parse_override(r"spec.tags.a\=b=c=d")
    assert override.path == ("spec", "tags", "a=b")
    assert override.text == "c=d"
    assert parse_override(override.dotted + "=c=d").path == override.path  # dotted parses back
    assert apply_overrides({"spec": {}}, [override]) == {"spec": {"tags": {"a=b": "c=d"}}}


@pytest.mark.parametrize("raw", ["spec.table_name\n=x", "\x85\x85", "spec.tags.a\x1bb.c=1", "\n[x]=null"])
def test_a_set_with_a_line_break_or_control_character_is_shown_escaped(raw: str) -> None:
    # Found by tests/unit/test_fuzz.py: the argument was quoted as given, splitting the message.
    with pytest.raises(OverrideError) as excinfo:
        parse_override(raw)
    assert excinfo.value.message.startswith(f"--set {raw!r}: ")
    assert excinfo.value.message.isprintable()


def test_a_problem_blamed_on_a_set_with_a_control_character_shows_it_escaped(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(HACK_MANIFEST.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ManifestError) as excinfo:
        load_input(ManifestSource(manifest=path, overrides=("spec.table_name=a\x01b",)))
    assert excinfo.value.problems[0].endswith("(set by --set 'spec.table_name=a\\x01b')")
