"""One tofu/terraform command for one manifest, start to finish.

The data flows one way: manifest (or stack input) -> model -> table definition -> variables +
provider config -> workspace -> runner -> plan JSON -> decision -> apply of exactly that plan.
Everything that can fail for a user's reason (manifest, region, binary, credentials, mirror, a
plan file) is checked before anything is written or started.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from planton import emulator
from planton.credentials import (
    AwsProviderConfig,
    StackInput,
    aws_environment,
    local_provider_config,
    merge_provider_config,
    provider_config_from_environment,
    require_credentials,
)
from planton.environment import base_environment, child_environment
from planton.errors import (
    DETAILED_CHANGES,
    EXIT_OK,
    EXIT_TERRAFORM_FAILED,
    ApplyNotApproved,
    ChangeRefused,
    Interrupted,
    PlantonError,
    UnmanagedTable,
    UsageError,
)
from planton.guards import forced_replacement, lift_dropped_caps, refuse_what_terraform_cannot_do
from planton.manifest.loader import DEFAULT_WAIT_SECONDS
from planton.manifest.normalise import table_from_manifest
from planton.paths import expand_path
from planton.plan import TABLE_ADDRESS, Decision, PlanUnreadable, TableRef, decide, read_plan
from planton.plan_summary import PlanSummary
from planton.region import resolve_region
from planton.render import render_variables, variables_json
from planton.runner import CommandOptions, Echo, Invocation, RunResult, build_args, find_binary, run
from planton.settings import Given, LockTimeout, parse_lock_timeout
from planton.source import LoadedInput, ManifestSource, load_input
from planton.state import RecordedTable, recorded_table
from planton.table import TableDefinition
from planton.workspace import (
    PLAN_FILE,
    SavedPlan,
    Workspace,
    bundled_module,
    init_fingerprint,
    module_files,
    resolve_work_dir,
    target_label,
    validate_plugin_mirror,
    workspace_key,
)

Notify = Callable[[str], None]

PIPE_TIMEOUT_ENV = "PLANTON_PIPE_TIMEOUT"
_MAX_PIPE_TIMEOUT = 3600.0

# Commands that talk to AWS and therefore need credentials (init only installs providers).
_NEEDS_CREDENTIALS = frozenset({"plan", "apply", "destroy", "refresh", "import"})
# Every `planton tofu` command, in the order `--help` lists them.
TOFU_COMMANDS = ("init", "plan", "apply", "destroy", "refresh", "output", "import")
# The commands that ask before they change anything (unless --auto-approve or a plan file).
APPROVABLE_COMMANDS = frozenset({"apply", "destroy"})


@dataclass(frozen=True)
class TofuRequest:
    """A ``planton tofu <command>`` as the user asked for it."""

    command: str
    source: ManifestSource
    local: bool = False
    binary: Given[str] | None = None
    plugin_mirror: Given[Path] | None = None
    work_dir: Given[Path] | None = None
    lock_timeout: Given[str] | None = None
    auto_approve: bool = False
    allow_replace: bool = False
    detailed_exitcode: bool = False
    colour: bool = True
    # plan --out FILE: keep the plan for `apply FILE`; plan --destroy: a plan that deletes.
    plan_out: Path | None = None
    destroy: bool = False
    # apply FILE: apply exactly this saved plan.
    plan_file: Path | None = None
    # Machine output: terraform's text goes to stderr, stdout is left for planton's document.
    machine_output: bool = False
    # False without a terminal to ask at (or in CI): a command that would ask fails at once.
    can_prompt: bool = True


@dataclass(frozen=True)
class PreparedRun:
    """Everything decided before anything is written or run."""

    loaded: LoadedInput
    stack_input: StackInput
    table: TableDefinition
    region: str
    workspace: Workspace
    binary: Path
    plugin_dir: Path | None
    variables: str
    lock_timeout: LockTimeout | None = None
    plan_out: Path | None = None
    plan_file: Path | None = None

    def variables_for(self, table: TableDefinition, region: str) -> str:
        """The variables file for ``table`` in ``region``, with this run's account guard: the
        one way every variables file of a run is rendered."""
        return _variables(table, region, self.stack_input.provider_config.account_id)


def pipe_timeout(environ: Mapping[str, str]) -> float:
    """How long a manifest may take to arrive through a pipe, FIFO or device, in seconds."""
    value = environ.get(PIPE_TIMEOUT_ENV)
    if not value:
        return DEFAULT_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= _MAX_PIPE_TIMEOUT:
        raise UsageError(
            f"{PIPE_TIMEOUT_ENV}: {value!r} is not a number of seconds between 0 and {_MAX_PIPE_TIMEOUT:g}; "
            f"unset it for the default of {DEFAULT_WAIT_SECONDS:g}"
        )
    return seconds


@dataclass(frozen=True)
class Validated:
    """A manifest that passed validation, and what to tell the user about its inputs."""

    loaded: LoadedInput
    table: TableDefinition


def validate_manifest(source: ManifestSource, environ: Mapping[str, str]) -> Validated:
    """Load and validate a manifest (with its stack input and ``--set`` overrides); pure Python,
    no terraform, nothing written."""
    loaded = load_input(source, wait_seconds=pipe_timeout(environ))
    return Validated(loaded, table_from_manifest(loaded.manifest.model))


def render_manifest(source: ManifestSource, environ: Mapping[str, str], *, local: bool = False) -> str:
    """The variables file terraform would get for the manifest (``planton render``): the
    region resolved as a tofu command resolves it; nothing written, nothing run."""
    validated = validate_manifest(source, environ)
    config = merge_provider_config(validated.loaded.provider_config, provider_config_from_environment(environ))
    region = resolve_region(validated.table.aws_region, config.region, local=local)
    return _variables(validated.table, region, None if local else config.account_id)


def _variables(table: TableDefinition, region: str, account_id: str | None) -> str:
    variables = render_variables(table, region)
    if account_id:
        # The provider refuses credentials of any other account (allowed_account_ids).
        variables["allowed_account_ids"] = [account_id]
    return variables_json(variables)


def prepare(request: TofuRequest, environ: Mapping[str, str], home: Path | None, notify: Notify) -> PreparedRun:
    """Check everything and decide every path and value, without side effects except starting
    the local emulator when ``--local`` asks for it (after all other checks passed)."""
    loaded = load_input(request.source, wait_seconds=pipe_timeout(environ))
    manifest = loaded.manifest
    table = table_from_manifest(manifest.model)
    work_dir = resolve_work_dir(
        manifest.path, request.work_dir, environ, manifest_is_file=manifest.regular_file, option=loaded.manifest_option
    )
    binary = find_binary(request.binary, environ)
    plugin_dir = _plugin_mirror(request.plugin_mirror, environ)
    lock_timeout = parse_lock_timeout(request.lock_timeout)
    inputs = [path for path in (manifest.path, request.source.stack_input, request.source.provider_config) if path]
    plan_out = _plan_out(request.plan_out, environ, work_dir, inputs)
    plan_file = _plan_file(request.plan_file, environ)
    for warning in loaded.warnings:
        notify(f"warning: {warning}")

    environment_config = merge_provider_config(loaded.provider_config, provider_config_from_environment(environ))
    if not request.local and request.command in _NEEDS_CREDENTIALS:
        require_credentials(environment_config, environ, home)
    region = resolve_region(table.aws_region, environment_config.region, local=request.local)
    given = loaded.provider_config
    if given is not None and table.aws_region and given.config.region not in (None, table.aws_region):
        notify(f"the manifest's region {table.aws_region} is used, not {given.config.region} from {given.source}")

    config: AwsProviderConfig
    if request.local:
        if loaded.provider_config is not None:
            notify("--local: the provider config's credentials and account are not used; the emulator gets dummy ones")
        running, started = emulator.ensure_running(emulator.state_dir(environ))
        verb = "started" if started else "using"
        notify(f"{verb} the local emulator at {running.endpoint_url} (stop it with: planton local stop)")
        config = local_provider_config(running.endpoint_url, region)
    else:
        config = replace(environment_config, region=region)

    label = target_label(local=request.local, endpoints=config.endpoints)
    workspace = Workspace(work_dir / label / workspace_key(table.identity))
    return PreparedRun(
        loaded=loaded,
        stack_input=StackInput(target=manifest.document, provider_config=config),
        table=table,
        region=region,
        workspace=workspace,
        binary=binary,
        plugin_dir=plugin_dir,
        variables=_variables(table, region, config.account_id),
        lock_timeout=lock_timeout,
        plan_out=plan_out,
        plan_file=plan_file,
    )


def _plan_out(
    requested: Path | None, environ: Mapping[str, str], work_dir: Path, inputs: Sequence[Path]
) -> Path | None:
    """``plan --out FILE``, made absolute and checked before anything runs: a new file, or a plan
    saved there before, in a directory that exists; never a link, a device, one of this run's own
    input files, or anything inside the work dir (where state lives)."""
    if requested is None:
        return None
    path = expand_path(requested, "--out", environ)
    if len(path.parts) > 1 and path.parts[1] in ("dev", "proc", "sys"):
        raise UsageError(f"--out: {path} is under /{path.parts[1]}; save the plan as a file elsewhere")
    if work_dir.absolute() in (path, *path.parents):
        raise UsageError(
            f"--out: {path} is inside planton's work dir {work_dir}, where the state lives; save the plan elsewhere"
        )
    for given in inputs:
        if os.path.lexists(given) and os.path.lexists(path) and os.path.samefile(given, path):
            raise UsageError(f"--out: {path} is {given}, one of this command's own inputs; name another file")
    try:
        mode: int | None = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise UsageError(f"--out: cannot use {path}: {err.strerror or err}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"--out: {path} is a directory; name the plan file to write, such as {path / 'table.tfplan'}")
    if mode is not None and not stat.S_ISREG(mode):
        raise UsageError(f"--out: {path} exists and is not a regular file (a link, FIFO or device); name another file")
    if mode is not None and not _is_a_saved_plan(path):
        raise UsageError(
            f"--out: {path} exists and is not a saved plan; planton replaces only a plan there. Name a new file, "
            "or remove it first"
        )
    if not path.parent.is_dir():
        raise UsageError(f"--out: {path.parent} is not a directory; create it first, or save the plan elsewhere")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"--out: {path.parent} is not writable; save the plan elsewhere")
    return path


def _is_a_saved_plan(path: Path) -> bool:
    """A terraform/tofu plan file: a zip archive holding ``tfplan``."""
    try:
        with zipfile.ZipFile(path) as archive:
            return "tfplan" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _plan_file(requested: Path | None, environ: Mapping[str, str]) -> Path | None:
    """``apply FILE``: a saved plan that exists and is a regular file."""
    if requested is None:
        return None
    path = expand_path(requested, "PLAN_FILE", environ)
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a file"
        raise UsageError(
            f"PLAN_FILE: {path} {what}; save one with `planton tofu plan --out FILE`, or leave it out to plan "
            "and apply in one go"
        )
    return path


# Far more than a plan of one table holds (some 100 KiB); a bound for a path such as /proc/kmsg.
_MAX_PLAN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ReviewedPlan:
    """``apply FILE``'s plan, read once: these bytes are hashed, judged and applied, so a file
    swapped in between can never be applied unjudged."""

    path: Path
    content: bytes = field(repr=False)
    digest: str
    saved: SavedPlan


def _reviewed_plan(path: Path, workspace: Workspace, again: str) -> ReviewedPlan:
    """The plan at ``path``, if ``plan --out`` saved it for ``workspace`` and it was not applied
    yet; only read, so a refusal writes nothing."""
    try:
        with open(path, "rb") as handle:
            content = handle.read(_MAX_PLAN_BYTES + 1)
    except OSError as err:
        raise UsageError(f"PLAN_FILE: cannot read {path}: {err.strerror or err}") from None
    digest = hashlib.sha256(content).hexdigest()
    saved = workspace.saved_plan(digest) if len(content) <= _MAX_PLAN_BYTES else None
    if saved is None:
        raise UsageError(
            f"{path} was not saved by `planton tofu plan --out` for this manifest's workspace ({workspace.root}); "
            "nothing was applied. A plan applies only with the manifest and target (--local, --work-dir, endpoint) "
            f"it was made for; to plan for these: {again}"
        )
    if saved.applied is not None:
        raise StalePlan(f"{path} was applied already; nothing was applied. Plan again: {again}")
    return ReviewedPlan(path, content, digest, saved)


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
    warnings: tuple[str, ...] = ()
    # The module's outputs, by name: after a successful apply, and for `output`.
    outputs: Mapping[str, Any] | None = None
    # Where `plan --out` saved the plan.
    plan_saved: Path | None = None
    workspace: Path | None = None
    # What planton judged would lose a table, beyond what terraform's actions say (a region move).
    dangers: tuple[str, ...] = ()

    @property
    def data_loss(self) -> bool:
        """Applying the plan would lose a table or its items, by terraform's actions or planton's judgement."""
        return bool(self.dangers) or (self.summary is not None and self.summary.data_loss)


def _no_step(_label: str) -> AbstractContextManager[Echo | None]:
    return contextlib.nullcontext()


class ShowPlan(Protocol):
    """Shows a plan's summary: ``destroy`` for a deletion plan; ``source`` names the manifest."""

    def __call__(self, summary: PlanSummary, *, destroy: bool, source: str) -> None: ...


def _no_plan(summary: PlanSummary, *, destroy: bool, source: str) -> None:
    del summary, destroy, source


@dataclass(frozen=True)
class Ui:
    """How the core speaks to the person running it, whatever the front end.

    ``step`` wraps each long terraform run (a spinner with the elapsed time, at a terminal);
    what it yields, when not None, receives terraform's output line by line. ``show_plan``
    shows a plan's summary before anything is asked or applied.
    """

    notify: Notify
    warn: Callable[[Sequence[str]], None]
    confirm: Callable[[], bool]
    step: Callable[[str], AbstractContextManager[Echo | None]] = _no_step
    show_plan: ShowPlan = _no_plan


@dataclass(frozen=True)
class JudgedPlan:
    """A saved plan, read back with ``show -json``: planton's decision and its summary."""

    decision: Decision
    summary: PlanSummary


class _Session:
    """One command's terraform runs in one workspace, with everything already decided."""

    def __init__(self, request: TofuRequest, prepared: PreparedRun, env: Mapping[str, str], ui: Ui) -> None:
        self.request = request
        self.prepared = prepared
        self.workspace = prepared.workspace
        self.env = env
        self.ui = ui
        # What the state held before this command ran anything (read under the lock).
        self.recorded: RecordedTable | None = None
        self.forced_replacement: str | None = None
        self.warnings: list[str] = []

    def invoke(
        self,
        command: str,
        *extra: str,
        capture: bool = False,
        stdout_to_stderr: bool = False,
        watch_stderr: bool = False,
        auto_approve: bool = False,
        detailed_exitcode: bool = False,
    ) -> RunResult:
        lock_timeout = self.prepared.lock_timeout
        options = CommandOptions(
            auto_approve=auto_approve,
            colour=self.request.colour,
            plugin_dir=self.prepared.plugin_dir,
            detailed_exitcode=detailed_exitcode,
            lock_timeout=lock_timeout.text if lock_timeout else None,
            extra=extra,
        )
        invocation = Invocation(self.prepared.binary, build_args(command, options), self.workspace.root, self.env)
        to_stderr = stdout_to_stderr or self.request.machine_output
        if capture:  # show -json and output -json: quick, and their stdout is data
            return run(invocation, capture=True, watch_stderr=watch_stderr)
        with self.ui.step(f"{self.prepared.binary.name} {command}") as echo:
            return run(invocation, stdout_to_stderr=to_stderr, watch_stderr=watch_stderr, echo=echo)

    def plan_to_file(self, *, detailed_exitcode: bool = False, destroy: bool = False) -> RunResult:
        # Changes the aws provider ignores (it plans nothing) although DynamoDB cannot make them
        # in place: planton asks for the replacement they need, and the guard judges it.
        replace_table = (f"-replace={TABLE_ADDRESS}",) if self.forced_replacement and not destroy else ()
        mode = ("-destroy",) if destroy else ()
        return self.invoke("plan", f"-out={PLAN_FILE}", *mode, *replace_table, detailed_exitcode=detailed_exitcode)

    def read_plan_file(self, plan: str | Path = PLAN_FILE) -> JudgedPlan:
        """``show -json`` of a saved plan, judged."""
        shown = self.invoke("show", str(plan), capture=True)
        if shown.interrupted_by is not None:
            raise Interrupted(shown.interrupted_by)
        if shown.returncode != 0:
            raise PlanUnreadable(f"terraform show -json {plan} failed; nothing was applied")
        report = read_plan(shown.stdout)
        return JudgedPlan(decide(report, self.recorded, self.forced_replacement), report.summary)

    def show(self, judged: JudgedPlan, *, destroy: bool = False) -> None:
        """The plan's summary, then planton's notes about it."""
        self.ui.show_plan(judged.summary, destroy=destroy, source=str(self.prepared.loaded.manifest.path))
        for note in judged.decision.notes:
            self.ui.notify(note)

    def warn(self, lines: Sequence[str]) -> None:
        self.warnings.extend(lines)
        self.ui.warn(lines)

    def outputs(self) -> Mapping[str, Any] | None:
        """The module's outputs, by name (``output -json``), or None when terraform cannot say."""
        shown = self.invoke("output", capture=True)
        if shown.returncode != 0 or shown.interrupted_by is not None:
            return None
        try:
            document = json.loads(shown.stdout or "{}")
        except ValueError:
            return None
        if not isinstance(document, Mapping):
            return None
        return {
            str(name): entry.get("value")
            for name, entry in document.items()
            if isinstance(entry, Mapping) and "value" in entry
        }

    def outcome(self, command: str, result: RunResult, notes: tuple[str, ...] = (), **fields: Any) -> TofuOutcome:
        return TofuOutcome(
            command,
            result,
            notes,
            warnings=tuple(self.warnings),
            workspace=self.workspace.root,
            **fields,
        )


def run_tofu(request: TofuRequest, environ: Mapping[str, str], home: Path | None, ui: Ui) -> TofuOutcome:
    """Run ``request.command`` for the manifest; init first when the workspace needs it."""
    if request.command not in TOFU_COMMANDS:
        raise ValueError(f"unknown tofu command {request.command!r}")
    _refuse_a_question_nobody_can_answer(request)
    if request.plan_file is not None and request.source.overrides:
        raise UsageError(
            "--set cannot change a saved plan: it is applied exactly as it was reviewed. Plan again with the "
            "override (`planton tofu plan --set ... --out FILE`), then apply that plan"
        )
    notify = ui.notify
    prepared = prepare(request, environ, home, notify)
    # Before anything is written: a plan this workspace never saved is refused as it is.
    reviewed = (
        _reviewed_plan(prepared.plan_file, prepared.workspace, _suggest(request, prepared, "plan", "--out", "FILE"))
        if prepared.plan_file is not None
        else None
    )
    base, warnings = base_environment(environ)
    for warning in warnings:
        notify(warning)
    env = child_environment(base, aws_environment(prepared.stack_input.provider_config, environ, local=request.local))
    # Trims terraform's hints to run terraform itself ("terraform apply planton.tfplan"), which
    # would bypass planton's checks.
    env["TF_IN_AUTOMATION"] = "1"
    session = _Session(request, prepared, env, ui)
    session.warnings.extend(prepared.loaded.warnings)
    workspace = prepared.workspace
    notify(f"workspace {workspace.root}")
    notify(f"state {workspace.state_path}")

    timeout = prepared.lock_timeout.seconds if prepared.lock_timeout else 0.0
    with workspace.locked(timeout):
        recorded = _recorded_with_region(workspace, recorded_table(workspace.state_path))
        source = str(prepared.loaded.manifest.path)
        if request.command in ("plan", "apply") and prepared.plan_file is None and not request.destroy:
            refuse_what_terraform_cannot_do(recorded, prepared.table, prepared.region, source)
        lifted = lift_dropped_caps(recorded, prepared.table)
        if lifted is not prepared.table:
            prepared = replace(prepared, table=lifted, variables=prepared.variables_for(lifted, prepared.region))
            session.prepared = prepared
        module = module_files(bundled_module())
        workspace.prepare(module, prepared.variables)
        fingerprint = init_fingerprint(module, prepared.binary)
        if request.command == "init" or workspace.needs_init(fingerprint):
            if request.command != "init":
                notify(f"initialising the workspace ({prepared.binary.name} init)")
            # An automatic init must not mix its text into the command's stdout (output's data).
            result = session.invoke("init", stdout_to_stderr=request.command != "init")
            if result.exit_code != 0 or result.interrupted_by is not None:
                return session.outcome("init", result, _interruption_notes(session, "init", result))
            workspace.mark_initialised(fingerprint)
            if request.command == "init":
                return session.outcome("init", result)
        session.recorded = recorded
        session.forced_replacement = forced_replacement(session.recorded, prepared.table)
        if request.command in ("refresh", "destroy") or (request.command == "plan" and request.destroy):
            _refuse_another_table(session)
        if request.command == "apply":
            return _apply(session) if reviewed is None else _apply_saved(session, reviewed)
        if request.command == "plan":
            return _plan(session)
        if request.command == "import":
            return _import(session)
        if request.command == "destroy":
            return _destroy(session)
        if request.command == "output":
            return _output(session)
        result = session.invoke(request.command)
        return session.outcome(request.command, result, _interruption_notes(session, request.command, result))


def _refuse_a_question_nobody_can_answer(request: TofuRequest) -> None:
    """Without a terminal (or in CI) nobody can answer "apply?": fail at once, before anything
    is read, written or run, rather than plan and then stop."""
    if request.command not in APPROVABLE_COMMANDS or request.can_prompt:
        return
    if request.auto_approve or request.plan_file is not None:
        return
    way = (
        "add --auto-approve, or apply a reviewed plan: `planton tofu plan --out FILE`, then `planton tofu apply FILE`"
        if request.command == "apply"
        else "add --auto-approve"
    )
    raise UsageError(
        f"{request.command} asks for confirmation, and there is no terminal to ask at (stdin is not a terminal, "
        f"or CI is set); nothing was run. {way[0].upper()}{way[1:]}"
    )


def _output(session: _Session) -> TofuOutcome:
    outputs = session.outputs()
    if outputs is None:
        # Run it again in the open, so that terraform's own error is shown.
        result = session.invoke("output", stdout_to_stderr=True)
        code = result.returncode or EXIT_TERRAFORM_FAILED
        return session.outcome(
            "output", replace(result, returncode=code), _interruption_notes(session, "output", result)
        )
    return session.outcome("output", RunResult(EXIT_OK), outputs=outputs)


def _plan(session: _Session) -> TofuOutcome:
    """terraform's plan, its summary, and planton's warning when applying it would lose a
    table; with ``--out`` the plan is kept for ``apply FILE``."""
    request, workspace, prepared = session.request, session.workspace, session.prepared
    destroy = request.destroy
    saved: Path | None = None
    try:
        result = session.plan_to_file(detailed_exitcode=request.detailed_exitcode, destroy=destroy)
        if result.interrupted_by is not None or result.returncode not in (EXIT_OK, DETAILED_CHANGES):
            return session.outcome("plan", result, _interruption_notes(session, "plan", result))
        judged = session.read_plan_file()
        if prepared.plan_out is not None:
            saved = _save_plan(workspace, prepared.plan_out, destroy=destroy)
    finally:
        workspace.discard_plan()
    decision = judged.decision
    session.show(judged, destroy=destroy)
    if decision.moved_from is not None and result.returncode == EXIT_OK and request.detailed_exitcode:
        # terraform saw nothing to do in the new region, but applying would delete the old table.
        result = replace(result, returncode=DETAILED_CHANGES)
    if destroy:
        pass  # the summary shows the deletion for what it is; destroying is what was asked for
    elif decision.blocked:
        session.warn([*decision.blocked, "`planton tofu apply` refuses this, whatever the answer"])
    elif decision.dangerous:
        ours = decision.tainted_only and workspace.interrupted_apply() == prepared.table.table_name
        if ours:
            session.ui.notify(
                "the taint was left by planton's own interrupted apply: `planton tofu apply` keeps the table "
                "(untaints it) instead of replacing it"
            )
        elif decision.moved_from is not None:
            session.warn(
                [
                    *decision.dangers,
                    "`planton tofu apply` asks before doing this (under --auto-approve it refuses unless "
                    "--allow-replace is given); a saved plan cannot make this move: apply it directly",
                ]
            )
        else:
            session.warn(
                [
                    *decision.dangers,
                    "`planton tofu apply` asks before doing this; under --auto-approve, or applying a saved plan, "
                    "it refuses unless --allow-replace is given",
                ]
            )
    if saved is not None:
        applying = _suggest(request, prepared, "apply", str(saved), overrides=False)
        session.ui.notify(f"saved the plan to {saved}; apply exactly it with: {applying}")
    return session.outcome(
        "plan",
        result,
        _interruption_notes(session, "plan", result),
        summary=judged.summary,
        plan_saved=saved,
        dangers=() if destroy else decision.dangers,
    )


def _save_plan(workspace: Workspace, target: Path, *, destroy: bool) -> Path:
    """Copy the workspace's plan to ``target`` (private: a plan holds the variables in clear
    text) and record it, so that only this workspace applies it."""
    temporary: str | None = None
    try:
        digest = hashlib.sha256(workspace.plan_path.read_bytes()).hexdigest()
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        os.close(handle)
        shutil.copyfile(workspace.plan_path, temporary)
        os.chmod(temporary, 0o600)
        os.replace(temporary, target)
    except OSError as err:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"--out: the plan was made but cannot be saved to {target}: {err.strerror or err}") from None
    workspace.record_saved_plan(digest, destroy=destroy)
    return target


def _apply(session: _Session) -> TofuOutcome:
    """Plan to a file, judge it, ask (or refuse), then apply exactly that plan."""
    request, workspace, ui = session.request, session.workspace, session.ui
    try:
        planned = _plan_for_apply(session)
        if isinstance(planned, TofuOutcome):
            return planned
        judged = planned
        decision = judged.decision
        session.show(judged)
        if not decision.changes:
            ui.notify("no changes: the table matches the manifest; nothing to apply")
            return session.outcome("plan", RunResult(EXIT_OK), summary=judged.summary, outputs=session.outputs())
        if decision.blocked:
            raise UnmanagedTable("\n".join(decision.blocked))
        _refuse_deleting_a_protected_table(session, decision)
        if decision.dangerous:
            if request.auto_approve and not request.allow_replace:
                raise ChangeRefused(
                    "\n".join(
                        [
                            "refused under --auto-approve: applying this plan would lose a table",
                            *decision.dangers,
                            "nothing was changed; rerun with --allow-replace if that is what you want "
                            "(or without --auto-approve, to be asked)",
                        ]
                    )
                )
            session.warn(decision.dangers)
        if not request.auto_approve and not ui.confirm():
            raise ApplyNotApproved("apply cancelled: the answer was not 'yes'; nothing was changed")
        agreed_loss = decision.dangerous  # what the user agreed to may have run by the time apply fails
        if decision.moved_from is not None:
            moved = _destroy_left_behind(session, decision.moved_from)
            if isinstance(moved, TofuOutcome):
                return moved
            decision = moved.decision
        creates = decision.creates_table
        result = session.invoke("apply", PLAN_FILE, watch_stderr=True)
    finally:
        workspace.discard_plan()
    _after_apply(session, result, creates=creates, agreed_loss=agreed_loss)
    outputs = session.outputs() if result.returncode == EXIT_OK else None
    return session.outcome(
        "apply",
        result,
        _interruption_notes(session, "apply", result, creating=creates),
        summary=judged.summary,
        outputs=outputs,
        dangers=judged.decision.dangers,
    )


def _after_apply(session: _Session, result: RunResult, *, creates: bool, agreed_loss: bool) -> None:
    """What an apply's end tells planton to remember, or to refuse to go on with."""
    workspace, table = session.workspace, session.prepared.table
    if result.interrupted_by is not None and result.returncode != 0 and creates:
        # Only a create can leave the taint planton may later undo as its own.
        workspace.record_interrupted_apply(table.table_name, session.prepared.region)
    elif result.returncode == 0:
        workspace.clear_interrupted_apply()
    if result.returncode != 0 and result.interrupted_by is None and creates and _already_exists(result.stderr):
        _refuse_a_table_managed_elsewhere(session)
        done = "the agreed deletion ran, but nothing was created" if agreed_loss else "nothing was changed"
        raise UnmanagedTable(
            f"table {table.table_name} already exists in {session.prepared.region}, but this workspace's state "
            "does not record it (a create that was interrupted, a table made outside planton, or one another "
            f"planton manifest elsewhere manages: check before adopting it); {done}. Adopt it with: "
            f"{_suggest(session.request, session.prepared, 'import')}"
        )


def _refuse_deleting_a_protected_table(session: _Session, decision: Decision) -> None:
    """A plan that deletes a table the state records as deletion-protected: AWS would refuse the
    deletion half-way; say so before anything runs."""
    recorded = session.recorded
    if decision.dangerous and recorded is not None and recorded.deletion_protection:
        raise ChangeRefused(
            "\n".join(
                [
                    f"table {recorded.name} has deletion protection on, and this plan deletes it:",
                    *decision.dangers,
                    "nothing was changed. To go ahead, first turn protection off in the manifest "
                    "(spec.deletionProtectionEnabled / deletion_protection_enabled: false) and apply that "
                    "alone, then apply the change",
                ]
            )
        )


def _refuse_destroying_a_protected_table(session: _Session) -> None:
    recorded = session.recorded
    if recorded is not None and recorded.deletion_protection:
        raise ChangeRefused(_protected(recorded.name, "nothing was deleted"))


def _protected(name: str, what: str) -> str:
    return (
        f"table {name} has deletion protection on; {what}. To delete it, first turn protection off in the "
        "manifest (spec.deletionProtectionEnabled / deletion_protection_enabled: false) and run "
        "`planton tofu apply`, then destroy"
    )


class StalePlan(PlantonError):
    """A saved plan cannot be applied: the state moved on since it was made; nothing applied."""

    exit_code = EXIT_TERRAFORM_FAILED


# What terraform (and tofu) say when a saved plan no longer fits the state.
_STALE_MARKERS = ("Saved plan is stale", "Saved plan does not match the given state")


def _apply_saved(session: _Session, reviewed: ReviewedPlan) -> TofuOutcome:
    """``apply FILE``: exactly the plan that was reviewed, without planning again and without a
    question (saving it was the review). Its bytes, read once, go to the workspace's private plan
    file, and that copy is judged and applied. What would lose a table is refused unless
    ``--allow-replace``, as under ``--auto-approve``; a ``plan --destroy`` plan is the deletion
    asked for, and only a deletion-protected table stops it."""
    workspace, prepared, request = session.workspace, session.prepared, session.request
    plan_file = reviewed.path
    again = _suggest(request, prepared, "plan", "--out", "FILE")
    # Checked again under the lock: another command may have applied it since it was read.
    if (workspace.saved_plan(reviewed.digest) or reviewed.saved).applied is not None:
        raise StalePlan(f"{plan_file} was applied already; nothing was applied. Plan again: {again}")
    try:
        workspace.write_plan(reviewed.content)
        judged = session.read_plan_file()
        decision = judged.decision
        session.show(judged, destroy=reviewed.saved.destroy)
        if decision.blocked:
            raise UnmanagedTable("\n".join(decision.blocked))
        if reviewed.saved.destroy:
            _refuse_destroying_a_protected_table(session)
        else:
            _refuse_what_a_saved_plan_cannot_do(session, judged, plan_file)
        creates = decision.creates_table
        result = session.invoke("apply", PLAN_FILE, watch_stderr=True)
    finally:
        workspace.discard_plan()
    if (
        result.returncode != EXIT_OK
        and result.interrupted_by is None
        and any(marker in result.stderr for marker in _STALE_MARKERS)
    ):
        raise StalePlan(
            f"{plan_file} is stale: the state changed after the plan was made (another apply, destroy, refresh or "
            f"import ran); nothing was applied. Review a new plan: {again}"
        )
    if result.returncode == EXIT_OK or result.interrupted_by is not None:
        workspace.mark_plan_applied(reviewed.digest)
    if reviewed.saved.destroy:
        return _after_destroy(session, result, judged)
    _after_apply(session, result, creates=creates, agreed_loss=decision.dangerous)
    outputs = session.outputs() if result.returncode == EXIT_OK else None
    return session.outcome(
        "apply",
        result,
        _interruption_notes(session, "apply", result, creating=creates),
        summary=judged.summary,
        outputs=outputs,
        dangers=decision.dangers,
    )


def _refuse_what_a_saved_plan_cannot_do(session: _Session, judged: JudgedPlan, plan_file: Path) -> None:
    """A saved plan is applied as it is: a region move (planton deletes the old table first)
    and the untaint of planton's own interrupted create are for ``apply`` without a file; a
    plan that loses a table needs ``--allow-replace``."""
    prepared, decision = session.prepared, judged.decision
    _refuse_deleting_a_protected_table(session, decision)
    apply_directly = _suggest(session.request, prepared, "apply", overrides=False)
    if decision.moved_from is not None:
        raise ChangeRefused(
            f"{plan_file} moves the table to another region; planton deletes the old table first, which a saved "
            f"plan cannot hold. Nothing was changed; apply the move with: {apply_directly}"
        )
    if decision.tainted_only and session.workspace.interrupted_apply() == prepared.table.table_name:
        raise ChangeRefused(
            f"{plan_file} replaces table {prepared.table.table_name} only because planton's own apply was "
            f"interrupted while creating it; nothing was changed. `{apply_directly}` keeps the table instead "
            "(it untaints it); plan again after that"
        )
    if decision.dangerous and not session.request.allow_replace:
        raise ChangeRefused(
            "\n".join(
                [
                    f"refused: applying {plan_file} would lose a table",
                    *decision.dangers,
                    "nothing was changed; add --allow-replace if that is what you want",
                ]
            )
        )


def _suggest(request: TofuRequest, prepared: PreparedRun, command: str, *extra: str, overrides: bool = True) -> str:
    """A command to run next, with the options that found this workspace: the inputs, the
    overrides (unless ``overrides`` is False), and --local, --work-dir and --binary where they
    were given as flags (their environment variables stay set by themselves)."""
    args = ["planton", "tofu", command, *prepared.loaded.input_args]
    if overrides:
        args += prepared.loaded.override_args
    if request.local:
        args.append("--local")
    for given, flag in ((request.work_dir, "--work-dir"), (request.binary, "--binary")):
        if given is not None and given.source == flag:
            args += [flag, str(given.value)]
    return shlex.join([*args, *extra])


def _destroy(session: _Session) -> TofuOutcome:
    """Delete the table. Asked for: plan the deletion, show it, ask, then apply exactly that
    plan. Under --auto-approve, terraform's own destroy (which lists what it deletes): nobody
    reads a summary before it, and a plan and its reading would cost two more provider starts.
    A table the state records as deletion-protected is refused before terraform starts."""
    _refuse_destroying_a_protected_table(session)
    if session.request.auto_approve:
        return _after_destroy(session, session.invoke("destroy", auto_approve=True, watch_stderr=True), None)
    workspace, ui = session.workspace, session.ui
    try:
        planned = session.plan_to_file(destroy=True)
        if planned.interrupted_by is not None or planned.returncode != EXIT_OK:
            return session.outcome("plan", planned, _interruption_notes(session, "plan", planned), finished=False)
        judged = session.read_plan_file()
        session.show(judged, destroy=True)
        if not judged.decision.changes:
            ui.notify("nothing to destroy: the state records no table")
            return session.outcome("plan", RunResult(EXIT_OK), summary=judged.summary)
        if not ui.confirm():
            raise ApplyNotApproved("destroy cancelled: the answer was not 'yes'; nothing was deleted")
        result = session.invoke("apply", PLAN_FILE, watch_stderr=True)
    finally:
        workspace.discard_plan()
    return _after_destroy(session, result, judged)


def _after_destroy(session: _Session, result: RunResult, judged: JudgedPlan | None) -> TofuOutcome:
    """When DeleteTable answers that the table is already gone (a retried request whose first
    attempt did delete it, or a deletion elsewhere in between), the table is where the user
    wants it; one more destroy records that in the state."""
    if result.returncode != EXIT_OK and result.interrupted_by is None and _already_gone(result.stderr):
        session.ui.notify("the table was already gone when terraform deleted it; destroying again to record that")
        result = session.invoke("destroy", auto_approve=True, watch_stderr=True)
    notes = _interruption_notes(session, "destroy", result)
    if result.returncode != EXIT_OK and "DeletionProtectionEnabled is set to True" in result.stderr:
        # Turned on outside planton since the state last looked.
        notes = (*notes, _protected(session.prepared.table.table_name, "AWS refused the deletion"))
    return session.outcome("destroy", result, notes, summary=judged.summary if judged else None)


def _plan_for_apply(session: _Session) -> JudgedPlan | TofuOutcome:
    """The saved plan's decision; a taint planton's own interrupted apply left is undone first
    (the table exists: the plan's refresh just read it), so that the table is kept, not replaced."""
    workspace, table = session.workspace, session.prepared.table
    for _ in range(2):
        result = session.plan_to_file()
        if result.interrupted_by is not None or result.returncode != EXIT_OK:
            return session.outcome("plan", result, _interruption_notes(session, "plan", result), finished=False)
        judged = session.read_plan_file()
        if not (judged.decision.tainted_only and workspace.interrupted_apply() == table.table_name):
            return judged
        untainted = session.invoke("untaint", TABLE_ADDRESS)
        if untainted.interrupted_by is not None or untainted.returncode != EXIT_OK:
            return session.outcome(
                "untaint", untainted, _interruption_notes(session, "untaint", untainted), finished=False
            )
        session.ui.notify(
            f"table {table.table_name} was left tainted by planton's own interrupted apply; it exists, so "
            "planton untainted it instead of replacing it (and its items)"
        )
        workspace.clear_interrupted_apply()
    return judged


def _destroy_left_behind(session: _Session, old: TableRef) -> JudgedPlan | TofuOutcome:
    """After agreement: delete the table a region change leaves behind, in its own region, then
    plan again; the new plan must be a plain create."""
    workspace, prepared = session.workspace, session.prepared
    session.ui.notify(f"deleting table {old} first, as agreed: the manifest moved it to {prepared.region}")
    old_table = replace(prepared.table, table_name=old.name)
    workspace.write_variables(prepared.variables_for(old_table, old.region or prepared.region))
    try:
        destroyed = session.invoke("destroy", auto_approve=True)
    finally:
        workspace.write_variables(prepared.variables)
    if destroyed.interrupted_by is not None or destroyed.returncode != EXIT_OK:
        return session.outcome("destroy", destroyed, _interruption_notes(session, "destroy", destroyed), finished=False)
    # The state no longer holds the old table: the next plan is judged on its own.
    session.recorded = None
    replanned = _plan_for_apply(session)
    if isinstance(replanned, JudgedPlan) and replanned.decision.dangerous:
        raise ChangeRefused(
            "\n".join(["after deleting the old table the plan still would lose one:", *replanned.decision.dangers])
        )
    return replanned


def _already_gone(stderr: str) -> bool:
    return "DeleteTable" in stderr and "ResourceNotFoundException" in stderr


def _import(session: _Session) -> TofuOutcome:
    """Adopt the manifest's existing table into this workspace's state."""
    table = session.prepared.table
    _refuse_a_table_managed_elsewhere(session)
    ours = session.workspace.interrupted_apply() == table.table_name
    result = session.invoke("import", TABLE_ADDRESS, table.table_name)
    if result.returncode == EXIT_OK and result.interrupted_by is None:
        adopted = recorded_table(session.workspace.state_path)
        if adopted is not None and adopted.managed_by_planton and not ours:
            session.ui.warn(
                [
                    f"table {table.table_name} carries the tag ManagedBy=planton, and this workspace did not create "
                    "it: another planton manifest (another folder, work dir or endpoint) may manage it. If one does, "
                    "two manifests now manage one table, and destroy from either deletes it for both: remove it "
                    "from this state (terraform state rm aws_dynamodb_table.this, in the workspace above) unless "
                    "this manifest is that one, moved"
                ]
            )
        session.workspace.clear_interrupted_apply()
        session.ui.notify(
            f"table {table.table_name} is now managed here; `planton tofu plan` shows how it differs from the manifest"
        )
    return session.outcome("import", result, _interruption_notes(session, "import", result))


def _recorded_with_region(workspace: Workspace, recorded: RecordedTable | None) -> RecordedTable | None:
    """The state's table, with its region: a table whose create was interrupted is recorded
    without an ARN, so its region comes from what planton remembered of that create."""
    if recorded is None or recorded.region is not None:
        return recorded
    if workspace.interrupted_apply() == recorded.name:
        return replace(recorded, region=workspace.interrupted_apply_region())
    return recorded


def _refuse_another_table(session: _Session) -> None:
    """refresh and destroy act on the table the state holds: refuse when the manifest names
    another (a renamed table, a region change, or a second manifest sharing the workspace)."""
    recorded, table, region = session.recorded, session.prepared.table, session.prepared.region
    if recorded is None:
        return
    same_name = recorded.name == table.table_name
    same_region = recorded.region is None or recorded.region == region
    if same_name and same_region:
        return
    held = f"{recorded.name} in {recorded.region}" if recorded.region else recorded.name
    command = session.request.command
    if command != "destroy":
        effect = "would drop it from the state"
    elif same_name:  # only the region differs: terraform finds nothing there to delete
        effect = "would delete nothing and forget it"
    else:
        effect = "would delete it"
    raise ChangeRefused(
        "\n".join(
            [
                f"refused: this workspace's state holds table {held}, but the manifest names {table.table_name} in "
                f"{region}; {command} {effect}. Nothing was changed",
                "to act on the recorded table, point the manifest back at it (spec.table_name, spec.aws_region); "
                "`planton tofu apply` moves or renames it (it asks first); if this manifest describes a different "
                "table, give it its own metadata.name or metadata.id",
            ]
        )
    )


def _refuse_a_table_managed_elsewhere(session: _Session) -> None:
    """Another workspace beside this one (another manifest) records the same table: adopting it
    here would let two manifests fight over it, and destroy it from either."""
    table, region = session.prepared.table.table_name, session.prepared.region
    here = session.workspace.root
    try:
        siblings = [path for path in here.parent.iterdir() if path.is_dir() and path != here]
    except OSError:
        return
    for other in sorted(siblings):
        recorded = recorded_table(other / "terraform.tfstate")
        if recorded is not None and recorded.name == table and recorded.region in (None, region):
            raise UnmanagedTable(
                f"table {table} in {region} is already managed by another planton workspace, {other}; nothing was "
                "changed. Two manifests must never manage one table: if that workspace is another manifest's, give "
                "this one its own spec.table_name, or use that manifest; if it is this manifest's own from before "
                "its metadata.name, org, env or id changed, change them back (workspaces are keyed by them)"
            )


def _already_exists(stderr: str) -> bool:
    return "ResourceInUseException" in stderr or "Table already exists" in stderr


def _interruption_notes(
    session: _Session, command: str, result: RunResult, *, creating: bool = False
) -> tuple[str, ...]:
    """What terraform really did when Ctrl-C (or SIGTERM) reached it, read from its exit and the state."""
    if result.interrupted_by is None:
        return ()
    if result.returncode == EXIT_OK and session.request.command != command:
        return (f"interrupted after terraform's {command} finished; nothing was applied",)
    if result.returncode == EXIT_OK:
        return (f"the interruption came as terraform finished: {command} completed",)
    if command in ("plan", "untaint", "import"):
        return (f"interrupted: terraform stopped the {command}; nothing was changed",)
    recorded = recorded_table(session.workspace.state_path)
    table = session.prepared.table.table_name
    if command == "apply" and recorded is not None and recorded.tainted:
        return (
            f"interrupted: terraform stopped while table {recorded.name} was being created; the state records it "
            "as tainted. The next `planton tofu apply` keeps it (planton untaints what its own interrupted apply "
            "left) instead of recreating it",
        )
    if command == "apply" and creating and recorded is None:
        return (
            f"interrupted: terraform stopped before the state recorded table {table}. If AWS created it anyway, "
            f"the next apply stops and says so; adopt it with: {_suggest(session.request, session.prepared, 'import')}",
        )
    return (
        f"interrupted: terraform stopped {command} and saved its state; `planton tofu plan` shows where things stand",
    )


def tofu_exit_code(outcome: TofuOutcome, request: TofuRequest, notify: Notify) -> int:
    """planton's exit code for a finished terraform run (see the table in ``errors.py``).

    terraform's documented statuses pass on unchanged: 0, 1, and 2 from ``plan
    -detailed-exitcode`` (from the plan itself: an automatic init's 2 is a crash). A signal
    planton received gives 130 / 143. Anything else (a crash: Go exits 2 on a panic; a signal
    from elsewhere) is reported as 1, "terraform failed", so that it can never be read as one of
    planton's own outcomes.
    """
    result = outcome.result
    if result.interrupted_by is not None and (result.returncode != EXIT_OK or not outcome.finished):
        return 128 + result.interrupted_by
    status = result.returncode
    changes_reported = request.detailed_exitcode and outcome.command == "plan" and status == DETAILED_CHANGES
    if status in (EXIT_OK, EXIT_TERRAFORM_FAILED) or changes_reported:
        return status
    if status < 0:
        notify(f"{outcome.command}: terraform was killed by signal {-status}")
    else:
        notify(f"{outcome.command}: terraform exited with status {status}")
    return EXIT_TERRAFORM_FAILED


def _plugin_mirror(given: Given[Path] | None, environ: Mapping[str, str]) -> Path | None:
    """``--plugin-mirror`` (or ``$PLANTON_PLUGIN_MIRROR``), checked and made absolute."""
    if given is None:
        return None
    return validate_plugin_mirror(expand_path(given.value, given.source, environ), given.source)
