"""What a ``planton tofu`` command was asked, and everything decided before anything runs:
the manifest and provider config, region, binary, workspace, variables and plan-file paths."""

from __future__ import annotations

import os
import shlex
import stat
import time
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from planton import emulator
from planton.backend import Backend, BackendFlags, LocalBackend, S3Backend, select_backend
from planton.cachedir import PluginCache, planton_cache_dir, plugin_cache
from planton.credentials import (
    AwsProviderConfig,
    local_provider_config,
    merge_provider_config,
    provider_config_from_environment,
    provider_max_retries,
    require_credentials,
)
from planton.environment import base_environment
from planton.errors import ManifestError, UsageError
from planton.findings import Finding, notice
from planton.manifest.base import Loc
from planton.manifest.loader import LoadedManifest, spelled_path
from planton.manifest.normalise import table_from_manifest
from planton.operations.commands import Command, Operation
from planton.operations.validation import Checks, Validated, account_variables, pipe_timeout, refuse_policy_errors
from planton.paths import expand_path
from planton.region import resolve_region
from planton.runner import find_binary
from planton.saved_plan_files import SHOWN_PLANS_DIR, own_plan
from planton.settings import Duration, Given, parse_lock_timeout, parse_timeout
from planton.source import LoadedInput, ManifestSource, load_input
from planton.table import TableDefinition
from planton.workspace import (
    Workspace,
    resolve_work_dir,
    target_label,
    validate_plugin_mirror,
    workspace_key,
    workspace_marker,
)

Notify = Callable[[str], None]


@dataclass(frozen=True)
class TofuRequest:
    """A ``planton tofu <command>`` as the user asked for it."""

    operation: Operation
    source: ManifestSource
    local: bool = False
    binary: Given[str] | None = None
    plugin_mirror: Given[Path] | None = None
    work_dir: Given[Path] | None = None
    lock_timeout: Given[str] | None = None
    # --timeout: how long the command may take before terraform is interrupted, as by Ctrl-C.
    timeout: Given[str] | None = None
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
    # --strict: every best-practice finding is an error.
    strict: bool = False
    # False without a terminal to ask at (or in CI): a command that would ask fails at once.
    can_prompt: bool = True
    # --backend-type / --backend-config: where the state lives, over the manifest's labels.
    backend: BackendFlags = field(default_factory=BackendFlags)
    # init --migrate-state: move the state to the backend now configured.
    migrate_state: bool = False
    # --reconfigure: run init even though nothing it depends on changed.
    reconfigure: bool = False

    @property
    def judges_the_manifest(self) -> bool:
        """Whether the command plans the manifest's table (plan, apply without a saved plan), so
        its best-practice findings are given, and the policy's errors stop it."""
        return self.operation.plans_the_manifest and not self.destroy and self.plan_file is None

    @property
    def command(self) -> Command:
        """The command asked for."""
        return self.operation.command


@dataclass(frozen=True)
class PreparedRun:
    """Everything decided before anything is written or run."""

    loaded: LoadedInput
    # The provider configuration terraform gets (credentials only in its environment).
    provider_config: AwsProviderConfig
    table: TableDefinition
    region: str
    workspace: Workspace
    # Where the workspaces live: plan --out never writes inside it.
    work_dir: Path
    binary: Path
    plugin_dir: Path | None
    variables: str
    # The provider plugin cache terraform installs into (TF_PLUGIN_CACHE_DIR), and planton's
    # cache directory (where it remembers binaries' versions).
    plugin_cache: PluginCache | None = None
    cache_dir: Path | None = None
    lock_timeout: Duration | None = None
    # What the inputs and the manifest had to say (findings.Finding), for the one sink.
    findings: tuple[Finding, ...] = ()
    # What the binary's `version -json` said, once run_tofu has checked it.
    binary_version: str | None = None
    # --timeout, and the moment (time.monotonic()) it runs out, counted from when the command
    # started preparing: no terraform starts after it, and one running then is interrupted.
    timeout: Duration | None = None
    deadline: float | None = None
    plan_out: Path | None = None
    plan_file: Path | None = None
    # The plan saved (plan --out) or applied (apply FILE) is one a fleet's apply made for itself
    # and applies in the same command (saved_plan_files.own_plan): not bound to an account.
    own_plan: bool = False
    # The only account whose credentials terraform may use (the provider's allowed_account_ids):
    # the provider config's account_id, until the state's table binds the run to its own.
    allowed_account: str | None = None
    # The provider's max_retries (credentials.provider_max_retries): None keeps its default.
    max_retries: int | None = None
    # This command's own input files: plan --out never writes over them.
    inputs: tuple[Path, ...] = ()
    # Where terraform keeps the state (the labels and flags decide).
    backend: Backend = field(default_factory=LocalBackend)

    @property
    def shown_plans(self) -> Path:
        """Where the ``show -json`` of this run's saved plan is kept (``saved_plan_files``): beside
        a fleet's own plan, in its directory; else in the workspace."""
        saved = self.plan_out or self.plan_file
        if self.own_plan and saved is not None:
            return saved.parent
        return self.workspace.root / SHOWN_PLANS_DIR

    @property
    def state_location(self) -> str:
        """Where the state is: ``s3://bucket/key``, or the local state file's path."""
        if isinstance(self.backend, S3Backend):
            return self.backend.url
        return str(self.workspace.state_path)

    def variables_for(self, table: TableDefinition, region: str) -> str:
        """The variables file for ``table`` in ``region``, with this run's account guard: the
        one way every variables file of a run is rendered."""
        return account_variables(table, region, self.allowed_account, self.max_retries)


def prepare(request: TofuRequest, environ: Mapping[str, str], home: Path | None, notify: Notify) -> PreparedRun:
    """Check everything and decide every path and value, without side effects except starting
    the local emulator when ``--local`` asks for it (after all other checks passed)."""
    # --timeout counts from the start: reading and judging the manifest are part of the command.
    timeout = parse_timeout(request.timeout)
    deadline = time.monotonic() + timeout.seconds if timeout is not None else None
    loaded = load_input(request.source, wait_seconds=pipe_timeout(environ))
    manifest = loaded.manifest
    table = table_from_manifest(manifest.model)
    # What the manifest misses of the best practices, for a command that plans it: one its
    # team's policy (or --strict) makes an error stops the command here, before anything runs.
    checks = Checks(strict=request.strict) if request.judges_the_manifest else None
    # The environment's findings too (what terraform will not get): a policy error lists them.
    _, left_out = base_environment(environ)
    findings = (*loaded.warnings, *(checks.findings(loaded, table) if checks is not None else ()), *left_out)
    refuse_policy_errors([Validated(loaded, table, findings)])
    if request.local and request.command is Command.APPLY:
        _refuse_what_the_emulator_cannot_serve(manifest)
    work_dir = resolve_work_dir(
        manifest.path, request.work_dir, environ, manifest_is_file=manifest.regular_file, option=loaded.manifest_option
    )
    binary = find_binary(request.binary, environ)
    plugin_dir = _plugin_mirror(request.plugin_mirror, environ)
    cache = plugin_cache(environ, plugin_dir)
    lock_timeout = parse_lock_timeout(request.lock_timeout)
    inputs = [path for path in (manifest.path, request.source.stack_input, request.source.provider_config) if path]
    plan_out = _plan_out(request.plan_out, environ, work_dir, inputs)
    plan_file = _plan_file(request.plan_file, environ)
    # Checked before anything starts (the emulator, below); chosen for real once its endpoint is known.
    select_backend(table.identity.labels, request.backend, region="", endpoints={}, manifest=str(manifest.path))

    environment_config = merge_provider_config(loaded.provider_configs, provider_config_from_environment(environ))
    if not request.local and request.operation.needs_credentials:
        require_credentials(environment_config, environ, home)
    region = resolve_region(table.aws_region, environment_config.region, local=request.local)
    given = next((layer for layer in reversed(loaded.provider_configs) if layer.config.region), None)
    if given is not None and table.aws_region and given.config.region != table.aws_region:
        findings = (
            *findings,
            notice(
                "region-overridden",
                f"the manifest's region {table.aws_region} is used, not {given.config.region} from {given.source}",
            ),
        )

    config: AwsProviderConfig
    if request.local:
        if loaded.provider_configs:
            notify("--local: the provider config's credentials and account are not used; the emulator gets dummy ones")
        running, started = emulator.ensure_running(emulator.state_dir(environ))
        verb = "started" if started else "using"
        notify(f"{verb} the local emulator at {running.endpoint_url} (stop it with: planton local stop)")
        config = local_provider_config(running.endpoint_url, region)
    else:
        config = replace(environment_config, region=region)

    label = target_label(local=request.local, endpoints=config.endpoints)
    workspace = Workspace(work_dir / label / workspace_key(table.identity))
    backend = select_backend(
        table.identity.labels, request.backend, region=region, endpoints=config.endpoints, manifest=str(manifest.path)
    )
    max_retries = provider_max_retries(config, environ, local=request.local)
    return PreparedRun(
        loaded=loaded,
        findings=findings,
        provider_config=config,
        table=table,
        region=region,
        workspace=workspace,
        binary=binary,
        plugin_dir=plugin_dir,
        variables=account_variables(table, region, config.account_id, max_retries),
        max_retries=max_retries,
        plugin_cache=cache,
        cache_dir=planton_cache_dir(environ),
        lock_timeout=lock_timeout,
        timeout=timeout,
        deadline=deadline,
        plan_out=plan_out,
        plan_file=plan_file,
        own_plan=any(own_plan(path, environ) for path in (plan_out, plan_file) if path is not None),
        allowed_account=config.account_id,
        work_dir=work_dir,
        inputs=tuple(inputs),
        backend=backend,
    )


def emulator_gaps(manifest: LoadedManifest) -> list[tuple[str, str]]:
    """The fields the manifest turns on that the local emulator cannot serve: (the field as the
    manifest spells it, what it asks for)."""
    spec = manifest.model.spec
    asked: list[tuple[Loc, str]] = []
    if spec.contributor_insights_enabled:
        asked.append((("contributor_insights_enabled",), "contributor_insights_enabled"))
    if spec.autoscaling is not None:
        asked.append((("autoscaling",), "autoscaling"))
    asked += [((*loc, "autoscaling"), "autoscaling") for loc, _, _ in spec.scaled_indexes()]
    return [(spelled_path(("spec", *loc), manifest.document), emulator.UNSERVED[field]) for loc, field in asked]


def _refuse_what_the_emulator_cannot_serve(manifest: LoadedManifest) -> None:
    """``apply --local`` of what the emulator cannot serve would hang for minutes: refused
    before anything runs (no emulator started, nothing written). ``plan --local`` still works."""
    gaps = emulator_gaps(manifest)
    if gaps:
        raise ManifestError(
            str(manifest.path),
            [
                f"{field}: the local emulator cannot serve {what}, so apply would hang; on the emulator it is "
                "checked at plan level only (`planton tofu plan --local` shows what apply would do). Apply it to "
                "AWS (without --local), or leave it out to apply here"
                for field, what in gaps
            ],
            what="manifest for the local emulator (--local)",
        )


def _plan_out(
    requested: Path | None, environ: Mapping[str, str], work_dir: Path, inputs: Sequence[Path]
) -> Path | None:
    """``plan --out FILE``, made absolute and checked before anything runs (``check_plan_out``)."""
    if requested is None:
        return None
    path = expand_path(requested, "--out", environ)
    check_plan_out(path, work_dir, inputs)
    return path


def check_plan_out(path: Path, work_dir: Path, inputs: Sequence[Path]) -> Path:
    """Where ``plan --out`` really writes ``path`` (its directory's links resolved), checked: a
    new file, or a plan saved there before, in a directory that exists; never a link, a device,
    one of this run's own input files, anything inside the work dir (where state lives), or in
    any planton workspace or directory holding a terraform state. Checked before anything runs,
    and again just before the plan is written."""
    real = Path(os.path.realpath(path.parent)) / path.name
    shown = str(path) if real == path else f"{path} (that is, {real})"
    for where in dict.fromkeys((path, real)):
        if len(where.parts) > 1 and where.parts[1] in ("dev", "proc", "sys"):
            raise UsageError(f"--out: {shown} is under /{where.parts[1]}; save the plan as a file elsewhere")
    real_work_dir = Path(os.path.realpath(work_dir))
    if real_work_dir in (real, *real.parents):
        raise UsageError(
            f"--out: {shown} is inside planton's work dir {real_work_dir}, where the state lives; save the plan "
            "elsewhere"
        )
    for directory in real.parents:
        marker = workspace_marker(directory, state=directory == real.parent)
        if marker is not None:
            raise UsageError(
                f"--out: {shown} is inside {directory}, which holds {marker}: a planton workspace or terraform "
                "working directory, never written to; save the plan elsewhere"
            )
    for given in inputs:
        if os.path.lexists(given) and os.path.lexists(real) and os.path.samefile(given, real):
            raise UsageError(f"--out: {shown} is {given}, one of this command's own inputs; name another file")
    try:
        mode: int | None = os.lstat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as err:
        raise UsageError(f"--out: cannot use {shown}: {err.strerror or err}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UsageError(f"--out: {shown} is a directory; name the plan file to write, such as {path / 'table.tfplan'}")
    if mode is not None and not stat.S_ISREG(mode):
        raise UsageError(f"--out: {shown} exists and is not a regular file (a link, FIFO or device); name another file")
    if mode is not None and not is_a_saved_plan(real):
        raise UsageError(
            f"--out: {shown} exists and is not a saved plan; planton replaces only a plan there. Name a new file, "
            "or remove it first"
        )
    if not real.parent.is_dir():
        raise UsageError(f"--out: {path.parent} is not a directory; create it first, or save the plan elsewhere")
    if not os.access(real.parent, os.W_OK):
        raise UsageError(f"--out: {path.parent} is not writable; save the plan elsewhere")
    return real


def is_a_saved_plan(plan: Path | IO[bytes]) -> bool:
    """A terraform/tofu plan file (by its path, or open): a zip archive holding ``tfplan``."""
    try:
        with zipfile.ZipFile(plan) as archive:
            return "tfplan" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _plan_file(requested: Path | None, environ: Mapping[str, str]) -> Path | None:
    """``apply FILE``: a saved plan that exists and is a regular file."""
    if requested is None:
        return None
    path = expand_path(requested, "PLAN_FILE", environ)
    if path.is_dir():
        raise UsageError(
            f"PLAN_DIR: {path} is a directory: a fleet's saved plans are applied with the fleet's manifests "
            "(-f DIR, or -f once for each), as `planton tofu plan ... --out DIR` named them"
        )
    if not path.is_file():
        what = "does not exist" if not path.exists() else "is not a file"
        raise UsageError(
            f"PLAN_FILE: {path} {what}; save one with `planton tofu plan --out FILE`, or leave it out to plan "
            "and apply in one go"
        )
    return path


def suggest(
    request: TofuRequest,
    prepared: PreparedRun,
    command: str,
    *extra: str,
    overrides: bool = True,
    group: str = "tofu",
) -> str:
    """A command to run next (``planton <group> <command>``), with the options that found this
    workspace: the inputs, the overrides (unless ``overrides`` is False), the backend flags, and
    --local, --work-dir and --binary where they were given as flags (their environment variables
    stay set by themselves)."""
    args = ["planton", group, command, *prepared.loaded.input_args]
    if overrides:
        args += prepared.loaded.override_args
    if request.local:
        args.append("--local")
    for given, flag in ((request.work_dir, "--work-dir"), (request.binary, "--binary")):
        if given is not None and given.source == flag:
            args += [flag, str(given.value)]
    if request.backend.type is not None:
        args += ["--backend-type", request.backend.type]
    for config in request.backend.configs:
        args += ["--backend-config", config]
    return shlex.join([*args, *extra])


def _plugin_mirror(given: Given[Path] | None, environ: Mapping[str, str]) -> Path | None:
    """``--plugin-mirror`` (or ``$PLANTON_PLUGIN_MIRROR``), checked and made absolute."""
    if given is None:
        return None
    return validate_plugin_mirror(expand_path(given.value, given.source, environ), given.source)
