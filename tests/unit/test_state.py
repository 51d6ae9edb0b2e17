"""Reading what a state records about the table: a local file, or an S3 state's object (what `state pull`
would print)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planton.state import RecordedTable, StateUnreadable, parse_state, recorded_table, table_in_state


def state(path: Path, instances: list[dict[str, object]], resource_type: str = "aws_dynamodb_table") -> Path:
    document = {
        "version": 4,
        "resources": [{"mode": "managed", "type": resource_type, "name": "this", "instances": instances}],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_recorded_table(tmp_path: Path) -> None:
    path = state(tmp_path / "s", [{"attributes": {"name": "orders"}}])
    assert recorded_table(path) == RecordedTable("orders", tainted=False)


def test_a_tainted_table(tmp_path: Path) -> None:
    path = state(tmp_path / "s", [{"status": "tainted", "attributes": {"name": "orders"}}])
    assert recorded_table(path) == RecordedTable("orders", tainted=True)


@pytest.mark.parametrize("text", ["", "\n  \n", '{"version": 4, "resources": [1, "x"]}', '{"version": 4}'])
def test_no_table_in_an_empty_state(tmp_path: Path, text: str) -> None:
    """No text at all is no state (as terraform reads an empty file); entries that are no
    resources record no table."""
    path = tmp_path / "s"
    path.write_text(text, encoding="utf-8")
    assert recorded_table(path) is None
    assert recorded_table(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "it is not JSON"),
        ('{"version": 4, "resources": [', "it is not JSON"),
        ("[]", "it is JSON, but not a terraform state"),
        ('{"resources": []}', "it is JSON, but not a terraform state"),
        ('{"version": 4, "resources": 5}', "it is JSON, but not a terraform state"),
        ('{"version": "4", "resources": []}', "it is JSON, but not a terraform state"),
    ],
)
def test_a_corrupt_state_is_an_error_never_no_state(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "terraform.tfstate"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StateUnreadable) as caught:
        recorded_table(path)
    assert caught.value.message.startswith(f"the state at {path} is corrupt: {why}")
    assert caught.value.exit_code == 3
    with pytest.raises(StateUnreadable, match="s3://b/k is corrupt"):
        parse_state(text, "s3://b/k")


def test_an_unreadable_state_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "terraform.tfstate"
    path.mkdir()
    with pytest.raises(StateUnreadable, match=f"cannot read the state {path}"):
        recorded_table(path)


def test_a_state_pulled_from_a_remote_backend() -> None:
    pulled = json.dumps(
        {
            "version": 4,
            "serial": 3,
            "lineage": "x",
            "resources": [
                {
                    "mode": "managed",
                    "type": "aws_dynamodb_table",
                    "name": "this",
                    "instances": [{"attributes": {"name": "orders", "tags": {"PlantonManifest": "orders-1"}}}],
                }
            ],
        }
    )
    recorded = table_in_state(parse_state(pulled, "s3://b/k"))
    assert recorded is not None
    assert (recorded.name, recorded.manifest_key) == ("orders", "orders-1")
    # What `state pull` prints for a backend that holds no state yet.
    empty = '{"version": 4, "terraform_version": "1.11.4", "serial": 0, "lineage": "", "outputs": {}, "resources": []}'
    assert table_in_state(parse_state(empty, "s3://b/k")) is None


def test_no_state_and_other_resources(tmp_path: Path) -> None:
    assert recorded_table(tmp_path / "missing") is None
    assert recorded_table(state(tmp_path / "s", [{"attributes": {"name": "x"}}], "aws_s3_bucket")) is None
    assert recorded_table(state(tmp_path / "t", [])) is None


def test_what_the_provider_would_keep_is_read(tmp_path: Path) -> None:
    attributes = {
        "name": "orders",
        "deletion_protection_enabled": True,
        "on_demand_throughput": [{"max_read_request_units": 100, "max_write_request_units": -1}],
        "global_secondary_index": [
            {"name": "capped", "on_demand_throughput": [{"max_read_request_units": -1, "max_write_request_units": 5}]},
            {"name": "free", "on_demand_throughput": [{"max_read_request_units": -1, "max_write_request_units": -1}]},
            {"name": "bare", "on_demand_throughput": []},
        ],
        "local_secondary_index": [
            {"name": "by-x", "range_key": "x", "projection_type": "INCLUDE", "non_key_attributes": ["b", "a"]}
        ],
        "ttl": [{"enabled": True, "attribute_name": "expires_at"}],
    }
    path = state(tmp_path / "s", [{"attributes": attributes}])
    document = json.loads(path.read_text(encoding="utf-8"))
    document["outputs"] = {"kms_key_arn": {"value": "arn:aws:kms:us-east-1:111122223333:key/k", "type": "string"}}
    path.write_text(json.dumps(document), encoding="utf-8")
    recorded = recorded_table(path)
    assert recorded is not None
    assert recorded.deletion_protection
    assert recorded.capped == {"table", "capped"}
    assert recorded.local_indexes == (("by-x", "x", "INCLUDE", ("a", "b")),)
    assert recorded.customer_kms_key == "arn:aws:kms:us-east-1:111122223333:key/k"
    assert recorded.ttl_attribute == "expires_at"


def test_a_state_without_index_attributes_says_nothing_of_them(tmp_path: Path) -> None:
    recorded = recorded_table(state(tmp_path / "s", [{"attributes": {"name": "orders"}}]))
    assert recorded is not None
    assert recorded.local_indexes is None
    assert recorded.capped == frozenset()
    assert recorded.customer_kms_key is None


def test_the_tables_account_comes_from_its_arn(tmp_path: Path) -> None:
    arn = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"
    path = state(tmp_path / "s", [{"attributes": {"name": "orders", "arn": arn}}])
    recorded = recorded_table(path)
    assert recorded is not None
    assert (recorded.region, recorded.account) == ("eu-west-1", "111111111111")


def test_a_half_created_tables_account_comes_from_the_runs_caller_identity(tmp_path: Path) -> None:
    # A create interrupted before AWS answered leaves a tainted table with no ARN; the run's
    # data.aws_caller_identity says whose credentials it had.
    path = state(tmp_path / "s", [{"status": "tainted", "attributes": {"name": "orders"}}])
    document = json.loads(path.read_text(encoding="utf-8"))
    document["resources"].append(
        {
            "mode": "data",
            "type": "aws_caller_identity",
            "name": "current",
            "instances": [{"attributes": {"account_id": "222222222222", "id": "222222222222"}}],
        }
    )
    path.write_text(json.dumps(document), encoding="utf-8")
    recorded = recorded_table(path)
    assert recorded is not None
    assert (recorded.region, recorded.account, recorded.tainted) == (None, "222222222222", True)


def _with_trigger(path: Path, indexes: object) -> Path:
    """The state at ``path`` with the module's terraform_data.local_indexes recording ``indexes``."""
    document = json.loads(path.read_text(encoding="utf-8"))
    value = {"indexes": indexes, "key_types": {}}
    instance = {"attributes": {"id": "x", "input": {"value": value, "type": ["object", {}]}}}
    document["resources"].append(
        {"mode": "managed", "type": "terraform_data", "name": "local_indexes", "instances": [instance]}
    )
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


ENTRIES = [
    {"name": "by-y", "range_key": "y", "projection_type": "INCLUDE", "non_key_attributes": ["b", "a"]},
    {"name": "by-x", "range_key": "x", "projection_type": "KEYS_ONLY", "non_key_attributes": []},
]


def test_the_recorded_order_of_local_indexes_is_the_triggers(tmp_path: Path) -> None:
    path = state(tmp_path / "s", [{"attributes": {"name": "orders", "local_secondary_index": ENTRIES}}])
    trigger = [
        {"name": "by-y", "sort_key_name": "y", "projection_type": "INCLUDE", "non_key_attributes": ["b", "a"]},
        {"name": "by-x", "sort_key_name": "x", "projection_type": "KEYS_ONLY", "non_key_attributes": []},
    ]
    recorded = recorded_table(_with_trigger(path, trigger))
    assert recorded is not None
    assert recorded.local_index_order == (("by-y", "y", "INCLUDE", ("b", "a")), ("by-x", "x", "KEYS_ONLY", ()))
    assert recorded.local_indexes == (("by-y", "y", "INCLUDE", ("a", "b")), ("by-x", "x", "KEYS_ONLY", ()))


def test_without_a_trigger_the_order_is_the_tables_entries_by_name(tmp_path: Path) -> None:
    # An imported table: the trigger is not recorded yet; the provider's lists keep their order.
    recorded = recorded_table(state(tmp_path / "s", [{"attributes": {"name": "o", "local_secondary_index": ENTRIES}}]))
    assert recorded is not None
    assert recorded.local_index_order == (("by-x", "x", "KEYS_ONLY", ()), ("by-y", "y", "INCLUDE", ("b", "a")))


@pytest.mark.parametrize("indexes", [None, "odd", {"by-x": {}}])
def test_an_odd_trigger_record_says_nothing_of_the_order(tmp_path: Path, indexes: object) -> None:
    recorded = recorded_table(_with_trigger(state(tmp_path / "s", [{"attributes": {"name": "orders"}}]), indexes))
    assert recorded is not None
    assert recorded.local_index_order is None


@pytest.mark.parametrize("names", [5, "a", {"a": 1}, None])
def test_odd_non_key_attributes_in_a_state_are_none_not_a_crash(tmp_path: Path, names: object) -> None:
    entry = {"name": "by-x", "range_key": "x", "projection_type": "INCLUDE", "non_key_attributes": names}
    path = state(tmp_path / "s", [{"attributes": {"name": "orders", "local_secondary_index": [entry]}}])
    trigger = [{"name": "by-x", "sort_key_name": "x", "projection_type": "INCLUDE", "non_key_attributes": names}]
    recorded = recorded_table(_with_trigger(path, trigger))
    assert recorded is not None
    assert recorded.local_indexes == (("by-x", "x", "INCLUDE", ()),)
    assert recorded.local_index_order == (("by-x", "x", "INCLUDE", ()),)
