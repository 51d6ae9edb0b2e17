"""What an operation came to and its exit code: pure functions of the outcome, table-driven."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from planton.errors import EXIT_REFUSED
from planton.operations.results import ExitStatus, Happened, exit_status, what_happened
from planton.operations.session import TofuOutcome
from planton.plan import read_plan
from planton.plan_summary import NO_CHANGES_SUMMARY
from planton.runner import RunResult

from support import PLANS

CHANGES_SUMMARY = read_plan((PLANS / "update.json").read_text(encoding="utf-8")).summary
SIGINT, SIGTERM = int(signal.SIGINT), int(signal.SIGTERM)


def outcome(command: str, status: int = 0, **fields: Any) -> TofuOutcome:
    interrupted_by = fields.pop("interrupted_by", None)
    return TofuOutcome(command, RunResult(status, interrupted_by=interrupted_by), **fields)


# (the outcome, what happened, the exit code without and with --detailed-exitcode, the notes)
CASES = [
    ("plan made, no changes", outcome("plan", summary=NO_CHANGES_SUMMARY), Happened.NO_CHANGES, 0, 0, ()),
    ("plan made, changes", outcome("plan", summary=CHANGES_SUMMARY), Happened.CHANGES, 0, 0, ()),
    ("plan --detailed-exitcode's changes", outcome("plan", 2, summary=CHANGES_SUMMARY), Happened.CHANGES, 1, 2, None),
    ("plan failed", outcome("plan", 1), Happened.FAILED, 1, 1, ()),
    ("apply applied", outcome("apply", summary=CHANGES_SUMMARY), Happened.APPLIED, 0, 0, ()),
    ("apply with nothing to do", outcome("plan", summary=NO_CHANGES_SUMMARY), Happened.NO_CHANGES, 0, 0, ()),
    ("apply failed", outcome("apply", 1), Happened.FAILED, 1, 1, ()),
    ("destroy applied", outcome("destroy"), Happened.APPLIED, 0, 0, ()),
    ("refresh", outcome("refresh"), Happened.FINISHED, 0, 0, ()),
    ("init crashed with 2", outcome("init", 2), Happened.FAILED, 1, 1, ("init: terraform exited with status 2",)),
    (
        "killed from elsewhere",
        outcome("apply", -9),
        Happened.FAILED,
        1,
        1,
        ("apply: terraform was killed by signal 9",),
    ),
    ("odd status", outcome("refresh", 3), Happened.FAILED, 1, 1, ("refresh: terraform exited with status 3",)),
    ("signal during plan", outcome("plan", 1, interrupted_by=SIGINT), Happened.INTERRUPTED, 130, 130, ()),
    ("SIGTERM during apply", outcome("apply", 1, interrupted_by=SIGTERM), Happened.INTERRUPTED, 143, 143, ()),
    (
        "signal as an apply's plan finished",
        outcome("plan", 0, interrupted_by=SIGINT, finished=False),
        Happened.INTERRUPTED,
        130,
        130,
        (),
    ),
    ("signal as apply finished", outcome("apply", 0, interrupted_by=SIGINT), Happened.APPLIED, 0, 0, ()),
    ("refused", outcome("plan", 1, refusal=("refused",)), Happened.REFUSED, EXIT_REFUSED, EXIT_REFUSED, ()),
    ("reader gone, success", outcome("apply", output_lost=True), Happened.APPLIED, 141, 141, ()),
    ("reader gone, changes", outcome("plan", 2, output_lost=True), Happened.CHANGES, 1, 141, None),
    ("reader gone, failure", outcome("apply", 1, output_lost=True), Happened.FAILED, 1, 1, ()),
]


@pytest.mark.parametrize(
    ("name", "ended", "happened", "code", "detailed_code", "notes"), CASES, ids=[c[0] for c in CASES]
)
def test_what_happened_and_its_exit_code(
    name: str, ended: TofuOutcome, happened: Happened, code: int, detailed_code: int, notes: tuple[str, ...] | None
) -> None:
    del name
    assert what_happened(ended) is happened
    # None: without --detailed-exitcode a plan's 2 is no status terraform documents, so it is said.
    plain_notes = notes if notes is not None else (f"{ended.command}: terraform exited with status 2",)
    assert exit_status(ended, detailed_exitcode=False) == ExitStatus(code, plain_notes)
    assert exit_status(ended, detailed_exitcode=True) == ExitStatus(detailed_code, notes or ())


def test_exit_status_has_no_side_effects() -> None:
    ended = outcome("apply", 7)
    assert exit_status(ended, detailed_exitcode=False) == exit_status(ended, detailed_exitcode=False)
    assert ended == outcome("apply", 7)
