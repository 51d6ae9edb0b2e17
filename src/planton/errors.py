"""The domain errors planton raises; the CLI turns each into a message and an exit code.

Anything that is not a ``PlantonError`` is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence

# Exit codes planton itself uses. Terraform's own exit status is passed on unchanged.
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130


class PlantonError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole message for them."""

    exit_code = EXIT_ENVIRONMENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def lines(self) -> list[str]:
        """The message as the lines to print."""
        return self.message.splitlines()


class ManifestError(PlantonError):
    """The manifest cannot be read or is invalid; nothing was written or run."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def lines(self) -> list[str]:
        """A header naming the file, then one ``dotted.path: message`` line per problem."""
        return [f"{self.source} is not a valid AwsDynamodb manifest:", *self.problems]


class UsageError(PlantonError):
    """An option or environment value is wrong; nothing was written or run."""

    exit_code = EXIT_BAD_INPUT


class EnvironmentNotReady(PlantonError):
    """Something planton needs is missing: a binary, credentials, the emulator."""

    exit_code = EXIT_ENVIRONMENT
