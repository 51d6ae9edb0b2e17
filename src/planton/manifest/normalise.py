"""Manifest dialects -> the one internal ``TableDefinition``.

Two dialects: the seed's flat spec (``seed.py``: ``partition_key_name``, ...) and Project
Planton's current one (``keyschema.py``: ``attributeDefinitions`` + ``keySchema``, ...). This is
the one place that knows them both: it tells them apart by the fields only one of them has,
refuses a spec that mixes them, and turns either into a ``TableDefinition``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from planton.manifest.base import camel_to_snake, snake_to_camel
from planton.manifest.keyschema import KeySchemaManifest, table_from_key_schema
from planton.manifest.seed import SeedManifest, table_from_seed
from planton.table import TableDefinition, in_canonical_order

Manifest = SeedManifest | KeySchemaManifest

# The spec fields that only one dialect has (snake_case); every other spec field is shared.
FLAT_ONLY = (
    "partition_key_name",
    "partition_key_type",
    "sort_key_name",
    "sort_key_type",
    "read_capacity_units",
    "write_capacity_units",
    "server_side_encryption_enabled",
    "kms_key_arn",
)
KEY_SCHEMA_ONLY = ("attribute_definitions", "key_schema", "provisioned_throughput", "server_side_encryption")
# The same for an entry of global_secondary_indexes / local_secondary_indexes.
FLAT_INDEX_ONLY = (
    "partition_key_name",
    "partition_key_type",
    "sort_key_name",
    "sort_key_type",
    "projection_type",
    "non_key_attributes",
    "read_capacity_units",
    "write_capacity_units",
)
KEY_SCHEMA_INDEX_ONLY = ("key_schema", "projection", "provisioned_throughput")


class MixedDialects(Exception):
    """The spec has fields of both dialects: ``flat`` and ``key_schema`` name them as written."""

    def __init__(self, flat: list[str], key_schema: list[str]) -> None:
        super().__init__(flat, key_schema)
        self.flat = flat
        self.key_schema = key_schema

    def problem(self) -> str:
        return (
            f"spec: mixes the two manifest dialects: {', '.join(self.key_schema)} (the keySchema form) "
            f"with {', '.join(self.flat)} (the flat form); describe the keys one way: "
            f"{_spell('attribute_definitions', self.key_schema)} + {_spell('key_schema', self.key_schema)}, "
            f"or {_spell('partition_key_name', self.flat)} / {_spell('partition_key_type', self.flat)}"
        )


def _spell(field: str, written: list[str]) -> str:
    """``field`` in the style of the keys the user wrote (camelCase if any of them is)."""
    return snake_to_camel(field) if any(key != key.lower() for key in written) else field


def manifest_model(document: Mapping[str, Any]) -> type[Manifest]:
    """The dialect model for ``document``; the flat one unless the spec uses the keySchema form.
    Raises ``MixedDialects`` when the spec (or an index in it) has fields only one dialect has
    from both."""
    spec = document.get("spec")
    flat = _written(spec, FLAT_ONLY)
    key_schema = _written(spec, KEY_SCHEMA_ONLY)
    for key, value in spec.items() if isinstance(spec, Mapping) else ():
        if isinstance(key, str) and camel_to_snake(key) in ("global_secondary_indexes", "local_secondary_indexes"):
            for position, entry in enumerate(value if isinstance(value, list) else []):
                flat += [f"{key}[{position}].{field}" for field in _written(entry, FLAT_INDEX_ONLY)]
                key_schema += [f"{key}[{position}].{field}" for field in _written(entry, KEY_SCHEMA_INDEX_ONLY)]
    if flat and key_schema:
        raise MixedDialects(flat, key_schema)
    return KeySchemaManifest if key_schema else SeedManifest


def _written(mapping: Any, fields: tuple[str, ...]) -> list[str]:
    """The keys of ``mapping`` (as written) that are among ``fields`` (snake_case)."""
    if not isinstance(mapping, Mapping):
        return []
    return [key for key in mapping if isinstance(key, str) and camel_to_snake(key) in fields]


def table_from_manifest(manifest: Manifest) -> TableDefinition:
    """The table a validated manifest describes, whatever its dialect, with its lists in one
    canonical order (``in_canonical_order``): reordering a manifest's lists changes nothing."""
    if isinstance(manifest, KeySchemaManifest):
        return in_canonical_order(table_from_key_schema(manifest))
    return in_canonical_order(table_from_seed(manifest))
