"""``plan``: terraform's plan, its summary and planton's warnings; ``--out`` keeps it."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
from dataclasses import replace
from pathlib import Path

from planton.accounts import AccountRefused
from planton.errors import DETAILED_CHANGES, EXIT_OK, EXIT_TERRAFORM_FAILED, UsageError
from planton.findings import notice, notices
from planton.operations.request import check_plan_out, emulator_gaps, is_a_saved_plan, suggest
from planton.operations.session import Session, TofuOutcome, interruption_notes
from planton.runner import RunResult
from planton.saved_plan_files import keep_shown
from planton.workspace import workspace_marker


def run_plan(session: Session) -> TofuOutcome:
    """terraform's plan, its summary, and planton's warning when applying it would lose a
    table; with ``--out`` the plan is kept for ``apply FILE``."""
    request, workspace = session.request, session.workspace
    destroy = request.destroy
    saved: Path | None = None
    prepared = session.prepared
    if prepared.plan_out is not None and prepared.allowed_account is None:
        if prepared.own_plan:
            session.ui.notify(
                "the plan is the fleet's own, applied in this same command with these credentials: not bound to an "
                "account"
            )
        else:
            _bind_to_the_credentials_account(session)
    prepared = session.prepared
    try:
        try:
            planned = session.plan_to_file(destroy=destroy)
        except AccountRefused as refused:
            return _refused(session, refused)
        result = planned.result
        if result.interrupted_by is not None or result.returncode != EXIT_OK:
            if planned.changes and request.detailed_exitcode:
                result = replace(result, returncode=DETAILED_CHANGES)
            return session.outcome("plan", result, interruption_notes(session, "plan", result))
        judged = session.judge(planned)
        if planned.changes and request.detailed_exitcode:
            result = replace(result, returncode=DETAILED_CHANGES)
        if prepared.plan_out is not None:
            saved = _save_plan(session, prepared.plan_out, destroy=destroy, account=prepared.allowed_account)
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
        session.warn(
            notices("plan-blocked", [*decision.blocked, "`planton tofu apply` refuses this, whatever the answer"])
        )
    elif decision.dangerous:
        ours = decision.tainted_only and session.creating_this_table_was_interrupted()
        if ours:
            session.ui.notify(
                "the taint was left by planton's own interrupted apply: `planton tofu apply` keeps the table "
                "(untaints it) instead of replacing it"
            )
        elif decision.moved_from is not None:
            session.warn(
                notices(
                    "data-loss",
                    [
                        *decision.dangers,
                        "`planton tofu apply` asks before doing this (under --auto-approve it refuses unless "
                        "--allow-replace is given); a saved plan cannot make this move: apply it directly",
                    ],
                )
            )
        else:
            session.warn(
                notices(
                    "data-loss",
                    [
                        *decision.dangers,
                        "`planton tofu apply` asks before doing this; under --auto-approve, or applying a saved plan, "
                        "it refuses unless --allow-replace is given",
                    ],
                )
            )
    without_file = None
    if not destroy and not decision.blocked and decision.dangerous:
        if decision.tainted_only and session.creating_this_table_was_interrupted():
            without_file = "untaint"
        elif decision.moved_from is not None:
            without_file = "region-move"
    gaps = emulator_gaps(prepared.loaded.manifest) if request.local and not destroy else []
    if gaps:
        session.warn(
            [
                notice(
                    "emulator-gap",
                    f"the local emulator cannot serve {what}: on the emulator this plan is its only check, and "
                    "`planton tofu apply --local` refuses it",
                    field=field,
                )
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
        dangers=() if destroy else (*decision.blocked, *decision.dangers),
        applies_without_file=without_file,
    )


def _refused(session: Session, refused: AccountRefused) -> TofuOutcome:
    """No plan under another account's credentials: the refusal, reported as the plan's danger
    (in the summary, the step summary and --json) and as an error."""
    session.show_plan(None, destroy=session.request.destroy, dangers=[refused.danger])
    return session.outcome(
        "plan", RunResult(EXIT_TERRAFORM_FAILED), dangers=(refused.danger,), refusal=tuple(refused.lines())
    )


def _bind_to_the_credentials_account(session: Session) -> None:
    """A saved plan applies only under the account it was made for. Nothing binds this run to an
    account yet (no table recorded, no account_id given), so ask terraform whose credentials
    these are, and bind the plan to that account (the provider's allowed_account_ids, which the
    plan file keeps): applied with another account's credentials, the provider refuses it."""
    account = session.credentials_account()
    if account is None:
        session.warn(
            notices(
                "plan-not-bound-to-account",
                [
                    "terraform did not say which AWS account these credentials belong to, so the saved plan is not "
                    "bound to one: applied with another account's credentials it would act there. Give the account "
                    "(provider_config.account_id) to bind it"
                ],
            )
        )
        return
    prepared = replace(session.prepared, allowed_account=account)
    prepared = replace(prepared, variables=prepared.variables_for(prepared.table, prepared.region))
    session.advance(replace(session.context, prepared=prepared))
    session.workspace.write_variables(session.prepared.variables)
    session.ui.notify(f"the plan is for AWS account {account} (these credentials'); it applies only under it")


def _save_plan(session: Session, target: Path, *, destroy: bool, account: str | None) -> Path:
    """Copy the workspace's plan to ``target`` (private: a plan holds the variables in clear
    text) and record it beside the state, so that only a workspace of that state applies it. ``target`` is checked again
    first, where it really is (its directory's links resolved): what was checked before the plan
    ran may have changed since (a state written, a link moved). Then the directory is opened once
    and everything happens through that handle, checked to be no workspace: a directory swapped
    for a link to one while planton writes can never receive the plan."""
    prepared = session.prepared
    workspace = prepared.workspace
    try:
        real = check_plan_out(target, prepared.work_dir, prepared.inputs)
    except UsageError as err:
        raise UsageError(f"{err.message}; the plan was made but not saved") from None
    try:
        content = workspace.plan_path.read_bytes()
        _write_outside_workspaces(real, content, prepared.work_dir)
    except OSError as err:
        raise UsageError(f"--out: the plan was made but cannot be saved to {target}: {err.strerror or err}") from None
    digest = hashlib.sha256(content).hexdigest()
    session.records.record_saved_plan(digest, destroy=destroy, account=account)
    if session.last_shown is not None:
        try:
            keep_shown(prepared.shown_plans, digest, session.last_shown)
        except OSError as err:
            session.warn(
                [
                    notice(
                        "shown-plan-not-kept",
                        f"the plan's show -json was not kept ({err.strerror or err}): apply FILE reads it again",
                    )
                ]
            )
    return target


def _write_outside_workspaces(real: Path, content: bytes, work_dir: Path) -> None:
    """Write ``content`` to ``real`` (a private new file, then renamed over it) through one open
    handle on its directory, after checking through that same handle that the directory is not
    the work dir, inside it, or in any workspace."""
    try:
        directory = os.open(real.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as err:
        if err.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UsageError(
                f"--out: {real.parent} changed while the plan was made (it is a link now); the plan was made but "
                "not saved"
            ) from None
        raise
    temporary = f".{real.name}.{secrets.token_hex(6)}"
    try:
        _refuse_a_workspace(directory, work_dir, real)
        if _holds_something_else(directory, real.name):
            raise UsageError(f"--out: {real} appeared while the plan was made and is not a plan; it was not replaced")
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=directory)
        try:
            with os.fdopen(handle, "wb") as output:
                output.write(content)
            os.replace(temporary, real.name, src_dir_fd=directory, dst_dir_fd=directory)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=directory)
            raise
    finally:
        os.close(directory)


def _refuse_a_workspace(directory: int, work_dir: Path, real: Path) -> None:
    """The open ``directory`` is the work dir, or below it, or in or below a workspace: refused.
    Walked up through the directories themselves (``..`` of each open handle), not their names."""
    try:
        forbidden = os.stat(work_dir)
    except FileNotFoundError:
        forbidden = None
    current = os.dup(directory)
    try:
        first = True
        while True:
            here = os.fstat(current)
            marker = workspace_marker(current, state=first)
            if marker is not None or (
                forbidden is not None and (here.st_dev, here.st_ino) == (forbidden.st_dev, forbidden.st_ino)
            ):
                raise UsageError(
                    f"--out: {real} is in planton's work dir or in a workspace now (its directory changed while the "
                    "plan was made); the plan was made but not saved"
                )
            parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=current)
            above = os.fstat(parent)
            os.close(current)
            current = parent
            if (above.st_dev, above.st_ino) == (here.st_dev, here.st_ino):
                return  # the root
            first = False
    finally:
        os.close(current)


def _holds_something_else(directory: int, name: str) -> bool:
    """``name`` in the open ``directory`` exists and is not a regular file holding a saved plan."""
    try:
        mode = os.stat(name, dir_fd=directory, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(mode):
        return True
    handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=directory)
    with os.fdopen(handle, "rb") as plan:
        return not is_a_saved_plan(plan)
