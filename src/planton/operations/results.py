"""What an operation came to, and the exit code that says it: pure functions of its outcome.

``what_happened`` names the result (applied or not, changes or not, interrupted, refused);
``exit_status`` maps it, with the request's ``--detailed-exitcode``, to planton's exit code and
the notes that explain an unusual one. Neither prints nor runs anything: the CLI prints the
notes, and a fleet can combine the results of many."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from planton.errors import (
    DETAILED_CHANGES,
    EXIT_BROKEN_PIPE,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_TERRAFORM_FAILED,
    EXIT_TIMED_OUT,
)

if TYPE_CHECKING:
    from planton.operations.session import TofuOutcome


class Happened(StrEnum):
    """What a ``planton tofu`` command came to."""

    # planton refused to go on, and reported it as the outcome (a plan under another account's
    # credentials).
    REFUSED = "refused"
    # A signal stopped terraform, or stopped the command after an intermediate step finished.
    INTERRUPTED = "interrupted"
    # terraform failed (or crashed, or was killed from elsewhere).
    FAILED = "failed"
    # A plan that changes something (plan, or plan --destroy).
    CHANGES = "changes"
    # A plan that changes nothing: plan, or apply and destroy with nothing to do.
    NO_CHANGES = "no changes"
    # apply or destroy applied a plan.
    APPLIED = "applied"
    # init, refresh, output or import ran to its end.
    FINISHED = "finished"


def what_happened(outcome: TofuOutcome) -> Happened:
    """What the command came to, read from its outcome: the last terraform command that ran
    (``outcome.command``), its result, and whether the command finished."""
    result = outcome.result
    if outcome.refusal:
        return Happened.REFUSED
    if result.interrupted_by is not None and (result.returncode != EXIT_OK or not outcome.finished):
        return Happened.INTERRUPTED
    if outcome.command == "plan" and result.returncode == DETAILED_CHANGES:
        # planton sets 2 for a plan only when terraform said it changes something.
        return Happened.CHANGES
    if result.returncode != EXIT_OK:
        return Happened.FAILED
    if outcome.command in ("apply", "destroy"):
        return Happened.APPLIED
    if outcome.command == "plan":
        return Happened.CHANGES if outcome.summary is not None and outcome.summary.has_changes else Happened.NO_CHANGES
    return Happened.FINISHED


@dataclass(frozen=True)
class ExitStatus:
    """planton's exit code for a finished terraform run, and what to tell people about it."""

    code: int
    notes: tuple[str, ...] = ()


def exit_status(outcome: TofuOutcome, *, detailed_exitcode: bool) -> ExitStatus:
    """planton's exit code for a finished terraform run (see the table in ``errors.py``).

    terraform's documented statuses pass on: 0, 1, and, for ``plan --detailed-exitcode``, the
    2 planton sets when terraform said the plan changes something (planton always plans with
    ``-detailed-exitcode``; an automatic init's 2, or a plan's with no plan saved, is a crash).
    A signal planton received gives 130 / 143; ``--timeout`` running out, 124. Anything else (a
    crash: Go exits 2 on a panic; a signal from elsewhere) is reported as 1, "terraform failed", with a note saying what
    terraform did, so that it can never be read as one of planton's own outcomes. A refusal
    reported as an outcome (a plan under another account's credentials) is 5.

    When whoever read planton's output went away while terraform ran, a command that succeeded
    exits 141 (128 + SIGPIPE, as a shell reports a writer whose reader went away; terraform
    itself ran to its end); a failure's own code stands.
    """
    status = _terraform_exit_status(outcome, what_happened(outcome), detailed_exitcode=detailed_exitcode)
    if outcome.output_lost and status.code in (EXIT_OK, DETAILED_CHANGES):  # 2 here only means changes
        return ExitStatus(EXIT_BROKEN_PIPE, status.notes)
    return status


def _terraform_exit_status(outcome: TofuOutcome, happened: Happened, *, detailed_exitcode: bool) -> ExitStatus:
    result = outcome.result
    status = result.returncode
    if happened is Happened.REFUSED:
        return ExitStatus(EXIT_REFUSED)
    if happened is Happened.INTERRUPTED and result.timed_out:
        return ExitStatus(
            EXIT_TIMED_OUT,
            (f"timed out (--timeout): terraform was interrupted during {outcome.command}, as by Ctrl-C",),
        )
    if happened is Happened.INTERRUPTED and result.interrupted_by is not None:
        return ExitStatus(128 + result.interrupted_by)
    if status in (EXIT_OK, EXIT_TERRAFORM_FAILED):
        return ExitStatus(status)
    if happened is Happened.CHANGES and detailed_exitcode:  # a plan's 2: terraform said it changes something
        return ExitStatus(DETAILED_CHANGES)
    if status < 0:
        return ExitStatus(EXIT_TERRAFORM_FAILED, (f"{outcome.command}: terraform was killed by signal {-status}",))
    return ExitStatus(EXIT_TERRAFORM_FAILED, (f"{outcome.command}: terraform exited with status {status}",))
