"""Rendering: manifest -> terraform.tfvars.json, checked against golden files and variables.tf."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from planton.manifest.base import snake_to_camel
from planton.manifest.loader import parse_yaml, validate_document
from planton.manifest.normalise import table_from_manifest
from planton.operations.validation import render_manifest
from planton.render import render_variables, variables_json
from planton.source import ManifestSource, load_input

from support import HACK_MANIFEST, REPO_ROOT, example_blocks, object_attributes

GOLDEN = REPO_ROOT / "tests" / "fixtures" / "golden"
PRODUCTION = dict(example_blocks())["Production configuration"]


def _render_file(path: Path, region: str = "us-east-1") -> str:
    table = table_from_manifest(load_input(ManifestSource(manifest=path)).manifest.model)
    return variables_json(render_variables(table, table.aws_region or region))


def _render_text(text: str, region: str = "us-east-1") -> str:
    table = table_from_manifest(validate_document(parse_yaml(text, "example"), "example"))
    return variables_json(render_variables(table, table.aws_region or region))


def test_hack_manifest_matches_golden() -> None:
    assert _render_file(HACK_MANIFEST) == (GOLDEN / "hack-manifest.tfvars.json").read_text(encoding="utf-8")


def test_production_example_matches_golden() -> None:
    assert _render_text(PRODUCTION) == (GOLDEN / "production.tfvars.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.tfvars.json")), ids=lambda p: p.name)
def test_golden_keys_match_module_variables(golden: Path) -> None:
    variables = json.loads(golden.read_text(encoding="utf-8"))
    assert set(variables) == {"manifest_key", "metadata", "spec", "alarms"}
    assert set(variables) <= _declared_variables()
    assert sorted(variables["metadata"]) == sorted(object_attributes("metadata"))
    assert sorted(variables["spec"]) == sorted(object_attributes("spec"))
    if variables["alarms"] is not None:
        assert sorted(variables["alarms"]) == sorted(object_attributes("alarms"))


def test_variables_parser_sees_nested_objects_as_one_attribute() -> None:
    # Guards the helper above: "attributes" is a list(object({name, type})).
    spec = object_attributes("spec")
    assert "attributes" in spec
    assert "name" not in spec
    assert "type" not in spec


def test_region_from_environment_is_rendered_when_the_manifest_has_none() -> None:
    text = PRODUCTION.replace("  aws_region: eu-central-1\n", "")
    assert json.loads(_render_text(text, region="ap-south-1"))["spec"]["aws_region"] == "ap-south-1"


def test_manifest_region_wins() -> None:
    assert json.loads(_render_text(PRODUCTION, region="ap-south-1"))["spec"]["aws_region"] == "eu-central-1"


def test_on_demand_table_renders_zero_capacity_and_null_sort_key() -> None:
    minimal = dict(example_blocks())["Minimal table with pay-per-request billing"]
    spec = json.loads(_render_text(minimal))["spec"]
    assert spec["billing_mode"] == "PAY_PER_REQUEST"
    assert spec["read_capacity_units"] == 0
    assert spec["write_capacity_units"] == 0
    assert spec["sort_key_name"] is None
    assert spec["attributes"] == [{"name": "session_id", "type": "S"}]
    assert spec["table_name"] == "minimal-sessions"
    assert spec["server_side_encryption_enabled"] is True
    assert spec["point_in_time_recovery_enabled"] is False


@pytest.mark.parametrize(("spelling", "expected"), [("ATTRIBUTE_TYPE_BINARY", "B"), ("ATTRIBUTE_TYPE_B", "B")])
def test_enum_spellings_render_as_aws_strings(spelling: str, expected: str) -> None:
    telemetry = dict(example_blocks())["High-performance table with binary keys"]
    text = telemetry.replace("partitionKeyType: ATTRIBUTE_TYPE_BINARY", f"partitionKeyType: {spelling}")
    spec = json.loads(_render_text(text))["spec"]
    assert spec["billing_mode"] == "PROVISIONED"
    assert spec["attributes"] == [{"name": "device_hash", "type": expected}, {"name": "reading_key", "type": "B"}]


def test_rendered_variables_never_contain_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value-123")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-xyz")
    rendered = _render_file(HACK_MANIFEST)
    for secret in ("AKIAEXAMPLEKEYID0000", "very-secret-value-123", "session-token-xyz"):
        assert secret not in rendered


def _declared_variables() -> set[str]:
    # The module's variables, and those of planton's provider file beside it.
    files = [
        *(REPO_ROOT / "modules" / "aws_dynamodb").glob("*.tf"),
        *(REPO_ROOT / "src" / "planton" / "root").glob("*.tf"),
    ]
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    return set(re.findall(r'^variable "([a-z_]+)"', text, flags=re.MULTILINE))


def test_the_account_id_is_rendered_as_a_declared_variable(tmp_path: Path) -> None:
    # terraform only warns about a tfvars key no variable declares: the account check would be
    # silently dropped.
    stack = tmp_path / "stack.yaml"
    stack.write_text("provider_config:\n  account_id: '012345678901'\n  region: eu-west-2\n", encoding="utf-8")
    source = ManifestSource(manifest=HACK_MANIFEST, stack_input=stack)
    variables = json.loads(render_manifest(source, {}))
    assert variables["allowed_account_ids"] == ["012345678901"]
    assert set(variables) <= _declared_variables()
    assert variables["spec"]["aws_region"] == "us-east-1"  # the manifest's region wins
    # Without an account, and for the local emulator (whose account is its own), none.
    assert "allowed_account_ids" not in json.loads(render_manifest(ManifestSource(manifest=HACK_MANIFEST), {}))
    assert "allowed_account_ids" not in json.loads(render_manifest(source, {}, local=True))


# --- Order that means nothing to AWS never reaches the variables ------------------------------


def _include(*names: str) -> dict[str, Any]:
    return {"type": "INCLUDE", "nonKeyAttributes": list(names)}


# A table with every list the model has, each in a non-sorted order: definitions, key schemas,
# global and local indexes, non-key attributes, labels, annotations, tags and metadata.tags.
ORDERED_LISTS: dict[str, Any] = {
    "apiVersion": "aws.project-planton.org/v1",
    "kind": "AwsDynamodb",
    "metadata": {
        "name": "orders",
        "labels": {"team": "core", "cost": "42", "app": "shop"},
        "annotations": {"z": "1", "a": "2", "m": "3"},
        "tags": ["zulu", "alpha", "mike"],
    },
    "spec": {
        "awsRegion": "us-east-1",
        "attributeDefinitions": [
            {"name": "pk", "type": "S"},
            {"name": "sk", "type": "S"},
            {"name": "b", "type": "N"},
            {"name": "a", "type": "S"},
        ],
        "keySchema": [{"attributeName": "pk", "keyType": "HASH"}, {"attributeName": "sk", "keyType": "RANGE"}],
        "globalSecondaryIndexes": [
            {
                "name": "by-b-a",
                "keySchema": [{"attributeName": "b", "keyType": "HASH"}, {"attributeName": "a", "keyType": "RANGE"}],
                "projection": _include("total", "currency", "note"),
            },
            {"name": "by-a", "keySchema": [{"attributeName": "a", "keyType": "HASH"}], "projection": {"type": "ALL"}},
            {
                "name": "by-b",
                "keySchema": [{"attributeName": "b", "keyType": "HASH"}],
                "projection": _include("zeta", "alpha", "mid"),
            },
        ],
        "localSecondaryIndexes": [
            {
                "name": "lsi-b",
                "keySchema": [{"attributeName": "pk", "keyType": "HASH"}, {"attributeName": "b", "keyType": "RANGE"}],
                "projection": _include("zeta", "alpha", "mid"),
            },
            {
                "name": "lsi-a",
                "keySchema": [{"attributeName": "a", "keyType": "RANGE"}, {"attributeName": "pk", "keyType": "HASH"}],
                "projection": {"type": "KEYS_ONLY"},
            },
            {
                "name": "lsi-sk",
                "keySchema": [{"attributeName": "pk", "keyType": "HASH"}, {"attributeName": "sk", "keyType": "RANGE"}],
                "projection": _include("y", "x", "w"),
            },
        ],
        "tags": {"tier": "gold", "owner": "team-a", "area": "eu"},
    },
}


def _flat(document: dict[str, Any]) -> dict[str, Any]:
    """The same table in the flat dialect (its own list fields: indexes, non-key attributes)."""
    spec = document["spec"]
    types = {d["name"]: d["type"] for d in spec["attributeDefinitions"]}

    def key(index: dict[str, Any], kind: str) -> str | None:
        return next((k["attributeName"] for k in index["keySchema"] if k["keyType"] == kind), None)

    def projection(index: dict[str, Any]) -> dict[str, Any]:
        given = index["projection"]
        return {"projection_type": given["type"], "non_key_attributes": list(given.get("nonKeyAttributes", []))}

    global_indexes = []
    for index in spec["globalSecondaryIndexes"]:
        sort_key = key(index, "RANGE")
        entry = {"name": index["name"], "partition_key_name": key(index, "HASH")}
        entry["partition_key_type"] = types[entry["partition_key_name"]]
        if sort_key:
            entry.update(sort_key_name=sort_key, sort_key_type=types[sort_key])
        global_indexes.append({**entry, **projection(index)})
    local_indexes = [
        {
            "name": index["name"],
            "sort_key_name": key(index, "RANGE"),
            "sort_key_type": types[key(index, "RANGE")],
            **projection(index),
        }
        for index in spec["localSecondaryIndexes"]
    ]
    return {
        **document,
        "spec": {
            "aws_region": spec["awsRegion"],
            "partition_key_name": "pk",
            "partition_key_type": "S",
            "sort_key_name": "sk",
            "sort_key_type": "S",
            "global_secondary_indexes": global_indexes,
            "local_secondary_indexes": local_indexes,
            "tags": spec["tags"],
        },
    }


def _lists(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every list in a document, and of every mapping of strings (labels, tags)."""
    found: list[tuple[Any, ...]] = []
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    strings = isinstance(value, dict) and all(isinstance(item, str) for item in value.values())
    if (isinstance(value, list) or strings) and len(value) > 1:
        found.append(path)
    for key, child in children:
        found += _lists(child, (*path, key))
    return found


def _permuted(document: dict[str, Any], path: tuple[Any, ...], order: tuple[int, ...]) -> dict[str, Any]:
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    target = parent[path[-1]]
    items = list(target.items()) if isinstance(target, dict) else list(target)
    reordered = [items[position] for position in order]
    parent[path[-1]] = dict(reordered) if isinstance(target, dict) else reordered
    return copy


def _rendered(document: dict[str, Any]) -> str:
    table = table_from_manifest(validate_document(document, "m.yaml"))
    return variables_json(render_variables(table, "us-east-1"))


@pytest.mark.parametrize("dialect", ["keySchema", "flat"])
def test_every_permutation_of_every_list_renders_the_same_variables(dialect: str) -> None:
    document = ORDERED_LISTS if dialect == "keySchema" else _flat(ORDERED_LISTS)
    expected = _rendered(document)
    paths = _lists(document)
    gsis, lsis, included = (
        ("globalSecondaryIndexes", "localSecondaryIndexes", ("projection", "nonKeyAttributes"))
        if dialect == "keySchema"
        else ("global_secondary_indexes", "local_secondary_indexes", ("non_key_attributes",))
    )
    for path in [
        ("metadata", "labels"),
        ("metadata", "tags"),
        ("spec", "tags"),
        ("spec", gsis),
        ("spec", gsis, 0, *included),
        ("spec", lsis),
        ("spec", lsis, 0, *included),
    ]:
        assert path in paths
    for path in paths:
        parent: Any = document
        for key in path:
            parent = parent[key]
        for order in itertools.permutations(range(len(parent))):
            assert _rendered(_permuted(document, path, order)) == expected, (path, order)


def test_the_canonical_order_is_by_name_and_sorted() -> None:
    variables = json.loads(_rendered(ORDERED_LISTS))
    spec = variables["spec"]
    assert [index["name"] for index in spec["global_secondary_indexes"]] == ["by-a", "by-b", "by-b-a"]
    assert [index["name"] for index in spec["local_secondary_indexes"]] == ["lsi-a", "lsi-b", "lsi-sk"]
    assert spec["local_secondary_indexes"][1]["non_key_attributes"] == ["alpha", "mid", "zeta"]
    assert spec["global_secondary_indexes"][2]["non_key_attributes"] == ["currency", "note", "total"]
    assert variables["metadata"]["tags"] == ["alpha", "mike", "zulu"]


def test_rendering_keeps_the_order_it_is_given() -> None:
    # The order a state records (guards.keep_recorded_order) must reach the variables as it is.
    table = table_from_manifest(validate_document(ORDERED_LISTS, "m.yaml"))
    reversed_order = tuple(
        replace(
            index, projection=replace(index.projection, non_key_attributes=index.projection.non_key_attributes[::-1])
        )
        for index in reversed(table.local_indexes)
    )
    spec = render_variables(replace(table, local_indexes=reversed_order), "us-east-1")["spec"]
    assert [index["name"] for index in spec["local_secondary_indexes"]] == ["lsi-sk", "lsi-b", "lsi-a"]
    assert spec["local_secondary_indexes"][1]["non_key_attributes"] == ["zeta", "mid", "alpha"]


def _with_alarms(alarms: Any, *, flat: bool, billing: str = "PAY_PER_REQUEST") -> str:
    """A minimal manifest in either dialect with ``spec.alarms`` (snake_case flat, camelCase not)."""

    def camel(value: Any) -> Any:
        if isinstance(value, dict):
            return {snake_to_camel(key): camel(item) for key, item in value.items()}
        return value

    spec: dict[str, Any] = (
        {"aws_region": "us-east-1", "billing_mode": billing, "partition_key_name": "id", "partition_key_type": "S"}
        if flat
        else {
            "awsRegion": "us-east-1",
            "billingMode": billing,
            "attributeDefinitions": [{"name": "id", "type": "S"}],
            "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
        }
    )
    if billing == "PROVISIONED":
        spec.update(
            {"read_capacity_units": 5, "write_capacity_units": 5}
            if flat
            else {"provisionedThroughput": {"readCapacityUnits": 5, "writeCapacityUnits": 5}}
        )
    if alarms is not None:
        spec["alarms"] = alarms if flat else camel(alarms)
    document = {"apiVersion": "aws.project-planton.org/v1", "kind": "AwsDynamodb", "metadata": {"name": "t-1"}}
    return yaml.safe_dump({**document, "spec": spec})


DEFAULT_ALARMS = {
    "sns_topic_arn": None,
    "throttles": {"enabled": True, "threshold": 0, "period": 60, "evaluation_periods": 5},
    "system_errors": {"enabled": True, "threshold": 0, "period": 60, "evaluation_periods": 15},
    "latency": {
        "enabled": True,
        "threshold_ms": 100,
        "period": 60,
        "evaluation_periods": 10,
        "operations": ["GetItem", "PutItem", "Query"],
    },
    "capacity": {"enabled": True, "percent": 80, "period": 300, "evaluation_periods": 3},
}


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "current"])
def test_enabled_alone_renders_every_default(flat: bool) -> None:
    rendered = json.loads(_render_text(_with_alarms({"enabled": True}, flat=flat, billing="PROVISIONED")))
    assert rendered["alarms"] == DEFAULT_ALARMS


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "current"])
@pytest.mark.parametrize("alarms", [None, {"enabled": False}], ids=["absent", "off"])
def test_no_alarms_render_null(flat: bool, alarms: Any) -> None:
    assert json.loads(_render_text(_with_alarms(alarms, flat=flat)))["alarms"] is None


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "current"])
def test_alarm_overrides_render_as_given_and_on_demand_has_no_capacity_alarm(flat: bool) -> None:
    alarms = {
        "enabled": True,
        "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:oncall",
        "throttles": {"threshold": 2.5, "period": 300, "evaluation_periods": 2},
        "system_errors": {"enabled": False},
        "latency": {"threshold_ms": 20, "operations": ["Query"]},
    }
    rendered = json.loads(_render_text(_with_alarms(alarms, flat=flat)))["alarms"]
    assert rendered == {
        "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:oncall",
        "throttles": {"enabled": True, "threshold": 2.5, "period": 300, "evaluation_periods": 2},
        "system_errors": {"enabled": False},
        "latency": {
            "enabled": True,
            "threshold_ms": 20,
            "period": 60,
            "evaluation_periods": 10,
            "operations": ["Query"],
        },
        "capacity": {"enabled": False},  # PAY_PER_REQUEST: nothing provisioned to compare with
    }
