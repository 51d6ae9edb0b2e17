"""The guard's decisions, on plans recorded from terraform and moto (tests/fixtures/plans)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planton.plan import PlanUnreadable, TableRef, decide, read_plan
from planton.records import InterruptedCreate
from planton.state import RecordedTable

PLANS = Path(__file__).parents[1] / "fixtures" / "plans"


def recorded_plan(name: str) -> str:
    return (PLANS / f"{name}.json").read_text(encoding="utf-8")


def test_create_is_safe() -> None:
    decision = decide(read_plan(recorded_plan("create")))
    assert decision.changes
    assert not decision.dangerous
    assert decision.notes == ()


def test_no_changes() -> None:
    report = read_plan(recorded_plan("noop"))
    assert not report.changes
    assert decide(report).changes is False
    assert not decide(report).dangerous


def test_update_in_place_is_safe() -> None:
    report = read_plan(recorded_plan("update"))
    assert report.table is not None
    assert report.table.actions == ("update",)
    decision = decide(report)
    assert decision.changes
    assert not decision.dangerous


def test_replace_by_key_names_the_fields_that_force_it() -> None:
    decision = decide(read_plan(recorded_plan("replace_key")))
    assert decision.dangerous
    assert not decision.tainted_only
    [danger] = decision.dangers
    assert danger == (
        "the plan replaces table planton-demo-orders: it deletes the table and every item in it, then creates "
        "it again, forced by a change to the sort key, the partition key"
    )


def test_replace_by_name_says_the_workspace_holds_another_table() -> None:
    decision = decide(read_plan(recorded_plan("replace_name")))
    assert decision.dangerous
    first, second = decision.dangers
    assert "forced by a change to the table name" in first
    assert second.startswith("this workspace holds table planton-demo-orders, and the manifest names other-orders;")
    assert "give it its own metadata.name or metadata.id" in second


def test_replace_by_taint() -> None:
    decision = decide(read_plan(recorded_plan("taint")))
    assert decision.dangerous
    assert decision.tainted_only
    assert "terraform marked it tainted" in decision.dangers[0]


def test_delete() -> None:
    decision = decide(read_plan(recorded_plan("destroy")))
    assert decision.dangers == ("the plan deletes table planton-demo-orders and every item in it",)


def test_region_move_would_orphan_the_old_table() -> None:
    report = read_plan(recorded_plan("region_move"))
    assert report.region == "eu-west-1"
    assert report.vanished == TableRef("planton-demo-orders", "us-east-1")
    decision = decide(report)
    assert decision.moved_from == TableRef("planton-demo-orders", "us-east-1")
    [danger] = decision.dangers
    assert danger.startswith("spec.aws_region changed from us-east-1 to eu-west-1: terraform looks for the table only")
    assert "leaving it unmanaged and still billed" in danger
    assert "give it its own metadata.name or metadata.id" in danger


def test_region_move_read_from_the_state_whatever_terraform_planned() -> None:
    # A table of the same name already exists in the new region: terraform plans an update of
    # it, and would forget the one the state held. The state's record tells the truth.
    recorded = RecordedTable("planton-demo-orders", tainted=False, region="eu-central-1")
    decision = decide(read_plan(recorded_plan("update")), recorded)
    assert decision.moved_from == TableRef("planton-demo-orders", "eu-central-1")
    assert decision.dangerous
    assert decision.dangers[0].startswith("spec.aws_region changed from eu-central-1 to us-east-1")
    # ...and no agreement lets planton take that table over.
    [blocked] = decision.blocked
    assert blocked.startswith("a table named planton-demo-orders already exists in us-east-1")


def test_a_plain_region_move_is_not_blocked() -> None:
    assert decide(read_plan(recorded_plan("region_move"))).blocked == ()


def test_a_vanished_table_of_unknown_region_is_a_danger() -> None:
    document = json.loads(recorded_plan("region_move"))
    document["resource_drift"][0]["change"]["before"]["arn"] = None  # a half-created table has none
    decision = decide(read_plan(json.dumps(document)))
    assert decision.moved_from is None
    [danger] = decision.dangers
    assert danger.startswith("this workspace's state records table planton-demo-orders without its region")


def test_no_move_when_the_state_is_in_the_manifests_region() -> None:
    same = RecordedTable("planton-demo-orders", tainted=False, region="us-east-1")
    assert decide(read_plan(recorded_plan("noop")), same) == decide(read_plan(recorded_plan("noop")))
    assert not decide(read_plan(recorded_plan("update")), same).dangerous


def test_a_replacement_planton_requested_says_why() -> None:
    document = json.loads(recorded_plan("replace_key"))
    change = document["resource_changes"][0]
    change["action_reason"] = "replace_by_request"
    del change["change"]["replace_paths"]
    decision = decide(read_plan(json.dumps(document)), requested_replacement="a key type change (spec.x_type)")
    assert decision.dangers[0].endswith("forced by a key type change (spec.x_type)")


def test_table_deleted_outside_in_the_same_region_is_recreated_with_a_note() -> None:
    document = json.loads(recorded_plan("region_move"))
    document["variables"]["spec"]["value"]["aws_region"] = "us-east-1"
    decision = decide(read_plan(json.dumps(document)))
    assert not decision.dangerous
    assert decision.moved_from is None
    assert decision.notes == (
        "table planton-demo-orders (us-east-1) no longer exists (deleted outside planton?); "
        "apply creates it again, empty",
    )


def test_a_vanished_table_and_another_name_says_both() -> None:
    document = json.loads(recorded_plan("region_move"))
    document["variables"]["spec"]["value"]["aws_region"] = "us-east-1"
    document["resource_changes"][0]["change"]["after"]["name"] = "other-orders"
    decision = decide(read_plan(json.dumps(document)))
    assert not decision.dangerous
    assert decision.notes == (
        "table planton-demo-orders (us-east-1), which this workspace's state recorded, no longer exists "
        "(deleted outside planton?); apply creates other-orders, empty",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "terraform show -json did not print JSON"),
        ("[]", "printed no plan object"),
        ('{"format_version": "2.0"}', "terraform's plan format is 2.0, and planton reads 1.x"),
        ("{}", "terraform's plan format is missing"),
        ('{"format_version": "1.2", "resource_changes": 5}', "malformed resource_changes"),
    ],
)
def test_a_plan_planton_cannot_judge_is_never_applied(text: str, message: str) -> None:
    with pytest.raises(PlanUnreadable, match=message):
        read_plan(text)


@pytest.mark.parametrize(
    ("name", "creates"),
    [
        ("create", True),
        ("region_move", True),
        ("update", False),
        ("replace_key", True),
        ("taint", True),
        ("destroy", False),
    ],
)
def test_creates_table(name: str, creates: bool) -> None:
    assert decide(read_plan(recorded_plan(name))).creates_table is creates


# --- accounts and interrupted creates ------------------------------------------------------


def test_the_plan_names_the_account_whose_credentials_made_it() -> None:
    assert read_plan(recorded_plan("module_other_account")).account == "222222222222"
    assert read_plan(recorded_plan("create")).account is None  # recorded before the module asked


def test_a_plan_made_with_another_accounts_credentials_is_blocked() -> None:
    recorded = RecordedTable("planton-demo-orders", tainted=False, region="eu-west-1", account="123456789012")
    decision = decide(read_plan(recorded_plan("module_other_account")), recorded)
    [blocked] = decision.blocked
    assert "records table planton-demo-orders in AWS account 123456789012" in blocked
    assert "made with account 222222222222's credentials" in blocked
    # Under its own account the same plan would be judged as a table gone missing, not blocked.
    own = RecordedTable("planton-demo-orders", tainted=False, region="eu-west-1", account="222222222222")
    assert decide(read_plan(recorded_plan("module_other_account")), own).blocked == ()


def test_a_plan_creating_another_table_than_an_interrupted_create_is_blocked() -> None:
    report = read_plan(recorded_plan("module_create"))
    assert report.table is not None
    name = report.table.after_name
    assert name is not None
    same = InterruptedCreate(name, report.region, "123456789012")
    assert decide(report, None, None, same).blocked == ()
    for other in (InterruptedCreate("older-name", report.region), InterruptedCreate(name, "us-west-2")):
        [blocked] = decide(report, None, None, other).blocked
        assert f"planton's apply of table {other} was interrupted while AWS was creating it" in blocked
        assert "point the manifest back at" in blocked
        assert "run `planton tofu import`" in blocked
    # Once the state records a table, the interrupted create is the state's business (a taint).
    recorded = RecordedTable(name, tainted=True, region=report.region)
    assert decide(report, recorded, None, InterruptedCreate("older-name", report.region)).blocked == ()
