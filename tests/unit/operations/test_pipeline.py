"""``run_tofu`` from request to outcome, with terraform played by a fake at the process boundary:
``planton.operations.session.run``, the one call that starts terraform. Everything above it is
planton's own code (prepare, the workspace and its lock, init's decisions, the state's first
read, the guards, the plan's judgement, approval, the records); the fake answers each
invocation as terraform would, replaying the plans recorded in tests/fixtures/plans for
``show -json`` and writing the state an apply, untaint or destroy leaves."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from planton.errors import ChangeRefused
from planton.operations import session as session_module
from planton.operations.catalogue import operation
from planton.operations.request import TofuRequest
from planton.operations.results import Happened, exit_status, what_happened
from planton.operations.reviewed import StalePlan
from planton.operations.run import run_tofu
from planton.operations.session import TofuOutcome, Ui
from planton.records import LocalRecordStore
from planton.runner import Echo, Invocation, RunResult
from planton.saved_plan_files import SHOWN_PLANS_DIR, mark_own_plans
from planton.settings import OWN_PLANS_ENV, Given
from planton.source import ManifestSource
from planton.workspace import PLAN_FILE

from support import HACK_MANIFEST, PLANS

TABLE = "planton-demo-orders"
ACCOUNT = "123456789012"


def arn(region: str) -> str:
    return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{TABLE}"


def write_state(workspace: Path, *, region: str | None = "us-east-1", tainted: bool = False) -> None:
    """The state terraform leaves: the module's data.aws_caller_identity, and the manifest's
    table in ``region`` (None: no table; tainted: created half-way, no ARN yet)."""
    caller = {"attributes": {"account_id": ACCOUNT, "id": ACCOUNT}}
    resources: list[dict[str, Any]] = [
        {"mode": "data", "type": "aws_caller_identity", "name": "current", "instances": [caller]}
    ]
    if region is not None:
        attributes: dict[str, Any] = {"name": TABLE} if tainted else {"name": TABLE, "arn": arn(region)}
        instance: dict[str, Any] = {"attributes": attributes}
        if tainted:
            instance["status"] = "tainted"
        resources.append({"mode": "managed", "type": "aws_dynamodb_table", "name": "this", "instances": [instance]})
    document = {"version": 4, "serial": 1, "lineage": "fake", "resources": resources}
    (workspace / "terraform.tfstate").write_text(json.dumps(document), encoding="utf-8")


@dataclass
class FakeTerraform:
    """terraform, as ``run`` would start it. ``plans`` are the recorded plans each ``plan -out``
    makes, in turn; ``interrupt`` names the command a Ctrl-C stops; ``applied`` is the region of
    the table an apply leaves recorded; ``stale`` makes an apply of a saved plan fail as stale."""

    plans: list[str] = field(default_factory=list)
    interrupt: str | None = None
    applied: str = "us-east-1"
    stale: bool = False
    calls: list[list[str]] = field(default_factory=list)
    shown: str | None = None

    def __call__(
        self,
        invocation: Invocation,
        *,
        capture: bool = False,
        stdout_to_stderr: bool = False,
        watch_stderr: bool = False,
        echo: Echo | None = None,
        inherit: Sequence[int] = (),
        on_start: Callable[[int], None] | None = None,
        deadline: float | None = None,
    ) -> RunResult:
        del capture, stdout_to_stderr, watch_stderr, echo, inherit, deadline
        if on_start is not None:
            on_start(os.getpid())  # a PID that is alive, as terraform's would be
        args, workspace = list(invocation.args), invocation.cwd
        self.calls.append(args)
        command = args[0]
        if command == self.interrupt:
            if command == "apply":  # stopped while AWS created the table: recorded tainted
                write_state(workspace, tainted=True)
            return RunResult(1, interrupted_by=signal.SIGINT)
        if command == "plan" and "-json" in args:  # whose credentials: terraform cannot say
            return RunResult(1)
        if command == "plan":
            self.shown = self.plans.pop(0)
            with zipfile.ZipFile(workspace / PLAN_FILE, "w") as plan:
                plan.writestr("tfplan", self.shown)
            changes = self.shown not in ("noop", "module_noop")
            return RunResult(2 if changes else 0)
        if command == "show":
            shown = args[-1]
            with zipfile.ZipFile(workspace / shown) as plan:
                name = plan.read("tfplan").decode()
            return RunResult(0, stdout=(PLANS / f"{name}.json").read_text(encoding="utf-8"))
        if command == "apply" and self.stale:
            return RunResult(1, stderr="Error: Saved plan is stale")
        if command == "apply":
            destroys = self.shown is not None and "destroy" in self.shown
            write_state(workspace, region=None if destroys else self.applied)
            return RunResult(0)
        if command == "untaint":
            write_state(workspace)
            return RunResult(0)
        if command == "destroy":
            write_state(workspace, region=None)
            return RunResult(0)
        if command == "init":  # what init leaves: its directory (the providers would be in it)
            (workspace / ".terraform").mkdir(exist_ok=True)
            return RunResult(0)
        raise AssertionError(f"the fake does not play terraform {args}")

    def ran(self) -> list[str]:
        """The terraform commands run, by name (``plan -json`` as ``whoami``)."""
        return ["whoami" if args[0] == "plan" and "-json" in args else args[0] for args in self.calls]


@dataclass
class Person:
    """The Ui: what planton said, and the answer it gets when it asks."""

    answer: bool = True
    said: list[str] = field(default_factory=list)
    asked: int = 0

    def ui(self) -> Ui:
        def confirm(_warnings: Sequence[str]) -> bool:
            self.asked += 1
            return self.answer

        return Ui(notify=self.said.append, warn=self.said.extend, confirm=confirm)


@dataclass
class World:
    """A manifest, a work dir, a binary that only answers `version`, credentials, and the fake."""

    root: Path
    terraform: FakeTerraform
    person: Person = field(default_factory=Person)
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def environ(self) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root / "home"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            **self.extra_env,
        }

    def run(self, command: str, **asked: Any) -> TofuOutcome:
        request = TofuRequest(
            operation=operation(command),
            source=ManifestSource(manifest=self.root / "manifest.yaml"),
            binary=Given(str(self.root / "terraform"), "--binary"),
            work_dir=Given(self.root / "work", "--work-dir"),
            **asked,
        )
        return run_tofu(request, self.environ, self.root / "home", self.person.ui())

    @property
    def workspace(self) -> Path:
        (found,) = (self.root / "work").glob("*/*")
        return found


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    shutil.copy(HACK_MANIFEST, tmp_path / "manifest.yaml")
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    binary = tmp_path / "terraform"
    # Asked only for its version (init's fingerprint); every other run goes to the fake.
    binary.write_text('#!/bin/sh\necho \'{"terraform_version": "1.11.4"}\'\n', encoding="utf-8")
    binary.chmod(0o755)
    terraform = FakeTerraform()
    monkeypatch.setattr(session_module, "run", terraform)
    return World(tmp_path, terraform)


def code(outcome: TofuOutcome, *, detailed: bool = False) -> int:
    return exit_status(outcome, detailed_exitcode=detailed).code


def _recorded_in(world: World, region: str) -> None:
    """An apply that leaves the table recorded in ``region``; the calls so far forgotten."""
    world.terraform.plans = ["module_create"]
    world.terraform.applied = region
    world.run("apply", auto_approve=True)
    world.terraform.calls.clear()


def test_a_plan_with_no_changes(world: World) -> None:
    _recorded_in(world, "us-east-1")
    world.terraform.plans = ["module_noop"]
    outcome = world.run("plan", detailed_exitcode=True)
    assert what_happened(outcome) is Happened.NO_CHANGES
    assert code(outcome, detailed=True) == 0
    # terraform said the plan changes nothing, and no guard needs it read: it is not shown.
    assert world.terraform.ran() == ["plan"]


def test_a_plan_with_changes_is_2_under_detailed_exitcode(world: World) -> None:
    world.terraform.plans = ["module_create"]
    outcome = world.run("plan", detailed_exitcode=True)
    assert what_happened(outcome) is Happened.CHANGES
    assert code(outcome, detailed=True) == 2
    assert world.terraform.ran() == ["init", "plan", "show"]
    assert not (world.workspace / PLAN_FILE).exists()


def test_apply_creates_the_table(world: World) -> None:
    world.terraform.plans = ["module_create"]
    outcome = world.run("apply", auto_approve=True)
    assert what_happened(outcome) is Happened.APPLIED
    assert code(outcome) == 0
    assert world.terraform.ran() == ["init", "plan", "show", "apply"]
    assert outcome.outputs is not None


def test_a_signal_during_plan_is_130_even_under_detailed_exitcode(world: World) -> None:
    _recorded_in(world, "us-east-1")
    world.terraform.plans, world.terraform.interrupt = ["module_update"], "plan"
    outcome = world.run("plan", detailed_exitcode=True)
    assert what_happened(outcome) is Happened.INTERRUPTED
    assert code(outcome, detailed=True) == 128 + signal.SIGINT
    assert world.terraform.ran() == ["plan"]
    assert not (world.workspace / PLAN_FILE).exists()


def test_a_signal_during_the_plan_of_an_apply_applies_nothing(world: World) -> None:
    world.terraform.plans, world.terraform.interrupt = ["module_create"], "plan"
    outcome = world.run("apply", auto_approve=True)
    assert what_happened(outcome) is Happened.INTERRUPTED
    assert code(outcome) == 128 + signal.SIGINT
    assert "apply" not in world.terraform.ran()
    assert outcome.notes == ("interrupted: terraform stopped the plan; nothing was changed",)


def test_a_signal_during_apply_is_remembered_and_the_next_apply_untaints(world: World) -> None:
    world.terraform.plans, world.terraform.interrupt = ["module_create"], "apply"
    interrupted = world.run("apply", auto_approve=True)
    assert what_happened(interrupted) is Happened.INTERRUPTED
    assert code(interrupted) == 128 + signal.SIGINT
    assert "tainted" in interrupted.notes[0]
    remembered = LocalRecordStore(world.workspace).interrupted_create()
    assert remembered is not None
    assert remembered.table_name == TABLE

    # The next apply finds the table tainted by planton's own interrupted create: it untaints it
    # (the table exists) instead of replacing it, plans again, and has nothing left to do.
    world.terraform.calls.clear()
    world.terraform.plans, world.terraform.interrupt = ["taint", "module_noop"], None
    outcome = world.run("apply", auto_approve=True)
    assert world.terraform.ran() == ["plan", "show", "untaint", "plan", "show"]
    assert what_happened(outcome) is Happened.NO_CHANGES
    assert code(outcome) == 0
    assert any("untainted it instead of replacing it" in line for line in world.person.said)
    assert LocalRecordStore(world.workspace).interrupted_create() is None


def test_a_region_move_is_refused_under_auto_approve_without_allow_replace(world: World) -> None:
    _recorded_in(world, "us-west-2")
    world.terraform.plans = ["region_move"]
    with pytest.raises(ChangeRefused, match="refused under --auto-approve: applying this plan would lose a table"):
        world.run("apply", auto_approve=True)
    assert world.terraform.ran() == ["plan", "show"]
    assert not (world.workspace / PLAN_FILE).exists()


def test_a_region_move_with_allow_replace_deletes_the_old_table_first(world: World) -> None:
    _recorded_in(world, "us-west-2")
    world.terraform.plans, world.terraform.applied = ["region_move", "module_create"], "us-east-1"
    outcome = world.run("apply", auto_approve=True, allow_replace=True)
    assert world.terraform.ran() == ["plan", "show", "destroy", "plan", "show", "apply"]
    assert what_happened(outcome) is Happened.APPLIED
    assert code(outcome) == 0


def test_a_region_move_asked_and_declined_changes_nothing(world: World) -> None:
    _recorded_in(world, "us-west-2")
    world.terraform.plans, world.person.answer = ["region_move"], False
    with pytest.raises(Exception, match="apply cancelled"):
        world.run("apply")
    assert world.person.asked == 1
    assert world.terraform.ran() == ["plan", "show"]


def test_a_saved_destroy_plan_is_applied_as_reviewed(world: World) -> None:
    _recorded_in(world, "us-east-1")
    saved = world.root / "destroy.tfplan"
    world.terraform.plans = ["module_destroy"]
    planned = world.run("plan", destroy=True, plan_out=saved)
    assert code(planned) == 0
    assert saved.is_file()
    before = len(world.terraform.ran())
    outcome = world.run("apply", plan_file=saved)
    # Judged from the show -json kept when the plan was saved here: terraform shows it no more.
    assert world.terraform.ran()[before:] == ["whoami", "apply"]
    assert what_happened(outcome) is Happened.APPLIED
    assert code(outcome) == 0
    state = json.loads((world.workspace / "terraform.tfstate").read_text(encoding="utf-8"))
    assert [resource["type"] for resource in state["resources"]] == ["aws_caller_identity"]
    # Applied once: a second apply of the same plan is refused, nothing run.
    with pytest.raises(StalePlan, match="applied already"):
        world.run("apply", plan_file=saved)


def test_a_stale_saved_plan_is_refused_and_left_unapplied(world: World) -> None:
    _recorded_in(world, "us-east-1")
    saved = world.root / "update.tfplan"
    world.terraform.plans = ["module_update"]
    world.run("plan", plan_out=saved)
    world.terraform.stale = True
    with pytest.raises(StalePlan, match="is stale: the state changed after the plan was made"):
        world.run("apply", plan_file=saved)
    assert world.terraform.ran()[-1] == "apply"
    remembered = LocalRecordStore(world.workspace).saved_plan(hashlib.sha256(saved.read_bytes()).hexdigest())
    assert remembered is not None
    assert (remembered.applied, remembered.failed) == (None, None)


@pytest.mark.parametrize("kept", ["missing", "not JSON"])
def test_a_saved_plan_whose_kept_reading_is_gone_or_broken_is_shown_again(world: World, kept: str) -> None:
    _recorded_in(world, "us-east-1")
    saved = world.root / "destroy.tfplan"
    world.terraform.plans = ["module_destroy"]
    world.run("plan", destroy=True, plan_out=saved)
    (document,) = (world.workspace / SHOWN_PLANS_DIR).glob("*.json")
    assert document.stat().st_mode & 0o777 == 0o600
    if kept == "missing":
        document.unlink()
    else:
        document.write_text("{not json", encoding="utf-8")
    before = len(world.terraform.ran())
    outcome = world.run("apply", plan_file=saved)
    assert world.terraform.ran()[before:] == ["whoami", "show", "apply"]
    assert what_happened(outcome) is Happened.APPLIED


def test_a_saved_plan_of_a_new_table_is_bound_to_the_credentials_account(world: World) -> None:
    world.terraform.plans = ["module_create"]
    world.run("plan", plan_out=world.root / "create.tfplan")
    assert world.terraform.ran() == ["init", "whoami", "plan", "show"]


def test_a_fleets_own_plan_binds_no_account_and_is_applied_without_showing_it_again(world: World) -> None:
    own = world.root / "own"
    own.mkdir(mode=0o700)
    world.extra_env[OWN_PLANS_ENV] = mark_own_plans(own)
    world.terraform.plans = ["module_create"]
    world.run("plan", plan_out=own / "create.tfplan")
    assert world.terraform.ran() == ["init", "plan", "show"]
    outcome = world.run("apply", plan_file=own / "create.tfplan")
    assert world.terraform.ran()[3:] == ["apply"]
    assert what_happened(outcome) is Happened.APPLIED
    # What was kept of it lay beside it, in the fleet's directory, and went once applied.
    assert sorted(path.name for path in own.iterdir()) == [".planton-own-plans", "create.tfplan"]
    assert not (world.workspace / SHOWN_PLANS_DIR).exists()
