"""``destroy``: delete the table, asked for, and record a table already gone."""

from __future__ import annotations

from planton.errors import EXIT_OK, ApplyNotApproved
from planton.operations.apply import protected_message, refuse_destroying_a_protected_table
from planton.operations.session import JudgedPlan, Session, TofuOutcome, interruption_notes
from planton.runner import RunResult
from planton.workspace import PLAN_FILE


def run_destroy(session: Session) -> TofuOutcome:
    """Delete the table. Asked for: plan the deletion, show it, ask, then apply exactly that
    plan. Under --auto-approve, terraform's own destroy (which lists what it deletes): nobody
    reads a summary before it, and a plan and its reading would cost two more provider starts.
    A table the state records as deletion-protected is refused before terraform starts."""
    refuse_destroying_a_protected_table(session)
    if session.request.auto_approve:
        return after_destroy(session, session.invoke("destroy", auto_approve=True, watch_stderr=True), None)
    workspace, ui = session.workspace, session.ui
    try:
        planned = session.plan_to_file(destroy=True)
        made = planned.result
        if made.interrupted_by is not None or made.returncode != EXIT_OK:
            return session.outcome("plan", made, interruption_notes(session, "plan", made), finished=False)
        judged = session.judge(planned)
        session.show(judged, destroy=True)
        if not judged.decision.changes:
            ui.notify("nothing to destroy: the state records no table")
            return session.outcome("plan", RunResult(EXIT_OK), summary=judged.summary)
        recorded = session.recorded
        doomed = (
            f"{recorded.name} ({recorded.region})"
            if recorded and recorded.region
            else session.prepared.table.table_name
        )
        if not session.confirm(f"destroy deletes table {doomed} and every item in it"):
            raise ApplyNotApproved("destroy cancelled: the answer was not 'yes'; nothing was deleted")
        result = session.invoke("apply", PLAN_FILE, watch_stderr=True)
    finally:
        workspace.discard_plan()
    return after_destroy(session, result, judged)


def after_destroy(session: Session, result: RunResult, judged: JudgedPlan | None) -> TofuOutcome:
    """When DeleteTable answers that the table is already gone (a retried request whose first
    attempt did delete it, or a deletion elsewhere in between), the table is where the user
    wants it; one more destroy records that in the state."""
    if result.returncode != EXIT_OK and result.interrupted_by is None and _already_gone(result.stderr):
        session.ui.notify("the table was already gone when terraform deleted it; destroying again to record that")
        result = session.invoke("destroy", auto_approve=True, watch_stderr=True)
    notes = interruption_notes(session, "destroy", result)
    recorded, interrupted = session.recorded, session.interrupted
    deleted = recorded.name if recorded is not None and result.returncode == EXIT_OK else None
    if deleted is not None:
        session.workspace.forget_apply()  # an empty state here is now what it should be
    if interrupted is not None and deleted == interrupted.table_name:
        session.records.clear_interrupted_create()  # the half-created table, deleted as asked
    if result.returncode != EXIT_OK and "DeletionProtectionEnabled is set to True" in result.stderr:
        # Turned on outside planton since the state last looked.
        notes = (*notes, protected_message(session.prepared.table.table_name, "AWS refused the deletion"))
    return session.outcome("destroy", result, notes, summary=judged.summary if judged else None)


def _already_gone(stderr: str) -> bool:
    return "DeleteTable" in stderr and "ResourceNotFoundException" in stderr
