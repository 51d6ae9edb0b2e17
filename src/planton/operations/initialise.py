"""``init``, when a workspace needs it: the configuration written, the backend checked against
the one the workspace was initialised with, and the state moved only when asked to
(``init --migrate-state``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from planton.backend import BACKEND_FILE, Backend, LocalBackend, S3Backend, backend_file, same_place
from planton.errors import ChangeRefused, EnvironmentNotReady, UsageError
from planton.operations.request import suggest
from planton.operations.session import Session, TofuOutcome, interruption_notes
from planton.state import (
    CORRUPT_STATE_ADVICE,
    RecordedTable,
    StateUnreadable,
    parse_state,
    read_local_state,
    table_in_state,
)
from planton.workspace import bundled_module, init_fingerprint, module_files, root_files

# What terraform says when the state it reads at init is not a state it can parse.
_CORRUPT_STATE_MARKER = "Unsupported state file format"
# What terraform's s3 backend says when the bucket is missing (terraform and tofu alike).
_NO_BUCKET_MARKERS = ("NoSuchBucket", "does not exist")


def configuration(backend: Backend) -> dict[str, str]:
    """Every configuration file of a workspace: the module's, planton's provider file and, for
    remote state, the backend file."""
    files = {**module_files(bundled_module()), **root_files()}
    backend_text = backend_file(backend)
    if backend_text is not None:
        files[BACKEND_FILE] = backend_text
    return files


def initialise(session: Session) -> TofuOutcome | None:
    """Write the configuration and run ``init`` when the workspace needs it (or ``init`` was
    asked for). An outcome when the command ends here (init itself, or a failed init); None to
    go on. A change of backend is refused unless ``--migrate-state`` asks to move the state."""
    request, prepared, workspace = session.request, session.prepared, session.workspace
    backend = prepared.backend
    files = configuration(backend)
    wanted = dict(backend.place())
    current = workspace.initialised_backend()
    moving = current is not None and not same_place(current, wanted)
    if current is not None and moving and not request.migrate_state:
        raise UsageError(
            f"this workspace keeps its state {_describe(current)}, and the manifest's labels and the flags now say "
            f"{_describe(wanted)}; nothing was run. To move the state there (the table is not touched): "
            f"{suggest(request, prepared, 'init', '--migrate-state', overrides=False)}. To keep it where it is, "
            "set the labels and flags back"
        )
    if request.local and isinstance(backend, S3Backend):
        _ensure_emulator_bucket(session, backend)
    if moving:
        _refuse_a_target_holding_another_table(session, current or {})
    workspace.prepare(files)
    # The variables as the manifest renders them (a run rewrites them once it has read the
    # state): `planton tofu init` leaves a workspace terraform can plan in.
    workspace.write_variables(prepared.variables)
    fingerprint = init_fingerprint(files, prepared.binary)
    if request.command != "init" and not moving and not workspace.needs_init(fingerprint):
        return None
    if request.command != "init":
        session.ui.notify(f"initialising the workspace ({prepared.binary.name} init)")
    # Only the lock or encryption settings of the same state changed: terraform needs to be told
    # to take the new settings (-reconfigure); the state stays where it is.
    reconfigure = current is not None and not moving and isinstance(backend, S3Backend)
    # An automatic init must not mix its text into the command's stdout (output's data).
    # Its stderr is kept (watched) to tell a missing state bucket.
    result = session.invoke(
        "init",
        stdout_to_stderr=request.command != "init",
        watch_stderr=True,
        migrate_state=moving,
        reconfigure=reconfigure,
    )
    if result.exit_code != 0 and result.interrupted_by is None and _CORRUPT_STATE_MARKER in result.stderr:
        raise StateUnreadable(
            f"the state at {prepared.state_location} is corrupt: {prepared.binary.name} init cannot read it "
            f"({_said(result.stderr)}). {CORRUPT_STATE_ADVICE}"
        )
    if result.exit_code != 0 or result.interrupted_by is not None:
        notes = interruption_notes(session, "init", result)
        if isinstance(backend, S3Backend) and any(marker in result.stderr for marker in _NO_BUCKET_MARKERS):
            notes = (*notes, _missing_bucket(session, backend))
        return session.outcome("init", result, notes)
    workspace.mark_initialised(fingerprint, wanted)
    if moving:
        moved = session.recorded_now()
        where = f"table {moved.name}" if moved is not None else "no table"
        session.ui.notify(
            f"moved the state from {_describe(current or {})} to {_describe(wanted)} ({where}); the old copy is "
            "left where it was: remove it once you are sure"
        )
    if request.command == "init":
        return session.outcome("init", result)
    return None


def _said(stderr: str) -> str:
    """terraform's complaint, on one line."""
    lines = [line.strip(" -") for line in stderr.splitlines() if _CORRUPT_STATE_MARKER in line]
    return "; ".join(lines)[:400]


def _ensure_emulator_bucket(session: Session, backend: S3Backend) -> None:
    """``--local``: the state bucket is created in the emulator when it is missing (the
    emulator forgets everything when it stops)."""
    from planton.s3 import S3Location, bucket_exists, s3_client  # boto3, only when the state is in S3
    from planton.state_bucket import bootstrap_bucket

    location = S3Location(backend.bucket, backend.key, backend.region, backend.endpoint)
    if bucket_exists(s3_client(location, session.env), backend.bucket):
        return
    bootstrap_bucket(location, session.env, kms_key_id=backend.kms_key_id)
    session.ui.notify(f"created the state bucket {backend.bucket} in the local emulator")


def _missing_bucket(session: Session, backend: S3Backend) -> str:
    bootstrap = suggest(session.request, session.prepared, "bootstrap", overrides=False, group="state")
    return (
        f"the state bucket {backend.bucket} does not exist (in {backend.region}); create it, versioned, encrypted "
        f"and private, with: {bootstrap}"
    )


def _refuse_a_target_holding_another_table(session: Session, current: Mapping[str, str]) -> None:
    """A migration must never overwrite a state that records another table: the state is moved
    with -force-copy, which replaces whatever the target holds."""
    source = table_in_state(_source_state(session, current))
    target = _target_state(session)
    held = table_in_state(target)
    if held is None:
        return
    if source is not None and _same_table(source, held):
        return
    wanted = session.prepared.backend
    what = f"table {source.name}" if source is not None else "no table"
    raise ChangeRefused(
        f"refused: {_describe(wanted.place())} already holds the state of table {_where(held)}, and this workspace's "
        f"state ({_describe(current)}) holds {what}; moving it there would overwrite that state and lose track of "
        f"{held.name}. Nothing was moved. Choose another key (--backend-config key=..., or the label), or check "
        "which manifest that state belongs to"
    )


def _source_state(session: Session, current: Mapping[str, str]) -> Mapping[str, Any] | None:
    """The state where the workspace keeps it now (before init moves it): a local file, or the
    remote state its last init configured (the files on disk still say so)."""
    if current.get("type") == "local":
        return read_local_state(session.workspace.state_path)
    return session.pull_state(_describe(current))


def _target_state(session: Session) -> Mapping[str, Any] | None:
    backend = session.prepared.backend
    if isinstance(backend, LocalBackend):
        return read_local_state(session.workspace.state_path)
    from planton.s3 import S3Location, read_object, s3_client  # boto3, only when the state is in S3

    location = S3Location(backend.bucket, backend.key, backend.region, backend.endpoint)
    content = read_object(s3_client(location, session.env), backend.bucket, backend.key)
    if content is None:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise EnvironmentNotReady(f"the state at {backend.url} is not text: {err}") from None
    return parse_state(text, backend.url)


def _same_table(one: RecordedTable, other: RecordedTable) -> bool:
    return one.name == other.name and (one.region is None or other.region is None or one.region == other.region)


def _where(table: RecordedTable) -> str:
    return f"{table.name} in {table.region}" if table.region else table.name


def _describe(place: Mapping[str, str]) -> str:
    """A backend's place in words: ``in s3://bucket/key`` or ``locally``."""
    if place.get("type") == "s3":
        return f"in s3://{place.get('bucket')}/{place.get('key')}"
    if place.get("type") == "local":
        return "locally (terraform.tfstate in the workspace)"
    return json.dumps(dict(place))
