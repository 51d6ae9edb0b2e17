"""``Finding``: every warning planton gives, one shape for people, ``--json`` and step summaries.

A finding has a ``code`` (stable, for scripts and for a team's policy), a ``severity``, the
``field`` it is about in the user's own spelling (``spec.pointInTimeRecoveryEnabled``, or an
option such as ``--stack-input``) when it is about one, a ``message`` saying what is wrong, and
a ``fix`` saying what to do. Best-practice findings (``policy``) also name the well-known rules
that check the same thing after the HCL is written (checkov, trivy, AWS Config, Security Hub).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a finding stops: a warning is said; an error stops the command (exit 7)."""

    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """One thing planton wants the user to know before it goes on."""

    code: str
    message: str
    fix: str = ""
    field: str | None = None
    severity: Severity = Severity.WARNING
    # The ids of well-known rules that check the same ("checkov CKV_AWS_28", ...).
    rules: tuple[str, ...] = ()
    # The manifest it is about, when it is about one (set where several are read: a fleet).
    manifest: str | None = None
    # Whether the text names the code: best-practice findings do (a policy names them by it).
    coded: bool = False

    def text(self) -> str:
        """The finding as one line: ``field: message; fix [code]``."""
        said = f"{self.field}: {self.message}" if self.field else self.message
        if self.fix:
            said += f"; {self.fix}"
        if self.coded:
            said += f" [{self.code}]"
        return f"{self.manifest}: {said}" if self.manifest else said

    def to_json(self) -> dict[str, Any]:
        """The finding as ``--json`` documents carry it."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "field": self.field,
            "message": self.message,
            "fix": self.fix or None,
            "rules": list(self.rules),
            "manifest": self.manifest,
        }


def notice(code: str, message: str, *, field: str | None = None, fix: str = "") -> Finding:
    """A warning about how planton handles the inputs or environment it was given (never an
    error, whatever a policy says: it is about this run, not the manifest)."""
    return Finding(code=code, message=message, fix=fix, field=field)


def notices(code: str, messages: Sequence[str]) -> tuple[Finding, ...]:
    """One ``notice`` of ``code`` for each message."""
    return tuple(notice(code, message) for message in messages)


def about(findings: Sequence[Finding], manifest: str) -> tuple[Finding, ...]:
    """``findings`` each naming ``manifest`` (for a fleet's output, where several are read)."""
    return tuple(replace(finding, manifest=manifest) for finding in findings)


def errors(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """The findings that stop the command."""
    return tuple(finding for finding in findings if finding.severity is Severity.ERROR)


def warnings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """The findings that are only said."""
    return tuple(finding for finding in findings if finding.severity is Severity.WARNING)
