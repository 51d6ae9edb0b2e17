"""``import``: adopt the manifest's existing table, never one another workspace manages."""

from __future__ import annotations

from planton.errors import EXIT_OK, UnmanagedTable
from planton.operations.session import Session, TofuOutcome, interruption_notes
from planton.plan import TABLE_ADDRESS
from planton.state import recorded_table


def run_import(session: Session) -> TofuOutcome:
    """Adopt the manifest's existing table into this workspace's state."""
    table = session.prepared.table
    refuse_a_table_managed_elsewhere(session)
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
    return session.outcome("import", result, interruption_notes(session, "import", result))


def refuse_a_table_managed_elsewhere(session: Session) -> None:
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


def already_exists(stderr: str) -> bool:
    return "ResourceInUseException" in stderr or "Table already exists" in stderr
