"""Settings the aws provider keeps when a manifest drops them, and changes it cannot see: planton
undoes the first explicitly, refuses to hide the KMS key, and forces the replacement a changed
local index needs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from planton.errors import ManifestError
from planton.guards import forced_replacement, keep_recorded_order, lift_dropped_caps, refuse_what_terraform_cannot_do
from planton.state import RecordedTable
from planton.table import (
    Attribute,
    AttributeType,
    BillingMode,
    GlobalIndex,
    LocalIndex,
    OnDemandThroughput,
    Projection,
    ProjectionType,
    ResourceIdentity,
    TableDefinition,
)

PK = Attribute("pk", AttributeType.STRING)
SK = Attribute("sk", AttributeType.STRING)
TABLE = TableDefinition(
    identity=ResourceIdentity(name="orders"),
    table_name="orders",
    aws_region="us-east-1",
    billing_mode=BillingMode.PAY_PER_REQUEST,
    partition_key=PK,
    sort_key=SK,
    read_capacity_units=0,
    write_capacity_units=0,
    point_in_time_recovery_enabled=False,
    server_side_encryption_enabled=True,
    global_indexes=(GlobalIndex("by-g", Attribute("g", AttributeType.STRING)),),
    local_indexes=(LocalIndex("by-x", Attribute("x", AttributeType.NUMBER), Projection(ProjectionType.KEYS_ONLY)),),
)
RECORDED = RecordedTable("orders", tainted=False, local_indexes=(("by-x", "x", "KEYS_ONLY", ()),))
REGION = "us-east-1"
KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_dropped_on_demand_maximums_become_no_maximum() -> None:
    lifted = lift_dropped_caps(replace(RECORDED, capped=frozenset({"table", "by-g"})), TABLE)
    assert lifted.on_demand_throughput == OnDemandThroughput(-1, -1)
    assert lifted.global_indexes[0].on_demand_throughput == OnDemandThroughput(-1, -1)


def test_maximums_still_given_are_left_alone() -> None:
    given = OnDemandThroughput(10, None)
    table = replace(TABLE, on_demand_throughput=given)
    assert lift_dropped_caps(replace(RECORDED, capped=frozenset({"table"})), table) is table
    assert lift_dropped_caps(RECORDED, TABLE) is TABLE
    assert lift_dropped_caps(None, TABLE) is TABLE


def test_a_provisioned_table_has_no_maximums_to_lift() -> None:
    table = replace(TABLE, billing_mode=BillingMode.PROVISIONED, read_capacity_units=1, write_capacity_units=1)
    assert lift_dropped_caps(replace(RECORDED, capped=frozenset({"table"})), table) is table


def test_dropping_the_customer_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        refuse_what_terraform_cannot_do(
            replace(RECORDED, customer_kms_key=KEY), TABLE, REGION, str(tmp_path / "m.yaml")
        )
    [problem] = caught.value.problems
    assert problem.startswith("spec.serverSideEncryption.kmsKeyArn (flat: kms_key_arn): the table is encrypted with")
    assert KEY in problem
    assert "alias/aws/dynamodb" in problem


@pytest.mark.parametrize(
    "table",
    [
        replace(TABLE, kms_key="alias/other"),
        replace(TABLE, server_side_encryption_enabled=False),
    ],
    ids=["another-key", "encryption-off"],
)
def test_changing_or_turning_off_the_key_is_not_refused(table: TableDefinition, tmp_path: Path) -> None:
    refuse_what_terraform_cannot_do(replace(RECORDED, customer_kms_key=KEY), table, REGION, str(tmp_path / "m.yaml"))


@pytest.mark.parametrize(
    "local_indexes",
    [
        (LocalIndex("by-x", Attribute("x", AttributeType.NUMBER), Projection(ProjectionType.ALL)),),
        (LocalIndex("by-x", Attribute("y", AttributeType.NUMBER), Projection(ProjectionType.KEYS_ONLY)),),
        (),
    ],
    ids=["projection", "sort-key", "removed"],
)
def test_a_changed_local_index_forces_a_replacement(local_indexes: tuple[LocalIndex, ...]) -> None:
    reason = forced_replacement(RECORDED, replace(TABLE, local_indexes=local_indexes))
    assert reason == "a change to the local secondary indexes, which DynamoDB cannot make in place"


def test_unchanged_or_unknown_local_indexes_force_nothing() -> None:
    assert forced_replacement(RECORDED, TABLE) is None
    assert forced_replacement(replace(RECORDED, local_indexes=None), replace(TABLE, local_indexes=())) is None
    assert forced_replacement(None, TABLE) is None


def test_moving_ttl_to_another_attribute_is_refused(tmp_path: Path) -> None:
    recorded = replace(RECORDED, ttl_attribute="expires_at")
    with pytest.raises(ManifestError) as caught:
        refuse_what_terraform_cannot_do(
            recorded, replace(TABLE, ttl_attribute="valid_until"), REGION, str(tmp_path / "m.yaml")
        )
    [problem] = caught.value.problems
    assert problem.startswith("spec.ttl.attributeName (attribute_name): TTL is on for 'expires_at', and AWS")
    for table in (TABLE, replace(TABLE, ttl_attribute="expires_at")):  # turned off, or unchanged
        refuse_what_terraform_cannot_do(recorded, table, REGION, str(tmp_path / "m.yaml"))


@pytest.mark.parametrize(
    "table",
    [
        replace(TABLE, table_name="orders-v2"),  # another table: it starts without TTL
        replace(TABLE, partition_key=Attribute("pk", AttributeType.NUMBER)),  # replaced anyway
    ],
    ids=["renamed", "replaced"],
)
def test_nothing_is_refused_for_a_table_that_will_be_new(table: TableDefinition, tmp_path: Path) -> None:
    recorded = replace(RECORDED, ttl_attribute="expires_at", customer_kms_key=KEY, attribute_types={"pk": "S"})
    refuse_what_terraform_cannot_do(recorded, replace(table, ttl_attribute="valid_until"), REGION, tmp_path / "m")
    refuse_what_terraform_cannot_do(replace(recorded, region="eu-west-1"), TABLE, REGION, tmp_path / "m")


def test_a_global_index_key_type_change_is_refused_with_the_way_that_works(tmp_path: Path) -> None:
    recorded = replace(RECORDED, attribute_types={"pk": "S", "sk": "S", "g": "N"})
    with pytest.raises(ManifestError) as caught:
        refuse_what_terraform_cannot_do(recorded, TABLE, REGION, str(tmp_path / "m.yaml"))
    assert caught.value.problems == [
        "global index by-g: its key g changes type from N to S, which DynamoDB cannot do while the index exists; "
        "give the index a new name (DynamoDB builds the new index and drops the old one)"
    ]


def test_a_local_index_sort_key_type_change_forces_a_replacement() -> None:
    recorded = replace(RECORDED, attribute_types={"pk": "S", "sk": "S", "x": "S"})
    assert forced_replacement(recorded, TABLE) == (
        "a key type change (local index by-x's sort key x from S to N), which DynamoDB cannot make in place"
    )


# --- The order a state records is kept -------------------------------------------------------

BY_A = LocalIndex("by-a", Attribute("a", AttributeType.NUMBER), Projection(ProjectionType.KEYS_ONLY))
BY_B = LocalIndex("by-b", Attribute("b", AttributeType.NUMBER), Projection(ProjectionType.INCLUDE, ("x", "y", "z")))
SORTED = replace(TABLE, local_indexes=(BY_A, BY_B))  # as planton renders them: by name
# Applied by an earlier planton in the manifest's order: by-b first, its attributes z, x, y.
IN_ANOTHER_ORDER = replace(
    RECORDED,
    local_indexes=(("by-a", "a", "KEYS_ONLY", ()), ("by-b", "b", "INCLUDE", ("x", "y", "z"))),
    local_index_order=(("by-b", "b", "INCLUDE", ("z", "x", "y")), ("by-a", "a", "KEYS_ONLY", ())),
)


def test_a_recorded_order_of_the_same_local_indexes_is_kept() -> None:
    kept = keep_recorded_order(IN_ANOTHER_ORDER, SORTED)
    assert [index.name for index in kept.local_indexes] == ["by-b", "by-a"]
    assert kept.local_indexes[0].projection.non_key_attributes == ("z", "x", "y")
    assert replace(kept, local_indexes=SORTED.local_indexes) == SORTED  # nothing else moved
    assert forced_replacement(IN_ANOTHER_ORDER, kept) is None


def test_the_canonical_order_recorded_is_left_as_it_is() -> None:
    recorded = replace(IN_ANOTHER_ORDER, local_index_order=(IN_ANOTHER_ORDER.local_indexes or ()))
    assert keep_recorded_order(recorded, SORTED) is SORTED
    assert keep_recorded_order(None, SORTED) is SORTED
    assert keep_recorded_order(replace(IN_ANOTHER_ORDER, local_index_order=None), SORTED) is SORTED


@pytest.mark.parametrize(
    "local_indexes",
    [
        (BY_A, replace(BY_B, projection=Projection(ProjectionType.INCLUDE, ("x", "y")))),
        (BY_A, replace(BY_B, projection=Projection(ProjectionType.ALL))),
        (BY_A, replace(BY_B, sort_key=Attribute("c", AttributeType.NUMBER))),
        (BY_A,),
        (BY_A, BY_B, LocalIndex("by-c", Attribute("c", AttributeType.STRING))),
    ],
    ids=["attributes", "projection", "sort-key", "removed", "added"],
)
def test_other_local_indexes_keep_the_canonical_order(local_indexes: tuple[LocalIndex, ...]) -> None:
    # The table is replaced anyway (and planton says so): its indexes go in as the table gives them.
    table = replace(TABLE, local_indexes=local_indexes)
    assert keep_recorded_order(IN_ANOTHER_ORDER, table) is table
