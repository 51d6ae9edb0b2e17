"""``planton state bootstrap`` (create the state bucket) and ``planton state list`` (where each
workspace of a work dir keeps its state, and what it records)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planton import emulator
from planton.backend import S3Backend
from planton.credentials import aws_environment, local_provider_config
from planton.errors import PlantonError, UsageError
from planton.findings import Finding
from planton.operations.request import Notify, TofuRequest, prepare
from planton.operations.run import terraform_environment
from planton.s3 import S3Location
from planton.state import read_local_state, read_s3_state, table_in_state
from planton.state_bucket import bootstrap_bucket
from planton.workspace import Workspace, workspace_marker


def bootstrap(
    request: TofuRequest,
    environ: Mapping[str, str],
    home: Path | None,
    notify: Notify,
    warn: Callable[[Sequence[Finding]], None],
) -> list[str]:
    """Create the manifest's state bucket (versioned, encrypted, private) if it is missing and
    make sure of its settings if not; what was done, in words. Running it again changes nothing."""
    prepared = prepare(request, environ, home, notify)
    backend = prepared.backend
    if not isinstance(backend, S3Backend):
        raise UsageError(
            "the manifest keeps its state locally (no backend labels, no --backend-type s3): there is no bucket to "
            "create. Give the labels terraform.project-planton.org/backend.type: s3 and backend.object: "
            "bucket/path/to/state.tfstate, or --backend-type s3 --backend-config bucket=... --backend-config key=..."
        )
    warn(prepared.findings)
    env = terraform_environment(prepared, request, environ)
    return bootstrap_bucket(S3Location.of_state(backend), env, kms_key_id=backend.kms_key_id)


@dataclass(frozen=True)
class WorkspaceRow:
    """One workspace of a work dir, as ``planton state list`` shows it."""

    manifest: str
    target: str
    path: Path
    backend: str
    state: str
    table: str | None = None
    region: str | None = None
    account: str | None = None
    last_apply: float | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "manifest": self.manifest,
            "target": self.target,
            "workspace": str(self.path),
            "backend": self.backend,
            "state": self.state,
            "table": self.table,
            "region": self.region,
            "account": self.account,
            "last_apply": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.last_apply))
            if self.last_apply is not None
            else None,
            "problem": self.problem,
        }


def list_workspaces(work_dir: Path, environ: Mapping[str, str]) -> list[WorkspaceRow]:
    """Every workspace in ``work_dir`` (``<work dir>/<target>/<name>``), with where its state is
    and what it records. A remote state is read from its bucket (with the environment's
    credentials); one that cannot be read is listed with the reason, not skipped."""
    if not work_dir.is_dir():
        raise UsageError(f"--work-dir: {work_dir} is not a directory of planton workspaces")
    rows = []
    for target in sorted(path for path in work_dir.iterdir() if path.is_dir() and not path.name.startswith(".")):
        for root in sorted(path for path in target.iterdir() if path.is_dir() and not path.name.startswith(".")):
            row = _row(Workspace(root), target.name, environ)
            if row is not None:
                rows.append(row)
    return rows


def _row(workspace: Workspace, target: str, environ: Mapping[str, str]) -> WorkspaceRow | None:
    place = workspace.initialised_backend()
    if place is None and workspace_marker(workspace.root, state=False) is None:
        return None  # not a planton workspace
    applied = workspace.last_apply()
    base = {
        "manifest": workspace.root.name,
        "target": target,
        "path": workspace.root,
        "last_apply": applied.time if applied is not None else None,
    }
    remote = place is not None and place.get("type") == "s3"
    if place is not None and remote:
        base |= {"backend": "s3", "state": f"s3://{place.get('bucket')}/{place.get('key')}"}
    else:
        base |= {"backend": "local", "state": str(workspace.state_path)}
    if remote and target == "local" and place is not None:
        # The emulator's workspaces: at the emulator running now (its port changes each time it
        # starts), with its dummy credentials, never the environment's real ones.
        running = emulator.status(emulator.state_dir(environ))
        if running is None:
            return WorkspaceRow(**base, problem="the local emulator is not running (its state went with it)")  # type: ignore[arg-type]
        place = {**place, "endpoint": running.endpoint_url}
        environ = aws_environment(local_provider_config(running.endpoint_url, None), environ, local=True)
    try:
        document = (
            _remote_state(place, environ) if place is not None and remote else read_local_state(workspace.state_path)
        )
    except (PlantonError, OSError) as err:
        return WorkspaceRow(**base, problem=str(err))  # type: ignore[arg-type]
    recorded = table_in_state(document)
    if recorded is None:
        return WorkspaceRow(**base)  # type: ignore[arg-type]
    return WorkspaceRow(
        **base,  # type: ignore[arg-type]
        table=recorded.name,
        region=recorded.region,
        account=recorded.account,
    )


def _remote_state(place: Mapping[str, str], environ: Mapping[str, str]) -> Mapping[str, Any] | None:
    region = place.get("region") or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    location = S3Location(place["bucket"], place["key"], region, place.get("endpoint") or None)
    return read_s3_state(location, environ)
