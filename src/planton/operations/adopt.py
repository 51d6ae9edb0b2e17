"""``import``: adopt the manifest's existing table, never one another workspace manages."""

from __future__ import annotations

from planton.errors import EXIT_OK, UnmanagedTable
from planton.findings import notices
from planton.operations.session import Session, TofuOutcome, interruption_notes
from planton.plan import TABLE_ADDRESS
from planton.records import InterruptedCreate
from planton.state import recorded_table


def run_import(session: Session) -> TofuOutcome:
    """Adopt the manifest's existing table into this workspace's state. While a create of
    planton's own is remembered as interrupted (and the state does not record its table), only
    that table is adopted; when AWS has no such table, planton forgets the create."""
    table, region = session.prepared.table, session.prepared.region
    interrupted = session.interrupted
    pending = interrupted if session.recorded is None else None
    if pending is not None and not _names(pending, table.table_name, region):
        raise UnmanagedTable(
            f"planton's apply of table {pending} was interrupted while AWS was creating it, and the state does not "
            f"record it; the manifest names {table.table_name} in {region}. Nothing was imported. Adopt "
            f"{pending.table_name} first, or let planton find it gone: point the manifest back at it "
            f"(spec.table_name, spec.aws_region) and run import again"
        )
    refuse_a_table_managed_elsewhere(session)
    ours = session.creating_this_table_was_interrupted()
    result = session.invoke("import", TABLE_ADDRESS, table.table_name)
    notes = interruption_notes(session, "import", result)
    if result.returncode == EXIT_OK and result.interrupted_by is None:
        adopted = session.recorded_now()
        if adopted is not None and adopted.manifest_key not in (None, table.identity.key):
            _give_back(session, adopted.manifest_key or "")
        if adopted is not None and adopted.managed_by_planton and adopted.manifest_key is None and not ours:
            session.warn(
                notices(
                    "managed-elsewhere",
                    [
                        f"table {table.table_name} carries the tag ManagedBy=planton, and this workspace did not "
                        "create it: another planton manifest (another folder, work dir or endpoint) may manage it. If "
                        "one does, two manifests now manage one table, and destroy from either deletes it for both: "
                        "remove it from this state (terraform state rm aws_dynamodb_table.this, in the workspace "
                        "above) unless this manifest is that one, moved"
                    ],
                )
            )
        if adopted is not None and adopted.manifest_key == table.identity.key and not ours:
            session.warn(
                notices(
                    "managed-elsewhere",
                    [
                        f"table {table.table_name} carries this manifest's own tag "
                        f"(PlantonManifest={adopted.manifest_key}), and this state did not create it: it was applied "
                        "from another state of this manifest (another backend key or work dir, say before its "
                        "backend labels changed without `init --migrate-state`). If that state still records it, "
                        "two states now manage one table, and destroy from either deletes it: remove it from one "
                        "of them (terraform state rm aws_dynamodb_table.this, in its workspace)"
                    ],
                )
            )
        if interrupted is not None:
            session.records.clear_interrupted_create()
        session.ui.notify(
            f"table {table.table_name} is now managed here; `planton tofu plan` shows how it differs from the manifest"
        )
    elif pending is not None and result.interrupted_by is None and _no_such_table(result.stderr):
        # Asked of AWS under the table's own account and region: the interrupted create left nothing.
        session.records.clear_interrupted_create()
        notes = (
            *notes,
            f"table {pending} does not exist: there is nothing to adopt, and planton forgets its interrupted "
            "create of it; `planton tofu apply` now acts on the manifest as it is",
        )
    return session.outcome("import", result, notes)


def _names(interrupted: InterruptedCreate, table: str, region: str) -> bool:
    return interrupted.table_name == table and interrupted.region in (None, region)


def _no_such_table(stderr: str) -> bool:
    return "Cannot import non-existent remote object" in stderr


def refuse_a_table_managed_elsewhere(session: Session) -> None:
    """Another workspace beside this one (another manifest) records the same table: adopting it
    here would let two manifests fight over it, and destroy it from either. When this workspace
    remembers an interrupted create of that table, the table is the other workspace's: the
    memory goes (it would otherwise hold back every apply here)."""
    table, region = session.prepared.table.table_name, session.prepared.region
    for other in session.workspace.neighbours():
        recorded = recorded_table(other.state_path)
        if recorded is not None and recorded.name == table and recorded.region in (None, region):
            forgotten = ""
            interrupted = session.interrupted
            if interrupted is not None and _names(interrupted, table, region):
                session.records.clear_interrupted_create()
                forgotten = (
                    f". planton forgets its interrupted create of {table} here: the table is that workspace's, "
                    "managed, not left behind"
                )
            raise UnmanagedTable(
                f"table {table} in {region} is already managed by another planton workspace, {other.root}; nothing was "
                "changed. Two manifests must never manage one table: if that workspace is another manifest's, give "
                "this one its own spec.table_name, or use that manifest; if it is this manifest's own from before "
                f"its metadata.name, org, env or id changed, change them back (workspaces are keyed by them){forgotten}"
            )


def _give_back(session: Session, owner: str) -> None:
    """The imported table carries the PlantonManifest tag of another manifest: it is that
    manifest's, wherever that one keeps its state. The import is undone (the table is dropped
    from this state, never touched), and the command refused."""
    table, region = session.prepared.table.table_name, session.prepared.region
    undone = session.invoke("state", "rm", TABLE_ADDRESS, capture=True)
    if undone.returncode != EXIT_OK or undone.interrupted_by is not None:
        raise UnmanagedTable(
            f"table {table} in {region} carries the tag PlantonManifest={owner}: the planton manifest {owner} manages "
            f"it, and this one is {session.prepared.table.identity.key}. The import could not be undone: remove it "
            f"from this state by hand (terraform state rm {TABLE_ADDRESS}, in {session.workspace.root}) before "
            "anything else, or destroy here would delete that manifest's table"
        )
    interrupted = session.interrupted
    forgotten = ""
    if interrupted is not None and _names(interrupted, table, region):
        session.records.clear_interrupted_create()
        forgotten = f". planton forgets its interrupted create of {table} here: the table is that manifest's"
    raise UnmanagedTable(
        f"table {table} in {region} carries the tag PlantonManifest={owner}: another planton manifest ({owner}, with "
        f"its state wherever it keeps it) manages it, and this manifest is {session.prepared.table.identity.key}. "
        "The import was undone; nothing was changed. Two manifests must never manage one table: use that "
        "manifest, or give this one its own spec.table_name; if that manifest is this one renamed, set its "
        f"metadata.name (and org, env, id) back{forgotten}"
    )


def already_exists(stderr: str) -> bool:
    return "ResourceInUseException" in stderr or "Table already exists" in stderr
