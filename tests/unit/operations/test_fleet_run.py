"""``run_fleet`` from request to outcome, with each manifest's child process played by a fake at
the one call that starts them (``planton.operations.fleet.run_children``). Everything above it is
planton's own: validation of the whole fleet, the members and their work dirs, plan all, judge
each plan, refuse or ask once, apply exactly the plans reviewed, and the exit status. The fake
answers each child as ``planton tofu plan/apply --json`` would: a document on stdout, terraform's
error on stderr, an exit code."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from planton.errors import EXIT_REFUSED
from planton.findings import Finding
from planton.operations import fleet as fleet_module
from planton.operations.catalogue import operation
from planton.operations.commands import Command
from planton.operations.fleet import (
    FleetOutcome,
    FleetRequest,
    FleetUi,
    MemberResult,
    Result,
    fleet_exit_code,
    run_fleet,
)
from planton.operations.request import TofuRequest
from planton.runner import ChildEvents, Invocation, RunResult
from planton.settings import Given
from planton.source import ManifestSource

TABLES = ("alpha", "bravo", "charlie")


def manifest(path: Path, table: str) -> Path:
    path.write_text(
        "apiVersion: aws.project-planton.org/v1\nkind: AwsDynamodb\n"
        f"metadata:\n  name: {table}\n"
        f"spec:\n  table_name: {table}\n  aws_region: us-east-1\n  billing_mode: PAY_PER_REQUEST\n"
        "  partition_key_name: id\n  partition_key_type: STRING\n",
        encoding="utf-8",
    )
    return path


@dataclass
class FakeChildren:
    """The children, as ``run_children`` would run them. ``plan_fails`` / ``apply_fails`` name
    the tables whose plan / apply fails as terraform does; ``loses`` the tables whose plan would
    lose the table; ``signal_after`` stops the fleet (as a Ctrl-C does) after that many children
    of a run ended. Every child's arguments are kept in ``calls``."""

    plan_fails: set[str] = field(default_factory=set)
    apply_fails: set[str] = field(default_factory=set)
    loses: set[str] = field(default_factory=set)
    signal_after: int | None = None
    calls: list[list[str]] = field(default_factory=list)

    def __call__(
        self,
        invocations: Sequence[Invocation],
        *,
        at_once: int,
        events: ChildEvents,
        stop_starting: Callable[[RunResult], bool] = lambda _result: False,
        capture_stdout: bool = True,
    ) -> tuple[list[RunResult | None], int | None]:
        assert at_once >= 1
        assert capture_stdout
        results: list[RunResult | None] = [None] * len(invocations)
        for i, invocation in enumerate(invocations):
            if self.signal_after is not None and i >= self.signal_after:
                return results, signal.SIGINT
            args = list(invocation.args)
            self.calls.append(args)
            events.started(i)
            result = self.answer(args)
            for line in result.stderr.splitlines():
                events.line(i, line)
            results[i] = result
            events.ended(i, result)
            if stop_starting(result):
                break
        return results, None

    def answer(self, args: list[str]) -> RunResult:
        assert args[:4] == ["-P", "-m", "planton", "tofu"], args
        command, table = args[4], Path(args[args.index("-f") + 1]).stem
        if command == "plan":
            if table in self.plan_fails:
                return RunResult(1, stderr=f"Error: reading {table}: AccessDeniedException\n")
            plan_file = args[args.index("--out") + 1] if "--out" in args else None
            counts = {"add": 0, "change": 0, "destroy": 0, "replace": 1} if table in self.loses else {"add": 1}
            document = {"has_changes": True, "counts": counts, "data_loss": table in self.loses, "plan_file": plan_file}
            return RunResult(0, stdout=json.dumps(document))
        assert command == "apply"
        if table in self.apply_fails:
            error = f"Error: creating AWS DynamoDB Table ({table}): ValidationException: KMS key not found\n"
            return RunResult(1, stderr=f"planton: applying\n{error}")
        return RunResult(0, stdout=json.dumps({"applied": True, "counts": {"add": 1}}))

    def applied(self) -> list[str]:
        return [Path(args[args.index("-f") + 1]).stem for args in self.calls if args[4] == "apply"]


@dataclass
class World:
    root: Path
    children: FakeChildren
    answers: list[bool] = field(default_factory=list)
    questions: list[Sequence[str]] = field(default_factory=list)
    reviewed: list[Sequence[MemberResult]] = field(default_factory=list)

    def ui(self) -> FleetUi:
        def confirm(question: Sequence[Finding]) -> bool:
            self.questions.append([finding.text() for finding in question])
            return self.answers.pop(0)

        def ignore(*_args: Any) -> None:
            return None

        return FleetUi(
            notify=ignore,
            warn=ignore,
            confirm=confirm,
            members=ignore,
            started=ignore,
            status=ignore,
            line=ignore,
            ended=ignore,
            review=self.reviewed.append,
        )

    def run(self, command: Command, *, fail_fast: bool = False, **asked: Any) -> FleetOutcome:
        template = TofuRequest(
            operation=operation(command),
            source=ManifestSource(),
            work_dir=Given(self.root / "work", "--work-dir"),
            **asked,
        )
        request = FleetRequest(
            command=command,
            template=template,
            sources=tuple(ManifestSource(manifest=self.root / f"{table}.yaml") for table in TABLES),
            parallelism=2,
            fail_fast=fail_fast,
        )
        return run_fleet(request, {"HOME": str(self.root / "home")}, self.ui())


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    for table in TABLES:
        manifest(tmp_path / f"{table}.yaml", table)
    children = FakeChildren()
    monkeypatch.setattr(fleet_module, "run_children", children)
    return World(tmp_path, children)


def by_name(outcome: FleetOutcome) -> dict[str, Result]:
    return {result.member.name: result.result for result in outcome.results}


def test_one_failing_apply_fails_alone_and_the_fleet_exits_1(world: World) -> None:
    world.children.apply_fails = {"bravo"}
    outcome = world.run(Command.APPLY, auto_approve=True)
    assert by_name(outcome) == {"alpha": Result.APPLIED, "bravo": Result.FAILED, "charlie": Result.APPLIED}
    failed = outcome.results[1]
    assert any("KMS key not found" in line for line in failed.why), failed.why
    assert fleet_exit_code(outcome) == 1
    assert fleet_exit_code(outcome, detailed=True) == 1
    # Every manifest planned, then each applied exactly its own saved plan (no --set again).
    plans = [args for args in world.children.calls if args[4] == "plan"]
    applies = [args for args in world.children.calls if args[4] == "apply"]
    assert len(plans) == 3
    assert len(applies) == 3
    for plan, apply in zip(plans, applies, strict=True):
        saved = plan[plan.index("--out") + 1]
        assert plan[plan.index("-f") + 1] == apply[apply.index("-f") + 1]
        assert saved in apply
        assert "--set" not in apply


def test_a_plan_that_loses_a_table_refuses_the_whole_apply_under_auto_approve(world: World) -> None:
    world.children.loses = {"charlie"}
    outcome = world.run(Command.APPLY, auto_approve=True)
    assert world.children.applied() == []
    assert by_name(outcome) == {"alpha": Result.SKIPPED, "bravo": Result.SKIPPED, "charlie": Result.REFUSED}
    assert outcome.refusal
    assert "charlie" in outcome.refusal[0]
    assert fleet_exit_code(outcome) == EXIT_REFUSED
    assert fleet_exit_code(outcome, detailed=True) == 1


def test_the_one_question_is_asked_once_and_no_applies_nothing(world: World) -> None:
    world.answers = [False]
    outcome = world.run(Command.APPLY, can_prompt=True)
    assert len(world.questions) == 1
    assert "3 of 3 manifests have changes" in world.questions[0][0]
    assert len(world.reviewed) == 1
    assert world.children.applied() == []
    assert outcome.declined
    assert set(by_name(outcome).values()) == {Result.SKIPPED}
    assert fleet_exit_code(outcome) == 1


def test_a_yes_applies_every_plan_and_a_failed_plan_is_named_in_the_question(world: World) -> None:
    world.children.plan_fails = {"alpha"}
    world.answers = [True]
    outcome = world.run(Command.APPLY, can_prompt=True)
    failed = f"not applied, their plans failed: {world.root / 'alpha.yaml'}"
    assert world.questions == [
        ["2 of 3 manifests have changes; planton will apply exactly the plans shown above", failed]
    ]
    assert world.children.applied() == ["bravo", "charlie"]
    assert by_name(outcome) == {"alpha": Result.FAILED, "bravo": Result.APPLIED, "charlie": Result.APPLIED}


def test_fail_fast_starts_nothing_after_the_first_failure(world: World) -> None:
    world.children.plan_fails = {"alpha"}
    outcome = world.run(Command.APPLY, auto_approve=True, fail_fast=True)
    assert [args[4] for args in world.children.calls] == ["plan"]
    assert by_name(outcome) == {"alpha": Result.FAILED, "bravo": Result.SKIPPED, "charlie": Result.SKIPPED}
    assert fleet_exit_code(outcome) == 1


def test_without_fail_fast_every_manifest_is_attempted(world: World) -> None:
    world.children.plan_fails = {"alpha"}
    outcome = world.run(Command.PLAN, detailed_exitcode=True)
    assert by_name(outcome) == {"alpha": Result.FAILED, "bravo": Result.CHANGES, "charlie": Result.CHANGES}
    assert fleet_exit_code(outcome, detailed=True) == 1  # 1 > 2: the changes do not hide the failure


def test_a_signal_during_the_plans_applies_nothing_and_names_what_never_started(world: World) -> None:
    world.children.signal_after = 1
    outcome = world.run(Command.APPLY, auto_approve=True)
    assert world.children.applied() == []
    assert outcome.interrupted_by == signal.SIGINT
    # alpha was planned, and is not applied; the others never started.
    assert set(by_name(outcome).values()) == {Result.SKIPPED}
    assert [result.why for result in outcome.results] == [
        ("interrupted",),
        ("interrupted before it started",),
        ("interrupted before it started",),
    ]
    assert fleet_exit_code(outcome) == 130
    assert fleet_exit_code(outcome, detailed=True) == 1
