"""A plan terraform says changes nothing is not read back (no ``show -json``) only when reading
it could not change a guard's decision: checked on every plan recorded from terraform and moto
(tests/fixtures/plans), under every kind of state planton may hold before it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from planton.plan import NO_CHANGES, decide, nothing_to_judge, read_plan
from planton.plan_summary import NO_CHANGES_SUMMARY
from planton.records import InterruptedCreate
from planton.state import RecordedTable

PLANS = Path(__file__).parents[1] / "fixtures" / "plans"
RECORDED_PLANS = sorted(path.stem for path in PLANS.glob("*.json"))
TABLE = "planton-demo-orders"
ACCOUNT = "123456789012"


def terraform_saw_changes(document: Mapping[str, Any]) -> bool:
    """What ``plan -detailed-exitcode`` says of this plan, by terraform's own rule (its 2): a
    resource change other than a no-op, or a root output change other than a no-op. A data
    source read is counted as no change here, although terraform counts it (exits 2): that
    only lets more recorded plans through to the check."""
    resources = any(
        tuple(item["change"]["actions"]) not in (("no-op",), ("read",)) for item in document.get("resource_changes", [])
    )
    outputs = any(tuple(change["actions"]) != ("no-op",) for change in (document.get("output_changes") or {}).values())
    return resources or outputs


def plan(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))
    return document


# Every state planton may hold before a plan: none, the manifest's own table, the same table in
# another region (a move), tainted, under another name, and the same table with an interrupted
# create of planton's own remembered. The recorded account is the plan's: runs are bound to it.
STATES: dict[str, RecordedTable | None] = {
    "no table": None,
    "the manifest's table": RecordedTable(TABLE, tainted=False, region="us-east-1", account=ACCOUNT),
    "moved from us-west-2": RecordedTable(TABLE, tainted=False, region="us-west-2", account=ACCOUNT),
    "tainted": RecordedTable(TABLE, tainted=True, region="us-east-1", account=ACCOUNT),
    "renamed": RecordedTable("old-orders", tainted=False, region="us-east-1", account=ACCOUNT),
    "without a region": RecordedTable(TABLE, tainted=False, region=None, account=ACCOUNT),
}
INTERRUPTED = InterruptedCreate(TABLE, "us-east-1", ACCOUNT)


@pytest.mark.parametrize("name", RECORDED_PLANS)
@pytest.mark.parametrize("state", sorted(STATES))
@pytest.mark.parametrize("replacement", [None, "a change to a key attribute's type"])
@pytest.mark.parametrize("interrupted", [None, INTERRUPTED])
def test_an_unread_plan_is_one_the_guards_would_pass_unchanged(
    name: str, state: str, replacement: str | None, interrupted: InterruptedCreate | None
) -> None:
    document = plan(name)
    recorded = STATES[state]
    report = read_plan(json.dumps(document))
    region = report.region or "us-east-1"
    skipped = nothing_to_judge(
        terraform_saw_changes=terraform_saw_changes(document),
        recorded=recorded,
        table_name=document["variables"]["spec"]["value"]["table_name"],
        region=region,
        requested_replacement=replacement,
        interrupted=interrupted,
    )
    if skipped:
        # What reading it would have decided and shown: exactly what planton says unread.
        assert decide(report, recorded, replacement, interrupted) == NO_CHANGES
        assert report.summary == NO_CHANGES_SUMMARY
        assert not report.summary.has_changes


def skipped(*, saw_changes: bool, recorded: RecordedTable | None, replacement: str | None = None) -> bool:
    """``nothing_to_judge`` for the manifest's table in us-east-1, no interrupted create."""
    return nothing_to_judge(
        terraform_saw_changes=saw_changes,
        recorded=recorded,
        table_name=TABLE,
        region="us-east-1",
        requested_replacement=replacement,
        interrupted=None,
    )


def test_a_plan_of_nothing_for_the_manifests_own_table_is_not_read() -> None:
    # The case the shortcut is for: a warm plan or apply of an unchanged manifest.
    assert skipped(saw_changes=terraform_saw_changes(plan("module_noop")), recorded=STATES["the manifest's table"])


def test_a_region_move_terraform_plans_as_nothing_is_still_read_and_caught() -> None:
    # The state's table is in us-west-2 and the manifest now says us-east-1, where terraform
    # found a table of that name and planned nothing: applying would forget the old table.
    document = plan("module_noop")
    recorded = STATES["moved from us-west-2"]
    assert not terraform_saw_changes(document)
    assert not skipped(saw_changes=False, recorded=recorded)
    decision = decide(read_plan(json.dumps(document)), recorded)
    assert decision.moved_from is not None
    assert decision.dangerous


def test_a_taint_is_a_change_and_is_read_and_caught() -> None:
    document = plan("taint")
    assert terraform_saw_changes(document)
    recorded = STATES["tainted"]
    assert not skipped(saw_changes=True, recorded=recorded)
    # Even if terraform ever said "no changes" of a tainted table, the plan is read.
    assert not skipped(saw_changes=False, recorded=recorded)
    assert decide(read_plan(json.dumps(document)), recorded).tainted_only


def test_a_key_type_change_the_provider_plans_as_nothing_is_still_read() -> None:
    # The aws provider ignores a key attribute's type change (it plans a no-op); planton asks for
    # the replacement (-replace), and such a plan is always read and judged.
    assert not terraform_saw_changes(plan("module_noop"))
    assert not skipped(
        saw_changes=False, recorded=STATES["the manifest's table"], replacement="a change to a key attribute's type"
    )
    replaced = decide(read_plan(json.dumps(plan("module_replace_key"))), STATES["the manifest's table"], "x")
    assert replaced.dangerous


def test_the_recorded_plans_cover_both_answers() -> None:
    # The parametrised test above means something only if some recorded plans are skipped and
    # some are not.
    answers = {terraform_saw_changes(plan(name)) for name in RECORDED_PLANS}
    assert answers == {True, False}
