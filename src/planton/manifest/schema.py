"""The manifest as a JSON Schema (Draft 2020-12), for editors' YAML language servers
(``# yaml-language-server: $schema=planton.schema.json``).

Generated from the dialect models, never written out by hand, so it cannot drift from them. What
pydantic alone would miss is added here, the way ``ManifestModel`` reads a mapping: every field
in its snake_case and its camelCase spelling (one of them, not both), and ``null`` wherever a
field may be left out. Enum fields list every spelling their parsers accept and numeric fields
their ranges (annotations on the field types in ``base.py``); enum schemas are inline.

The schema checks the shape of a manifest: fields, types, enum values, ranges and which dialect
a spec is written in. The rules between fields (a sort key's name with its type, capacity only
when PROVISIONED, index limits, ...) and the soft rules of single fields (name characters,
regions, KMS keys, tag text) are left to ``planton validate``: a manifest the schema accepts may
still be refused there. The other way round, the schema refuses nothing planton accepts except
enum values written in lower or mixed case (or with spaces around them): it lists the upper-case
spellings, which is what editors should suggest.
"""

from __future__ import annotations

import copy
import typing
from collections.abc import Iterator
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from planton.manifest.base import ManifestModel, snake_to_camel
from planton.manifest.normalise import Manifest

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

TITLE = "AwsDynamodb manifest (planton)"
DESCRIPTION = (
    "A Kubernetes-style AwsDynamodb manifest (apiVersion aws.project-planton.org/v1) in either "
    "dialect: Project Planton's current one (attributeDefinitions + keySchema) or the flat one "
    "(partition_key_name, partition_key_type, ...). Every field may be spelled in snake_case or "
    "camelCase, but not both ways in one mapping; null is the same as leaving a field out. Enum "
    "values are listed upper case and planton also accepts them in any letter case. Rules "
    "between fields are checked by `planton validate`, not by this schema."
)

# Keys that annotate a property rather than constrain it: they stay beside a nullable anyOf.
_ANNOTATIONS = ("title", "description", "default", "examples", "deprecated")
_NULL: JsonSchemaValue = {"type": "null"}


class _ManifestJsonSchema(GenerateJsonSchema):
    """pydantic's generator, with each ``ManifestModel`` described as the model reads it."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        json_schema = super().model_schema(schema)
        if issubclass(schema["cls"], ManifestModel):
            _as_manifest_model_reads_it(json_schema)
        return json_schema


def _as_manifest_model_reads_it(json_schema: JsonSchemaValue) -> None:
    """Rewrite a model's object schema in place: each property under both spellings, null for
    every field that is not required, a required field required in exactly one spelling."""
    required: list[str] = json_schema.pop("required", [])
    properties: dict[str, JsonSchemaValue] = {}
    still_required: list[str] = []
    rules: list[JsonSchemaValue] = []
    for name, prop in json_schema.get("properties", {}).items():
        field = prop if name in required else _nullable(prop)  # the model drops nulls first
        camel = snake_to_camel(name)
        properties[name] = field
        if camel == name:
            if name in required:
                still_required.append(name)
            continue
        properties[camel] = copy.deepcopy(field)
        # ManifestModel refuses a mapping that gives both spellings of one field: a required
        # field in exactly one spelling, any other in at most one.
        if name in required:
            rules.append({"oneOf": [{"required": [name]}, {"required": [camel]}]})
        else:
            rules.append({"not": {"required": [name, camel]}})
    json_schema["properties"] = properties
    if still_required:
        json_schema["required"] = still_required
    if rules:
        json_schema["allOf"] = rules


def _nullable(prop: JsonSchemaValue) -> JsonSchemaValue:
    """``prop`` that also accepts null (unchanged if it already does)."""
    if _NULL in prop.get("anyOf", []) or prop.get("type") == "null":
        return prop
    outer = {key: prop[key] for key in _ANNOTATIONS if key in prop}
    inner = {key: value for key, value in prop.items() if key not in _ANNOTATIONS}
    return {"anyOf": [inner, dict(_NULL)], **outer}


def _ordered(value: Any, parent_key: str | None = None) -> Any:
    """``value`` with every mapping's keys sorted, except a ``properties`` mapping's (they keep
    the model's field order, each snake_case spelling before its camelCase one), so the output
    is the same whatever order pydantic's version builds it in."""
    if isinstance(value, dict):
        keys = list(value) if parent_key == "properties" else sorted(value)
        return {key: _ordered(value[key], key) for key in keys}
    if isinstance(value, list):
        return [_ordered(item) for item in value]
    return value


_DEFS = "#/$defs/"


def _refs(value: Any) -> Iterator[str]:
    """The names of the ``$defs`` entries ``value`` refers to."""
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith(_DEFS):
            yield ref.removeprefix(_DEFS)
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _in_use(roots: list[JsonSchemaValue], defs: dict[str, JsonSchemaValue]) -> dict[str, JsonSchemaValue]:
    """The entries of ``defs`` that ``roots`` refer to, directly or through each other. (An enum
    field's schema is inline, with every spelling; pydantic may still leave the enum's own entry
    behind, listing only AWS's spellings.)"""
    used: set[str] = set()
    pending = [name for root in roots for name in _refs(root)]
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending.extend(_refs(defs[name]))
    return {name: definition for name, definition in defs.items() if name in used}


def manifest_json_schema() -> dict[str, Any]:
    """A JSON Schema (Draft 2020-12) that a manifest in either dialect, in either spelling,
    satisfies; JSON-serialisable and the same on every call (``planton schema`` prints it)."""
    dialects: tuple[type[ManifestModel], ...] = typing.get_args(Manifest)
    refs, generated = models_json_schema(
        [(dialect, "validation") for dialect in dialects], schema_generator=_ManifestJsonSchema
    )
    roots = [refs[(dialect, "validation")] for dialect in dialects]
    return {
        "$schema": SCHEMA_DIALECT,
        "title": TITLE,
        "description": DESCRIPTION,
        # A spec validates against one dialect's model only: each forbids the other's fields.
        "anyOf": roots,
        "$defs": _ordered(_in_use(roots, generated["$defs"])),
    }
