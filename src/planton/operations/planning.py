"""``plan``: terraform's plan, its summary and planton's warnings; ``--out`` keeps it."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from planton.errors import DETAILED_CHANGES, EXIT_OK, UsageError
from planton.operations.request import PreparedRun, check_plan_out, emulator_gaps, suggest
from planton.operations.session import Session, TofuOutcome, interruption_notes


def run_plan(session: Session) -> TofuOutcome:
    """terraform's plan, its summary, and planton's warning when applying it would lose a
    table; with ``--out`` the plan is kept for ``apply FILE``."""
    request, workspace, prepared = session.request, session.workspace, session.prepared
    destroy = request.destroy
    saved: Path | None = None
    try:
        result = session.plan_to_file(detailed_exitcode=request.detailed_exitcode, destroy=destroy)
        if result.interrupted_by is not None or result.returncode not in (EXIT_OK, DETAILED_CHANGES):
            return session.outcome("plan", result, interruption_notes(session, "plan", result))
        judged = session.read_plan_file()
        if prepared.plan_out is not None:
            saved = _save_plan(prepared, prepared.plan_out, destroy=destroy)
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
    gaps = emulator_gaps(prepared.loaded.manifest) if request.local and not destroy else []
    if gaps:
        session.warn(
            [
                f"the local emulator cannot serve {field}, {what}: on the emulator this plan is its only check, "
                "and `planton tofu apply --local` refuses it"
                for field, what in gaps
            ]
        )
    if saved is not None:
        applying = suggest(request, prepared, "apply", str(saved), overrides=False)
        session.ui.notify(f"saved the plan to {saved}; apply exactly it with: {applying}")
    return session.outcome(
        "plan",
        result,
        interruption_notes(session, "plan", result),
        summary=judged.summary,
        plan_saved=saved,
        dangers=() if destroy else decision.dangers,
    )


def _save_plan(prepared: PreparedRun, target: Path, *, destroy: bool) -> Path:
    """Copy the workspace's plan to ``target`` (private: a plan holds the variables in clear
    text) and record it, so that only this workspace applies it. ``target`` is checked again
    first, where it really is (its directory's links resolved): what was checked before the plan
    ran may have changed since (a state written, a link moved)."""
    workspace = prepared.workspace
    try:
        real = check_plan_out(target, prepared.work_dir, prepared.inputs)
    except UsageError as err:
        raise UsageError(f"{err.message}; the plan was made but not saved") from None
    temporary: str | None = None
    try:
        digest = hashlib.sha256(workspace.plan_path.read_bytes()).hexdigest()
        handle, temporary = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.")
        os.close(handle)
        shutil.copyfile(workspace.plan_path, temporary)
        os.chmod(temporary, 0o600)
        os.replace(temporary, real)
    except OSError as err:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"--out: the plan was made but cannot be saved to {target}: {err.strerror or err}") from None
    workspace.record_saved_plan(digest, destroy=destroy)
    return target
