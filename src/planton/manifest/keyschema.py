"""Project Planton's current dialect: ``attributeDefinitions`` + ``keySchema``,
``provisionedThroughput``, indexes with their own ``keySchema`` and ``projection``, and
``serverSideEncryption { enabled, kmsKeyArn }`` — in camelCase or snake_case, with every enum
spelling Project Planton has used (``HASH`` and ``KEY_TYPE_HASH``, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import Field, model_validator

from planton.manifest.base import (
    AttributeName,
    AttributeTypeField,
    CapacityUnits,
    IndexName,
    KeyName,
    KeyTypeField,
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
    GlobalIndex,
    KeyType,
    LocalIndex,
    Projection,
    ProjectionType,
    TableDefinition,
)


class AttributeDefinition(ManifestModel):
    """A key attribute and its type."""

    name: KeyName
    type: AttributeTypeField


class KeySchemaElement(ManifestModel):
    """One element of a key schema: an attribute and its role (HASH or RANGE)."""

    attribute_name: KeyName
    key_type: KeyTypeField


class ProvisionedThroughput(ManifestModel):
    """Read and write capacity units (PROVISIONED only)."""

    read_capacity_units: CapacityUnits | None = None
    write_capacity_units: CapacityUnits | None = None


class ProjectionSpec(ManifestModel):
    """What an index copies; ``non_key_attributes`` only with INCLUDE."""

    type: ProjectionTypeField = ProjectionType.ALL
    non_key_attributes: list[AttributeName] = Field(default_factory=list)

    def problems(self) -> Problems:
        return projection_problems(
            self.type, self.non_key_attributes, type_loc=("type",), attributes_loc=("non_key_attributes",)
        )

    def projection(self) -> Projection:
        return Projection(self.type, tuple(self.non_key_attributes))


class GlobalSecondaryIndexSpec(ManifestModel):
    """A global secondary index."""

    name: IndexName
    key_schema: list[KeySchemaElement]
    projection: ProjectionSpec = Field(default_factory=ProjectionSpec)
    provisioned_throughput: ProvisionedThroughput | None = None
    on_demand_throughput: OnDemandThroughputSpec | None = None
    autoscaling: AutoScalingSpec | None = None

    def capacity(self) -> GivenCapacity:
        return _capacity(self.provisioned_throughput, self.autoscaling, self.on_demand_throughput)


class LocalSecondaryIndexSpec(ManifestModel):
    """A local secondary index: the table's partition key (HASH) and another sort key (RANGE)."""

    name: IndexName
    key_schema: list[KeySchemaElement]
    projection: ProjectionSpec = Field(default_factory=ProjectionSpec)


class ServerSideEncryptionSpec(ManifestModel):
    """Encryption at rest: ``enabled`` uses a KMS key (the AWS managed one unless ``kms_key_arn``);
    off, DynamoDB still encrypts with a key AWS owns."""

    enabled: bool = False
    kms_key_arn: KmsKey | None = None


def _capacity(
    throughput: ProvisionedThroughput | None,
    autoscaling: AutoScalingSpec | None,
    on_demand: OnDemandThroughputSpec | None,
) -> GivenCapacity:
    given = throughput or ProvisionedThroughput()
    return GivenCapacity(
        given.read_capacity_units,
        given.write_capacity_units,
        autoscaling,
        on_demand,
        read_loc=("provisioned_throughput", "read_capacity_units"),
        write_loc=("provisioned_throughput", "write_capacity_units"),
    )


def key_schema_problems(elements: Sequence[KeySchemaElement], *, local: bool) -> Problems:
    """Exactly one HASH and at most one RANGE (an LSI exactly one of each), no attribute twice."""
    problems: Problems = []
    hashes = sum(1 for element in elements if element.key_type is KeyType.HASH)
    ranges = sum(1 for element in elements if element.key_type is KeyType.RANGE)
    if hashes != 1:
        problems.append((("key_schema",), f"needs exactly one HASH element (the partition key); found {hashes}", None))
    if local and ranges != 1:
        problems.append(
            (("key_schema",), f"a local index needs exactly one RANGE element (its sort key); found {ranges}", None)
        )
    elif ranges > 1:
        problems.append((("key_schema",), f"takes at most one RANGE element (the sort key); found {ranges}", None))
    names = [element.attribute_name for element in elements]
    for position, name in enumerate(names):
        if name in names[:position]:
            problems.append(
                (("key_schema", position, "attribute_name"), f"{name!r} is already part of this key schema", name)
            )
    return problems


# Stands in for a key index rules do not look at.
_UNKNOWN = Attribute("?", AttributeType.STRING)


def _role(elements: Sequence[KeySchemaElement], kind: KeyType) -> tuple[int, str] | None:
    return next(((i, e.attribute_name) for i, e in enumerate(elements) if e.key_type is kind), None)


class KeySchemaSpec(CommonSpec):
    """The table as Project Planton's current AwsDynamodbSpec describes it."""

    attribute_definitions: list[AttributeDefinition]
    key_schema: list[KeySchemaElement]
    provisioned_throughput: ProvisionedThroughput | None = None
    server_side_encryption: ServerSideEncryptionSpec | None = None
    global_secondary_indexes: list[GlobalSecondaryIndexSpec] = Field(default_factory=list)
    local_secondary_indexes: list[LocalSecondaryIndexSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _fields_agree(self) -> KeySchemaSpec:
        # Rules between fields, all here (not in the index models) so that none hides another.
        problems = key_schema_problems(self.key_schema, local=False)
        indexes: list[tuple[Loc, list[KeySchemaElement], ProjectionSpec, bool]] = [
            (("global_secondary_indexes", i), gsi.key_schema, gsi.projection, False)
            for i, gsi in enumerate(self.global_secondary_indexes)
        ]
        indexes += [
            (("local_secondary_indexes", i), lsi.key_schema, lsi.projection, True)
            for i, lsi in enumerate(self.local_secondary_indexes)
        ]
        for at, key_schema, projection, local in indexes:
            problems += located(at, key_schema_problems(key_schema, local=local))
            problems += located((*at, "projection"), projection.problems())
        problems += self._definition_problems()
        problems += self.capacity_problems()
        table_hash = _role(self.key_schema, KeyType.HASH)
        for position, lsi in enumerate(self.local_secondary_indexes):
            lsi_hash = _role(lsi.key_schema, KeyType.HASH)
            if lsi_hash and table_hash and lsi_hash[1] != table_hash[1]:
                problems.append(
                    (
                        ("local_secondary_indexes", position, "key_schema", lsi_hash[0], "attribute_name"),
                        f"must be the table's partition key {table_hash[1]!r}: a local index shares it "
                        "(use a global index for another partition key)",
                        lsi_hash[1],
                    )
                )
        # Index counts, names and INCLUDE totals need only names and projections, so they are
        # judged even when keys have problems of their own (the sort key may be unknown then).
        sort_key = _role(self.key_schema, KeyType.RANGE)
        problems += index_problems(
            [
                (
                    ("global_secondary_indexes", i),
                    GlobalIndex(gsi.name, _UNKNOWN, projection=gsi.projection.projection()),
                )
                for i, gsi in enumerate(self.global_secondary_indexes)
            ],
            [
                (("local_secondary_indexes", i), LocalIndex(lsi.name, _UNKNOWN, lsi.projection.projection()))
                for i, lsi in enumerate(self.local_secondary_indexes)
            ],
            table_sort_key=_UNKNOWN if sort_key else None,
            sort_key_field="a RANGE element in key_schema",
            global_loc=("global_secondary_indexes",),
            local_loc=("local_secondary_indexes",),
            included_loc=lambda loc: (*loc, "projection", "non_key_attributes"),
        )
        encryption = self.server_side_encryption or ServerSideEncryptionSpec()
        problems += kms_problems(
            encryption.kms_key_arn,
            encrypted=encryption.enabled,
            region=self.aws_region,
            key_loc=("server_side_encryption", "kms_key_arn"),
            enabled_field="enabled",
        )
        problems += ttl_problems(self.ttl, self._types)
        problems += self.common_problems()
        raise_problems("KeySchemaSpec", problems)
        return self

    def _definition_problems(self) -> Problems:
        """Every key attribute defined once; every definition used by some key."""
        problems: Problems = []
        defined: dict[str, int] = {}
        for position, definition in enumerate(self.attribute_definitions):
            if definition.name in defined:
                problems.append(
                    (
                        ("attribute_definitions", position, "name"),
                        f"{definition.name!r} is already defined at attribute_definitions[{defined[definition.name]}]",
                        definition.name,
                    )
                )
            defined.setdefault(definition.name, position)
        used: set[str] = set()
        for loc, elements in self._key_schemas():
            for position, element in enumerate(elements):
                used.add(element.attribute_name)
                if element.attribute_name not in defined:
                    problems.append(
                        (
                            (*loc, position, "attribute_name"),
                            f"{element.attribute_name!r} is not in attribute_definitions; add it with its type "
                            "(S, N or B)",
                            element.attribute_name,
                        )
                    )
        for name, position in defined.items():
            if name not in used:
                problems.append(
                    (
                        ("attribute_definitions", position),
                        f"{name!r} is not used by any key schema (table or index); remove it, DynamoDB "
                        "only takes definitions of key attributes",
                        name,
                    )
                )
        return problems

    def _key_schemas(self) -> list[tuple[Loc, list[KeySchemaElement]]]:
        schemas: list[tuple[Loc, list[KeySchemaElement]]] = [(("key_schema",), self.key_schema)]
        schemas += [
            (("global_secondary_indexes", i, "key_schema"), gsi.key_schema)
            for i, gsi in enumerate(self.global_secondary_indexes)
        ]
        schemas += [
            (("local_secondary_indexes", i, "key_schema"), lsi.key_schema)
            for i, lsi in enumerate(self.local_secondary_indexes)
        ]
        return schemas

    # -- normalisation (valid specs only) ------------------------------------------------------

    @property
    def _types(self) -> Mapping[str, AttributeType]:
        return {definition.name: definition.type for definition in self.attribute_definitions}

    def _attribute(self, elements: Sequence[KeySchemaElement], kind: KeyType) -> Attribute | None:
        role = _role(elements, kind)
        return Attribute(role[1], self._types[role[1]]) if role else None

    @property
    def partition_key(self) -> Attribute:
        key = self._attribute(self.key_schema, KeyType.HASH)
        assert key is not None  # validated: exactly one HASH
        return key

    @property
    def sort_key(self) -> Attribute | None:
        return self._attribute(self.key_schema, KeyType.RANGE)

    def capacity(self) -> GivenCapacity:
        return _capacity(self.provisioned_throughput, self.autoscaling, self.on_demand_throughput)

    def global_index_entries(self) -> Sequence[GlobalSecondaryIndexSpec]:
        return self.global_secondary_indexes

    def global_indexes(self) -> tuple[GlobalIndex, ...]:
        indexes = []
        for gsi in self.global_secondary_indexes:
            partition = self._attribute(gsi.key_schema, KeyType.HASH)
            assert partition is not None  # validated: exactly one HASH
            indexes.append(
                global_index(
                    gsi.name,
                    partition,
                    self._attribute(gsi.key_schema, KeyType.RANGE),
                    gsi.projection.projection(),
                    gsi.capacity(),
                    self.billing_mode,
                )
            )
        return tuple(indexes)

    def local_indexes(self) -> tuple[LocalIndex, ...]:
        indexes = []
        for lsi in self.local_secondary_indexes:
            sort_key = self._attribute(lsi.key_schema, KeyType.RANGE)
            assert sort_key is not None  # validated: exactly one RANGE
            indexes.append(LocalIndex(name=lsi.name, sort_key=sort_key, projection=lsi.projection.projection()))
        return tuple(indexes)


class KeySchemaManifest(ManifestEnvelope):
    """A whole manifest in the current dialect."""

    spec: KeySchemaSpec


def table_from_key_schema(manifest: KeySchemaManifest) -> TableDefinition:
    """Normalise a validated current-dialect manifest."""
    spec = manifest.spec
    encryption = spec.server_side_encryption or ServerSideEncryptionSpec()
    return TableDefinition(
        identity=identity_of(manifest),
        table_name=spec.table_name or manifest.metadata.name,
        partition_key=spec.partition_key,
        sort_key=spec.sort_key,
        server_side_encryption_enabled=encryption.enabled,
        kms_key=encryption.kms_key_arn if encryption.enabled else None,
        global_indexes=spec.global_indexes(),
        local_indexes=spec.local_indexes(),
        **spec.common_table_fields(),
    )
