"""Manifest dialects -> the one internal ``TableDefinition``."""

from __future__ import annotations

from planton.manifest.model import AwsDynamodbManifest
from planton.table import Attribute, BillingMode, ResourceIdentity, TableDefinition


def table_from_manifest(manifest: AwsDynamodbManifest) -> TableDefinition:
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
