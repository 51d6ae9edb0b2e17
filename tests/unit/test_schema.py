"""The manifest's JSON Schema: a valid Draft 2020-12 schema, generated from the models, that
accepts every manifest planton accepts (either dialect, either spelling, null for unset, every
enum spelling) and refuses what is wrong in shape (unknown fields, wrong types and enum values,
missing fields, mixed dialects, out-of-range numbers).

Every refusal is checked against the model as well, so the schema is never stricter than
planton (but for enum values in lower case, which it leaves out of its lists on purpose)."""

from __future__ import annotations

import copy
import inspect
import json
import os
import subprocess
import sys
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, TypeAdapter

from planton.errors import ManifestError
from planton.manifest.base import (
    API_VERSION,
    KIND,
    AttributeTypeField,
    BillingModeField,
    KeyTypeField,
    ManifestModel,
    ProjectionTypeField,
    StreamViewTypeField,
    TableClassField,
    camel_to_snake,
    snake_to_camel,
)
from planton.manifest.loader import parse_yaml, validate_document
from planton.manifest.normalise import Manifest, manifest_model
from planton.manifest.schema import SCHEMA_DIALECT, manifest_json_schema
from planton.table import MAX_CAPACITY_UNITS, PITR_PERIOD_DAYS, SCALING_TARGET_PERCENT

from support import HACK_MANIFEST, REPO_ROOT, example_blocks, slug

SCHEMA = manifest_json_schema()
VALIDATOR = Draft202012Validator(SCHEMA)

TWINS = REPO_ROOT / "tests" / "fixtures" / "twins"
SHIPPED: list[tuple[str, str]] = [
    *((f"examples-{slug(heading)}", text) for heading, text in example_blocks()),
    ("hack-manifest", HACK_MANIFEST.read_text(encoding="utf-8")),
    *((f"twin-{path.stem}", path.read_text(encoding="utf-8")) for path in sorted(TWINS.glob("*.yaml"))),
]
SHIPPED_IDS = [name for name, _ in SHIPPED]

# Mappings whose keys are the user's own words, never field names.
USER_KEYED = frozenset({"labels", "annotations", "tags"})


def schema_accepts(document: Any) -> bool:
    return VALIDATOR.is_valid(document)


def model_accepts(document: dict[str, Any]) -> bool:
    try:
        validate_document(document, "test.yaml")
    except ManifestError:
        return False
    return True


def document_of(text: str) -> dict[str, Any]:
    document = parse_yaml(text, "test.yaml")
    assert isinstance(document, dict)
    return document


def respelled(node: Any, spell: typing.Callable[[str], str]) -> Any:
    """``node`` with every field name spelled by ``spell`` (label, annotation and tag keys kept)."""
    if isinstance(node, dict):
        return {
            spell(key): value if camel_to_snake(key) in USER_KEYED else respelled(value, spell)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [respelled(item, spell) for item in node]
    return node


def minimal_flat() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders"},
        "spec": {"partition_key_name": "id", "partition_key_type": "STRING"},
    }


def minimal_key_schema() -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders"},
        "spec": {
            "attributeDefinitions": [{"name": "id", "type": "S"}],
            "keySchema": [{"attributeName": "id", "keyType": "HASH"}],
        },
    }


# ---------------------------------------------------------------------------------------------
# The schema itself


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    assert SCHEMA["$schema"] == SCHEMA_DIALECT == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["title"]
    assert SCHEMA["description"]


def test_schema_is_json() -> None:
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA


def test_schema_offers_each_dialect_planton_knows() -> None:
    dialects = typing.get_args(Manifest)
    assert len(dialects) == 2
    assert SCHEMA["anyOf"] == [{"$ref": f"#/$defs/{dialect.__name__}"} for dialect in dialects]


def test_output_is_deterministic() -> None:
    again = manifest_json_schema()
    assert again == SCHEMA
    assert json.dumps(again, sort_keys=True) == json.dumps(SCHEMA, sort_keys=True)
    assert list(SCHEMA["$defs"]) == sorted(SCHEMA["$defs"])


def test_output_is_the_same_in_every_process() -> None:
    # Key order too (what `planton schema > planton.schema.json` diffs), whatever the hash seed.
    program = "import json; from planton.manifest.schema import manifest_json_schema as s; print(json.dumps(s()))"
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("0", "1", "4242")
    }
    assert outputs == {json.dumps(SCHEMA) + "\n"}


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    seen[model.__name__] = model
    for field in model.model_fields.values():
        for inner in _models_in(field.annotation):
            if inner.__name__ not in seen:
                _models(inner, seen)
    return seen


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


MODELS: dict[str, type[BaseModel]] = {}
for _dialect in typing.get_args(Manifest):
    _models(_dialect, MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_field_of_every_model_in_both_spellings(name: str) -> None:
    model = MODELS[name]
    assert issubclass(model, ManifestModel)
    definition = SCHEMA["$defs"][name]
    expected = [spelling for field in model.model_fields for spelling in dict.fromkeys((field, snake_to_camel(field)))]
    assert list(definition["properties"]) == expected
    assert definition["additionalProperties"] is False
    for field, info in model.model_fields.items():
        snake, camel = definition["properties"][field], definition["properties"][snake_to_camel(field)]
        assert snake == camel
        # Null where the model drops it (every field that has a default), nowhere else.
        assert ({"type": "null"} in snake.get("anyOf", [])) is not info.is_required(), field


def test_numeric_bounds_are_the_models() -> None:
    defs = SCHEMA["$defs"]
    scaling = defs["ScalingPolicySpec"]["properties"]
    assert (scaling["min_capacity"]["minimum"], scaling["min_capacity"]["maximum"]) == (1, MAX_CAPACITY_UNITS)
    utilization = scaling["targetUtilization"]["anyOf"][0]
    assert (utilization["minimum"], utilization["maximum"]) == SCALING_TARGET_PERCENT
    days = defs["SeedSpec"]["properties"]["point_in_time_recovery_period_days"]["anyOf"][0]
    assert (days["minimum"], days["maximum"]) == PITR_PERIOD_DAYS
    units = defs["ProvisionedThroughput"]["properties"]["readCapacityUnits"]["anyOf"][0]
    assert (units["type"], units["minimum"], units["maximum"]) == ("integer", 0, MAX_CAPACITY_UNITS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_is_described_by_its_docstring(name: str) -> None:
    docstring = MODELS[name].__doc__
    assert docstring
    assert SCHEMA["$defs"][name]["description"] == inspect.cleandoc(docstring)


ENUM_FIELDS: dict[str, Any] = {
    "AttributeType": AttributeTypeField,
    "BillingMode": BillingModeField,
    "KeyType": KeyTypeField,
    "ProjectionType": ProjectionTypeField,
    "StreamViewType": StreamViewTypeField,
    "TableClass": TableClassField,
}


# Every spelling each enum field's JSON Schema lists (from the annotation beside its parser).
ENUM_SPELLINGS = {
    name: tuple(TypeAdapter(field).json_schema(mode="validation")["enum"]) for name, field in ENUM_FIELDS.items()
}


def _enum_lists(value: Any) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        if "enum" in value and "const" not in value:  # (older pydantic gives a Literal both)
            yield tuple(value["enum"])
        for item in value.values():
            yield from _enum_lists(item)
    elif isinstance(value, list):
        for item in value:
            yield from _enum_lists(item)


def test_every_enum_in_the_schema_is_an_enum_fields_spellings() -> None:
    assert set(_enum_lists(SCHEMA)) == set(ENUM_SPELLINGS.values())


@pytest.mark.parametrize("name", sorted(ENUM_FIELDS))
def test_enum_spellings_are_the_ones_the_model_accepts(name: str) -> None:
    spellings = ENUM_SPELLINGS[name]
    enum = typing.get_args(ENUM_FIELDS[name])[0]
    assert {member.value for member in enum} <= set(spellings)  # as AWS spells them, at least
    assert len(spellings) == len(set(spellings))
    adapter = TypeAdapter(ENUM_FIELDS[name])
    for spelling in spellings:
        assert spelling == spelling.upper()
        # The model is case-insensitive too; the schema lists the upper-case forms.
        assert adapter.validate_python(spelling) is adapter.validate_python(spelling.lower())


# ---------------------------------------------------------------------------------------------
# What it accepts


@pytest.mark.parametrize(("name", "text"), SHIPPED, ids=SHIPPED_IDS)
def test_shipped_manifests_validate(name: str, text: str) -> None:
    document = document_of(text)
    assert model_accepts(document), name
    errors = [error.message for error in VALIDATOR.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize(("name", "text"), SHIPPED, ids=SHIPPED_IDS)
@pytest.mark.parametrize("spell", [snake_to_camel, camel_to_snake], ids=["camelCase", "snake_case"])
def test_each_spelling_of_a_manifest_validates(name: str, text: str, spell: typing.Callable[[str], str]) -> None:
    document = respelled(document_of(text), spell)
    assert model_accepts(document), name
    assert schema_accepts(document)


@pytest.mark.parametrize(("name", "text"), SHIPPED, ids=SHIPPED_IDS)
def test_null_for_every_optional_field_validates(name: str, text: str) -> None:
    document = document_of(text)
    spec_model = manifest_model(document).model_fields["spec"].annotation
    assert isinstance(spec_model, type)
    assert issubclass(spec_model, BaseModel)
    for section, model in (("metadata", MODELS["Metadata"]), ("spec", spec_model)):
        given = {camel_to_snake(key) for key in document[section]}
        for field, info in model.model_fields.items():
            if not info.is_required() and field not in given:
                document[section][snake_to_camel(field)] = None
    assert model_accepts(document), name
    assert schema_accepts(document)


def test_a_camel_case_and_a_snake_case_manifest_both_validate() -> None:
    camel = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders", "labels": {"team_name": "x"}},
        "spec": {
            "tableName": "orders",
            "billingMode": "PROVISIONED",
            "readCapacityUnits": 5,
            "writeCapacityUnits": 5,
            "partitionKeyName": "id",
            "partitionKeyType": "STRING",
            "pointInTimeRecoveryEnabled": True,
            "tags": {"costCentre": "42"},
        },
    }
    snake = respelled(camel, camel_to_snake)
    assert snake["api_version"] == API_VERSION
    assert snake["spec"]["read_capacity_units"] == 5
    assert snake["spec"]["tags"] == {"costCentre": "42"}
    for document in (camel, snake):
        assert model_accepts(document)
        assert schema_accepts(document)


OLD_SPELLINGS = """\
apiVersion: aws.project-planton.org/v1
kind: AwsDynamodb
metadata: {name: old-spellings}
spec:
  billingMode: BILLING_MODE_PROVISIONED
  provisionedThroughput: {readCapacityUnits: 5, writeCapacityUnits: 5}
  attributeDefinitions:
    - {name: pk, type: ATTRIBUTE_TYPE_S}
    - {name: sk, type: ATTRIBUTE_TYPE_NUMBER}
    - {name: gpk, type: ATTRIBUTE_TYPE_S}
    - {name: lsk, type: ATTRIBUTE_TYPE_B}
  keySchema:
    - {attributeName: pk, keyType: KEY_TYPE_HASH}
    - {attributeName: sk, keyType: KEY_TYPE_RANGE}
  globalSecondaryIndexes:
    - name: by-gpk
      keySchema: [{attributeName: gpk, keyType: KEY_TYPE_HASH}]
      projection: {type: PROJECTION_TYPE_ALL}
      provisionedThroughput: {readCapacityUnits: 1, writeCapacityUnits: 1}
  localSecondaryIndexes:
    - name: by-lsk
      keySchema: [{attributeName: pk, keyType: KEY_TYPE_HASH}, {attributeName: lsk, keyType: KEY_TYPE_RANGE}]
      projection: {type: KEYS_ONLY_PROJECTION}
  streamEnabled: true
  streamViewType: STREAM_VIEW_TYPE_NEW_IMAGE
  tableClass: TABLE_CLASS_STANDARD_INFREQUENT_ACCESS
"""


def test_old_enum_spellings_validate() -> None:
    document = document_of(OLD_SPELLINGS)
    assert model_accepts(document)
    assert schema_accepts(document)


def test_snake_case_envelope_keys_validate() -> None:
    document = minimal_flat()
    document["api_version"] = document.pop("apiVersion")
    assert model_accepts(document)
    assert schema_accepts(document)


def test_free_form_keys_in_labels_annotations_and_tags() -> None:
    document = minimal_flat()
    document["metadata"]["labels"] = {"team": "x", "terraform.project-planton.org/backend.type": "local"}
    document["metadata"]["annotations"] = {"anything/at.all": "yes", "camelCase": "ok"}
    document["spec"]["tags"] = {"cost-centre": "42", "read_capacity_units": "not a field"}
    assert model_accepts(document)
    assert schema_accepts(document)


# ---------------------------------------------------------------------------------------------
# What it refuses (and planton refuses too)


def _set(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = value
    return document


def _drop(document: dict[str, Any], path: str) -> dict[str, Any]:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node[part]
    del node[last]
    return document


INVALID: dict[str, dict[str, Any]] = {
    "unknown-field": _set(minimal_flat(), "spec.readCapacityUnit", 5),
    "unknown-field-in-an-index": _set(
        minimal_key_schema(),
        "spec.globalSecondaryIndexes",
        [{"name": "by-id", "keySchema": [{"attributeName": "id", "keyType": "HASH"}], "projecton": {"type": "ALL"}}],
    ),
    "unknown-top-level-field": _set(minimal_flat(), "status", {}),
    "wrong-enum-value": _set(minimal_flat(), "spec.billingMode", "SOMETIMES"),
    "wrong-attribute-type": _set(minimal_key_schema(), "spec.attributeDefinitions.0.type", "STR"),
    "wrong-key-type": _set(minimal_key_schema(), "spec.keySchema.0.keyType", "PARTITION"),
    "text-for-a-bool": _set(minimal_flat(), "spec.streamEnabled", "yes"),
    "text-for-a-number": _set(_set(minimal_flat(), "spec.billingMode", "PROVISIONED"), "spec.readCapacityUnits", "5"),
    "a-number-for-a-label": _set(minimal_flat(), "metadata.labels", {"team": 5}),
    "a-list-for-the-spec": _set(minimal_flat(), "spec", ["partition_key_name"]),
    "wrong-api-version": _set(minimal_flat(), "apiVersion", "aws.project-planton.org/v2"),
    "wrong-kind": _set(minimal_flat(), "kind", "AwsS3Bucket"),
    "missing-metadata-name": _drop(minimal_flat(), "metadata.name"),
    "null-metadata-name": _set(minimal_flat(), "metadata.name", None),
    "missing-partition-key": _drop(minimal_flat(), "spec.partition_key_name"),
    "missing-key-schema": _drop(minimal_key_schema(), "spec.keySchema"),
    "missing-api-version": _drop(minimal_flat(), "apiVersion"),
    "mixed-dialects": _set(minimal_key_schema(), "spec.partition_key_name", "id"),
    "flat-field-in-a-key-schema-index": _set(
        minimal_key_schema(),
        "spec.globalSecondaryIndexes",
        [{"name": "by-id", "keySchema": [{"attributeName": "id", "keyType": "HASH"}], "projectionType": "ALL"}],
    ),
    "mixed-dialects-in-an-index": _set(
        minimal_flat(),
        "spec.global_secondary_indexes",
        [{"name": "by-id", "keySchema": [{"attributeName": "id", "keyType": "HASH"}]}],
    ),
    "both-spellings-of-a-field": _set(_set(minimal_flat(), "spec.tableName", "orders"), "spec.table_name", "orders"),
    "both-spellings-of-a-required-field": _set(minimal_flat(), "api_version", API_VERSION),
    "both-spellings-one-null": _set(_set(minimal_flat(), "spec.tableName", "orders"), "spec.table_name", None),
    "a-third-spelling": _set(minimal_flat(), "spec.TableName", "orders"),
    "capacity-above-the-maximum": _set(
        _set(_set(minimal_flat(), "spec.billingMode", "PROVISIONED"), "spec.readCapacityUnits", MAX_CAPACITY_UNITS + 1),
        "spec.writeCapacityUnits",
        5,
    ),
    "recovery-period-above-the-maximum": _set(
        _set(minimal_flat(), "spec.pointInTimeRecoveryEnabled", True), "spec.pointInTimeRecoveryPeriodDays", 36
    ),
    "utilization-below-the-minimum": _set(
        _set(minimal_flat(), "spec.billingMode", "PROVISIONED"),
        "spec.autoscaling",
        {"read": {"minCapacity": 1, "maxCapacity": 5, "targetUtilization": 10}},
    ),
    "alarm-period-below-a-minute": _set(minimal_flat(), "spec.alarms", {"enabled": True, "throttles": {"period": 30}}),
    "alarm-field-misspelt": _set(minimal_key_schema(), "spec.alarms", {"enabled": True, "latency": {"treshold": 5}}),
    "alarm-percent-above-100": _set(
        _set(_set(minimal_flat(), "spec.billingMode", "PROVISIONED"), "spec.readCapacityUnits", 5),
        "spec.alarms",
        {"enabled": True, "capacity": {"percent": 150}},
    ),
    "alarm-operations-not-a-list": _set(
        minimal_flat(), "spec.alarms", {"enabled": True, "latency": {"operations": "GetItem"}}
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_refused(case: str) -> None:
    document = copy.deepcopy(INVALID[case])
    assert not model_accepts(document), "planton refuses it too"
    assert not schema_accepts(document)


def test_the_invalid_cases_start_from_valid_manifests() -> None:
    # So each refusal above is down to its own change.
    for document in (minimal_flat(), minimal_key_schema()):
        assert model_accepts(document)
        assert schema_accepts(document)
