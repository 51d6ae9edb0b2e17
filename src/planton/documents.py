"""The JSON documents ``--json`` prints: one per command, built from the core's results.

Each is a plain mapping of JSON values; the CLI prints it as it is, and nothing else on stdout.
Credentials never appear: the documents are built from the manifest's table, the plan and
terraform's outputs, none of which holds them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planton.errors import EXIT_BROKEN_PIPE, EXIT_OK
from planton.operations.results import Happened, what_happened
from planton.table import TableDefinition

if TYPE_CHECKING:
    from planton.findings import Finding

    # Only named in annotations: the error boundary builds error documents without loading the
    # operations (and with them the runner).
    from planton.operations.fleet import FleetOutcome
    from planton.operations.session import TofuOutcome
    from planton.operations.validation import Validated

# The codes of a tofu command whose terraform finished its work: 141 only ever replaces a success
# (the command's output lost its reader meanwhile, see operations.results.exit_status).
_FINISHED = (EXIT_OK, EXIT_BROKEN_PIPE)


def table_document(table: TableDefinition) -> dict[str, Any]:
    """The manifest's table in brief: what `validate` found."""
    return {
        "name": table.table_name,
        "region": table.aws_region,
        "billing_mode": table.billing_mode.value,
        "partition_key": {"name": table.partition_key.name, "type": table.partition_key.type.value},
        "sort_key": {"name": table.sort_key.name, "type": table.sort_key.type.value} if table.sort_key else None,
        "global_secondary_indexes": [index.name for index in table.global_indexes],
        "local_secondary_indexes": [index.name for index in table.local_indexes],
    }


def validation_document(validated: Validated) -> dict[str, Any]:
    """``validate --json`` for a valid manifest."""
    loaded = validated.loaded
    return {
        "valid": True,
        "manifest": str(loaded.manifest.path),
        "table": table_document(validated.table),
        "warnings": [finding.text() for finding in validated.findings],
        "findings": [finding.to_json() for finding in validated.findings],
    }


def fleet_validation_document(
    fleet: Sequence[Validated], shard: str | None, findings: Sequence[Finding] = ()
) -> dict[str, Any]:
    """``validate --json`` for a fleet: every manifest valid, one entry each; ``findings``: what
    choosing the manifests found (each manifest's own are in its entry)."""
    return {
        "valid": True,
        "shard": shard,
        "findings": [finding.to_json() for finding in findings],
        "manifests": [validation_document(one) for one in fleet],
    }


def plan_document(outcome: TofuOutcome, exit_code: int) -> dict[str, Any]:
    """``plan --json``. ``data_loss`` is planton's judgement too: a region move loses the old
    table although terraform plans only a create, and credentials of another account than the
    table's would lose track of it (no plan is made then: ``has_changes`` is null). ``dangers``
    says why, in words."""
    summary = outcome.summary
    failed = exit_code not in (0, 2)  # 2: --detailed-exitcode's "changes"
    return {
        "command": "plan",
        "exit_code": exit_code,
        "workspace": _path(outcome.workspace),
        "state": outcome.state,
        "plan_file": _path(outcome.plan_saved),
        **(summary.to_json() if summary is not None else {"has_changes": None, "cost": None}),
        "data_loss": outcome.data_loss if summary is not None or outcome.dangers else None,
        "dangers": list(outcome.dangers),
        # "region-move" or "untaint": only `apply` without a plan file can carry this plan out.
        "applies_without_file": outcome.applies_without_file,
        "warnings": [finding.text() for finding in outcome.warnings],
        "findings": [finding.to_json() for finding in outcome.warnings],
        "notes": list(outcome.notes),
        "error": _failed(outcome, exit_code) if failed else None,
    }


def apply_document(outcome: TofuOutcome, exit_code: int, command: str = "apply") -> dict[str, Any]:
    """``apply --json``: what the applied plan changed, and the outputs afterwards."""
    summary = outcome.summary
    changed = summary.to_json() if summary is not None else {}
    return {
        "command": command,
        "exit_code": exit_code,
        "applied": exit_code in _FINISHED and what_happened(outcome) is Happened.APPLIED,
        "workspace": _path(outcome.workspace),
        "state": outcome.state,
        "counts": changed.get("counts"),
        "resources": changed.get("resources", []),
        "cost": changed.get("cost"),
        "data_loss": outcome.data_loss,
        "dangers": list(outcome.dangers),
        "outputs": dict(outcome.outputs) if outcome.outputs is not None else None,
        "warnings": [finding.text() for finding in outcome.warnings],
        "findings": [finding.to_json() for finding in outcome.warnings],
        "notes": list(outcome.notes),
        "error": _failed(outcome, exit_code) if exit_code != 0 else None,
    }


def outputs_document(outcome: TofuOutcome) -> dict[str, Any]:
    """``output --json``: each output's value, by name."""
    return dict(outcome.outputs or {})


def error_document(exit_code: int, lines: Sequence[str], details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What ``--json`` prints when a command fails before it has a result of its own (with
    what the error carries besides: a policy's findings)."""
    return {"error": {"exit_code": exit_code, "message": list(lines), **(details or {})}}


def failure_document(outcome: TofuOutcome, exit_code: int) -> dict[str, Any]:
    """What ``--json`` prints when terraform failed and the command has nothing else to report."""
    return error_document(exit_code, _failed(outcome, exit_code))


def _failed(outcome: TofuOutcome, exit_code: int) -> list[str]:
    if outcome.refusal:
        return list(outcome.refusal)
    status = outcome.result.returncode
    if exit_code == EXIT_BROKEN_PIPE:
        return [
            f"whoever read planton's output went away while terraform ran; terraform {outcome.command} finished "
            f"(status {status}) and what it wrote since was dropped (exit {exit_code})",
            *outcome.notes,
        ]
    return [
        f"terraform {outcome.command} failed (status {status}, exit {exit_code}); its own error is on stderr",
        *outcome.notes,
    ]


def _path(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def fleet_document(outcome: FleetOutcome, exit_code: int) -> dict[str, Any]:
    """``--json`` for a fleet: the fleet's exit code, and one result per manifest, each with the
    document its own run printed."""
    return {
        "command": outcome.command,
        "exit_code": exit_code,
        "interrupted": outcome.interrupted_by is not None,
        "refusal": list(outcome.refusal),
        "declined": outcome.declined,
        "plans_saved": _path(outcome.plans_saved),
        "findings": [finding.to_json() for finding in outcome.warnings],
        "manifests": [
            {
                "name": result.member.name,
                "manifest": result.member.label,
                "table": result.member.table,
                "result": result.result.value,
                "exit_code": result.exit_code,
                "counts": dict(result.counts) if result.counts is not None else None,
                "data_loss": result.data_loss,
                "seconds": round(result.seconds, 3),
                "why": list(result.why),
                "log": str(result.member.log),
                "document": dict(result.document) if result.document is not None else None,
            }
            for result in outcome.results
        ],
    }
