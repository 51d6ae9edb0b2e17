"""``run_tofu``: one command from request to outcome: prepare, lock, init, dispatch."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from planton.accounts import bind_account
from planton.cachedir import BINARY_VERSIONS_FILE, PLUGIN_CACHE_VARIABLE, ready
from planton.credentials import aws_environment
from planton.environment import base_environment, child_environment, go_runtime, physical_memory
from planton.errors import EXIT_OK, EXIT_TERRAFORM_FAILED, ChangeRefused, EnvironmentNotReady, UsageError
from planton.findings import Finding, notice, notices
from planton.guards import forced_replacement, keep_recorded_order, lift_dropped_caps, refuse_what_terraform_cannot_do
from planton.operations.commands import Command
from planton.operations.initialise import initialise, known_addresses
from planton.operations.request import (
    PreparedRun,
    TofuRequest,
    prepare,
    suggest,
)
from planton.operations.reviewed import reviewed_plan
from planton.operations.session import RunContext, Session, TofuOutcome, Ui, interruption_notes, record_store
from planton.records import InterruptedCreate, LocalRecordStore
from planton.runner import RunResult, binary_version
from planton.settings import runs_at_once
from planton.state import RecordedTable, StateUnreadable, foreign_resources, recorded_table, table_in_state
from planton.workspace import ERRORED_STATE


def run_tofu(request: TofuRequest, environ: Mapping[str, str], home: Path | None, ui: Ui) -> TofuOutcome:
    """Run the request's operation for the manifest; init first when the workspace needs it."""
    operation = request.operation
    if operation.handler is None:
        raise ValueError(f"{operation.command} is not a tofu command")
    _refuse_a_question_nobody_can_answer(request)
    if request.plan_file is not None and request.source.overrides:
        raise UsageError(
            "--set cannot change a saved plan: it is applied exactly as it was reviewed. Plan again with the "
            "override (`planton tofu plan --set ... --out FILE`), then apply that plan"
        )
    notify = ui.notify
    prepared = prepare(request, environ, home, notify)
    cache_findings: list[Finding] = []
    cache = ready(prepared.plugin_cache, cache_findings.append)
    prepared = replace(prepared, plugin_cache=cache, findings=(*prepared.findings, *cache_findings))
    env = terraform_environment(prepared, request, environ)
    # The binary answers as tofu or terraform do, checked once, before anything is written.
    remembered = prepared.cache_dir / BINARY_VERSIONS_FILE if prepared.cache_dir is not None else None
    try:
        prepared = replace(prepared, binary_version=binary_version(prepared.binary, env, remembered))
    except EnvironmentNotReady as err:
        given = request.binary
        raise EnvironmentNotReady(f"{given.source}: {err.message}" if given is not None else err.message) from None
    records = record_store(prepared, env)
    # Before anything is written: a plan this state's records never saved is refused as it is.
    reviewed = (
        reviewed_plan(prepared.plan_file, records, suggest(request, prepared, "plan", "--out", "FILE"))
        if prepared.plan_file is not None
        else None
    )
    session = Session(request, prepared, env, ui, records=records, reviewed=reviewed)
    # The one sink: the inputs', the manifest's and the environment's findings.
    session.warn(prepared.findings)
    workspace = prepared.workspace
    notify(f"workspace {workspace.root}")
    notify(f"state {prepared.state_location}")

    timeout = prepared.lock_timeout.seconds if prepared.lock_timeout else 0.0
    new_workspace = not workspace.root.exists()
    with workspace.locked(timeout) as session.lock:
        if new_workspace:
            _announce_a_new_workspace(session)
        _refuse_an_unsaved_state(session)
        _refuse_a_selected_terraform_workspace(session)
        if not operation.reads_the_state:
            return operation.handler(session)
        acts_on_the_recorded_table = operation.acts_on_the_recorded_table or request.destroy
        if acts_on_the_recorded_table:
            # Before init and before the variables are rewritten: nothing is touched for a
            # manifest that names another table. (Checked again below, on the state init left.)
            early = session.read_state()
            _refuse_another_table(
                session, _recorded_with_memory(table_in_state(early), session.records.interrupted_create())
            )
        ended = initialise(session)
        if ended is not None:
            return ended
        document = session.read_state_at_start()
        _refuse_another_projects_state(session, document)
        interrupted = session.records.interrupted_create()
        recorded = _recorded_with_memory(table_in_state(document), interrupted)
        _refuse_another_manifests_table(session, recorded)
        if recorded is None and interrupted is None and operation.plans_the_manifest:
            _warn_of_a_lost_state(session)
        source = str(prepared.loaded.manifest.path)
        if operation.plans_the_manifest and prepared.plan_file is None and not request.destroy:
            refuse_what_terraform_cannot_do(recorded, prepared.table, prepared.region, source)
        binding = bind_account(recorded, interrupted, prepared.allowed_account) if operation.starts_provider else None
        remembered_here = interrupted is not None and (recorded is None or recorded.name == interrupted.table_name)
        if binding is not None and interrupted is not None and interrupted.account is None and remembered_here:
            # An earlier planton's record, and the account now said: remembered from here on.
            interrupted = replace(interrupted, account=binding.account)
            session.records.record_interrupted_create(interrupted)
        # What the state records decides what an unchanged manifest renders: dropped maximums
        # made explicit, local indexes kept in the order the state already holds; and the
        # account every run is bound to.
        prepared = replace(
            prepared,
            table=keep_recorded_order(recorded, lift_dropped_caps(recorded, prepared.table)),
            allowed_account=binding.account if binding else None,
        )
        prepared = replace(prepared, variables=prepared.variables_for(prepared.table, prepared.region))
        session.advance(
            RunContext(prepared, recorded, interrupted, binding, forced_replacement(recorded, prepared.table))
        )
        # plan --destroy plans the deletion of the recorded table.
        if acts_on_the_recorded_table:
            _refuse_another_table(session, recorded)
        workspace.write_variables(prepared.variables)
        if acts_on_the_recorded_table and interrupted is not None and recorded is None:
            session.warn(
                [
                    notice(
                        "create-not-in-state",
                        f"planton's apply of table {interrupted} was interrupted while AWS was creating it, and the "
                        f"state does not record it: {request.command} does not touch it",
                        fix="if it exists, adopt it first (`planton tofu import`, with the manifest naming it)",
                    )
                ]
            )
        return operation.handler(session)


def terraform_environment(prepared: PreparedRun, request: TofuRequest, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment terraform (and planton's own S3 calls) run with: built explicitly, the
    credentials in it and nowhere else (what it leaves out is among ``prepared.findings``)."""
    base, _ = base_environment(environ)
    env = child_environment(base, aws_environment(prepared.provider_config, environ, local=request.local))
    env.update(go_runtime(environ, physical_memory(), runs_at_once(environ)))
    # Trims terraform's hints to run terraform itself ("terraform apply planton.tfplan"), which
    # would bypass planton's checks.
    env["TF_IN_AUTOMATION"] = "1"
    # One copy of each provider for every workspace: the user's cache, else planton's.
    env.pop(PLUGIN_CACHE_VARIABLE, None)
    if prepared.plugin_cache is not None:
        env[PLUGIN_CACHE_VARIABLE] = str(prepared.plugin_cache.path)
    return env


def _refuse_a_question_nobody_can_answer(request: TofuRequest) -> None:
    """Without a terminal (or in CI) nobody can answer "apply?": fail at once, before anything
    is read, written or run, rather than plan and then stop."""
    if not request.operation.asks_approval or request.can_prompt:
        return
    if request.auto_approve or request.plan_file is not None:
        return
    way = (
        "add --auto-approve, or apply a reviewed plan: `planton tofu plan --out FILE`, then `planton tofu apply FILE`"
        if request.command is Command.APPLY
        else "add --auto-approve"
    )
    raise UsageError(
        f"{request.command} asks for confirmation, and there is no terminal to ask at (stdin is not a terminal, "
        f"or CI is set); nothing was run. {way[0].upper()}{way[1:]}"
    )


def run_output(session: Session) -> TofuOutcome:
    """``output``: terraform's own answer (``output -json``), the command the user asked for."""
    shown, outputs = session.terraform_outputs()
    if outputs is not None:
        return session.outcome("output", RunResult(EXIT_OK), outputs=outputs)
    if shown.returncode == EXIT_OK and shown.interrupted_by is None:
        # It succeeded, and printed something else than outputs: no working terraform.
        lines = shown.stdout.strip().splitlines()
        printed = f"this instead (first line): {lines[0][:200]}" if lines else "nothing"
        return session.outcome(
            "output",
            replace(shown, returncode=EXIT_TERRAFORM_FAILED),
            (f"{session.prepared.binary} output -json exited 0 but printed no JSON outputs; it printed {printed}",),
        )
    # Run it again in the open, so that terraform's own error is shown.
    result = session.invoke("output", stdout_to_stderr=True)
    code = result.returncode or EXIT_TERRAFORM_FAILED
    return session.outcome("output", replace(result, returncode=code), interruption_notes(session, "output", result))


def _recorded_with_memory(
    recorded: RecordedTable | None, interrupted: InterruptedCreate | None
) -> RecordedTable | None:
    """The state's table, with its region and account: a table whose create was interrupted is
    recorded without an ARN, so they come from what planton remembered of that create."""
    if recorded is None or interrupted is None or interrupted.table_name != recorded.name:
        return recorded
    return replace(
        recorded, region=recorded.region or interrupted.region, account=recorded.account or interrupted.account
    )


def _announce_a_new_workspace(session: Session) -> None:
    """A workspace made for the first time says so, and names the workspaces beside it that hold a
    table: after a rename of metadata.name (or org, env, id), the manifest's table stays in its
    old workspace, and this one would create a second table."""
    workspace = session.workspace
    holding = []
    for other in workspace.neighbours():
        try:
            recorded = recorded_table(other.state_path)
        except StateUnreadable:
            holding.append(f"{other.root.name} (a state planton cannot read)")
            continue
        if recorded is not None:
            where = f" in {recorded.region}" if recorded.region else ""
            holding.append(f"{other.root.name} (table {recorded.name}{where})")
            continue
        try:
            interrupted = LocalRecordStore(other.root).interrupted_create()
        except EnvironmentNotReady:
            holding.append(f"{other.root.name} (an unreadable record of an interrupted create)")
            continue
        if interrupted is not None:
            holding.append(f"{other.root.name} (table {interrupted}, whose create was interrupted)")
    session.ui.notify(f"a new workspace for this manifest: {workspace.root}")
    if holding:
        session.warn(
            notices(
                "other-workspace-holds-table",
                [
                    "this manifest has no workspace yet, and beside it "
                    + ("workspaces hold tables: " if len(holding) > 1 else "a workspace holds a table: ")
                    + ", ".join(holding)
                    + ". Workspaces are keyed by metadata.name (and org, env, id): if this manifest was renamed, its "
                    "table stays in its old workspace and apply here creates a second one; change the name back, or "
                    "this is a new table and all is well"
                ],
            )
        )


def _refuse_an_unsaved_state(session: Session) -> None:
    """terraform could not save the state to its backend (S3 unreachable, credentials expired
    mid-apply) and left it in errored.tfstate: the backend's state is stale until it is pushed."""
    errored = session.workspace.root / ERRORED_STATE
    if errored.exists():
        raise EnvironmentNotReady(
            f"terraform could not save the state of its last run to {session.prepared.state_location}, and left it "
            f"in {errored}; the state there is stale until it is pushed. Nothing was run. Push it (in "
            f"{session.workspace.root}: {session.prepared.binary.name} state push {ERRORED_STATE}), then remove "
            "the file"
        )


def _refuse_a_selected_terraform_workspace(session: Session) -> None:
    """``terraform workspace select`` run by hand in planton's workspace: terraform would plan
    and apply against that workspace's state, while planton (and every guard) reads the default
    one. planton keeps one state per manifest, in the default terraform workspace."""
    selected_file = session.workspace.root / ".terraform" / "environment"
    try:
        selected = selected_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return
    except (OSError, UnicodeDecodeError) as err:
        raise EnvironmentNotReady(f"cannot read {selected_file}: {err}") from None
    if selected and selected != "default":
        raise UsageError(
            f"terraform workspace {selected!r} is selected in {session.workspace.root} (terraform workspace "
            "select, run there by hand): terraform would act on that workspace's state while planton's guards "
            f"read the default one. Nothing was run. Select the default again there: {session.prepared.binary.name} "
            "workspace select default"
        )


def _refuse_another_projects_state(session: Session, document: Mapping[str, Any] | None) -> None:
    """A state holding resources this configuration never makes is another project's (a backend
    key typed wrong, or shared): a plan here would delete them. Refused before anything plans."""
    foreign = foreign_resources(document, known_addresses())
    if not foreign:
        return
    shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
    raise ChangeRefused(
        f"refused: the state at {session.prepared.state_location} holds resources planton's module never makes "
        f"({shown}): it is another project's state, and applying here would delete them. Nothing was run. Point "
        "this manifest at a state of its own (the label terraform.project-planton.org/backend.object, or "
        "--backend-config key=...)"
    )


def _refuse_another_manifests_table(session: Session, recorded: RecordedTable | None) -> None:
    """The state's table is tagged as another manifest's (PlantonManifest): two manifests point at
    one state (the same backend object), and one would replace or delete the other's table. The
    same table under a new manifest key (the manifest renamed) is only said: the next apply tags
    it anew."""
    ours = session.prepared.table.identity.key
    if recorded is None or recorded.manifest_key in (None, ours):
        return
    if recorded.name != session.prepared.table.table_name:
        raise ChangeRefused(
            f"refused: this state's table {recorded.name} belongs to the manifest {recorded.manifest_key} (its "
            f"PlantonManifest tag), and this manifest ({ours}) names table {session.prepared.table.table_name}: two "
            f"manifests share the state at {session.prepared.state_location}, and this one would replace or delete "
            "the other's table. Nothing was run. Give each manifest a state of its own (the label "
            "terraform.project-planton.org/backend.object, or --backend-config key=...)"
        )
    session.warn(
        notices(
            "manifest-tag-mismatch",
            [
                f"this state's table {recorded.name} carries the tag PlantonManifest={recorded.manifest_key}, and "
                f"this manifest is {ours}: if this manifest was renamed, all is well (the next apply tags the table "
                f"anew); if {recorded.manifest_key} is another manifest, the two share one state: give each its own"
            ],
        )
    )


def _warn_of_a_lost_state(session: Session) -> None:
    """The state records no table, but this workspace applied one and never destroyed it: the
    state may have been lost or emptied (a truncated file, a deleted object), and the plan would
    create a table that exists. Said, with the way to adopt it."""
    last = session.workspace.last_apply()
    if last is None:
        return
    prepared = session.prepared
    applied = f"table {last.table} in {last.region}" if last.table and last.region else "a table"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(last.time))
    adopt = suggest(session.request, prepared, "import")
    session.warn(
        notices(
            "lost-state",
            [
                f"the state ({prepared.state_location}) records no table, but this workspace applied {applied} on "
                f"{when} and planton saw no destroy since: unless it was deleted elsewhere (another machine, or by "
                "hand), the state looks lost or emptied, and applying would try to create the table again",
                f"if the table exists, adopt it into the state before anything else: {adopt}",
            ],
        )
    )


def _refuse_another_table(session: Session, recorded: RecordedTable | None) -> None:
    """refresh and destroy act on the table the state holds (``recorded``): refuse when the
    manifest names another (a renamed table, a region change, or a second manifest sharing the
    workspace)."""
    table, region = session.prepared.table, session.prepared.region
    if recorded is None:
        return
    same_name = recorded.name == table.table_name
    same_region = recorded.region is None or recorded.region == region
    if same_name and same_region:
        return
    held = f"{recorded.name} in {recorded.region}" if recorded.region else recorded.name
    command = session.request.command
    if command is not Command.DESTROY:
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
