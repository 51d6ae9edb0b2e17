"""One command's terraform runs in one workspace: the session that runs them, how a command
ends (its outcome and exit code), and how the core speaks to the person running it."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from planton.accounts import CALLER_IDENTITY, AccountBinding, AccountRefused, caller_account_from_ui, refused_account
from planton.backend import S3Backend
from planton.errors import (
    DETAILED_CHANGES,
    EXIT_OK,
    EXIT_TERRAFORM_FAILED,
    Interrupted,
    TimedOut,
)
from planton.findings import Finding, notices
from planton.operations.request import Notify, PreparedRun, TofuRequest, suggest
from planton.plan import NO_CHANGES, TABLE_ADDRESS, Decision, PlanUnreadable, decide, nothing_to_judge, read_plan
from planton.plan_summary import NO_CHANGES_SUMMARY, PlanSummary
from planton.records import InterruptedCreate, LocalRecordStore, RecordStore, S3RecordStore
from planton.runner import (
    STARTS_THE_PROVIDER,
    WRITES_STATE,
    CommandOptions,
    Echo,
    Invocation,
    RunResult,
    build_args,
    run,
)
from planton.s3 import S3Location
from planton.state import (
    RecordedTable,
    StateUnreadable,
    output_values,
    outputs_in_state,
    parse_state,
    read_local_state,
    read_s3_state,
    table_in_state,
)
from planton.workspace import ERRORED_STATE, PLAN_FILE, WorkspaceLock

if TYPE_CHECKING:
    from planton.operations.reviewed import ReviewedPlan


@dataclass(frozen=True)
class TofuOutcome:
    """How a ``planton tofu`` command ended: the last terraform command that ran (an automatic
    ``init`` that failed stops there), its result, and what people should be told after it."""

    command: str
    result: RunResult
    notes: tuple[str, ...] = ()
    # False when the command stopped after an intermediate step (an apply's plan, untaint or
    # old-table destroy) because of a signal, even if that step itself finished.
    finished: bool = True
    # The plan that was shown (plan, apply, destroy), and what planton warned about it.
    summary: PlanSummary | None = None
    warnings: tuple[Finding, ...] = ()
    # The module's outputs, by name: after a successful apply, and for `output`.
    outputs: Mapping[str, Any] | None = None
    # Where `plan --out` saved the plan.
    plan_saved: Path | None = None
    workspace: Path | None = None
    # Where the state is: s3://bucket/key, or the local state file's path.
    state: str | None = None
    # What planton judged would lose a table, beyond what terraform's actions say (a region move,
    # another account's credentials).
    dangers: tuple[str, ...] = ()
    # Why planton refused to go on, when it reports a refusal as an outcome (a plan made under
    # another account's credentials) rather than raising it: the lines of the error.
    refusal: tuple[str, ...] = ()
    # Whoever read planton's stdout or stderr went away while terraform's output was forwarded
    # to it (in any run of this command); terraform ran on regardless.
    output_lost: bool = False
    # A plan that only `apply` without a file can carry out (a saved plan cannot): "region-move"
    # (planton deletes the old table first) or "untaint" (planton's own interrupted create kept).
    applies_without_file: str | None = None

    @property
    def data_loss(self) -> bool:
        """Applying the plan would lose a table or its items, by terraform's actions or planton's judgement."""
        return bool(self.dangers) or (self.summary is not None and self.summary.data_loss)


def _no_step(_label: str) -> AbstractContextManager[Echo | None]:
    return contextlib.nullcontext()


class ShowPlan(Protocol):
    """Shows a plan's summary (None: no plan could be made) and the dangers planton found beyond
    what the summary shows: ``destroy`` for a deletion plan; ``source`` names the manifest."""

    def __call__(
        self, summary: PlanSummary | None, *, destroy: bool, source: str, dangers: Sequence[str] = ()
    ) -> None: ...


def _no_plan(summary: PlanSummary | None, *, destroy: bool, source: str, dangers: Sequence[str] = ()) -> None:
    del summary, destroy, source, dangers


@dataclass(frozen=True)
class Ui:
    """How the core speaks to the person running it, whatever the front end.

    ``step`` wraps each long terraform run (a spinner with the elapsed time, at a terminal);
    what it yields, when not None, receives terraform's output line by line. ``show_plan``
    shows a plan's summary before anything is asked or applied. ``confirm`` asks whether to
    apply, given the warnings shown above the question (to repeat where the person sees them).
    """

    notify: Notify
    warn: Callable[[Sequence[Finding]], None]
    confirm: Callable[[Sequence[Finding]], bool]
    step: Callable[[str], AbstractContextManager[Echo | None]] = _no_step
    show_plan: ShowPlan = _no_plan


@dataclass(frozen=True)
class JudgedPlan:
    """A saved plan, read back with ``show -json``: planton's decision and its summary."""

    decision: Decision
    summary: PlanSummary


# How a Go program that crashed says so on stderr (a panic, a fatal runtime error such as running
# out of memory), and terraform's and tofu's crash banners.
_CRASHED = re.compile(r"^(panic: |fatal error: )|TERRAFORM CRASH|OPENTOFU CRASH", re.MULTILINE)


@dataclass(frozen=True)
class PlanMade:
    """A run of ``plan -out -detailed-exitcode``: its result (a plan made exits 0, whether or not
    it changes anything) and whether terraform said the plan changes something."""

    result: RunResult
    changes: bool


@dataclass(frozen=True)
class RunContext:
    """What a run goes on from: before the state is read, only the prepared run; once init ran
    and the state was read under the workspace lock (``run_tofu``), the prepared run with its
    table and variables as the state decides them and the account they are bound to, the table
    the state records (with what planton remembers of its interrupted create), that interrupted
    create, the account binding, and the replacement planton asks terraform for.

    Frozen: a stage that learns something (an untaint, the old table a region move deleted, the
    account a saved plan binds) goes on from a new context (``Session.advance``)."""

    prepared: PreparedRun
    recorded: RecordedTable | None = None
    interrupted: InterruptedCreate | None = None
    binding: AccountBinding | None = None
    forced_replacement: str | None = None

    def creating_this_table_was_interrupted(self) -> bool:
        """planton's own create of the manifest's table was interrupted here: a taint it left is
        planton's own."""
        interrupted = self.interrupted
        return interrupted is not None and interrupted.table_name == self.prepared.table.table_name


class Session:
    """One command's terraform runs in one workspace, with everything already decided."""

    def __init__(
        self,
        request: TofuRequest,
        prepared: PreparedRun,
        env: Mapping[str, str],
        ui: Ui,
        *,
        records: RecordStore | None = None,
        reviewed: ReviewedPlan | None = None,
    ) -> None:
        self.request = request
        # Before the state is read, only the prepared run.
        self._context = RunContext(prepared)
        self.workspace = prepared.workspace
        self.env = env
        self.ui = ui
        # The state as this command first read it (under the lock), and whether a terraform
        # command that may write the state has run since.
        self.state_read: Mapping[str, Any] | None = None
        self.state_written = False
        # The account whose credentials made the last plan read (the module's
        # data.aws_caller_identity).
        self.caller_account: str | None = None
        # terraform's show -json of the plan this run made and read last (read_plan_file).
        self.last_shown: str | None = None
        self.warnings: list[Finding] = []
        self.output_lost = False
        # The workspace's lock, once run_tofu holds it: every terraform run inherits it.
        self.lock: WorkspaceLock | None = None
        # An interrupted create planton could not write down (its records unreachable).
        self.memory_lost = False
        # What planton remembers of this workspace (saved plans, an interrupted create): beside
        # the state, wherever the backend keeps it.
        self.records: RecordStore = records if records is not None else record_store(prepared, env)
        # apply FILE's saved plan, read and checked against the records before anything is written.
        self.reviewed = reviewed

    @property
    def context(self) -> RunContext:
        """What the run goes on from now."""
        return self._context

    def advance(self, context: RunContext) -> None:
        """Go on from ``context``: a new frozen context a stage decided, replacing the one before
        as a whole (the prepared run's workspace never changes)."""
        if context.prepared.workspace != self.workspace:
            raise ValueError("a run's context never moves to another workspace")
        self._context = context

    @property
    def prepared(self) -> PreparedRun:
        """Everything decided before anything ran, as the run's context has it now."""
        return self._context.prepared

    @property
    def recorded(self) -> RecordedTable | None:
        """The table the state recorded when this command first read it (under the lock), with
        what planton remembers of its interrupted create; None once a region move deleted it."""
        return self._context.recorded

    @property
    def interrupted(self) -> InterruptedCreate | None:
        """planton's own create that was interrupted here, if one is remembered."""
        return self._context.interrupted

    @property
    def binding(self) -> AccountBinding | None:
        """The account every run is bound to (the recorded table's, the interrupted create's, a
        saved plan's or the provider config's)."""
        return self._context.binding

    @property
    def forced_replacement(self) -> str | None:
        """Why planton asks terraform to replace the table, when the provider would plan nothing."""
        return self._context.forced_replacement

    def read_state(self) -> Mapping[str, Any] | None:
        """The state, through the one seam every reader uses: the local backend's file as it is,
        an S3 backend's object as it is (after init, at the bucket, key, region and endpoint
        init configured; read directly, where ``state pull`` would start terraform only to
        fetch it). None when there is no state; ``StateUnreadable`` when there is one that
        cannot be parsed, ``EnvironmentNotReady`` when S3 cannot be read."""
        backend = self.prepared.backend
        if not isinstance(backend, S3Backend):
            return read_local_state(self.workspace.state_path)
        return read_s3_state(S3Location.of_state(backend), self.env)

    def read_state_at_start(self) -> Mapping[str, Any] | None:
        """``read_state``, once everything before terraform's own work has run (init included):
        the state this command starts from, kept for ``outputs``."""
        self.state_read, self.state_written = self.read_state(), False
        return self.state_read

    def pull_state(self, where: str) -> Mapping[str, Any] | None:
        """``state pull``: the state of the backend the workspace was last initialised with
        (``where`` names it, for the message)."""
        pulled = self.invoke("state", "pull", capture=True)
        if pulled.interrupted_by is not None:
            raise self.stopped(pulled, "state pull")
        if pulled.returncode != EXIT_OK:
            said = " ".join(line.strip() for line in pulled.stderr.splitlines() if line.strip())[-600:]
            raise StateUnreadable(
                f"cannot read the state {where}: {self.prepared.binary.name} state pull failed"
                + (f": {said}" if said else "")
            )
        return parse_state(pulled.stdout, where)

    def recorded_now(self) -> RecordedTable | None:
        """The table the state records now (read again: after a terraform run changed it)."""
        return table_in_state(self.read_state())

    def invoke(
        self,
        command: str,
        *extra: str,
        capture: bool = False,
        stdout_to_stderr: bool = False,
        watch_stderr: bool = False,
        auto_approve: bool = False,
        detailed_exitcode: bool = False,
        migrate_state: bool = False,
        reconfigure: bool = False,
    ) -> RunResult:
        deadline, timeout = self.prepared.deadline, self.prepared.timeout
        if deadline is not None and timeout is not None and time.monotonic() >= deadline:
            raise TimedOut(timeout.text, f"terraform {command} was not started; nothing more was run")
        lock_timeout = self.prepared.lock_timeout
        options = CommandOptions(
            auto_approve=auto_approve,
            colour=self.request.colour,
            plugin_dir=self.prepared.plugin_dir,
            detailed_exitcode=detailed_exitcode,
            lock_timeout=lock_timeout.text if lock_timeout else None,
            migrate_state=migrate_state,
            reconfigure=reconfigure,
            extra=extra,
        )
        invocation = Invocation(self.prepared.binary, build_args(command, options), self.workspace.root, self.env)
        to_stderr = stdout_to_stderr or self.request.machine_output
        watch = watch_stderr or command in STARTS_THE_PROVIDER
        # terraform holds the workspace's lock with planton (see Workspace.locked).
        lock = self.lock
        inherit = (lock.descriptor,) if lock is not None else ()
        on_start = lock.terraform_started if lock is not None else None
        if capture:  # show -json, output -json, plan -json: quick, and their stdout is data
            result = run(
                invocation, capture=True, watch_stderr=watch, inherit=inherit, on_start=on_start, deadline=deadline
            )
        else:
            with self.ui.step(f"{self.prepared.binary.name} {command}") as echo:
                result = run(
                    invocation,
                    stdout_to_stderr=to_stderr,
                    watch_stderr=watch,
                    echo=echo,
                    inherit=inherit,
                    on_start=on_start,
                    deadline=deadline,
                )
        self.output_lost = self.output_lost or result.output_lost
        reads_only = command == "state" and extra[:1] == ("pull",)
        self.state_written = self.state_written or (command in WRITES_STATE and not reads_only)
        self._refuse_another_account(command, result, detailed_exitcode=detailed_exitcode)
        return result

    def stopped(self, result: RunResult, command: str) -> Interrupted:
        """The interruption to raise for a terraform run that a signal, or ``--timeout``,
        stopped on the way (a ``show``, a ``state pull``), before the command's own run."""
        timeout = self.prepared.timeout
        if result.timed_out and timeout is not None:
            return TimedOut(timeout.text, f"terraform {command} was interrupted; nothing was changed")
        return Interrupted(result.interrupted_by or signal.SIGINT)

    def _refuse_another_account(self, command: str, result: RunResult, *, detailed_exitcode: bool) -> None:
        """terraform stopped because the provider refused the credentials' account: say which
        accounts, as a refusal. (Bound only by the provider config's account_id, terraform's own
        error stands, as it always has.)"""
        binding = self.binding
        succeeded = result.returncode == EXIT_OK or (detailed_exitcode and result.returncode == DETAILED_CHANGES)
        if succeeded or binding is None or not binding.guards_a_table:
            return
        caller = refused_account(result.stderr)
        if caller is not None:
            raise AccountRefused(binding, caller, command)

    def plan_to_file(self, *, destroy: bool = False) -> PlanMade:
        """``plan -out``, always with ``-detailed-exitcode``: terraform's 2 ("the plan changes
        something") is a plan made like its 0, and says whether there is anything to read back
        (``judge``). A 2 with no plan saved, or with a crash report on stderr, is terraform
        crashing (Go exits 2 on a panic or a fatal runtime error): said, and a failure (1). A plan
        an earlier run left in the workspace (one killed before it could remove it) is removed
        first, so it can never pass for this run's."""
        # Changes the aws provider ignores (it plans nothing) although DynamoDB cannot make them
        # in place: planton asks for the replacement they need, and the guard judges it.
        replace_table = (f"-replace={TABLE_ADDRESS}",) if self.forced_replacement and not destroy else ()
        mode = ("-destroy",) if destroy else ()
        self.workspace.discard_plan()
        self.last_shown = None
        result = self.invoke("plan", f"-out={PLAN_FILE}", *mode, *replace_table, detailed_exitcode=True)
        if result.returncode != DETAILED_CHANGES:
            return PlanMade(result, changes=False)
        if self.workspace.plan_path.exists() and not _CRASHED.search(result.stderr):
            return PlanMade(replace(result, returncode=EXIT_OK), changes=True)
        # terraform saves the plan before it renders it: a crash after that leaves a plan too.
        self.ui.notify("plan: terraform exited with status 2 and crashed (or saved no plan)")
        return PlanMade(replace(result, returncode=EXIT_TERRAFORM_FAILED), changes=False)

    def judge(self, planned: PlanMade) -> JudgedPlan:
        """The plan ``plan_to_file`` made, judged. When terraform said it changes nothing and
        nothing else needs judging (``nothing_to_judge``), that is the decision, unread;
        otherwise it is read back with ``show -json`` and judged."""
        prepared = self.prepared
        if nothing_to_judge(
            terraform_saw_changes=planned.changes,
            recorded=self.recorded,
            table_name=prepared.table.table_name,
            region=prepared.region,
            requested_replacement=self.forced_replacement,
            interrupted=self.interrupted,
        ):
            return JudgedPlan(NO_CHANGES, NO_CHANGES_SUMMARY)
        return self.read_plan_file()

    def credentials_account(self) -> str | None:
        """The AWS account these credentials belong to (the module's data.aws_caller_identity),
        asked of terraform by a plan of that data source alone (no refresh: no table is read),
        or None when terraform cannot say."""
        result = self.invoke("plan", "-json", "-refresh=false", f"-target={CALLER_IDENTITY}", capture=True)
        if result.interrupted_by is not None:
            raise self.stopped(result, "plan")
        if result.returncode == EXIT_OK:
            return caller_account_from_ui(result.stdout)
        # Under -json the provider's refusal (allowed_account_ids) is a message on stdout.
        return refused_account(result.stdout) or None

    def read_plan_file(self, plan: str | Path = PLAN_FILE, *, shown: str | None = None) -> JudgedPlan:
        """``show -json`` of a saved plan, judged; ``shown`` is that document when it was kept
        from the run that saved the plan (``Workspace.keep_shown_plan``), and terraform is not
        asked again. What was read is kept in ``last_shown``."""
        if shown is None:
            result = self.invoke("show", str(plan), capture=True)
            if result.interrupted_by is not None:
                raise self.stopped(result, "show")
            if result.returncode != 0:
                raise PlanUnreadable(f"terraform show -json {plan} failed; nothing was applied")
            shown = result.stdout
        self.last_shown = shown
        report = read_plan(shown)
        self.caller_account = report.account or self.caller_account
        decision = decide(report, self.recorded, self.forced_replacement, self.interrupted)
        return JudgedPlan(decision, report.summary)

    def show(self, judged: JudgedPlan, *, destroy: bool = False) -> None:
        """The plan's summary (with the dangers planton found that it does not show), then
        planton's notes about it."""
        decision = judged.decision
        beyond = () if destroy or judged.summary.data_loss else (*decision.blocked, *decision.dangers)
        self.show_plan(judged.summary, destroy=destroy, dangers=beyond)
        for note in decision.notes:
            self.ui.notify(note)

    def show_plan(self, summary: PlanSummary | None, *, destroy: bool = False, dangers: Sequence[str] = ()) -> None:
        self.ui.show_plan(summary, destroy=destroy, source=str(self.prepared.loaded.manifest.path), dangers=dangers)

    def creating_this_table_was_interrupted(self) -> bool:
        """planton's own create of the manifest's table was interrupted here: a taint it left is
        planton's own."""
        return self._context.creating_this_table_was_interrupted()

    def confirm(self, *what: str) -> bool:
        """Ask whether to apply, with this command's warnings (and ``what`` it does, when the
        plan's summary alone says it) repeated where the question is."""
        return self.ui.confirm((*self.warnings, *notices("what-apply-does", what)))

    def warn(self, findings: Sequence[Finding]) -> None:
        """Say ``findings`` (through the one sink, ``Ui.warn``) and keep them for the outcome."""
        self.warnings.extend(findings)
        self.ui.warn(findings)

    def outputs(self) -> Mapping[str, Any]:
        """The module's outputs, by name, from the state, where ``output -json`` reads them too:
        the state this command read first while no terraform command that writes state has run
        since, else read again (a local file, or one GET of an S3 state's object).
        ``EnvironmentNotReady`` (``StateUnreadable``) when it cannot be read."""
        return outputs_in_state(self.state_read if not self.state_written else self.read_state())

    def terraform_outputs(self) -> tuple[RunResult, Mapping[str, Any] | None]:
        """``output -json``: its run, and the module's outputs as terraform prints them, or None
        when the run failed or printed something else than outputs (``{name: {"value": ...}}``)."""
        shown = self.invoke("output", capture=True)
        if shown.returncode != 0 or shown.interrupted_by is not None:
            return shown, None
        try:
            document = json.loads(shown.stdout or "{}")
        except ValueError:
            return shown, None
        if not isinstance(document, Mapping) or not all(
            isinstance(entry, Mapping) and "value" in entry for entry in document.values()
        ):
            return shown, None
        return shown, output_values(document)

    def outcome(self, command: str, result: RunResult, notes: tuple[str, ...] = (), **fields: Any) -> TofuOutcome:
        errored = self.workspace.root / ERRORED_STATE
        if errored.exists():
            notes = (
                *notes,
                f"terraform could not save the state to {self.prepared.state_location} and left it in {errored}: "
                f"push it before anything else ({self.prepared.binary.name} state push {ERRORED_STATE}, in the "
                "workspace); planton refuses to run here until then",
            )
        return TofuOutcome(
            command,
            result,
            notes,
            warnings=tuple(self.warnings),
            workspace=self.workspace.root,
            state=self.prepared.state_location,
            output_lost=self.output_lost,
            **fields,
        )


def record_store(prepared: PreparedRun, env: Mapping[str, str]) -> RecordStore:
    """Where planton remembers what it must across runs: beside a remote state (so that a plan
    saved on one CI runner applies on another), else in the workspace."""
    backend = prepared.backend
    if isinstance(backend, S3Backend):
        return S3RecordStore(S3Location.of_state(backend), env)
    return LocalRecordStore(prepared.workspace.root)


def interruption_notes(session: Session, command: str, result: RunResult, *, creating: bool = False) -> tuple[str, ...]:
    """What terraform really did when Ctrl-C (or SIGTERM) reached it, read from its exit and the state."""
    if result.interrupted_by is None:
        return ()
    if result.returncode == EXIT_OK and session.request.operation.command != command:
        return (f"interrupted after terraform's {command} finished; nothing was applied",)
    if result.returncode == EXIT_OK:
        return (f"the interruption came as terraform finished: {command} completed",)
    if command in ("plan", "untaint", "import"):
        return (f"interrupted: terraform stopped the {command}; nothing was changed",)
    try:
        recorded = session.recorded_now()
    except StateUnreadable as err:
        return (
            f"interrupted: terraform stopped {command}, and the state it left cannot be read ({err.message}); "
            "check it before anything else runs here",
        )
    table = session.prepared.table.table_name
    if command == "apply" and recorded is not None and recorded.tainted:
        return (
            f"interrupted: terraform stopped while table {recorded.name} was being created; the state records it "
            "as tainted. The next `planton tofu apply` keeps it (planton untaints what its own interrupted apply "
            "left) instead of recreating it",
        )
    if command == "apply" and creating and recorded is None and session.memory_lost:
        return (
            f"interrupted: terraform stopped before the state recorded table {table}; AWS may have created it "
            "anyway, and planton could not remember it (see the warning above). Adopt it if it exists, before "
            f"anything else: {suggest(session.request, session.prepared, 'import')}",
        )
    if command == "apply" and creating and recorded is None:
        return (
            f"interrupted: terraform stopped before the state recorded table {table}; AWS may have created it "
            "anyway. planton remembers it: until it is adopted or known to be gone, an apply that would create "
            f"it again stops at the existing table, and one naming another table or region stops at once. Adopt "
            f"it (or let planton find it gone) with: {suggest(session.request, session.prepared, 'import')}",
        )
    return (
        f"interrupted: terraform stopped {command} and saved its state; `planton tofu plan` shows where things stand",
    )
