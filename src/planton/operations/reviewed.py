"""``apply PLAN_FILE``: exactly the plan ``plan --out`` saved and someone reviewed."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from planton.accounts import AccountBinding, AccountRefused
from planton.errors import EXIT_OK, EXIT_TERRAFORM_FAILED, ChangeRefused, PlantonError, UnmanagedTable, UsageError
from planton.findings import notice
from planton.operations.apply import (
    finish_apply,
    refuse_deleting_a_protected_table,
    refuse_destroying_a_protected_table,
)
from planton.operations.destroy import after_destroy
from planton.operations.request import suggest
from planton.operations.session import JudgedPlan, Session, TofuOutcome
from planton.records import RecordStore, SavedPlan
from planton.saved_plan_files import forget_shown, kept_shown
from planton.workspace import PLAN_FILE

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


def reviewed_plan(path: Path, records: RecordStore, again: str) -> ReviewedPlan:
    """The plan at ``path``, if ``plan --out`` saved it for this workspace's state (``records``
    are what planton remembers beside it: on any machine, with remote state) and it was not
    applied yet; only read, so a refusal writes nothing."""
    try:
        with open(path, "rb") as handle:
            content = handle.read(_MAX_PLAN_BYTES + 1)
    except OSError as err:
        raise UsageError(f"PLAN_FILE: cannot read {path}: {err.strerror or err}") from None
    digest = hashlib.sha256(content).hexdigest()
    saved = records.saved_plan(digest) if len(content) <= _MAX_PLAN_BYTES else None
    if saved is None:
        raise UsageError(
            f"{path} was not saved by `planton tofu plan --out` for this manifest's state ({records.where}); "
            "nothing was applied. A plan applies only with the manifest and target (--local, --work-dir, endpoint) "
            f"it was made for; to plan for these: {again}"
        )
    if saved.applied is not None:
        raise StalePlan(f"{path} was applied already; nothing was applied. Plan again: {again}")
    return ReviewedPlan(path, content, digest, saved)


class StalePlan(PlantonError):
    """A saved plan cannot be applied: the state moved on since it was made; nothing applied."""

    exit_code = EXIT_TERRAFORM_FAILED


# What terraform (and tofu) say when a saved plan no longer fits the state.
_STALE_MARKERS = ("Saved plan is stale", "Saved plan does not match the given state")


def run_apply_saved(session: Session, reviewed: ReviewedPlan) -> TofuOutcome:
    """``apply FILE``: exactly the plan that was reviewed, without planning again and without a
    question (saving it was the review). Its bytes, read once, go to the workspace's private plan
    file, and that copy is judged and applied. What would lose a table is refused unless
    ``--allow-replace``, as under ``--auto-approve``; a ``plan --destroy`` plan is the deletion
    asked for, and only a deletion-protected table stops it."""
    workspace, prepared, request = session.workspace, session.prepared, session.request
    plan_file = reviewed.path
    again = suggest(request, prepared, "plan", "--out", "FILE")
    # Checked again under the lock: another command may have applied it since it was read.
    saved = session.records.saved_plan(reviewed.digest) or reviewed.saved
    if saved.applied is not None:
        raise StalePlan(f"{plan_file} was applied already; nothing was applied. Plan again: {again}")
    binding = session.binding
    if saved.account and binding is not None and binding.account != saved.account:
        raise ChangeRefused(
            f"refused: {plan_file} was made for AWS account {saved.account}, and {binding}; nothing was applied. "
            f"Review a plan for account {binding.account}: {again}"
        )
    if saved.account and (binding is None or not binding.guards_a_table):
        binding = AccountBinding(
            saved.account, f"{plan_file} was made for AWS account {saved.account}", saved_plan=True
        )
        session.advance(replace(session.context, binding=binding))
    if binding is not None and binding.guards_a_table and not prepared.own_plan:
        # (A fleet's own plan was made a moment ago, in this same command, with these same
        # credentials: the provider, bound to the table's account, would have refused its plan.)
        # The plan keeps the account it was made for (allowed_account_ids), and the provider would
        # refuse any other; but terraform writes the state even when an apply of a saved plan
        # fails that way, which leaves the reviewed plan stale. So ask first, nothing written.
        caller = session.credentials_account()
        if caller is not None and caller != binding.account:
            raise AccountRefused(binding, caller, "applying", asked_first=True)
    try:
        workspace.write_plan(reviewed.content)
        judged = session.read_plan_file(shown=kept_shown(prepared.shown_plans, reviewed.digest))
        decision = judged.decision
        session.show(judged, destroy=reviewed.saved.destroy)
        if decision.blocked:
            raise UnmanagedTable("\n".join(decision.blocked))
        if reviewed.saved.destroy:
            refuse_destroying_a_protected_table(session)
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
        if saved.failed is not None:
            why = (
                f"an earlier apply of this same plan failed part-way ({_when(saved.failed)}), and terraform "
                "recorded what it had done by then, so the plan no longer fits the state"
            )
        else:
            why = "the state changed after the plan was made (another apply, destroy, refresh or import ran)"
        raise StalePlan(f"{plan_file} is stale: {why}; nothing was applied now. Review a new plan: {again}")
    applied = result.returncode == EXIT_OK or result.interrupted_by is not None
    if applied:
        session.records.mark_plan_applied(reviewed.digest)
    else:
        session.records.mark_plan_failed(reviewed.digest)
    if reviewed.saved.destroy:
        outcome = after_destroy(session, result, judged)
    else:
        outcome = finish_apply(session, result, judged, creates=creates, agreed_loss=decision.dangerous)
    if applied:  # after the records: what was kept of the plan is only a shortcut
        try:
            forget_shown(prepared.shown_plans, reviewed.digest)
        except OSError as err:
            session.warn(
                [notice("shown-plan-not-removed", f"the plan's kept show -json was not removed: {err.strerror or err}")]
            )
    return outcome


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(seconds))


def _refuse_what_a_saved_plan_cannot_do(session: Session, judged: JudgedPlan, plan_file: Path) -> None:
    """A saved plan is applied as it is: a region move (planton deletes the old table first)
    and the untaint of planton's own interrupted create are for ``apply`` without a file; a
    plan that loses a table needs ``--allow-replace``."""
    prepared, decision = session.prepared, judged.decision
    refuse_deleting_a_protected_table(session, decision)
    apply_directly = suggest(session.request, prepared, "apply", overrides=False)
    if decision.moved_from is not None:
        raise ChangeRefused(
            f"{plan_file} moves the table to another region; planton deletes the old table first, which a saved "
            f"plan cannot hold. Nothing was changed; apply the move with: {apply_directly}"
        )
    if decision.tainted_only and session.creating_this_table_was_interrupted():
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
