"""One tofu/terraform command for one manifest, start to finish.

The data flows one way: manifest file -> model -> table definition -> variables + stack input
-> workspace -> runner. Everything that can fail for a user's reason (manifest, region, binary,
credentials, mirror) is checked before anything is written or started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from planton import emulator
from planton.credentials import (
    AwsProviderConfig,
    StackInput,
    aws_environment,
    local_provider_config,
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
    ManifestError,
    UnmanagedTable,
    UsageError,
)
from planton.manifest import load_manifest
from planton.manifest.loader import DEFAULT_WAIT_SECONDS
from planton.manifest.normalise import table_from_manifest
from planton.paths import expand_path
from planton.plan import TABLE_ADDRESS, Decision, PlanUnreadable, TableRef, decide, read_plan
from planton.region import resolve_region
from planton.render import render_variables, variables_json
from planton.runner import CommandOptions, Invocation, RunResult, build_args, find_binary, run
from planton.state import RecordedTable, recorded_table
from planton.table import BillingMode, OnDemandThroughput, TableDefinition
from planton.workspace import (
    PLAN_FILE,
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
PLUGIN_MIRROR_ENV = "PLANTON_PLUGIN_MIRROR"
_MAX_PIPE_TIMEOUT = 3600.0

# Commands that talk to AWS and therefore need credentials (init only installs providers).
_NEEDS_CREDENTIALS = frozenset({"plan", "apply", "destroy", "refresh", "import"})
TOFU_COMMANDS = ("init", "plan", "apply", "destroy", "refresh", "output", "import")


@dataclass(frozen=True)
class TofuRequest:
    """A ``planton tofu <command>`` as the user asked for it."""

    command: str
    manifest_path: Path
    local: bool = False
    binary: str | None = None
    plugin_mirror: Path | None = None
    work_dir: Path | None = None
    auto_approve: bool = False
    allow_replace: bool = False
    detailed_exitcode: bool = False
    colour: bool = True


@dataclass(frozen=True)
class PreparedRun:
    """Everything decided before anything is written or run."""

    stack_input: StackInput
    table: TableDefinition
    region: str
    workspace: Workspace
    binary: Path
    plugin_dir: Path | None
    variables: str


def validate_manifest(path: Path, environ: Mapping[str, str]) -> TableDefinition:
    """Load and validate a manifest; pure Python, no terraform, nothing written."""
    return table_from_manifest(load_manifest(path, wait_seconds=pipe_timeout(environ)).model)


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


def prepare(request: TofuRequest, environ: Mapping[str, str], home: Path | None, notify: Notify) -> PreparedRun:
    """Check everything and decide every path and value, without side effects except starting
    the local emulator when ``--local`` asks for it (after all other checks passed)."""
    loaded = load_manifest(request.manifest_path, wait_seconds=pipe_timeout(environ))
    table = table_from_manifest(loaded.model)
    work_dir = resolve_work_dir(request.manifest_path, request.work_dir, environ, manifest_is_file=loaded.regular_file)
    binary = find_binary(request.binary, environ)
    plugin_dir = _plugin_mirror(request.plugin_mirror, environ)

    environment_config = provider_config_from_environment(environ)
    if not request.local and request.command in _NEEDS_CREDENTIALS:
        require_credentials(environment_config, environ, home)
    region = resolve_region(table.aws_region, environment_config.region, local=request.local)
    variables = variables_json(render_variables(table, region))

    config: AwsProviderConfig
    if request.local:
        running, started = emulator.ensure_running(emulator.state_dir(environ))
        verb = "started" if started else "using"
        notify(f"{verb} the local emulator at {running.endpoint_url} (stop it with: planton local stop)")
        config = local_provider_config(running.endpoint_url, region)
    else:
        config = replace(environment_config, region=region)

    label = target_label(local=request.local, endpoints=config.endpoints)
    workspace = Workspace(work_dir / label / workspace_key(table.identity))
    return PreparedRun(
        stack_input=StackInput(target=loaded.document, provider_config=config),
        table=table,
        region=region,
        workspace=workspace,
        binary=binary,
        plugin_dir=plugin_dir,
        variables=variables,
    )


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


@dataclass(frozen=True)
class Ui:
    """How the core speaks to the person running it, whatever the front end."""

    notify: Notify
    warn: Callable[[Sequence[str]], None]
    confirm: Callable[[], bool]


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
        options = CommandOptions(
            auto_approve=auto_approve,
            colour=self.request.colour,
            plugin_dir=self.prepared.plugin_dir,
            detailed_exitcode=detailed_exitcode,
            extra=extra,
        )
        invocation = Invocation(self.prepared.binary, build_args(command, options), self.workspace.root, self.env)
        return run(invocation, capture=capture, stdout_to_stderr=stdout_to_stderr, watch_stderr=watch_stderr)

    def plan_to_file(self, *, detailed_exitcode: bool = False) -> RunResult:
        # Changes the aws provider ignores (it plans nothing) although DynamoDB cannot make them
        # in place: planton asks for the replacement they need, and the guard judges it.
        replace_table = (f"-replace={TABLE_ADDRESS}",) if self.forced_replacement else ()
        return self.invoke("plan", f"-out={PLAN_FILE}", *replace_table, detailed_exitcode=detailed_exitcode)

    def read_saved_plan(self) -> Decision:
        """``show -json`` of the saved plan, judged."""
        shown = self.invoke("show", PLAN_FILE, capture=True)
        if shown.interrupted_by is not None:
            raise Interrupted(shown.interrupted_by)
        if shown.returncode != 0:
            raise PlanUnreadable(f"terraform show -json {PLAN_FILE} failed; nothing was applied")
        return decide(read_plan(shown.stdout), self.recorded, self.forced_replacement)


def run_tofu(request: TofuRequest, environ: Mapping[str, str], home: Path | None, ui: Ui) -> TofuOutcome:
    """Run ``request.command`` for the manifest; init first when the workspace needs it."""
    if request.command not in TOFU_COMMANDS:
        raise ValueError(f"unknown tofu command {request.command!r}")
    notify = ui.notify
    prepared = prepare(request, environ, home, notify)
    base, warnings = base_environment(environ)
    for warning in warnings:
        notify(warning)
    env = child_environment(base, aws_environment(prepared.stack_input.provider_config, environ, local=request.local))
    # Trims terraform's hints to run terraform itself ("terraform apply planton.tfplan"), which
    # would bypass planton's checks.
    env["TF_IN_AUTOMATION"] = "1"
    session = _Session(request, prepared, env, ui)
    workspace = prepared.workspace
    notify(f"workspace {workspace.root}")
    notify(f"state {workspace.state_path}")

    with workspace.locked():
        recorded = _recorded_with_region(workspace, recorded_table(workspace.state_path))
        if request.command in ("plan", "apply"):
            _refuse_what_terraform_cannot_do(recorded, prepared.table, prepared.region, request.manifest_path)
        lifted = _lift_dropped_caps(recorded, prepared.table)
        if lifted is not prepared.table:
            prepared = replace(
                prepared, table=lifted, variables=variables_json(render_variables(lifted, prepared.region))
            )
            session.prepared = prepared
        module = module_files(bundled_module())
        workspace.prepare(module, prepared.variables)
        fingerprint = init_fingerprint(module, prepared.binary)
        if request.command == "init" or workspace.needs_init(fingerprint):
            if request.command != "init":
                notify(f"initialising the workspace ({prepared.binary.name} init)")
            # An automatic init must not mix its text into the command's stdout (output's JSON).
            result = session.invoke("init", stdout_to_stderr=request.command != "init")
            if result.exit_code != 0 or result.interrupted_by is not None:
                return TofuOutcome("init", result, _interruption_notes(session, "init", result))
            workspace.mark_initialised(fingerprint)
            if request.command == "init":
                return TofuOutcome("init", result)
        session.recorded = recorded
        session.forced_replacement = _forced_replacement(session.recorded, prepared.table)
        if request.command in ("refresh", "destroy"):
            _refuse_another_table(session)
        if request.command == "apply":
            return _apply(session)
        if request.command == "plan":
            return _plan(session)
        if request.command == "import":
            return _import(session)
        if request.command == "destroy":
            return _destroy(session)
        result = session.invoke(request.command, capture=request.command == "output", auto_approve=request.auto_approve)
        return TofuOutcome(request.command, result, _interruption_notes(session, request.command, result))


def _plan(session: _Session) -> TofuOutcome:
    """terraform's plan, then planton's warning when applying it would lose a table."""
    workspace = session.workspace
    try:
        result = session.plan_to_file(detailed_exitcode=session.request.detailed_exitcode)
        if result.interrupted_by is not None or result.returncode not in (EXIT_OK, DETAILED_CHANGES):
            return TofuOutcome("plan", result, _interruption_notes(session, "plan", result))
        decision = session.read_saved_plan()
    finally:
        workspace.discard_plan()
    for note in decision.notes:
        session.ui.notify(note)
    if decision.moved_from is not None and result.returncode == EXIT_OK and session.request.detailed_exitcode:
        # terraform saw nothing to do in the new region, but applying would delete the old table.
        result = replace(result, returncode=DETAILED_CHANGES)
    if decision.blocked:
        session.ui.warn([*decision.blocked, "`planton tofu apply` refuses this, whatever the answer"])
    elif decision.dangerous:
        ours = decision.tainted_only and workspace.interrupted_apply() == session.prepared.table.table_name
        if ours:
            session.ui.notify(
                "the taint was left by planton's own interrupted apply: `planton tofu apply` keeps the table "
                "(untaints it) instead of replacing it"
            )
        else:
            session.ui.warn(
                [
                    *decision.dangers,
                    "`planton tofu apply` asks before doing this; under --auto-approve it refuses unless "
                    "--allow-replace is given",
                ]
            )
    return TofuOutcome("plan", result, _interruption_notes(session, "plan", result))


def _apply(session: _Session) -> TofuOutcome:
    """Plan to a file, judge it, ask (or refuse), then apply exactly that plan."""
    request, workspace, ui = session.request, session.workspace, session.ui
    table = session.prepared.table
    try:
        planned = _plan_for_apply(session)
        if isinstance(planned, TofuOutcome):
            return planned
        decision = planned
        if not decision.changes:
            ui.notify("no changes: the table matches the manifest; nothing to apply")
            return TofuOutcome("plan", RunResult(EXIT_OK))
        for note in decision.notes:
            ui.notify(note)
        if decision.blocked:
            raise UnmanagedTable("\n".join(decision.blocked))
        recorded = session.recorded
        if decision.dangerous and recorded is not None and recorded.deletion_protection:
            # AWS would refuse the deletion half-way; say so before anything runs.
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
            ui.warn(decision.dangers)
        if not request.auto_approve and not ui.confirm():
            raise ApplyNotApproved("apply cancelled: the answer was not 'yes'; nothing was changed")
        agreed_loss = decision.dangerous  # what the user agreed to may have run by the time apply fails
        if decision.moved_from is not None:
            moved = _destroy_left_behind(session, decision.moved_from)
            if isinstance(moved, TofuOutcome):
                return moved
            decision = moved
        creates = decision.creates_table
        result = session.invoke("apply", PLAN_FILE, watch_stderr=True)
    finally:
        workspace.discard_plan()
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
            f"planton tofu import -f {request.manifest_path}"
        )
    return TofuOutcome("apply", result, _interruption_notes(session, "apply", result, creating=creates))


def _plan_for_apply(session: _Session) -> Decision | TofuOutcome:
    """The saved plan's decision; a taint planton's own interrupted apply left is undone first
    (the table exists: the plan's refresh just read it), so that the table is kept, not replaced."""
    workspace, table = session.workspace, session.prepared.table
    for _ in range(2):
        result = session.plan_to_file()
        if result.interrupted_by is not None or result.returncode != EXIT_OK:
            return TofuOutcome("plan", result, _interruption_notes(session, "plan", result), finished=False)
        decision = session.read_saved_plan()
        if not (decision.tainted_only and workspace.interrupted_apply() == table.table_name):
            return decision
        untainted = session.invoke("untaint", TABLE_ADDRESS)
        if untainted.interrupted_by is not None or untainted.returncode != EXIT_OK:
            return TofuOutcome("untaint", untainted, _interruption_notes(session, "untaint", untainted), finished=False)
        session.ui.notify(
            f"table {table.table_name} was left tainted by planton's own interrupted apply; it exists, so "
            "planton untainted it instead of replacing it (and its items)"
        )
        workspace.clear_interrupted_apply()
    return decision


def _destroy_left_behind(session: _Session, old: TableRef) -> Decision | TofuOutcome:
    """After agreement: delete the table a region change leaves behind, in its own region, then
    plan again; the new plan must be a plain create."""
    workspace, prepared = session.workspace, session.prepared
    session.ui.notify(f"deleting table {old} first, as agreed: the manifest moved it to {prepared.region}")
    old_table = replace(prepared.table, table_name=old.name)
    workspace.write_variables(variables_json(render_variables(old_table, old.region or prepared.region)))
    try:
        destroyed = session.invoke("destroy", auto_approve=True)
    finally:
        workspace.write_variables(prepared.variables)
    if destroyed.interrupted_by is not None or destroyed.returncode != EXIT_OK:
        return TofuOutcome("destroy", destroyed, _interruption_notes(session, "destroy", destroyed), finished=False)
    # The state no longer holds the old table: the next plan is judged on its own.
    session.recorded = None
    replanned = _plan_for_apply(session)
    if isinstance(replanned, Decision) and replanned.dangerous:
        raise ChangeRefused(
            "\n".join(["after deleting the old table the plan still would lose one:", *replanned.dangers])
        )
    return replanned


def _destroy(session: _Session) -> TofuOutcome:
    """terraform destroy. When DeleteTable answers that the table is already gone (a retried
    request whose first attempt did delete it, or a deletion elsewhere in between), the table is
    where the user wants it; one more destroy records that in the state. A table the state
    records as deletion-protected is refused before terraform starts."""
    recorded = session.recorded
    if recorded is not None and recorded.deletion_protection:
        raise ChangeRefused(_PROTECTED.format(name=recorded.name, what="nothing was deleted"))
    auto_approve = session.request.auto_approve
    result = session.invoke("destroy", auto_approve=auto_approve, watch_stderr=True)
    if result.returncode != EXIT_OK and result.interrupted_by is None and _already_gone(result.stderr):
        session.ui.notify("the table was already gone when terraform deleted it; destroying again to record that")
        result = session.invoke("destroy", auto_approve=True, watch_stderr=True)
    notes = _interruption_notes(session, "destroy", result)
    if result.returncode != EXIT_OK and "DeletionProtectionEnabled is set to True" in result.stderr:
        # Turned on outside planton since the state last looked.
        notes = (*notes, _PROTECTED.format(name=session.prepared.table.table_name, what="AWS refused the deletion"))
    return TofuOutcome("destroy", result, notes)


_PROTECTED = (
    "table {name} has deletion protection on; {what}. To delete it, first turn protection off in the manifest "
    "(spec.deletionProtectionEnabled / deletion_protection_enabled: false) and run `planton tofu apply`, then destroy"
)


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
    return TofuOutcome("import", result, _interruption_notes(session, "import", result))


def _recorded_with_region(workspace: Workspace, recorded: RecordedTable | None) -> RecordedTable | None:
    """The state's table, with its region: a table whose create was interrupted is recorded
    without an ARN, so its region comes from what planton remembered of that create."""
    if recorded is None or recorded.region is not None:
        return recorded
    if workspace.interrupted_apply() == recorded.name:
        return replace(recorded, region=workspace.interrupted_apply_region())
    return recorded


def _lift_dropped_caps(recorded: RecordedTable | None, table: TableDefinition) -> TableDefinition:
    """``table`` with an explicit "no maximum" (-1) wherever the manifest dropped an on-demand
    maximum the state records: left out, the provider would keep the old one."""
    if recorded is None or not recorded.capped or table.billing_mode is not BillingMode.PAY_PER_REQUEST:
        return table
    unlimited = OnDemandThroughput(-1, -1)
    indexes = tuple(
        replace(index, on_demand_throughput=unlimited)
        if index.on_demand_throughput is None and index.name in recorded.capped
        else index
        for index in table.global_indexes
    )
    lifted = replace(table, global_indexes=indexes)
    if table.on_demand_throughput is None and "table" in recorded.capped:
        lifted = replace(lifted, on_demand_throughput=unlimited)
    return table if lifted == table else lifted


def _refuse_what_terraform_cannot_do(
    recorded: RecordedTable | None, table: TableDefinition, region: str, manifest: Path
) -> None:
    """Changes to the recorded table that would not happen as the manifest says, refused with
    the way that works: dropping the KMS key would leave the table on its customer-managed key
    (terraform cannot ask for "no key", so the plan would say nothing); AWS moves TTL to another
    attribute only after TTL was turned off (and allows one TTL change per hour); a global
    index's key attribute cannot change type while the index exists. Nothing of this applies
    when the manifest's table will be a new one (another name or region, or a replacement)."""
    if recorded is None or recorded.name != table.table_name or (recorded.region or region) != region:
        return
    if _forced_replacement(recorded, table) is not None:
        return
    problems = []
    if recorded.customer_kms_key and table.server_side_encryption_enabled and table.kms_key is None:
        problems.append(
            f"spec.serverSideEncryption.kmsKeyArn (flat: kms_key_arn): the table is encrypted with the "
            f"customer-managed key {recorded.customer_kms_key}, and leaving the key out keeps it so (terraform "
            "cannot ask AWS for no key); keep the key, name the AWS managed key (alias/aws/dynamodb) to move to "
            "it, or turn server-side encryption off"
        )
    if recorded.ttl_attribute and table.ttl_attribute and table.ttl_attribute != recorded.ttl_attribute:
        problems.append(
            f"spec.ttl.attributeName (attribute_name): TTL is on for {recorded.ttl_attribute!r}, and AWS moves it "
            f"to {table.ttl_attribute!r} only after it is turned off: apply with ttl.enabled false first, then "
            "turn it on for the new attribute (AWS allows one TTL change per hour)"
        )
    table_keys = {key.name for key in (table.partition_key, table.sort_key) if key is not None}
    for index in table.global_indexes:
        for key in index.keys:
            before = recorded.attribute_types.get(key.name)
            if key.name not in table_keys and before is not None and before != key.type.value:
                problems.append(
                    f"global index {index.name}: its key {key.name} changes type from {before} to {key.type.value}, "
                    "which DynamoDB cannot do while the index exists; give the index a new name (DynamoDB builds "
                    "the new index and drops the old one)"
                )
    if problems:
        raise ManifestError(str(manifest), problems)


def _forced_replacement(recorded: RecordedTable | None, table: TableDefinition) -> str | None:
    """Why the table must be replaced although the provider would plan no such thing (a key
    attribute's type, or a local index changed under the same name), or None."""
    if recorded is None:
        return None
    reasons = [reason for reason in (_key_type_change(recorded, table), _local_index_change(recorded, table)) if reason]
    return " and ".join(reasons) or None


def _local_index_change(recorded: RecordedTable, table: TableDefinition) -> str | None:
    """The provider tells local indexes apart by name only: a changed sort key or projection
    under the same name would be planned as nothing (the module's trigger catches it too, but
    only once it has recorded the indexes)."""
    if recorded.local_indexes is None:
        return None
    wanted = {
        (
            index.name,
            index.sort_key.name,
            index.projection.type.value,
            tuple(sorted(index.projection.non_key_attributes)),
        )
        for index in table.local_indexes
    }
    if wanted == set(recorded.local_indexes):
        return None
    return "a change to the local secondary indexes, which DynamoDB cannot make in place"


def _key_type_change(recorded: RecordedTable, table: TableDefinition) -> str | None:
    """The key attributes whose type the manifest changed, in its terms, or None."""
    changed = []
    keys = [("partition", table.partition_key), ("sort", table.sort_key)]
    keys += [(f"local index {index.name}'s sort", index.sort_key) for index in table.local_indexes]
    for role, key in keys:
        if key is None:
            continue
        before = recorded.attribute_types.get(key.name)
        if before is not None and before != key.type.value:
            changed.append(f"{role} key {key.name} from {before} to {key.type.value}")
    if not changed:
        return None
    return "a key type change (" + ", ".join(changed) + "), which DynamoDB cannot make in place"


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
            f"the next apply stops and says so; adopt it with: planton tofu import -f {session.request.manifest_path}",
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


def _plugin_mirror(requested: Path | None, environ: Mapping[str, str]) -> Path | None:
    """``--plugin-mirror``, else ``$PLANTON_PLUGIN_MIRROR``, checked and made absolute."""
    if requested is not None:
        return validate_plugin_mirror(expand_path(requested, "--plugin-mirror", environ), "--plugin-mirror")
    if environ.get(PLUGIN_MIRROR_ENV):
        return validate_plugin_mirror(
            expand_path(environ[PLUGIN_MIRROR_ENV], PLUGIN_MIRROR_ENV, environ), PLUGIN_MIRROR_ENV
        )
    return None
