"""The domain errors planton raises and the exit codes of every outcome.

The CLI's boundary (``cli/boundary.py``) turns each ``PlantonError`` into a message and its exit
code; anything else that escapes is a bug in planton and gets a crash report instead.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from typing import Any

from planton.findings import Finding

# Every outcome has a code of its own, so a script can tell them apart. docs/cli.md shows this
# table ("Exit codes"), and a test keeps the two identical.
EXIT_OK = 0
EXIT_TERRAFORM_FAILED = 1
EXIT_USAGE = 2
EXIT_ENVIRONMENT = 3
EXIT_BAD_MANIFEST = 4
EXIT_REFUSED = 5
EXIT_UNMANAGED_TABLE = 6
EXIT_POLICY = 7
EXIT_BUG = 70  # EX_SOFTWARE in sysexits.h
EXIT_TIMED_OUT = 124  # as coreutils' timeout(1) reports it
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE
EXIT_TERMINATED = 143  # 128 + SIGTERM

# ``plan --detailed-exitcode`` uses terraform's meanings, which CI scripts rely on: 0 no changes,
# 2 changes, and 1 for every error, whatever planton's own code for it would have been.
DETAILED_NO_CHANGES = 0
DETAILED_ERROR = 1
DETAILED_CHANGES = 2

EXIT_CODES: Mapping[int, str] = {
    EXIT_OK: "Success.",
    EXIT_TERRAFORM_FAILED: "terraform failed; its own error is shown above. Its status 1 is passed on; any "
    "other status (a crash exits 2, a kill 128+N) is reported as 1, with a line naming it. Also: an apply "
    "you did not approve (anything but exactly `yes`), or a saved plan that is stale or was applied already; nothing "
    "was changed.",
    EXIT_USAGE: "Usage mistake: an unknown command or option, a missing or invalid option value, a `--set` path "
    "the manifest has no field for, a plan file not saved for this manifest's state, a changed backend without "
    "`init --migrate-state`, or an apply/destroy "
    "that would have to ask where nobody can answer (no terminal, or `CI` set). The message says which, with a "
    "suggestion. Nothing was written or run.",
    EXIT_ENVIRONMENT: "The environment is not ready: no tofu/terraform, no AWS credentials, a work dir that "
    "cannot be written, the emulator would not start, another planton is using the workspace, a state (or "
    "planton's record beside it) that cannot be read or is corrupt, an S3 error. Nothing was run.",
    EXIT_BAD_MANIFEST: "The manifest, or a stack input or provider config file, cannot be read or is invalid "
    "(`dotted.path: message` lines), or `apply --local` was asked for what the local emulator cannot serve. "
    "Nothing was written or run.",
    EXIT_REFUSED: "Refused to lose a table: under `--auto-approve` (or applying a saved plan) the plan would "
    "delete or replace the table or, after a region change, leave the old one behind (`--allow-replace` lets "
    "it through); `refresh` / `destroy` would act on a table other than the one the manifest names; or the "
    "credentials belong to another AWS account than the table the state records (or than the one a saved plan "
    "was made for), whatever the command, or nobody recorded which account a half-created table is in; or "
    "`init --migrate-state` would overwrite a state that records another table. The message says what; nothing "
    "was changed.",
    EXIT_UNMANAGED_TABLE: "The table already exists but this workspace's state does not record it (a create "
    "that was interrupted, or a table made outside planton: adopt it with `planton tofu import`), or another "
    "planton workspace or manifest manages it (its PlantonManifest tag names another; never adopted); or "
    "planton's own create of a table was interrupted before the state recorded it, and the manifest now names "
    "another table or region (adopt that one first). Nothing was changed.",
    EXIT_POLICY: "A best-practice finding is an error: the team's policy (`[tool.planton]` in pyproject.toml, or "
    "planton.toml) lists it under `errors`, or `--strict` makes every finding one. The findings are listed, each "
    "with its fix. Nothing was written or run.",
    EXIT_BUG: "A bug in planton. One line names the crash report it wrote; please attach that to a bug report.",
    EXIT_TIMED_OUT: "Timed out (`--timeout`): terraform was interrupted as Ctrl-C would (it finishes writing its "
    "state first), or, between two terraform runs, the next one was not started. What was interrupted is said, as "
    "for Ctrl-C.",
    EXIT_INTERRUPTED: "Interrupted by Ctrl-C (SIGINT). A running terraform was left to finish and write its "
    "state first.",
    EXIT_BROKEN_PIPE: "Whoever read planton's output went away (a broken pipe, as when piped into `head -1`). "
    "planton carries on regardless (terraform runs to its end and writes its state) and exits 141 when done; "
    "when the command fails, the failure's own code stands.",
    EXIT_TERMINATED: "Terminated by SIGTERM. A running terraform was left to finish and write its state first.",
}


def detailed_exit_code(code: int, *, error: bool) -> int:
    """An outcome's code as ``plan --detailed-exitcode`` must report it. An error (any of
    planton's own) is 1; a finished command keeps 0 (no changes) or 2 (changes), and any other
    status (terraform failed, an interruption) is an error too."""
    if error or code not in (DETAILED_NO_CHANGES, DETAILED_CHANGES):
        return DETAILED_ERROR
    return code


class PlantonError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole message for them."""

    exit_code = EXIT_ENVIRONMENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def lines(self) -> list[str]:
        """The message as the lines to print."""
        return self.message.splitlines()

    def details(self) -> dict[str, Any]:
        """What a ``--json`` error document carries beside the message (nothing, mostly)."""
        return {}


class ManifestError(PlantonError):
    """The manifest cannot be read or is invalid; nothing was written or run."""

    exit_code = EXIT_BAD_MANIFEST

    def __init__(self, source: str, problems: Sequence[str], *, what: str = "AwsDynamodb manifest") -> None:
        self.source = source
        self.problems = list(problems)
        self.what = what
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        """A header naming the file, then one ``dotted.path: message`` line per problem."""
        return [f"{self.source} is not a valid {self.what}:", *self.problems]


class UsageError(PlantonError):
    """An option or environment value is wrong; nothing was written or run."""

    exit_code = EXIT_USAGE


class EnvironmentNotReady(PlantonError):
    """Something planton needs is missing or unusable: a binary, credentials, the emulator, a
    directory it must write to."""

    exit_code = EXIT_ENVIRONMENT


class ChangeRefused(PlantonError):
    """The plan would lose a table and nobody agreed to that; nothing was applied."""

    exit_code = EXIT_REFUSED


class UnmanagedTable(PlantonError):
    """The table exists, and the state does not know it; nothing was changed."""

    exit_code = EXIT_UNMANAGED_TABLE


class PolicyViolation(PlantonError):
    """Findings the team's policy (or ``--strict``) makes errors; nothing was written or run.
    ``findings`` holds every finding of the command (errors and warnings), for ``--json``."""

    exit_code = EXIT_POLICY

    def __init__(self, header: str, lines: Sequence[str], findings: Sequence[Finding]) -> None:
        self.header = header
        self.finding_lines = list(lines)
        self.findings = list(findings)
        super().__init__("\n".join([header, *lines]))

    def lines(self) -> list[str]:
        return [self.header, *self.finding_lines]

    def details(self) -> dict[str, Any]:
        """Every finding (the errors and the warnings), as ``--json`` documents carry them."""
        return {"findings": [finding.to_json() for finding in self.findings]}


class ApplyNotApproved(PlantonError):
    """The question was answered with anything but ``yes`` (or stdin ended)."""

    exit_code = EXIT_TERRAFORM_FAILED


class PlanUnreadable(PlantonError):
    """terraform's plan JSON is not what planton can judge; nothing is applied."""


class Interrupted(BaseException):
    """planton itself received SIGINT or SIGTERM outside a terraform run (during one, the runner
    lets terraform finish instead). A ``BaseException``, like ``KeyboardInterrupt``, so that no
    ``except Exception`` swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal's number, as a shell reports a process the signal ended."""
        return 128 + self.signum

    def lines(self) -> list[str]:
        return ["interrupted"]


class TimedOut(Interrupted):
    """``--timeout`` ran out: terraform was interrupted as by Ctrl-C (SIGINT), or was not started
    again. Exits 124."""

    def __init__(self, timeout: str, what: str) -> None:
        super().__init__(signal.SIGINT)
        self.message = f"timed out (--timeout {timeout}): {what}"

    @property
    def exit_code(self) -> int:
        return EXIT_TIMED_OUT

    def lines(self) -> list[str]:
        return [self.message]


class OutputClosed(Exception):
    """Whoever reads planton's stdout went away (``planton tofu output ... | head -1``). Not a
    ``PlantonError``: there is no one to tell, only an exit code to give."""
