"""The seed module's dialect: the flat spec of ``../shared/seed`` (``partition_key_name``,
``partition_key_type``, ``sort_key_name``, ...), in snake_case or camelCase. Indexes are flat
too: each names its keys with ``partition_key_name`` / ``sort_key_name`` and their types."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field, model_validator

from planton.manifest.base import (
    AttributeName,
    AttributeTypeField,
    CapacityUnits,
    IndexName,
    KeyName,
    KmsKey,
    Loc,
    ManifestModel,
    Problems,
    ProjectionTypeField,
    located,
    raise_problems,
)
from planton.manifest.common import (
    AutoScalingSpec,
    CommonSpec,
    GivenCapacity,
    ManifestEnvelope,
    OnDemandThroughputSpec,
    attribute_type_problems,
    global_index,
    identity_of,
    index_problems,
    kms_problems,
    projection_problems,
    ttl_problems,
)
from planton.table import (
    Attribute,
    AttributeType,
    BillingMode,
    GlobalIndex,
    LocalIndex,
    Projection,
    ProjectionType,
    TableDefinition,
)


def _key(name: str | None, kind: AttributeType | None) -> Attribute | None:
    return Attribute(name, kind) if name is not None and kind is not None else None


def _flat_capacity(owner: FlatGlobalIndex | SeedSpec) -> GivenCapacity:
    """A table's or global index's throughput settings: the same flat fields on both."""
    return GivenCapacity(
        owner.read_capacity_units,
        owner.write_capacity_units,
        owner.autoscaling,
        owner.on_demand_throughput,
        read_loc=("read_capacity_units",),
        write_loc=("write_capacity_units",),
    )


def _sort_key_problems(partition: str, sort_name: str | None, sort_type: AttributeType | None) -> Problems:
    """Sort key name and type come together, and the sort key is not the partition key."""
    if (sort_name is None) != (sort_type is None):
        missing, given = ("sort_key_type", "sort_key_name") if sort_type is None else ("sort_key_name", "sort_key_type")
        return [((missing,), f"required when {given} is set; give both or neither", None)]
    if sort_name is not None and sort_name == partition:
        return [(("sort_key_name",), "must differ from partition_key_name", sort_name)]
    return []


class FlatGlobalIndex(ManifestModel):
    """A global secondary index with flat key fields."""

    name: IndexName
    partition_key_name: KeyName
    partition_key_type: AttributeTypeField
    sort_key_name: KeyName | None = None
    sort_key_type: AttributeTypeField | None = None
    projection_type: ProjectionTypeField = ProjectionType.ALL
    non_key_attributes: list[AttributeName] = Field(default_factory=list)
    read_capacity_units: CapacityUnits | None = None
    write_capacity_units: CapacityUnits | None = None
    on_demand_throughput: OnDemandThroughputSpec | None = None
    autoscaling: AutoScalingSpec | None = None

    def problems(self) -> Problems:
        problems = _sort_key_problems(self.partition_key_name, self.sort_key_name, self.sort_key_type)
        return problems + projection_problems(
            self.projection_type,
            self.non_key_attributes,
            type_loc=("projection_type",),
            attributes_loc=("non_key_attributes",),
        )

    def capacity(self) -> GivenCapacity:
        return _flat_capacity(self)

    def index(self, billing_mode: BillingMode) -> GlobalIndex:
        return global_index(
            self.name,
            Attribute(self.partition_key_name, self.partition_key_type),
            _key(self.sort_key_name, self.sort_key_type),
            Projection(self.projection_type, tuple(self.non_key_attributes)),
            self.capacity(),
            billing_mode,
        )


class FlatLocalIndex(ManifestModel):
    """A local secondary index: the table's partition key with this sort key."""

    name: IndexName
    sort_key_name: KeyName
    sort_key_type: AttributeTypeField
    projection_type: ProjectionTypeField = ProjectionType.ALL
    non_key_attributes: list[AttributeName] = Field(default_factory=list)

    def problems(self) -> Problems:
        return projection_problems(
            self.projection_type,
            self.non_key_attributes,
            type_loc=("projection_type",),
            attributes_loc=("non_key_attributes",),
        )

    def index(self) -> LocalIndex:
        return LocalIndex(
            name=self.name,
            sort_key=Attribute(self.sort_key_name, self.sort_key_type),
            projection=Projection(self.projection_type, tuple(self.non_key_attributes)),
        )


class SeedSpec(CommonSpec):
    """The table as the seed module's README describes it (flat key fields), plus every
    capability in the same flat style."""

    partition_key_name: KeyName
    partition_key_type: AttributeTypeField
    sort_key_name: KeyName | None = None
    sort_key_type: AttributeTypeField | None = None
    read_capacity_units: CapacityUnits | None = None
    write_capacity_units: CapacityUnits | None = None
    server_side_encryption_enabled: bool = True
    kms_key_arn: KmsKey | None = None
    global_secondary_indexes: list[FlatGlobalIndex] = Field(default_factory=list)
    local_secondary_indexes: list[FlatLocalIndex] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fields_agree(self) -> SeedSpec:
        # Rules between fields, all here (not in the index models) so that none hides another.
        problems = _sort_key_problems(self.partition_key_name, self.sort_key_name, self.sort_key_type)
        for position, gsi in enumerate(self.global_secondary_indexes):
            problems += located(("global_secondary_indexes", position), gsi.problems())
        for position, lsi in enumerate(self.local_secondary_indexes):
            problems += located(("local_secondary_indexes", position), lsi.problems())
        problems += self.capacity_problems()
        for position, lsi in enumerate(self.local_secondary_indexes):
            if lsi.sort_key_name == self.partition_key_name:
                problems.append(
                    (
                        ("local_secondary_indexes", position, "sort_key_name"),
                        "must differ from the table's partition_key_name (an LSI shares the table's partition key)",
                        lsi.sort_key_name,
                    )
                )
        problems += kms_problems(
            self.kms_key_arn,
            encrypted=self.server_side_encryption_enabled,
            region=self.aws_region,
            key_loc=("kms_key_arn",),
            enabled_field="server_side_encryption_enabled",
        )
        problems += self._key_problems()
        problems += self.common_problems()
        raise_problems("SeedSpec", problems)
        return self

    def _key_problems(self) -> Problems:
        keys: list[tuple[Loc, Attribute]] = [(("partition_key_type",), self.partition_key)]
        if self.sort_key is not None and self.sort_key_name != self.partition_key_name:  # else reported already
            keys.append((("sort_key_type",), self.sort_key))
        global_indexes = [gsi.index(self.billing_mode) for gsi in self.global_secondary_indexes]
        for position, index in enumerate(global_indexes):
            keys.append((("global_secondary_indexes", position, "partition_key_type"), index.partition_key))
            if index.sort_key is not None:
                keys.append((("global_secondary_indexes", position, "sort_key_type"), index.sort_key))
        for position, lsi in enumerate(self.local_secondary_indexes):
            keys.append((("local_secondary_indexes", position, "sort_key_type"), lsi.index().sort_key))
        problems = attribute_type_problems(keys)
        problems += ttl_problems(self.ttl, {attribute.name: attribute.type for _, attribute in keys})
        problems += index_problems(
            [(("global_secondary_indexes", i), index) for i, index in enumerate(global_indexes)],
            [(("local_secondary_indexes", i), lsi.index()) for i, lsi in enumerate(self.local_secondary_indexes)],
            table_sort_key=self.sort_key,
            sort_key_field="sort_key_name",
            global_loc=("global_secondary_indexes",),
            local_loc=("local_secondary_indexes",),
            included_loc=lambda loc: (*loc, "non_key_attributes"),
        )
        return problems

    def capacity(self) -> GivenCapacity:
        return _flat_capacity(self)

    def global_index_entries(self) -> Sequence[FlatGlobalIndex]:
        return self.global_secondary_indexes

    @property
    def partition_key(self) -> Attribute:
        return Attribute(self.partition_key_name, self.partition_key_type)

    @property
    def sort_key(self) -> Attribute | None:
        return _key(self.sort_key_name, self.sort_key_type)


class SeedManifest(ManifestEnvelope):
    """A whole manifest in the flat dialect."""

    spec: SeedSpec


def table_from_seed(manifest: SeedManifest) -> TableDefinition:
    """Normalise a validated flat manifest; defaults (table name, capacity) are filled in here."""
    metadata, spec = manifest.metadata, manifest.spec
    return TableDefinition(
        identity=identity_of(manifest),
        table_name=spec.table_name or metadata.name,
        partition_key=spec.partition_key,
        sort_key=spec.sort_key,
        server_side_encryption_enabled=spec.server_side_encryption_enabled,
        kms_key=spec.kms_key_arn if spec.server_side_encryption_enabled else None,
        global_indexes=tuple(gsi.index(spec.billing_mode) for gsi in spec.global_secondary_indexes),
        local_indexes=tuple(lsi.index() for lsi in spec.local_secondary_indexes),
        **spec.common_table_fields(),
    )
