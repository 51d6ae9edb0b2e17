"""``apply``: plan to a file, judge it, ask (or refuse), then apply exactly that plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from planton.errors import EXIT_OK, ApplyNotApproved, ChangeRefused, EnvironmentNotReady, UnmanagedTable
from planton.findings import notices
from planton.operations.adopt import already_exists, refuse_a_table_managed_elsewhere
from planton.operations.request import suggest
from planton.operations.session import JudgedPlan, Session, TofuOutcome, interruption_notes
from planton.plan import TABLE_ADDRESS, Decision, TableRef
from planton.records import InterruptedCreate
from planton.runner import RunResult
from planton.workspace import PLAN_FILE


@dataclass(frozen=True)
class Approval:
    """A judged plan someone agreed to apply (asked, or ``--auto-approve``), and whether what
    they agreed to loses a table."""

    judged: JudgedPlan
    agreed_loss: bool


@dataclass(frozen=True)
class Applied:
    """terraform's apply of an approved plan: its result, and whether that plan created the table."""

    result: RunResult
    creates: bool


def run_apply(session: Session) -> TofuOutcome:
    """Plan to a file, judge it, ask (or refuse), then apply exactly that plan: the steps
    ``plan_for_apply``, ``approve`` and ``apply_approved``, then ``finish_apply``."""
    try:
        judged = plan_for_apply(session)
        if isinstance(judged, TofuOutcome):
            return judged
        session.show(judged)
        if not judged.decision.changes:
            session.ui.notify("no changes: the table matches the manifest; nothing to apply")
            return session.outcome("plan", RunResult(EXIT_OK), summary=judged.summary, outputs=session.outputs())
        approval = approve(session, judged)
        applied = apply_approved(session, approval)
        if isinstance(applied, TofuOutcome):
            return applied
    finally:
        session.workspace.discard_plan()
    return finish_apply(session, applied.result, judged, creates=applied.creates, agreed_loss=approval.agreed_loss)


def approve(session: Session, judged: JudgedPlan) -> Approval:
    """The judged plan, approved: refused when planton cannot apply it (a table the state does
    not manage, a deletion-protected table it deletes, a table it loses under --auto-approve
    without --allow-replace); otherwise asked, unless --auto-approve. ``ApplyNotApproved`` when
    the answer is not yes."""
    request, decision = session.request, judged.decision
    if decision.blocked:
        raise UnmanagedTable("\n".join(decision.blocked))
    refuse_deleting_a_protected_table(session, decision)
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
        session.warn(notices("data-loss", decision.dangers))
    if not request.auto_approve and not session.confirm():
        raise ApplyNotApproved("apply cancelled: the answer was not 'yes'; nothing was changed")
    # What the user agreed to may have run by the time apply fails.
    return Approval(judged, agreed_loss=decision.dangerous)


def apply_approved(session: Session, approval: Approval) -> Applied | TofuOutcome:
    """Apply exactly the approved plan; a region move first deletes the table left behind (and
    plans again, in ``destroy_left_behind``). An outcome when that deletion or plan stopped."""
    decision = approval.judged.decision
    if decision.moved_from is not None:
        moved = destroy_left_behind(session, decision.moved_from)
        if isinstance(moved, TofuOutcome):
            return moved
        decision = moved.decision
    return Applied(session.invoke("apply", PLAN_FILE, watch_stderr=True), creates=decision.creates_table)


def finish_apply(
    session: Session, result: RunResult, judged: JudgedPlan, *, creates: bool, agreed_loss: bool
) -> TofuOutcome:
    """An applied plan's outcome, with the outputs after a success."""
    after_apply(session, result, creates=creates, agreed_loss=agreed_loss)
    outputs: Mapping[str, Any] | None = None
    unread: tuple[str, ...] = ()
    if result.returncode == EXIT_OK:
        account = session.caller_account or (session.binding.account if session.binding else None)
        session.workspace.record_apply(session.prepared.table.table_name, session.prepared.region, account)
        try:
            outputs = session.outputs()
        except EnvironmentNotReady as err:  # S3 unreachable since, credentials expired mid-apply
            unread = (
                f"the apply succeeded, but its outputs cannot be read back from the state ({err.message}); "
                f"`planton tofu output` shows them once it can be read",
            )
    refused = creates and already_exists(result.stderr)
    notes = (*interruption_notes(session, "apply", result, creating=creates and not refused), *unread)
    if refused and result.interrupted_by is not None:
        table, region = session.prepared.table.table_name, session.prepared.region
        notes = (
            f"interrupted; AWS had refused to create table {table}: one of that name already exists in {region}, "
            "and this workspace's state does not record it (a table made outside planton, or one another "
            "manifest manages). Nothing was created. Check it before adopting it with: "
            f"{suggest(session.request, session.prepared, 'import')}",
        )
    return session.outcome(
        "apply",
        result,
        notes,
        summary=judged.summary,
        outputs=outputs,
        dangers=judged.decision.dangers,
    )


def after_apply(session: Session, result: RunResult, *, creates: bool, agreed_loss: bool) -> None:
    """What an apply's end tells planton to remember, or to refuse to go on with."""
    table = session.prepared.table
    if result.interrupted_by is not None and result.returncode != 0 and creates and not already_exists(result.stderr):
        # Only a create can leave the taint planton may later undo as its own, or a table AWS
        # made that the state never recorded. (A create AWS refused because the table existed
        # made nothing: that table is someone else's, and is reported below.)
        account = session.caller_account or (session.binding.account if session.binding else None)
        create = InterruptedCreate(table.table_name, session.prepared.region, account)
        try:
            session.records.record_interrupted_create(create)
        except EnvironmentNotReady as err:
            session.memory_lost = True
            # The interruption stays the outcome; what could not be remembered is said, loudly.
            adopt = suggest(session.request, session.prepared, "import")
            session.warn(
                notices(
                    "create-not-remembered",
                    [
                        f"planton could not remember its interrupted create of table {create} ({err.message}). Before "
                        "anything else, adopt the table if it exists (its next apply would otherwise stop at it, or "
                        f"create another one if the manifest changes): {adopt}"
                    ],
                )
            )
    elif result.returncode == 0 and session.interrupted is not None:
        # The remembered table is settled once the state records it: made by this apply's create
        # (so AWS had no such table any more), or kept by it.
        recorded = session.recorded_now()
        remembered = session.interrupted
        if recorded is not None and recorded.name == remembered.table_name and not recorded.tainted:
            session.records.clear_interrupted_create()
    if result.returncode != 0 and result.interrupted_by is None and creates and already_exists(result.stderr):
        refuse_a_table_managed_elsewhere(session)
        done = "the agreed deletion ran, but nothing was created" if agreed_loss else "nothing was changed"
        raise UnmanagedTable(
            f"table {table.table_name} already exists in {session.prepared.region}, but this workspace's state "
            "does not record it (a create that was interrupted, a table made outside planton, or one another "
            f"planton manifest elsewhere manages: check before adopting it); {done}. Adopt it with: "
            f"{suggest(session.request, session.prepared, 'import')}"
        )


def refuse_deleting_a_protected_table(session: Session, decision: Decision) -> None:
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


def refuse_destroying_a_protected_table(session: Session) -> None:
    recorded = session.recorded
    if recorded is not None and recorded.deletion_protection:
        raise ChangeRefused(protected_message(recorded.name, "nothing was deleted"))


def protected_message(name: str, what: str) -> str:
    return (
        f"table {name} has deletion protection on; {what}. To delete it, first turn protection off in the "
        "manifest (spec.deletionProtectionEnabled / deletion_protection_enabled: false) and run "
        "`planton tofu apply`, then destroy"
    )


def plan_for_apply(session: Session) -> JudgedPlan | TofuOutcome:
    """The saved plan's decision; a taint planton's own interrupted apply left is undone first
    (the table exists: the plan's refresh just read it), so that the table is kept, not replaced."""
    _workspace, table = session.workspace, session.prepared.table
    for _ in range(2):
        planned = session.plan_to_file()
        result = planned.result
        if result.interrupted_by is not None or result.returncode != EXIT_OK:
            return session.outcome("plan", result, interruption_notes(session, "plan", result), finished=False)
        judged = session.judge(planned)
        if not (judged.decision.tainted_only and session.creating_this_table_was_interrupted()):
            return judged
        untainted = session.invoke("untaint", TABLE_ADDRESS)
        if untainted.interrupted_by is not None or untainted.returncode != EXIT_OK:
            return session.outcome(
                "untaint", untainted, interruption_notes(session, "untaint", untainted), finished=False
            )
        session.ui.notify(
            f"table {table.table_name} was left tainted by planton's own interrupted apply; it exists, so "
            "planton untainted it instead of replacing it (and its items)"
        )
        session.records.clear_interrupted_create()
        session.advance(replace(session.context, interrupted=None))
    return judged


def destroy_left_behind(session: Session, old: TableRef) -> JudgedPlan | TofuOutcome:
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
        return session.outcome("destroy", destroyed, interruption_notes(session, "destroy", destroyed), finished=False)
    # The state no longer holds the old table: the next plan is judged on its own.
    session.advance(replace(session.context, recorded=None))
    replanned = plan_for_apply(session)
    if isinstance(replanned, JudgedPlan) and replanned.decision.dangerous:
        raise ChangeRefused(
            "\n".join(["after deleting the old table the plan still would lose one:", *replanned.decision.dangers])
        )
    return replanned
