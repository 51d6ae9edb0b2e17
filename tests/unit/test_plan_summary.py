"""The plan summary, on plans recorded from terraform and moto (tests/fixtures/plans)."""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from planton.errors import PlanUnreadable
from planton.plan import read_plan
from planton.plan_summary import (
    KNOWN_AFTER_APPLY,
    SENSITIVE,
    AttributeChange,
    OutputChange,
    PlanCounts,
    PlanSummary,
    summarise,
)

from support import PLANS, recorded_plan

SOURCE = Path(__file__).parents[2] / "src" / "planton" / "plan_summary.py"
TABLE = "aws_dynamodb_table.this"
RECORD = "terraform_data.local_indexes"
SCALING = ("aws_appautoscaling_target", "aws_appautoscaling_policy")
SCALED = ("table/read", "table/write", "index/by-user/read", "index/by-user/write")
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/planton-demo-orders"


def summary_of(name: str) -> PlanSummary:
    return summarise(recorded_plan(name))


def changes(summary: PlanSummary, address: str = TABLE) -> list[tuple[str, Any, Any, bool]]:
    [resource] = [resource for resource in summary.resources if resource.address == address]
    return [(a.path, a.before, a.after, a.forces_replacement) for a in resource.attributes]


def table_change(document: dict[str, Any]) -> dict[str, Any]:
    [item] = [item for item in document["resource_changes"] if item["address"] == TABLE]
    change: dict[str, Any] = item["change"]
    return change


# Every fixture: each resource's action, whether the table loses its items, and the counts.
EXPECTED = {
    "create": ({TABLE: "create"}, False, PlanCounts(1, 0, 0, 0)),
    "noop": ({}, False, PlanCounts(0, 0, 0, 0)),
    "update": ({TABLE: "update"}, False, PlanCounts(0, 1, 0, 0)),
    "replace_key": ({TABLE: "replace"}, True, PlanCounts(1, 0, 1, 1)),
    "replace_name": ({TABLE: "replace"}, True, PlanCounts(1, 0, 1, 1)),
    "region_move": ({TABLE: "create"}, False, PlanCounts(1, 0, 0, 0)),
    "taint": ({TABLE: "replace"}, True, PlanCounts(1, 0, 1, 1)),
    "destroy": ({TABLE: "delete"}, True, PlanCounts(0, 0, 1, 0)),
    "module_create": ({TABLE: "create", RECORD: "create"}, False, PlanCounts(2, 0, 0, 0)),
    "module_noop": ({}, False, PlanCounts(0, 0, 0, 0)),
    "module_update": ({TABLE: "update"}, False, PlanCounts(0, 1, 0, 0)),
    "module_replace_key": ({TABLE: "replace"}, True, PlanCounts(1, 0, 1, 1)),
    "module_replace_lsi": ({TABLE: "replace", RECORD: "update"}, True, PlanCounts(1, 1, 1, 1)),
    "module_destroy": ({TABLE: "delete", RECORD: "delete"}, True, PlanCounts(0, 0, 2, 0)),
    # terraform's actions alone: a create (the recorded table was not found under these
    # credentials); planton's judgement of it is in test_plan.py.
    "module_other_account": ({TABLE: "create"}, False, PlanCounts(1, 0, 0, 0)),
    # Recorded for the capacity cost estimate (test_cost.py).
    "module_cost_create_autoscaled": (
        {
            TABLE: "create",
            RECORD: "create",
            **{f'{kind}.this["{key}"]': "create" for kind in SCALING for key in SCALED},
        },
        False,
        PlanCounts(10, 0, 0, 0),
    ),
    "module_cost_capacity_change": ({TABLE: "update"}, False, PlanCounts(0, 1, 0, 0)),
    "module_cost_to_on_demand": ({TABLE: "update"}, False, PlanCounts(0, 1, 0, 0)),
    "module_cost_class_change": ({TABLE: "update"}, False, PlanCounts(0, 1, 0, 0)),
    "module_cost_destroy": ({TABLE: "delete", RECORD: "delete"}, True, PlanCounts(0, 0, 2, 0)),
}


def test_every_fixture_is_covered() -> None:
    assert {path.stem for path in PLANS.glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_actions_data_loss_and_counts(name: str) -> None:
    actions, data_loss, counts = EXPECTED[name]
    summary = summary_of(name)
    assert {resource.address: resource.action for resource in summary.resources} == actions
    assert summary.data_loss is data_loss
    assert [r.address for r in summary.resources if r.data_loss] == ([TABLE] if data_loss else [])
    assert summary.counts == counts


def terraforms_own_lines() -> dict[str, str]:
    """The "terraform said" column of the fixtures' README: the line terraform printed."""
    rows = {}
    for line in (PLANS / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].endswith(".json"):
            rows[cells[0].removesuffix(".json")] = cells[2]
    return rows


@pytest.mark.parametrize("name", sorted(terraforms_own_lines()))
def test_counts_are_terraforms_own(name: str) -> None:
    said = terraforms_own_lines()[name]
    counts = summary_of(name).counts
    if said == "No changes.":
        assert counts == PlanCounts(0, 0, 0, 0)
    else:
        match = re.fullmatch(r"Plan: (\d+) to add, (\d+) to change, (\d+) to destroy\.", said)
        assert match is not None
        assert (counts.add, counts.change, counts.destroy) == tuple(int(n) for n in match.groups())


def test_the_readme_names_terraforms_counts_for_every_new_fixture() -> None:
    assert set(terraforms_own_lines()) == {name for name in EXPECTED if name.startswith("module_")}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_has_changes_agrees_with_the_guard(name: str) -> None:
    text = (PLANS / f"{name}.json").read_text(encoding="utf-8")
    assert summarise(json.loads(text)).has_changes is read_plan(text).changes


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_to_json_round_trips(name: str) -> None:
    summary = summary_of(name)
    document = summary.to_json()
    assert json.loads(json.dumps(document)) == document
    assert document["has_changes"] is summary.has_changes
    assert document["data_loss"] is summary.data_loss
    assert document["counts"] == {
        "add": summary.counts.add,
        "change": summary.counts.change,
        "destroy": summary.counts.destroy,
        "replace": summary.counts.replace,
    }
    assert [resource["address"] for resource in document["resources"]] == [r.address for r in summary.resources]


def test_to_json_shape_and_markers_as_strings() -> None:
    document = summary_of("module_replace_key").to_json()
    [table] = document["resources"]
    assert set(table) == {"address", "type", "action", "reason", "data_loss", "attributes"}
    assert (table["type"], table["action"], table["data_loss"]) == ("aws_dynamodb_table", "replace", True)
    assert table["attributes"][0] == {
        "path": "hash_key",
        "before": "customer_id",
        "after": "account_id",
        "forces_replacement": True,
    }
    arn = next(output for output in document["outputs"] if output["name"] == "table_arn")
    assert arn == {"name": "table_arn", "action": "update", "before": ARN, "after": "(known after apply)"}
    assert type(arn["after"]) is str  # a plain string, not the marker


def test_update_shows_only_what_changes_in_readable_paths() -> None:
    summary = summary_of("module_update")
    assert changes(summary) == [
        ("attribute[status]", None, {"name": "status", "type": "S"}, False),
        (
            "global_secondary_index[by-status]",
            None,
            {"hash_key": "status", "name": "by-status", "projection_type": "KEYS_ONLY", "range_key": "order_ts"},
            False,
        ),
        ("point_in_time_recovery.enabled", True, False, False),
        ("tags.team", "platform", "data", False),
    ]
    [table] = summary.resources
    assert table.reason is None
    assert summary.outputs == (
        OutputChange("global_secondary_index_arns", "update", {}, {"by-status": f"{ARN}/index/by-status"}),
    )


def test_tags_all_is_left_out_when_it_repeats_tags() -> None:
    document = recorded_plan("module_update")
    assert table_change(document)["after"]["tags_all"]["team"] == "data"  # terraform does plan it
    assert not [path for path, *_ in changes(summarise(document)) if path.startswith("tags_all")]


def test_tags_all_is_kept_when_it_differs_from_tags() -> None:
    document = recorded_plan("module_update")
    table_change(document)["after"]["tags_all"]["owner"] = "from-default-tags"
    paths = [path for path, *_ in changes(summarise(document))]
    assert "tags_all.owner" in paths
    assert "tags_all.team" in paths


def test_a_removed_index_shows_its_object_before() -> None:
    document = recorded_plan("module_update")
    change = table_change(document)
    change["before"], change["after"] = change["after"], change["before"]
    change["before_sensitive"], change["after_sensitive"] = change["after_sensitive"], change["before_sensitive"]
    change["after_unknown"] = {}
    change["before"]["global_secondary_index"][0].update(read_capacity=0, write_capacity=0)
    assert changes(summarise(document)) == [
        ("attribute[status]", {"name": "status", "type": "S"}, None, False),
        (
            "global_secondary_index[by-status]",
            # read_capacity 0 is a value, kept; empty lists are left out.
            {
                "hash_key": "status",
                "name": "by-status",
                "projection_type": "KEYS_ONLY",
                "range_key": "order_ts",
                "read_capacity": 0,
                "write_capacity": 0,
            },
            None,
            False,
        ),
        ("point_in_time_recovery.enabled", False, True, False),
        ("tags.team", "data", "platform", False),
    ]


def test_named_objects_are_matched_by_name_not_position() -> None:
    document = recorded_plan("module_update")
    change = table_change(document)
    first = {"hash_key": "status", "name": "by-status", "projection_type": "ALL", "range_key": "", "read_capacity": 0}
    second = {"hash_key": "order_ts", "name": "by-time", "projection_type": "ALL", "range_key": "", "read_capacity": 0}
    change["before"] = copy.deepcopy(change["after"])
    change["before"]["global_secondary_index"] = [first, second]
    change["after"]["global_secondary_index"] = [dict(second), dict(first, read_capacity=5)]
    change["after_unknown"] = {}
    assert changes(summarise(document)) == [("global_secondary_index[by-status].read_capacity", 0, 5, False)]


def test_lists_of_scalars_are_compared_whole() -> None:
    document = recorded_plan("module_update")
    change = table_change(document)
    change["before"] = copy.deepcopy(change["after"])
    index = {"name": "by-status", "projection_type": "INCLUDE", "non_key_attributes": ["a", "b"]}
    change["before"]["global_secondary_index"] = [index]
    change["after"]["global_secondary_index"] = [dict(index, non_key_attributes=["b", "a", "c"])]
    change["after_unknown"] = {}
    assert changes(summarise(document)) == [
        ("global_secondary_index[by-status].non_key_attributes", ["a", "b"], ["b", "a", "c"], False)
    ]


def test_replace_names_what_forces_it_first() -> None:
    summary = summary_of("module_replace_key")
    [table] = summary.resources
    assert table.reason == "a change to hash_key forces it"
    # The new table's computed values (arn, id, stream label, capacities: "known after apply")
    # are left out: they would bury what changed and what forces the replacement.
    assert changes(summary) == [
        ("hash_key", "customer_id", "account_id", True),
        ("attribute[customer_id]", {"name": "customer_id", "type": "S"}, None, False),
        ("attribute[account_id]", None, {"name": "account_id", "type": "S"}, False),
        ("table_class", "STANDARD", None, False),
    ]


def test_an_update_keeps_values_only_known_after_apply() -> None:
    # Only a replacement drops them: in an update a value that becomes unknown is news.
    document = recorded_plan("module_update")
    change = table_change(document)
    change["after"]["stream_arn"] = None
    change["after_unknown"]["stream_arn"] = True
    [table] = summarise(document).resources
    assert ("stream_arn", "", KNOWN_AFTER_APPLY) in [(a.path, a.before, a.after) for a in table.attributes]


def test_replace_of_both_keys_forces_on_both() -> None:
    summary = summary_of("replace_key")
    [table] = summary.resources
    assert table.reason == "a change to range_key and hash_key forces it"
    forced = [(path, before, after) for path, before, after, forces in changes(summary) if forces]
    assert forced == [("hash_key", "customer_id", "order_ts"), ("range_key", "order_ts", "customer_id")]


def test_forces_replacement_is_a_prefix_match_on_the_raw_path() -> None:
    document = recorded_plan("module_update")
    change = table_change(document)
    change["actions"] = ["delete", "create"]
    change["replace_paths"] = [["global_secondary_index"], ["point_in_time_recovery", 0, "enabled"]]
    forced = {path for path, *_, forces in changes(summarise(document)) if forces}
    assert forced == {"global_secondary_index[by-status]", "point_in_time_recovery.enabled"}


def test_reasons_in_words() -> None:
    assert summary_of("taint").resources[0].reason == "tainted"
    table, record = summary_of("module_replace_lsi").resources
    assert table.reason == "a change to a resource in its replace_triggered_by"
    assert record.reason is None
    document = recorded_plan("module_destroy")
    document["resource_changes"][0]["action_reason"] = "delete_because_no_resource_config"
    document["resource_changes"][1]["action_reason"] = "delete_because_something_new"
    first, second = summarise(document).resources
    assert (first.reason, second.reason) == ("no longer in the configuration", "delete because something new")


def test_a_local_index_change_replaces_the_table_and_updates_its_record() -> None:
    summary = summary_of("module_replace_lsi")
    assert ("local_secondary_index[by-total].projection_type", "KEYS_ONLY", "ALL", False) in changes(summary)
    assert changes(summary, RECORD) == [
        ("input.indexes[by-total].projection_type", "KEYS_ONLY", "ALL", False),
        (
            "output",
            {
                "indexes": [
                    {
                        "name": "by-total",
                        "non_key_attributes": [],
                        "projection_type": "KEYS_ONLY",
                        "sort_key_name": "total",
                    }
                ],
                "key_types": {"total": "N"},
            },
            KNOWN_AFTER_APPLY,
            False,
        ),
    ]
    arns = next(output for output in summary.outputs if output.name == "local_secondary_index_arns")
    assert arns.after == {"by-total": KNOWN_AFTER_APPLY}


@pytest.mark.parametrize("name", ["create", "region_move", "module_create"])
def test_create_shows_what_is_set_and_stays_small(name: str) -> None:
    summary = summary_of(name)
    table = next(resource for resource in summary.resources if resource.address == TABLE)
    assert 5 <= len(table.attributes) <= 15  # terraform's create lists ~40 arguments
    by_path = {attribute.path: attribute for attribute in table.attributes}
    assert by_path["hash_key"].after == "customer_id"
    assert by_path["point_in_time_recovery"].after["enabled"] is True  # a one-object block as the object
    assert by_path["tags"].after["ManagedBy"] == "planton"
    assert "tags_all" not in by_path
    for attribute in table.attributes:
        assert attribute.before is None
        assert not attribute.forces_replacement
        assert attribute.after not in (None, "", [], {}, KNOWN_AFTER_APPLY)
        assert "(known after apply)" not in json.dumps(attribute.after)


def test_create_of_the_module_table_and_its_record() -> None:
    summary = summary_of("module_create")
    table, record = summary.resources
    assert [a.path for a in table.attributes] == [
        "attribute",
        "billing_mode",
        "deletion_protection_enabled",
        "hash_key",
        "name",
        "point_in_time_recovery",
        "range_key",
        "server_side_encryption",
        "stream_enabled",
        "tags",
        "ttl",
    ]
    assert record.attributes == ()  # no local indexes: nothing set but empties
    assert OutputChange("table_arn", "create", None, KNOWN_AFTER_APPLY) in summary.outputs


@pytest.mark.parametrize("name", ["destroy", "module_destroy"])
def test_delete_has_no_attributes(name: str) -> None:
    summary = summary_of(name)
    assert all(resource.attributes == () for resource in summary.resources)
    assert all(output.action == "delete" and output.after is None for output in summary.outputs)


@pytest.mark.parametrize("name", ["noop", "module_noop"])
def test_no_changes(name: str) -> None:
    summary = summary_of(name)
    assert not summary.has_changes
    assert summary.resources == ()
    assert summary.outputs == ()


def test_sensitive_values_are_hidden_but_their_change_shown() -> None:
    document = recorded_plan("module_update")
    change = table_change(document)
    change["before_sensitive"]["tags"] = {"team": True}
    change["after_sensitive"]["tags"] = {"team": True, "Name": True}
    assert ("tags.team", SENSITIVE, SENSITIVE, False) in changes(summarise(document))
    # An unchanged sensitive value is no change.
    assert not [path for path, *_ in changes(summarise(document)) if path == "tags.Name"]
    document["output_changes"]["global_secondary_index_arns"]["after_sensitive"] = True
    [output] = summarise(document).outputs
    assert output.after is SENSITIVE


def test_create_then_delete_is_a_replace() -> None:
    document = recorded_plan("module_replace_key")
    table_change(document)["actions"] = ["create", "delete"]
    [table] = summarise(document).resources
    assert (table.action, table.data_loss) == ("replace", True)


def test_data_source_reads_and_no_ops_are_left_out() -> None:
    document = recorded_plan("module_update")
    document["resource_changes"].append(
        {
            "address": "data.aws_dynamodb_table.live[0]",
            "mode": "data",
            "type": "aws_dynamodb_table",
            "name": "live",
            "change": {"actions": ["read"], "before": None, "after": {}, "after_unknown": {}},
            "action_reason": "read_because_dependency_pending",
        }
    )
    summary = summarise(document)
    assert [resource.address for resource in summary.resources] == [TABLE]
    assert summary.counts == PlanCounts(0, 1, 0, 0)


def test_an_unknown_action_is_refused() -> None:
    document = recorded_plan("module_update")
    table_change(document)["actions"] = ["transmogrify"]
    with pytest.raises(PlanUnreadable, match="transmogrify"):
        summarise(document)


def test_malformed_resource_changes_are_refused() -> None:
    with pytest.raises(PlanUnreadable, match="resource_changes"):
        summarise({"format_version": "1.2", "resource_changes": {"not": "a list"}})


def test_an_empty_document_summarises_to_nothing() -> None:
    assert summarise({}) == PlanSummary(resources=(), outputs=(), counts=PlanCounts(0, 0, 0, 0))


def test_the_summary_is_plain_data() -> None:
    with pytest.raises(AttributeError):
        AttributeChange("a", 1, 2, False).path = "b"  # type: ignore[misc]
    imported = set()
    for node in ast.walk(ast.parse(SOURCE.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    assert not [
        name
        for name in imported
        if name.split(".")[0] in ("typer", "rich") or name.startswith(("planton.cli", "planton.manifest"))
    ]


ALARM = 'aws_cloudwatch_metric_alarm.this["table/read_throttle"]'


def _alarm_change(actions: list[str], before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    change = {"actions": actions, "before": before, "after": after, "after_unknown": {"arn": True} if after else {}}
    if actions == ["delete", "create"]:
        change["replace_paths"] = [["alarm_name"]]
    return {
        "format_version": "1.2",
        "resource_changes": [
            {"address": ALARM, "type": "aws_cloudwatch_metric_alarm", "name": "this", "change": change}
        ],
    }


def test_an_alarm_removed_or_replaced_is_no_data_loss_and_reads_as_what_changed() -> None:
    old = {
        "alarm_name": "orders/ReadThrottleEvents",
        "threshold": 0,
        "unit": "",
        "period": 60,
        "datapoints_to_alarm": 5,
    }
    removed = summarise(_alarm_change(["delete"], old, None))
    assert (removed.resources[0].action, removed.data_loss) == ("delete", False)
    # A renamed table renames its alarms: the new name forces it, and arguments unset before
    # and after ("" or 0 recorded, null asked) are not listed as changes.
    new = {**old, "alarm_name": "renamed/ReadThrottleEvents", "unit": None, "datapoints_to_alarm": None}
    replaced = summarise(_alarm_change(["delete", "create"], old, new))
    assert not replaced.data_loss
    assert changes(replaced, ALARM) == [
        ("alarm_name", "orders/ReadThrottleEvents", "renamed/ReadThrottleEvents", True),
        ("datapoints_to_alarm", 5, None, False),
    ]
