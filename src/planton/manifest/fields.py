"""The fields best-practice findings are about, named as the manifest spells them: its dialect
(flat ``partition_key_name`` or ``keySchema``) and its case (snake_case or camelCase), through the
same ``spelled_path`` validation errors use. Implements ``policy.FieldNames``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from planton.manifest.keyschema import KeySchemaElement, KeySchemaManifest, KeySchemaSpec
from planton.manifest.loader import spelled_path
from planton.manifest.normalise import Manifest
from planton.manifest.seed import SeedSpec
from planton.table import KeyType

Loc = tuple[str | int, ...]


class ManifestFields:
    """``policy.FieldNames`` for one validated manifest and the document it was read from."""

    def __init__(self, model: Manifest, document: Mapping[str, Any]) -> None:
        self._model = model
        self._document = document
        self._key_schema = isinstance(model, KeySchemaManifest)

    def _path(self, *loc: str | int) -> str:
        return spelled_path(loc, self._document)

    def _global_position(self, index: str) -> int:
        spec = self._model.spec
        names = [entry.name for entry in spec.global_secondary_indexes] if isinstance(spec, SeedSpec) else []
        names += [entry.name for entry in spec.global_secondary_indexes] if isinstance(spec, KeySchemaSpec) else []
        return names.index(index)

    def table_name(self) -> str:
        written = self._model.spec.table_name is not None
        return self._path("spec", "table_name") if written else self._path("metadata", "name")

    def point_in_time_recovery(self) -> str:
        return self._path("spec", "point_in_time_recovery_enabled")

    def deletion_protection(self) -> str:
        return self._path("spec", "deletion_protection_enabled")

    def encryption(self) -> str:
        if self._key_schema:
            return self._path("spec", "server_side_encryption", "enabled")
        return self._path("spec", "server_side_encryption_enabled")

    def kms_key(self) -> str:
        if self._key_schema:
            return self._path("spec", "server_side_encryption", "kms_key_arn")
        return self._path("spec", "kms_key_arn")

    def autoscaling(self, index: str | None) -> str:
        if index is None:
            return self._path("spec", "autoscaling")
        return self._path("spec", "global_secondary_indexes", self._global_position(index), "autoscaling")

    def partition_key(self, index: str | None) -> str:
        if index is None:
            if isinstance(self._model, KeySchemaManifest):
                return self._path("spec", "key_schema", _hash_position(self._model.spec.key_schema), "attribute_name")
            return self._path("spec", "partition_key_name")
        position = self._global_position(index)
        if isinstance(self._model, KeySchemaManifest):
            schema = self._model.spec.global_secondary_indexes[position].key_schema
            loc: Loc = ("spec", "global_secondary_indexes", position, "key_schema", _hash_position(schema))
            return self._path(*loc, "attribute_name")
        return self._path("spec", "global_secondary_indexes", position, "partition_key_name")

    def local_index(self, index: str) -> str:
        spec = self._model.spec
        names = [entry.name for entry in spec.local_secondary_indexes] if isinstance(spec, SeedSpec) else []
        names += [entry.name for entry in spec.local_secondary_indexes] if isinstance(spec, KeySchemaSpec) else []
        position = names.index(index)
        return self._path("spec", "local_secondary_indexes", position)

    def labels(self) -> str:
        return self._path("metadata", "labels")

    def tags(self) -> str:
        return self._path("spec", "tags")

    def billing_mode(self) -> str:
        return self._path("spec", "billing_mode")


def _hash_position(schema: Sequence[KeySchemaElement]) -> int:
    return next(i for i, element in enumerate(schema) if element.key_type is KeyType.HASH)
