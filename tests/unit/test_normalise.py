"""Normalising a validated manifest into the internal ``TableDefinition``."""

from __future__ import annotations

from typing import Any

import pytest

from planton.manifest.base import API_VERSION, KIND
from planton.manifest.loader import validate_document
from planton.manifest.normalise import table_from_manifest
from planton.source import ManifestSource, load_input
from planton.table import Attribute, AttributeType, BillingMode, ResourceIdentity, TableDefinition

from support import HACK_MANIFEST


def table(*, metadata: dict[str, Any] | None = None, **spec: Any) -> TableDefinition:
    """The table a minimal manifest (plus ``metadata`` and ``spec`` overrides) normalises to."""
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders", **(metadata or {})},
        "spec": {"partition_key_name": "pk", "partition_key_type": "S", **spec},
    }
    return table_from_manifest(validate_document(document, "m.yaml"))


def test_minimal_manifest() -> None:
    assert table() == TableDefinition(
        identity=ResourceIdentity(name="orders"),
        table_name="orders",
        aws_region=None,
        billing_mode=BillingMode.PAY_PER_REQUEST,
        partition_key=Attribute("pk", AttributeType.STRING),
        sort_key=None,
        read_capacity_units=0,
        write_capacity_units=0,
        point_in_time_recovery_enabled=False,
        server_side_encryption_enabled=True,
    )


def test_table_name_defaults_to_metadata_name() -> None:
    assert table(metadata={"name": "my-meta.name_1"}).table_name == "my-meta.name_1"


def test_explicit_table_name_wins() -> None:
    assert table(metadata={"name": "meta"}, table_name="explicit-table").table_name == "explicit-table"


def test_no_sort_key() -> None:
    result = table()
    assert result.sort_key is None
    assert result.attributes == (Attribute("pk", AttributeType.STRING),)


@pytest.mark.parametrize(
    ("partition_type", "sort_type", "expected"),
    [
        ("STRING", "NUMBER", (Attribute("pk", AttributeType.STRING), Attribute("sk", AttributeType.NUMBER))),
        ("N", "B", (Attribute("pk", AttributeType.NUMBER), Attribute("sk", AttributeType.BINARY))),
        ("ATTRIBUTE_TYPE_BINARY", "s", (Attribute("pk", AttributeType.BINARY), Attribute("sk", AttributeType.STRING))),
    ],
)
def test_attributes_are_partition_then_sort(
    partition_type: str, sort_type: str, expected: tuple[Attribute, Attribute]
) -> None:
    result = table(partition_key_type=partition_type, sort_key_name="sk", sort_key_type=sort_type)
    assert result.partition_key == expected[0]
    assert result.sort_key == expected[1]
    assert result.attributes == expected
    assert [(a.name, a.type.value) for a in result.attributes] == [(e.name, e.type.value) for e in expected]


def test_attribute_order_does_not_depend_on_manifest_order() -> None:
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "orders"},
        "spec": {"sortKeyType": "N", "sortKeyName": "a_sort", "partitionKeyType": "S", "partitionKeyName": "z_part"},
    }
    result = table_from_manifest(validate_document(document, "m.yaml"))
    assert [a.name for a in result.attributes] == ["z_part", "a_sort"]


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"billing_mode": "PAY_PER_REQUEST"},
        {"billing_mode": "BILLING_MODE_PAY_PER_REQUEST", "read_capacity_units": 0, "write_capacity_units": 0},
    ],
)
def test_capacity_is_zero_for_pay_per_request(spec: dict[str, Any]) -> None:
    result = table(**spec)
    assert result.billing_mode is BillingMode.PAY_PER_REQUEST
    assert (result.read_capacity_units, result.write_capacity_units) == (0, 0)


def test_capacity_is_carried_for_provisioned() -> None:
    result = table(billing_mode="BILLING_MODE_PROVISIONED", read_capacity_units=7, write_capacity_units=3)
    assert result.billing_mode is BillingMode.PROVISIONED
    assert (result.read_capacity_units, result.write_capacity_units) == (7, 3)


def test_flags_and_region_are_carried() -> None:
    result = table(aws_region="eu-west-2", point_in_time_recovery_enabled=True, server_side_encryption_enabled=False)
    assert result.aws_region == "eu-west-2"
    assert result.point_in_time_recovery_enabled is True
    assert result.server_side_encryption_enabled is False


def test_identity_fields_are_carried() -> None:
    metadata = {
        "name": "orders",
        "id": "res-123",
        "org": "acme",
        "env": "prod",
        "labels": {"team": "platform", "cost-centre": "42"},
        "annotations": {"note": "anything {goes} here!"},
        "tags": ["b", "a"],
    }
    assert table(metadata=metadata).identity == ResourceIdentity(
        name="orders",
        id="res-123",
        org="acme",
        env="prod",
        labels={"team": "platform", "cost-centre": "42"},
        annotations={"note": "anything {goes} here!"},
        tags=("a", "b"),  # sorted: their order means nothing (tests/unit/test_render.py)
    )


def test_identity_collections_are_copies_of_the_right_types() -> None:
    manifest = validate_document(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": "orders", "labels": {"team": "x"}, "tags": ["t"]},
            "spec": {"partition_key_name": "pk", "partition_key_type": "S"},
        },
        "m.yaml",
    )
    identity = table_from_manifest(manifest).identity
    assert isinstance(identity.tags, tuple)
    assert identity.tags == ("t",)
    assert isinstance(identity.labels, dict)
    assert identity.labels is not manifest.metadata.labels
    assert identity.annotations is not manifest.metadata.annotations


def test_identity_defaults_when_metadata_is_minimal() -> None:
    identity = table().identity
    assert (identity.id, identity.org, identity.env) == (None, None, None)
    assert identity.labels == {}
    assert identity.annotations == {}
    assert identity.tags == ()


def test_hack_manifest() -> None:
    result = table_from_manifest(load_input(ManifestSource(manifest=HACK_MANIFEST)).manifest.model)
    assert result.table_name == "planton-demo-orders"
    assert result.aws_region == "us-east-1"
    assert result.billing_mode is BillingMode.PAY_PER_REQUEST
    assert result.attributes == (
        Attribute("customer_id", AttributeType.STRING),
        Attribute("order_ts", AttributeType.NUMBER),
    )
    assert (result.read_capacity_units, result.write_capacity_units) == (0, 0)
    assert result.point_in_time_recovery_enabled is True
    assert result.server_side_encryption_enabled is True
    assert result.identity == ResourceIdentity(
        name="planton-demo-orders", org="planton", env="dev", labels={"team": "platform"}
    )
