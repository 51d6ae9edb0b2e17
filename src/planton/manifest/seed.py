"""The seed module's dialect: the flat spec of ``../shared/seed`` (``partition_key_name``,
``partition_key_type``, ``sort_key_name``, ...), in snake_case or camelCase."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from planton.manifest.base import (
    AttributeTypeField,
    BillingModeField,
    CapacityUnits,
    KeyName,
    ManifestModel,
    Metadata,
    Region,
    TableName,
    raise_problems,
)
from planton.table import Attribute, BillingMode, ResourceIdentity, TableDefinition


class SeedSpec(ManifestModel):
    """The table as the seed module's README describes it: flat key fields."""

    table_name: TableName | None = None
    aws_region: Region | None = None
    billing_mode: BillingModeField = BillingMode.PAY_PER_REQUEST
    partition_key_name: KeyName
    partition_key_type: AttributeTypeField
    sort_key_name: KeyName | None = None
    sort_key_type: AttributeTypeField | None = None
    read_capacity_units: CapacityUnits | None = None
    write_capacity_units: CapacityUnits | None = None
    point_in_time_recovery_enabled: bool = False
    server_side_encryption_enabled: bool = True

    @model_validator(mode="after")
    def _fields_agree(self) -> SeedSpec:
        problems: list[tuple[tuple[str, ...], str, Any]] = []
        if (self.sort_key_name is None) != (self.sort_key_type is None):
            missing, given = (
                ("sort_key_type", "sort_key_name") if self.sort_key_type is None else ("sort_key_name", "sort_key_type")
            )
            problems.append(((missing,), f"required when {given} is set; give both or neither", None))
        if self.sort_key_name is not None and self.sort_key_name == self.partition_key_name:
            problems.append((("sort_key_name",), "must differ from partition_key_name", self.sort_key_name))
        for field in ("read_capacity_units", "write_capacity_units"):
            units = getattr(self, field)
            if self.billing_mode is BillingMode.PROVISIONED and not units:
                problems.append(((field,), "must be greater than 0 when billing_mode is PROVISIONED", units))
            elif self.billing_mode is BillingMode.PAY_PER_REQUEST and units:
                problems.append(
                    (
                        (field,),
                        "must be 0 or omitted when billing_mode is PAY_PER_REQUEST "
                        "(on-demand tables have no provisioned capacity)",
                        units,
                    )
                )
        raise_problems("SeedSpec", problems)
        return self


class AwsDynamodbManifest(ManifestModel):
    """A whole manifest: ``apiVersion``, ``kind``, ``metadata``, ``spec``."""

    api_version: Literal["aws.project-planton.org/v1"]
    kind: Literal["AwsDynamodb"]
    metadata: Metadata
    spec: SeedSpec


def table_from_seed(manifest: AwsDynamodbManifest) -> TableDefinition:
    """Normalise a validated manifest; defaults (table name, capacity) are filled in here."""
    metadata, spec = manifest.metadata, manifest.spec
    provisioned = spec.billing_mode is BillingMode.PROVISIONED
    sort_key = (
        Attribute(spec.sort_key_name, spec.sort_key_type)
        if spec.sort_key_name is not None and spec.sort_key_type is not None
        else None
    )
    return TableDefinition(
        identity=ResourceIdentity(
            name=metadata.name,
            id=metadata.id,
            org=metadata.org,
            env=metadata.env,
            labels=dict(metadata.labels),
            annotations=dict(metadata.annotations),
            tags=tuple(metadata.tags),
        ),
        table_name=spec.table_name or metadata.name,
        aws_region=spec.aws_region,
        billing_mode=spec.billing_mode,
        partition_key=Attribute(spec.partition_key_name, spec.partition_key_type),
        sort_key=sort_key,
        read_capacity_units=(spec.read_capacity_units or 0) if provisioned else 0,
        write_capacity_units=(spec.write_capacity_units or 0) if provisioned else 0,
        point_in_time_recovery_enabled=spec.point_in_time_recovery_enabled,
        server_side_encryption_enabled=spec.server_side_encryption_enabled,
    )
