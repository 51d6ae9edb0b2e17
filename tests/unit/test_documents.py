"""The --json documents, built from the core's results."""

from __future__ import annotations

import json
from pathlib import Path

from planton.documents import apply_document, error_document, failure_document, outputs_document, plan_document
from planton.operations.session import TofuOutcome
from planton.plan_summary import PlanSummary, summarise
from planton.runner import RunResult

from support import recorded_plan


def summary(name: str) -> PlanSummary:
    return summarise(recorded_plan(name))


def test_a_region_move_is_data_loss_though_terraform_plans_a_create() -> None:
    moved = summary("region_move")
    assert moved.data_loss is False  # terraform's actions alone: a create
    outcome = TofuOutcome("plan", RunResult(0), summary=moved, dangers=("spec.aws_region changed ...",))
    document = plan_document(outcome, 2)
    assert document["data_loss"] is True
    assert document["error"] is None
    json.dumps(document)


def test_a_failed_plan_says_so() -> None:
    outcome = TofuOutcome("plan", RunResult(1), notes=("interrupted: terraform stopped the plan",))
    document = plan_document(outcome, 1)
    assert document["has_changes"] is None
    assert document["data_loss"] is None
    assert document["error"] == [
        "terraform plan failed (status 1, exit 1); its own error is on stderr",
        "interrupted: terraform stopped the plan",
    ]


def test_apply_counts_outputs_and_whether_it_applied(tmp_path: Path) -> None:
    outcome = TofuOutcome(
        "apply", RunResult(0), summary=summary("module_create"), outputs={"table_arn": "arn:x"}, workspace=tmp_path
    )
    document = apply_document(outcome, 0)
    assert (document["applied"], document["counts"]["add"], document["outputs"]) == (True, 2, {"table_arn": "arn:x"})
    assert document["workspace"] == str(tmp_path)
    nothing = apply_document(TofuOutcome("plan", RunResult(0), summary=summary("module_noop"), outputs={}), 0)
    assert nothing["applied"] is False


def test_outputs_and_errors() -> None:
    assert outputs_document(TofuOutcome("output", RunResult(0), outputs={"a": 1})) == {"a": 1}
    assert error_document(4, ["m.yaml is not valid:", "spec.x: bad"]) == {
        "error": {"exit_code": 4, "message": ["m.yaml is not valid:", "spec.x: bad"]}
    }
    failed = failure_document(TofuOutcome("output", RunResult(1)), 1)
    assert failed["error"]["message"] == ["terraform output failed (status 1, exit 1); its own error is on stderr"]


def test_a_plan_refused_for_another_account_is_a_danger_with_no_plan() -> None:
    danger = "this workspace's state records table orders in AWS account 1, and these credentials belong to account 2"
    refusal = ("refused: ...", "run with account 1's credentials")
    outcome = TofuOutcome("plan", RunResult(1), dangers=(danger,), refusal=refusal)
    document = plan_document(outcome, 5)
    assert (document["has_changes"], document["data_loss"], document["dangers"]) == (None, True, [danger])
    assert document["error"] == list(refusal)
    json.dumps(document)


def test_an_apply_whose_output_lost_its_reader_was_still_applied() -> None:
    outcome = TofuOutcome("apply", RunResult(0), summary=summary("module_create"), outputs={}, output_lost=True)
    document = apply_document(outcome, 141)
    assert (document["applied"], document["exit_code"]) == (True, 141)
    assert document["error"] == [
        "whoever read planton's output went away while terraform ran; terraform apply finished (status 0) and "
        "what it wrote since was dropped (exit 141)"
    ]
    assert apply_document(TofuOutcome("apply", RunResult(1)), 1)["applied"] is False
