"""What the state already records, compared with the manifest, before terraform plans: changes
terraform would get wrong (or AWS would refuse half-way), refused or corrected here.

Pure: the recorded table (``state.py``) and the manifest's table in, a decision out.
"""

from __future__ import annotations

from dataclasses import replace

from planton.errors import ManifestError
from planton.state import RecordedTable
from planton.table import BillingMode, LocalIndex, OnDemandThroughput, TableDefinition


def lift_dropped_caps(recorded: RecordedTable | None, table: TableDefinition) -> TableDefinition:
    """``table`` with an explicit "no maximum" (-1) wherever the manifest dropped an on-demand
    maximum the state records: left out, the provider would keep the old one."""
    if recorded is None or not recorded.capped or table.billing_mode is not BillingMode.PAY_PER_REQUEST:
        return table
    unlimited = OnDemandThroughput(-1, -1)
    indexes = tuple(
        replace(index, on_demand_throughput=unlimited)
        if index.on_demand_throughput is None and index.name in recorded.capped
        else index
        for index in table.global_indexes
    )
    lifted = replace(table, global_indexes=indexes)
    if table.on_demand_throughput is None and "table" in recorded.capped:
        lifted = replace(lifted, on_demand_throughput=unlimited)
    return table if lifted == table else lifted


def keep_recorded_order(recorded: RecordedTable | None, table: TableDefinition) -> TableDefinition:
    """``table`` with its local indexes, and each one's non-key attributes, in the order the
    state records them, when they are the same indexes (names, sort keys, projection types and
    sets of non-key attributes). That order means nothing to DynamoDB, but the module's trigger
    and the provider's ``non_key_attributes`` list both hold it, so a new order would replace
    the table; a manifest reordered, or a table applied in another order by an earlier planton,
    must plan nothing."""
    if recorded is None or recorded.local_index_order is None:
        return table
    wanted = {_local_index_key(index) for index in table.local_indexes}
    if wanted != {
        (name, sort_key, kind, tuple(sorted(names))) for name, sort_key, kind, names in recorded.local_index_order
    }:
        return table  # other indexes: the table is replaced anyway, its indexes as given
    by_name = {index.name: index for index in table.local_indexes}
    kept = tuple(
        replace(by_name[name], projection=replace(by_name[name].projection, non_key_attributes=names))
        for name, _, _, names in recorded.local_index_order
    )
    return table if kept == table.local_indexes else replace(table, local_indexes=kept)


def _local_index_key(index: LocalIndex) -> tuple[str, str, str, tuple[str, ...]]:
    """What tells a local index apart, its non-key attributes as a set (sorted)."""
    return (
        index.name,
        index.sort_key.name,
        index.projection.type.value,
        tuple(sorted(index.projection.non_key_attributes)),
    )


def refuse_what_terraform_cannot_do(
    recorded: RecordedTable | None, table: TableDefinition, region: str, source: str
) -> None:
    """Changes to the recorded table that would not happen as the manifest says, refused with
    the way that works: dropping the KMS key would leave the table on its customer-managed key
    (terraform cannot ask for "no key", so the plan would say nothing); AWS moves TTL to another
    attribute only after TTL was turned off (and allows one TTL change per hour); a global
    index's key attribute cannot change type while the index exists. Nothing of this applies
    when the manifest's table will be a new one (another name or region, or a replacement)."""
    if recorded is None or recorded.name != table.table_name or (recorded.region or region) != region:
        return
    if forced_replacement(recorded, table) is not None:
        return
    problems = []
    if recorded.customer_kms_key and table.server_side_encryption_enabled and table.kms_key is None:
        problems.append(
            f"spec.serverSideEncryption.kmsKeyArn (flat: kms_key_arn): the table is encrypted with the "
            f"customer-managed key {recorded.customer_kms_key}, and leaving the key out keeps it so (terraform "
            "cannot ask AWS for no key); keep the key, name the AWS managed key (alias/aws/dynamodb) to move to "
            "it, or turn server-side encryption off"
        )
    if recorded.ttl_attribute and table.ttl_attribute and table.ttl_attribute != recorded.ttl_attribute:
        problems.append(
            f"spec.ttl.attributeName (attribute_name): TTL is on for {recorded.ttl_attribute!r}, and AWS moves it "
            f"to {table.ttl_attribute!r} only after it is turned off: apply with ttl.enabled false first, then "
            "turn it on for the new attribute (AWS allows one TTL change per hour)"
        )
    table_keys = {key.name for key in (table.partition_key, table.sort_key) if key is not None}
    for index in table.global_indexes:
        for key in index.keys:
            before = recorded.attribute_types.get(key.name)
            if key.name not in table_keys and before is not None and before != key.type.value:
                problems.append(
                    f"global index {index.name}: its key {key.name} changes type from {before} to {key.type.value}, "
                    "which DynamoDB cannot do while the index exists; give the index a new name (DynamoDB builds "
                    "the new index and drops the old one)"
                )
    if problems:
        raise ManifestError(source, problems)


def forced_replacement(recorded: RecordedTable | None, table: TableDefinition) -> str | None:
    """Why the table must be replaced although the provider would plan no such thing (a key
    attribute's type, or a local index changed under the same name), or None."""
    if recorded is None:
        return None
    reasons = [reason for reason in (_key_type_change(recorded, table), _local_index_change(recorded, table)) if reason]
    return " and ".join(reasons) or None


def _local_index_change(recorded: RecordedTable, table: TableDefinition) -> str | None:
    """The provider tells local indexes apart by name only: a changed sort key or projection
    under the same name would be planned as nothing (the module's trigger catches it too, but
    only once it has recorded the indexes)."""
    if recorded.local_indexes is None:
        return None
    wanted = {_local_index_key(index) for index in table.local_indexes}
    if wanted == set(recorded.local_indexes):
        return None
    return "a change to the local secondary indexes, which DynamoDB cannot make in place"


def _key_type_change(recorded: RecordedTable, table: TableDefinition) -> str | None:
    """The key attributes whose type the manifest changed, in its terms, or None."""
    changed = []
    keys = [("partition", table.partition_key), ("sort", table.sort_key)]
    keys += [(f"local index {index.name}'s sort", index.sort_key) for index in table.local_indexes]
    for role, key in keys:
        if key is None:
            continue
        before = recorded.attribute_types.get(key.name)
        if before is not None and before != key.type.value:
            changed.append(f"{role} key {key.name} from {before} to {key.type.value}")
    if not changed:
        return None
    return "a key type change (" + ", ".join(changed) + "), which DynamoDB cannot make in place"
