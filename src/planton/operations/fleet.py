"""A fleet: one ``planton tofu`` command over several manifests.

Every manifest is validated first, and no two may manage one table or share one state; then each
runs as a planton child process of its own (``planton tofu <command> -f MANIFEST --json``), at
most ``parallelism`` at once, each in its own workspace with its own state. ``apply`` and
``destroy`` plan every manifest to a saved plan, judge each, ask once (or refuse under
``--auto-approve`` when a plan would lose a table), and apply exactly the reviewed plans.

Why child processes rather than threads: each child is the single-manifest command, with every
guard it has (locks, records, the data-safety judgement, signal handling around terraform) and
nothing shared in memory; a crash or a hung provider in one cannot take the others with it, and
its memory is returned when it ends.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import IO, Any

from planton import emulator
from planton.environment import physical_memory
from planton.errors import (
    DETAILED_CHANGES,
    DETAILED_ERROR,
    DETAILED_NO_CHANGES,
    EXIT_BAD_MANIFEST,
    EXIT_BROKEN_PIPE,
    EXIT_BUG,
    EXIT_ENVIRONMENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_TERMINATED,
    EXIT_TERRAFORM_FAILED,
    EXIT_TIMED_OUT,
    EXIT_UNMANAGED_TABLE,
    EXIT_USAGE,
    UsageError,
)
from planton.files import write_atomically
from planton.findings import Finding, about, notices
from planton.operations.commands import Command
from planton.operations.request import TofuRequest, check_plan_out
from planton.operations.validation import Checks, PolicyFinder, Shard, Validated, checked_fleet
from planton.paths import expand_path
from planton.runner import ChildEvents, Invocation, RunResult, run_children
from planton.saved_plan_files import mark_own_plans
from planton.settings import OWN_PLANS_ENV, RUNS_AT_ONCE_ENV
from planton.source import ManifestSource
from planton.workspace import resolve_work_dir

# What one manifest's run needs at its peak: terraform with the aws provider (about 500 MB), and
# the planton child around it.
MEMORY_PER_RUN = 640 * 1024 * 1024
# The index `plan --out DIR` writes beside a fleet's plans, for `apply DIR`.
PLAN_INDEX = "planton-plans.json"
_PLAN_SUFFIX = ".tfplan"
# Where a manifest's log of its last fleet run is kept, in its work dir.
LOG_DIR = "logs"
_BUILT_DIR = "built"


class Result(Enum):
    """What became of one manifest."""

    NO_CHANGES = "no changes"
    CHANGES = "changes"
    APPLIED = "applied"
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"
    INTERRUPTED = "interrupted"
    SKIPPED = "skipped"

    @property
    def failed(self) -> bool:
        """The manifest did not get where it was asked to."""
        return self in (Result.REFUSED, Result.FAILED, Result.INTERRUPTED)


@dataclass(frozen=True)
class Member:
    """One manifest of the fleet, as its child runs it."""

    validated: Validated
    # Short and unique in the fleet, for people: metadata.name, or the workspace key when two
    # manifests share a name.
    name: str
    # The workspace key (metadata.name, hashed with org, env, id), and an id unique in the
    # fleet: the key, with a hash of the work dir when two work dirs hold the same key. The id
    # names its saved plan and its entry in a plan directory's index.
    key: str
    id: str
    # The file the child reads (a build's document, or one read from a pipe, is written out
    # first), and its work dir as the fleet resolved it (--work-dir, PLANTON_WORK_DIR, else
    # beside the manifest; a build's: beside its overlay), given to the child.
    manifest_file: Path
    work_dir: Path
    log: Path

    @property
    def label(self) -> str:
        """The manifest as people know it: its path (a build's document: the overlay's, with its name)."""
        return str(self.validated.loaded.manifest.path)

    @property
    def table(self) -> str:
        return self.validated.table.table_name


@dataclass(frozen=True)
class MemberResult:
    """How one manifest ended: its result, the child's exit code and JSON document, the counts of
    its plan, and how long its children ran."""

    member: Member
    result: Result
    exit_code: int | None = None
    seconds: float = 0.0
    document: Mapping[str, Any] | None = None
    # The plan's counts (add, change, destroy, replace) and whether it would lose a table.
    counts: Mapping[str, int] | None = None
    data_loss: bool = False
    # Why, in words, when it failed, was refused or skipped.
    why: tuple[str, ...] = ()
    # The saved plan a later phase applies, and what only `apply` without a file can do
    # ("region-move", "untaint"), when the plan needs that.
    plan_file: Path | None = None
    without_file: str | None = None


@dataclass(frozen=True)
class FleetRequest:
    """A ``planton tofu`` command over a fleet: the shared options (``template``, whose source
    holds only the stack input, provider config and overrides), the manifests, and how to run
    them."""

    command: Command
    template: TofuRequest
    sources: tuple[ManifestSource, ...]
    parallelism: int | None = None
    fail_fast: bool = False
    shard: Shard | None = None
    # plan --out DIR: keep every plan there; apply DIR: apply the plans kept there.
    plans_out: Path | None = None
    saved_plans: Path | None = None
    warnings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class FleetUi:
    """How the fleet speaks to the person running it. ``started``/``status``/``line``/``ended``
    follow each manifest (by its position); ``review`` shows every plan before the one question."""

    notify: Callable[[str], None]
    warn: Callable[[Sequence[Finding]], None]
    confirm: Callable[[Sequence[Finding]], bool]
    members: Callable[[Sequence[Member]], None]
    started: Callable[[int, str], None]
    status: Callable[[int, str], None]
    line: Callable[[int, str], None]
    ended: Callable[[int, MemberResult], None]
    review: Callable[[Sequence[MemberResult]], None]


@dataclass(frozen=True)
class FleetOutcome:
    """How the fleet command ended: one result per manifest (in the fleet's order), the signal
    that interrupted it, and why nothing was applied when it was refused or declined."""

    command: Command
    results: tuple[MemberResult, ...]
    interrupted_by: int | None = None
    refusal: tuple[str, ...] = ()
    declined: bool = False
    plans_saved: Path | None = None
    notes: tuple[str, ...] = field(default=())
    # What choosing and judging the manifests found (each naming its manifest), said before any ran.
    warnings: tuple[Finding, ...] = ()


# The order in which a failure's code wins the fleet's exit status (earlier wins): an
# interruption, a bug, a refusal to lose a table, an unmanaged table, the environment, a bad
# manifest, a usage mistake, terraform's failure, a lost reader.
EXIT_PRIORITY = (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_TIMED_OUT,
    EXIT_BUG,
    EXIT_REFUSED,
    EXIT_UNMANAGED_TABLE,
    EXIT_ENVIRONMENT,
    EXIT_BAD_MANIFEST,
    EXIT_USAGE,
    EXIT_TERRAFORM_FAILED,
    EXIT_BROKEN_PIPE,
)


def fleet_exit_code(outcome: FleetOutcome, *, detailed: bool = False) -> int:
    """The fleet's exit status, from its results alone.

    With ``--detailed-exitcode``: 1 when any manifest failed (or was refused or interrupted, or
    the apply was declined), else 2 when any has changes, else 0. Without it: 0 when none
    failed, else the failure code that comes first in ``EXIT_PRIORITY`` (an interruption's
    130/143 first); any other code is reported as 1."""
    failed = [result for result in outcome.results if result.result.failed]
    if detailed:
        if failed or outcome.refusal or outcome.declined or outcome.interrupted_by is not None:
            return DETAILED_ERROR
        changes = any(result.result is Result.CHANGES for result in outcome.results)
        return DETAILED_CHANGES if changes else DETAILED_NO_CHANGES
    if outcome.interrupted_by is not None:
        return 128 + outcome.interrupted_by
    codes = {result.exit_code for result in failed}
    if outcome.refusal:
        codes.add(EXIT_REFUSED)
    if outcome.declined:
        codes.add(EXIT_TERRAFORM_FAILED)
    for code in EXIT_PRIORITY:
        if code in codes:
            return code
    return EXIT_TERRAFORM_FAILED if codes else EXIT_OK


def default_parallelism(memory: int | None = None) -> int:
    """As many manifests at once as there are cores, and no more than memory holds at
    ``MEMORY_PER_RUN`` each (at least one)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if memory is None:
        return max(1, cores)
    return max(1, min(cores, memory // MEMORY_PER_RUN))


def run_fleet(request: FleetRequest, environ: Mapping[str, str], ui: FleetUi) -> FleetOutcome:
    """Validate every manifest, then run the command over them (see the module's docstring)."""
    template = request.template
    asks = (
        request.command in (Command.APPLY, Command.DESTROY)
        and not template.auto_approve
        and request.saved_plans is None
    )
    if asks and not template.can_prompt:
        raise UsageError(
            f"{request.command} asks for confirmation, and there is no terminal to ask at (stdin is not a "
            "terminal, or CI is set); nothing was run. Add --auto-approve"
            + (", or plan with --out DIR and apply DIR" if request.command is Command.APPLY else "")
        )
    if request.parallelism is not None and request.parallelism < 1:
        raise UsageError(f"--parallelism {request.parallelism}: run at least 1 manifest at once")
    work_dir = resolve_work_dir(Path("."), template.work_dir, environ) if template.work_dir else None
    # Every manifest's best practices are judged before any runs, for a command that plans them:
    # a finding its policy makes an error stops the whole fleet (each run says its warnings).
    judged = template.judges_the_manifest and request.saved_plans is None
    fleet = checked_fleet(
        request.sources,
        environ,
        checks=Checks(strict=template.strict, policies=PolicyFinder()) if judged else None,
        shard=request.shard,
        local=template.local,
        work_dir=work_dir,
        backend=template.backend,
    )
    said = (
        *request.warnings,
        *(finding for one in fleet for finding in about(one.findings, str(one.loaded.manifest.path))),
    )
    ui.warn(said)
    if not fleet:
        ui.notify(f"share {request.shard} of the fleet holds no manifest; nothing to do")
        return FleetOutcome(request.command, (), warnings=said)
    members = _members(fleet, template, environ)
    plans_out = _plans_out(request, environ, members)
    index = _read_plan_index(request.saved_plans) if request.saved_plans is not None else None
    at_once = request.parallelism or default_parallelism(physical_memory())
    at_once = min(at_once, len(members))
    if template.local:
        running, started = emulator.ensure_running(emulator.state_dir(environ))
        verb = "started" if started else "using"
        ui.notify(f"{verb} the local emulator at {running.endpoint_url} (stop it with: planton local stop)")
    ui.notify(f"{len(members)} manifest{'s' if len(members) != 1 else ''}, {at_once} at once")
    runner = _Runner(request, members, environ, ui, at_once)
    try:
        if request.command is Command.PLAN:
            outcome = runner.plan(plans_out)
        elif request.command in (Command.APPLY, Command.DESTROY) and index is not None:
            outcome = runner.apply_saved(index)
        elif request.command in (Command.APPLY, Command.DESTROY):
            outcome = runner.plan_approve_apply()
        else:
            outcome = runner.each(request.command)
    finally:
        runner.close()
    return replace(outcome, warnings=said)


def _plans_out(request: FleetRequest, environ: Mapping[str, str], members: Sequence[Member]) -> Path | None:
    """``plan --out DIR`` for a fleet: a directory (made if missing, private: plans hold the
    variables in clear text) outside every work dir and workspace, as one plan file must be."""
    if request.plans_out is None:
        return None
    directory = expand_path(request.plans_out, "--out", environ)
    if os.path.lexists(directory) and not directory.is_dir():
        raise UsageError(
            f"--out: {directory} is not a directory; a fleet's plans are saved one per manifest into a directory"
        )
    inputs = [member.manifest_file for member in members]
    for work_dir in dict.fromkeys(member.work_dir for member in members):
        if not directory.exists():
            check_plan_out(directory, work_dir, inputs)  # where it would be made
        else:
            check_plan_out(directory / f"{members[0].id}{_PLAN_SUFFIX}", work_dir, inputs)
    directory.mkdir(mode=0o700, exist_ok=True)
    return directory


def _read_plan_index(directory: Path) -> Mapping[str, Any]:
    path = directory / PLAN_INDEX
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"PLAN_DIR: {directory} holds no {PLAN_INDEX}; save a fleet's plans with `planton tofu plan -f ... "
            "--out DIR`, then apply DIR"
        ) from None
    except (OSError, ValueError) as err:
        raise UsageError(f"PLAN_DIR: cannot read {path}: {err}; plan again with --out DIR") from None
    if not isinstance(index, dict) or not isinstance(index.get("plans"), dict):
        raise UsageError(f"PLAN_DIR: {path} is not an index planton wrote; plan again with --out DIR")
    return index


def _members(fleet: Sequence[Validated], template: TofuRequest, environ: Mapping[str, str]) -> list[Member]:
    """Each manifest as its child runs it. A document that is no file of its own (a build's, or
    one read from a pipe) is written out for its child, into its work dir, which the child is
    then given."""
    names = [one.table.identity.name for one in fleet]
    keys = [one.table.identity.key for one in fleet]
    work_dirs = [
        resolve_work_dir(
            one.loaded.manifest.path, template.work_dir, environ, manifest_is_file=one.loaded.manifest.regular_file
        )
        for one in fleet
    ]
    members = []
    for one, key, own_work_dir in zip(fleet, keys, work_dirs, strict=True):
        loaded = one.loaded
        # The collision check made (real work dir, key) unique: a hash of the work dir tells
        # apart two manifests of one name in two directories.
        where = hashlib.sha256(os.path.realpath(own_work_dir).encode()).hexdigest()[:8]
        ident = key if keys.count(key) == 1 else f"{key}-{where}"
        name = one.table.identity.name if names.count(one.table.identity.name) == 1 else ident
        manifest_file = loaded.manifest.path
        if loaded.built or not loaded.manifest.regular_file:
            manifest_file = own_work_dir / _BUILT_DIR / f"{key}.yaml"
            manifest_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomically(manifest_file, json.dumps(dict(loaded.manifest.document), indent=1) + "\n", 0o600)
        log = own_work_dir / LOG_DIR / f"{key}.log"
        members.append(Member(one, name, key, ident, manifest_file, own_work_dir, log))
    return members


class _Runner:
    """The fleet's phases, each a set of children run by ``run_children``."""

    def __init__(
        self, request: FleetRequest, members: list[Member], environ: Mapping[str, str], ui: FleetUi, at_once: int
    ) -> None:
        self.request = request
        self.members = members
        self.ui = ui
        self.at_once = at_once
        self.env = {
            name: value for name, value in environ.items() if name not in ("GITHUB_STEP_SUMMARY", OWN_PLANS_ENV)
        }
        self.env[RUNS_AT_ONCE_ENV] = str(at_once)
        self.seconds = [0.0] * len(members)
        self.interrupted_by: int | None = None
        # Each manifest's log, opened (and emptied) when its first child starts.
        self._logs: dict[int, IO[str]] = {}
        # The end of each manifest's output in this phase: where terraform's error is.
        self._tails: dict[int, deque[str]] = {}
        ui.members(members)

    def close(self) -> None:
        for log in self._logs.values():
            log.close()

    # -- the phases ---------------------------------------------------------------------------

    def plan(self, plans_out: Path | None) -> FleetOutcome:
        destroy = self.request.template.destroy
        results = self._plan_all(plans_out, destroy=destroy)
        if plans_out is not None:
            self._write_plan_index(plans_out, results, destroy=destroy)
        return self._outcome(results, plans_saved=plans_out)

    def plan_approve_apply(self) -> FleetOutcome:
        import tempfile

        template = self.request.template
        destroy = self.request.command is Command.DESTROY
        # Private (0700), and gone when the command ends: its plans are applied in this command,
        # with these credentials, so their children bind none to an account (saved_plan_files).
        with tempfile.TemporaryDirectory(prefix="planton-fleet-") as directory:
            self.env[OWN_PLANS_ENV] = mark_own_plans(Path(directory))
            try:
                results = self._plan_all(Path(directory), destroy=destroy)
                return self._approve_and_apply(results, destroy=destroy, approved_by_flag=template.auto_approve)
            finally:
                del self.env[OWN_PLANS_ENV]

    def apply_saved(self, index: Mapping[str, Any]) -> FleetOutcome:
        assert self.request.saved_plans is not None
        plans: Mapping[str, Any] = index["plans"]
        directory = self.request.saved_plans
        missing = [member.label for member in self.members if member.id not in plans]
        if missing:
            raise UsageError(
                f"PLAN_DIR: {directory} holds no plan for {', '.join(missing)}; plan the same manifests with "
                f"--out {directory}, then apply it. Nothing was applied"
            )
        results = []
        for member in self.members:
            entry = plans[member.id]
            if not isinstance(entry, dict):
                raise UsageError(f"PLAN_DIR: {directory / PLAN_INDEX} is not an index planton wrote; plan again")
            if entry.get("applies_without_file"):
                raise UsageError(
                    f"PLAN_DIR: the plan of {member.label} {_WITHOUT_FILE_WORDS.get(entry['applies_without_file'], '')}"
                    f", which a saved plan cannot carry out; nothing was applied. Apply that manifest directly "
                    f"(planton tofu apply -f {member.label}), then plan the fleet again"
                )
            if entry.get("error"):
                results.append(MemberResult(member, Result.FAILED, why=("its plan failed; plan again with --out",)))
            elif not entry.get("has_changes"):
                results.append(MemberResult(member, Result.NO_CHANGES, exit_code=EXIT_OK))
            else:
                results.append(
                    MemberResult(
                        member,
                        Result.CHANGES,
                        exit_code=EXIT_OK,
                        counts=entry.get("counts"),
                        data_loss=bool(entry.get("data_loss")),
                        plan_file=directory / f"{member.id}{_PLAN_SUFFIX}",
                    )
                )
        # What the index says is only what to show and ask: each plan is judged again when it is
        # applied, and --allow-replace is passed on only when it was given.
        destroy = bool(index.get("destroy"))
        return self._approve_and_apply(results, destroy=destroy, approved_by_flag=True)

    def each(self, command: Command) -> FleetOutcome:
        # output: each manifest's outputs as a document, shown by the front end; the others
        # print terraform's text, which goes to the log with the rest of the child's output.
        machine = command is Command.OUTPUT
        argvs = [self._argv(command, member, *(["--json"] if machine else [])) for member in self.members]
        return self._outcome(self._run(argvs, command, _done_result, documents=machine))

    # -- the steps ----------------------------------------------------------------------------

    def _plan_all(self, directory: Path | None, *, destroy: bool) -> list[MemberResult]:
        argvs = []
        for member in self.members:
            extra = ["--json"]
            if destroy:
                extra.append("--destroy")
            if directory is not None:
                extra += ["--out", str(directory / f"{member.id}{_PLAN_SUFFIX}")]
            argvs.append(self._argv(Command.PLAN, member, *extra))
        return self._run(argvs, "plan", _plan_result)

    def _approve_and_apply(self, results: list[MemberResult], *, destroy: bool, approved_by_flag: bool) -> FleetOutcome:
        template = self.request.template
        to_apply = [position for position, result in enumerate(results) if result.result is Result.CHANGES]
        stopped = self.interrupted_by is not None or (
            self.request.fail_fast and any(result.result.failed for result in results)
        )
        if stopped or not to_apply:
            why = "interrupted" if self.interrupted_by is not None else "--fail-fast: another manifest failed"
            return self._outcome(_skip(results, to_apply, why) if stopped else results)
        self.ui.review(results)
        # The untaint of planton's own interrupted create keeps the table: no loss to approve.
        losing = [
            results[position]
            for position in to_apply
            if results[position].data_loss and results[position].without_file != "untaint"
        ]
        if losing and not destroy and approved_by_flag and not template.allow_replace:
            names = ", ".join(result.member.label for result in losing)
            refusal = (
                f"refused: the plan of {names} would lose a table or its items (deleted, replaced, or moved to "
                "another region); nothing was applied to any manifest",
                "review the plans (`planton tofu plan -f ...`), then apply with --allow-replace if that is meant",
            )
            lost = {id(result) for result in losing}
            refused = [
                replace(result, result=Result.REFUSED, exit_code=EXIT_REFUSED, why=refusal[:1])
                if id(result) in lost
                else result
                for result in results
            ]
            held = _skip(refused, [p for p in to_apply if id(results[p]) not in lost], "another plan was refused")
            return self._outcome(held, refusal=refusal)
        if not approved_by_flag:
            what = "destroy" if destroy else "apply"
            failed = [result.member.label for result in results if result.result.failed]
            question = [
                f"{len(to_apply)} of {len(results)} manifests have changes; planton will {what} exactly the plans "
                "shown above",
                *(f"DANGER: {result.member.label}: this plan loses a table or its items" for result in losing),
                *([f"not applied, their plans failed: {', '.join(failed)}"] if failed else []),
            ]
            if not self.ui.confirm(notices("what-apply-does", question)):
                return self._outcome(_skip(results, to_apply, "not approved"), declined=True)
        # A loss was approved by the answer yes, or by --allow-replace; a destroy plan is the
        # deletion asked for, and needs no flag.
        allow = template.allow_replace or not approved_by_flag
        argvs = []
        for position in to_apply:
            result = results[position]
            if result.without_file is not None:
                # A region move (the old table deleted first) or the untaint of planton's own
                # interrupted create: only `apply` without a file does these, as for one manifest.
                loses = result.without_file == "region-move" and allow
                extra = ["--auto-approve", "--json", *(["--allow-replace"] if loses else [])]
                argvs.append(self._argv(Command.APPLY, result.member, *extra))
                continue
            assert result.plan_file is not None
            extra = [str(result.plan_file), "--json", *(["--allow-replace"] if allow and result.data_loss else [])]
            argvs.append(self._argv(Command.APPLY, result.member, *extra, overrides=False))
        applied = self._run(argvs, "apply", _apply_result, only=to_apply, before=results)
        return self._outcome(applied)

    def _run(
        self,
        argvs: Sequence[list[str]],
        phase: str,
        judge: Callable[[Member, RunResult, Mapping[str, Any] | None], MemberResult],
        *,
        only: Sequence[int] | None = None,
        before: Sequence[MemberResult] | None = None,
        documents: bool = True,
    ) -> list[MemberResult]:
        """Run one child per argv (for the members at ``only``, else all); the results of every
        member, those not run this time kept from ``before``."""
        positions = list(only) if only is not None else list(range(len(self.members)))
        results = list(before) if before is not None else [MemberResult(m, Result.SKIPPED) for m in self.members]
        starts: dict[int, float] = {}
        cwd = Path.cwd()
        invocations = [Invocation(Path(sys.executable), argv, cwd, self.env) for argv in argvs]

        def started(i: int) -> None:
            position = positions[i]
            starts[position] = time.monotonic()
            self._tails[position] = deque(maxlen=_TAIL_LINES)
            self._log(position, f"$ {shlex.join(['planton', *argvs[i][3:]])}")
            self.ui.started(position, _PHASE_WORDS.get(phase, phase))

        def status(i: int, text: str) -> None:
            self.ui.status(positions[i], _status_words(text))

        def line(i: int, text: str) -> None:
            self._log(positions[i], text)
            self._tails[positions[i]].append(text)
            self.ui.line(positions[i], text)

        def ended(i: int, run: RunResult) -> None:
            position = positions[i]
            self.seconds[position] += time.monotonic() - starts[position]
            member = self.members[position]
            result = replace(judge(member, run, _document(run.stdout)), seconds=self.seconds[position])
            if result.result.failed:
                result = replace(result, why=(*result.why, *terraform_error(self._tails.get(position, ()))))
            self._log(position, f"planton: {result.result.value} (exit {run.returncode})")
            results[position] = result
            self.ui.ended(position, result)

        def stop_starting(run: RunResult) -> bool:
            return self.request.fail_fast and run.returncode not in (EXIT_OK,)

        events = ChildEvents(started=started, line=line, status=status, ended=ended)
        ran, signum = run_children(
            invocations, at_once=self.at_once, events=events, stop_starting=stop_starting, capture_stdout=documents
        )
        if signum is not None:
            self.interrupted_by = signum
        why = "interrupted before it started" if signum is not None else "--fail-fast: another manifest failed"
        for i, run in enumerate(ran):
            if run is None:
                position = positions[i]
                results[position] = MemberResult(self.members[position], Result.SKIPPED, why=(why,))
                self.ui.ended(position, results[position])
        return results

    def _argv(self, command: Command, member: Member, *extra: str, overrides: bool = True) -> list[str]:
        """The child's arguments, after the interpreter: the same planton, ``python -P -m
        planton`` (-P: never a ``planton`` module from the current directory), with every
        option that decides the target given again. Without ``overrides`` (a saved plan, which
        holds them already), no ``--set``."""
        template = self.request.template
        args = ["-P", "-m", "planton", "tofu", command.value, "-f", str(member.manifest_file)]
        source = template.source
        if source.stack_input is not None:
            args += ["-i", str(source.stack_input)]
        if source.provider_config is not None:
            args += ["--aws-provider-config", str(source.provider_config)]
        for raw in source.overrides if overrides else ():
            args += ["--set", raw]
        if template.local:
            args.append("--local")
        # Options given as flags are passed on; those set by environment variables are inherited.
        for given, flag in (
            (template.binary, "--binary"),
            (template.plugin_mirror, "--plugin-mirror"),
            (template.lock_timeout, "--lock-timeout"),
            (template.timeout, "--timeout"),  # each manifest's command: its own limit
        ):
            if given is not None and given.source == flag:
                args += [flag, str(given.value)]
        # The work dir the fleet resolved (and checked for collisions): the flag's, the
        # environment's, or beside the manifest (a build's document: beside its overlay).
        args += ["--work-dir", str(member.work_dir)]
        if template.backend.type is not None:
            args += ["--backend-type", template.backend.type]
        for config in template.backend.configs:
            args += ["--backend-config", config]
        if template.reconfigure and command is not Command.APPLY:
            args.append("--reconfigure")
        if template.migrate_state and command is Command.INIT:
            args.append("--migrate-state")
        args.append("--no-color")
        return [*args, *extra]

    def _log(self, position: int, text: str) -> None:
        log = self._logs.get(position)
        if log is None:
            path = self.members[position].log
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            log = self._logs[position] = os.fdopen(descriptor, "w", encoding="utf-8", buffering=1)
        log.write(text + "\n")

    def _write_plan_index(self, directory: Path, results: Sequence[MemberResult], *, destroy: bool) -> None:
        plans = {}
        for result in results:
            if result.result is Result.SKIPPED:
                continue
            plans[result.member.id] = {
                "manifest": result.member.label,
                "table": result.member.table,
                "file": f"{result.member.id}{_PLAN_SUFFIX}",
                "applies_without_file": result.without_file,
                "has_changes": result.result is Result.CHANGES,
                "data_loss": result.data_loss,
                "counts": dict(result.counts) if result.counts is not None else None,
                "error": list(result.why) if result.result.failed else None,
            }
        index = {"planton": "fleet plans", "destroy": destroy, "plans": plans}
        write_atomically(directory / PLAN_INDEX, json.dumps(index, indent=1) + "\n", 0o600)

    def _outcome(
        self,
        results: Sequence[MemberResult],
        *,
        refusal: tuple[str, ...] = (),
        declined: bool = False,
        plans_saved: Path | None = None,
    ) -> FleetOutcome:
        return FleetOutcome(
            self.request.command,
            tuple(results),
            interrupted_by=self.interrupted_by,
            refusal=refusal,
            declined=declined,
            plans_saved=plans_saved,
        )


_PHASE_WORDS = {"plan": "planning", "apply": "applying"}
_WITHOUT_FILE_WORDS = {
    "region-move": "moves its table to another region (the old table is deleted first)",
    "untaint": "replaces its table only because planton's own create was interrupted (apply keeps it)",
}
_TAIL_LINES = 400
_ERROR_LINES = 12


def _status_words(step: str) -> str:
    """A child's step (``terraform plan``) as the display says it (``planning``)."""
    command = step.rsplit(" ", 1)[-1]
    return {
        "init": "init",
        "plan": "planning",
        "show": "reading the plan",
        "apply": "applying",
        "destroy": "destroying",
        "refresh": "refreshing",
        "untaint": "untainting",
        "import": "importing",
        "output": "reading outputs",
    }.get(command, step)


def terraform_error(lines: Iterable[str]) -> tuple[str, ...]:
    """terraform's error in a manifest's output: from the last line that starts an error
    (``Error: ...``, boxed or not) to the end, at most ``_ERROR_LINES`` lines, blank lines and
    planton's own notes left out."""
    kept = [line.rstrip() for line in lines]
    starts = [i for i, line in enumerate(kept) if line.lstrip("│╷ ").startswith("Error:")]
    if not starts:
        return ()
    block = [line for line in kept[starts[-1] :] if line.strip() and not line.startswith("planton:")]
    return tuple(block[:_ERROR_LINES])


def _skip(results: Sequence[MemberResult], positions: Sequence[int], why: str) -> list[MemberResult]:
    return [
        replace(result, result=Result.SKIPPED, why=(why,)) if position in positions else result
        for position, result in enumerate(results)
    ]


def _document(text: str) -> Mapping[str, Any] | None:
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _error_lines(document: Mapping[str, Any] | None, run: RunResult, member: Member) -> tuple[str, ...]:
    error = document.get("error") if document is not None else None
    if isinstance(error, dict):
        error = error.get("message")
    if isinstance(error, list) and error:
        # The child's stderr is the fleet's log, and terraform's error from it is quoted after these.
        return tuple(str(line).replace("; its own error is on stderr", "") for line in error)
    return (f"exit status {run.returncode}",)


def _failure(member: Member, run: RunResult, document: Mapping[str, Any] | None) -> MemberResult:
    code = run.returncode if run.returncode >= 0 else 128 - run.returncode
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED) or run.interrupted_by is not None:
        result = Result.INTERRUPTED
        code = code if code in (EXIT_INTERRUPTED, EXIT_TERMINATED) else 128 + (run.interrupted_by or 2)
    elif code == EXIT_REFUSED:
        result = Result.REFUSED
    else:
        result = Result.FAILED
    return MemberResult(member, result, exit_code=code, document=document, why=_error_lines(document, run, member))


def _plan_result(member: Member, run: RunResult, document: Mapping[str, Any] | None) -> MemberResult:
    if run.returncode != EXIT_OK or document is None:
        return _failure(member, run, document)
    changes = bool(document.get("has_changes"))
    plan_file = document.get("plan_file")
    return MemberResult(
        member,
        Result.CHANGES if changes else Result.NO_CHANGES,
        exit_code=EXIT_OK,
        document=document,
        counts=document.get("counts"),
        data_loss=bool(document.get("data_loss")),
        plan_file=Path(plan_file) if isinstance(plan_file, str) else None,
        without_file=_without_file(document),
    )


def _without_file(document: Mapping[str, Any]) -> str | None:
    value = document.get("applies_without_file")
    return value if value in _WITHOUT_FILE_WORDS else None


def _apply_result(member: Member, run: RunResult, document: Mapping[str, Any] | None) -> MemberResult:
    if run.returncode != EXIT_OK or document is None:
        return _failure(member, run, document)
    return MemberResult(
        member,
        Result.APPLIED if document.get("applied") else Result.NO_CHANGES,
        exit_code=EXIT_OK,
        document=document,
        counts=document.get("counts"),
        data_loss=bool(document.get("data_loss")),
    )


def _done_result(member: Member, run: RunResult, document: Mapping[str, Any] | None) -> MemberResult:
    if run.returncode != EXIT_OK:
        return _failure(member, run, document)
    return MemberResult(member, Result.DONE, exit_code=EXIT_OK, document=document)
