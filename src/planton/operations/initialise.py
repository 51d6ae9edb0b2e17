"""``init``, when a workspace needs it: the configuration written, the backend checked against
the one the workspace was initialised with, and the state moved only when asked to
(``init --migrate-state``)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from planton.backend import BACKEND_FILE, Backend, LocalBackend, S3Backend, backend_file, s3_endpoint, same_place
from planton.cachedir import installing
from planton.errors import EXIT_OK, ChangeRefused, UsageError
from planton.files import write_atomically
from planton.operations.commands import Command
from planton.operations.request import suggest
from planton.operations.session import Session, TofuOutcome, interruption_notes, record_store
from planton.records import LocalRecordStore, RecordStore, S3RecordStore
from planton.runner import RunResult
from planton.s3 import S3Location, bucket_exists, s3_client
from planton.state import (
    CORRUPT_STATE_ADVICE,
    RecordedTable,
    StateUnreadable,
    read_local_state,
    read_s3_state,
    table_in_state,
)
from planton.state_bucket import bootstrap_bucket
from planton.workspace import (
    InitInputs,
    bundled_lock_file,
    bundled_module,
    init_fingerprint,
    module_files,
    root_files,
)

_BLOCK = re.compile(r'^(resource|data)\s+"([A-Za-z0-9_-]+)"\s+"([A-Za-z0-9_-]+)"', re.MULTILINE)
# What terraform says when the state it reads at init is not a state it can parse.
_CORRUPT_STATE_MARKER = "Unsupported state file format"
# What terraform's s3 backend says when the bucket is missing (terraform and tofu alike).
_NO_BUCKET_MARKERS = ("NoSuchBucket", "The referenced S3 bucket must have been previously created")


@functools.cache
def _bundled_files() -> Mapping[str, str]:
    """The module's files and planton's provider file, as installed (read once a process)."""
    return {**module_files(bundled_module()), **root_files()}


@functools.cache
def _bundled_lock_file() -> str:
    """The module's dependency lock file, as installed (read once a process)."""
    return bundled_lock_file()


def configuration(backend: Backend) -> dict[str, str]:
    """Every configuration file of a workspace: the module's, planton's provider file and, for
    remote state, the backend file."""
    files = dict(_bundled_files())
    backend_text = backend_file(backend)
    if backend_text is not None:
        files[BACKEND_FILE] = backend_text
    return files


@functools.cache
def known_addresses() -> frozenset[tuple[str, str, str]]:
    """(mode, type, name) of every resource and data source the configuration declares (the
    backend file declares none)."""
    found = set()
    for name, text in _bundled_files().items():
        if name.endswith(".tf"):
            for block, kind, label in _BLOCK.findall(text):
                found.add(("managed" if block == "resource" else "data", kind, label))
    return frozenset(found)


def run_init(session: Session) -> TofuOutcome:
    """``init``: the workspace's init is the whole command (``initialise`` ends it with an
    outcome, whether or not init had anything to do)."""
    ended = initialise(session)
    if ended is None:  # initialise returns an outcome for every `planton tofu init`
        raise AssertionError("initialise went on after planton tofu init")
    return ended


def initialise(session: Session) -> TofuOutcome | None:
    """Write the configuration and run ``init`` when the workspace needs it: when anything init
    depends on changed (``InitInputs``), the state moves, or ``--reconfigure`` asks; ``planton
    tofu init`` too runs nothing otherwise. An outcome when the command ends here (init itself,
    or a failed init); None to go on. A change of backend is refused unless ``--migrate-state``
    asks to move the state."""
    request, prepared, workspace = session.request, session.prepared, session.workspace
    current = workspace.initialised_backend()
    backend = _keep_the_buckets_region(prepared.backend, current)
    if backend != prepared.backend:
        prepared = replace(prepared, backend=backend)
        session.advance(replace(session.context, prepared=prepared))
        session.records = record_store(prepared, session.env)
    files = configuration(backend)
    wanted = dict(backend.place())
    moving = current is not None and not same_place(current, wanted)
    if current is not None and moving and not request.migrate_state:
        raise UsageError(
            f"this workspace keeps its state {_describe(current)}, and the manifest's labels and the flags now say "
            f"{_describe(wanted)}; nothing was run. To move the state there (the table is not touched): "
            f"{suggest(request, prepared, 'init', '--migrate-state')}. To keep it where it is, set the labels and "
            "flags back"
        )
    if request.migrate_state and current is None:
        raise UsageError(
            "--migrate-state: this workspace was never initialised, so planton cannot tell where its state was; "
            "nothing was run. Run `planton tofu init` with the backend labels and flags the state has now, then "
            "`planton tofu init --migrate-state` with the new ones (from this same work dir)"
        )
    if request.local and isinstance(backend, S3Backend):
        _ensure_emulator_bucket(session, backend)
    remembered = None
    if moving and current is not None:
        _refuse_a_target_holding_another_state(session, current)
        remembered = _records_at(session, current).interrupted_create()
    previous_backend_file = _read_if_present(workspace.root / BACKEND_FILE)
    workspace.prepare(files)
    _refuse_a_backend_of_someone_elses(session, files)
    # The variables as the manifest renders them (a run rewrites them once it has read the
    # state): `planton tofu init` leaves a workspace terraform can plan in.
    workspace.write_variables(prepared.variables)
    fingerprint = init_fingerprint(_init_inputs(session, files))
    if not moving and not request.reconfigure and not workspace.needs_init(fingerprint):
        if request.command is Command.INIT:
            session.ui.notify(
                "the workspace is initialised for this configuration, binary and provider source already: nothing "
                "to do (--reconfigure runs init anyway)"
            )
            return session.outcome("init", RunResult(EXIT_OK))
        return None
    if request.command is not Command.INIT:
        session.ui.notify(f"initialising the workspace ({prepared.binary.name} init)")
    # Every init starts from the bundled lock file: the provider version planton is tested with.
    workspace.write_lock_file(_bundled_lock_file())
    # Only the lock or encryption settings of the same state changed: terraform needs to be told
    # to take the new settings (-reconfigure); the state stays where it is.
    reconfigure = current is not None and not moving and isinstance(backend, S3Backend)
    # An automatic init must not mix its text into the command's stdout (output's data).
    # Its stderr is kept (watched) to tell a missing state bucket. Installs into a shared plugin
    # cache are one at a time.
    with installing(prepared.plugin_cache, session.ui.notify):
        result = session.invoke(
            "init",
            stdout_to_stderr=request.command is not Command.INIT,
            watch_stderr=True,
            migrate_state=moving,
            reconfigure=reconfigure,
        )
    if moving and (result.returncode != 0 or result.interrupted_by is not None):
        # The move did not happen: the workspace goes back to the backend its .terraform still
        # records, so that a second try reads the state where it is.
        _restore(workspace.root / BACKEND_FILE, previous_backend_file)
    if result.returncode != 0 and result.interrupted_by is None and _CORRUPT_STATE_MARKER in result.stderr:
        raise StateUnreadable(
            f"the state at {prepared.state_location} is corrupt: {prepared.binary.name} init cannot read it "
            f"({_said(result.stderr)}). {CORRUPT_STATE_ADVICE}"
        )
    if result.returncode != 0 or result.interrupted_by is not None:
        notes = interruption_notes(session, "init", result)
        if isinstance(backend, S3Backend) and any(marker in result.stderr for marker in _NO_BUCKET_MARKERS):
            notes = (*notes, _missing_bucket(session, backend))
        return session.outcome("init", result, notes)
    workspace.mark_initialised(fingerprint, wanted)
    if moving and current is not None:
        if remembered is not None:
            # What planton remembers moves with the state (and is no longer where it was).
            session.records.record_interrupted_create(remembered)
            _records_at(session, current).clear_interrupted_create()
        moved = session.recorded_now()
        where = f"table {moved.name}" if moved is not None else "no table"
        kept = (
            "terraform keeps the old local copy as terraform.tfstate.backup in the workspace"
            if current.get("type") == "local"
            else f"the old copy stays {_describe(current)}: remove it once you are sure"
        )
        session.ui.notify(f"moved the state from {_describe(current)} to {_describe(wanted)} ({where}); {kept}")
    if request.command is Command.INIT:
        return session.outcome("init", result)
    return None


def _init_inputs(session: Session, files: Mapping[str, str]) -> InitInputs:
    prepared = session.prepared
    if prepared.binary_version is None:  # run_tofu checks the binary before anything runs
        raise AssertionError("initialise before the binary's version -json was checked")
    return InitInputs(
        files=files,
        lock_file=_bundled_lock_file(),
        binary=prepared.binary,
        binary_version=prepared.binary_version,
        plugin_mirror=prepared.plugin_dir,
        plugin_cache=prepared.plugin_cache.path if prepared.plugin_cache is not None else None,
    )


def _refuse_a_backend_of_someone_elses(session: Session, files: Mapping[str, str]) -> None:
    """A backend block in a file planton did not write (a hand-written backend.tf) would put the
    state where planton does not look: every guard would read an empty state."""
    for path in sorted(session.workspace.root.glob("*.tf*")):
        if path.name in files or not path.name.endswith((".tf", ".tf.json")):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if re.search(r'\bbackend\s*"|"backend"\s*:', text):
            raise UsageError(
                f"{path} configures a backend, and planton chooses the backend itself (the labels "
                "terraform.project-planton.org/backend.type and backend.object, or --backend-type and "
                "--backend-config): with two, the guards would read a state terraform does not use. Nothing was "
                "run. Move its settings to the labels or flags and remove the file"
            )


def _keep_the_buckets_region(backend: Backend, current: Mapping[str, str] | None) -> Backend:
    """A bucket stays where it is when the table moves: without ``--backend-config region=``,
    the region this workspace last found the same bucket in wins over the manifest's."""
    if not isinstance(backend, S3Backend) or backend.explicit_region or current is None:
        return backend
    if current.get("type") != "s3" or current.get("bucket") != backend.bucket or not current.get("region"):
        return backend
    return replace(backend, region=current["region"])


def _records_at(session: Session, place: Mapping[str, str]) -> RecordStore:
    """What planton remembers beside the state at ``place`` (where the workspace kept it)."""
    if place.get("type") != "s3":
        return LocalRecordStore(session.workspace.root)
    # This run's S3 endpoint (the workspace's target is the same endpoint's; an emulator's port
    # may have changed since the place was recorded), never AWS's when an endpoint is set.
    endpoint = s3_endpoint(session.prepared.provider_config.endpoints)
    location = S3Location(place["bucket"], place["key"], place.get("region") or session.prepared.region, endpoint)
    return S3RecordStore(location, session.env)


def _read_if_present(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _restore(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        write_atomically(path, text)


def _said(stderr: str) -> str:
    """terraform's complaint, on one line."""
    lines = [line.strip(" -") for line in stderr.splitlines() if _CORRUPT_STATE_MARKER in line]
    return "; ".join(lines)[:400]


def _ensure_emulator_bucket(session: Session, backend: S3Backend) -> None:
    """``--local``: the state bucket is created in the emulator when it is missing (the
    emulator forgets everything when it stops)."""
    location = S3Location.of_state(backend)
    if bucket_exists(s3_client(location, session.env), backend.bucket):
        return
    bootstrap_bucket(location, session.env, kms_key_id=backend.kms_key_id)
    session.ui.notify(f"created the state bucket {backend.bucket} in the local emulator")


def _missing_bucket(session: Session, backend: S3Backend) -> str:
    bootstrap = suggest(session.request, session.prepared, "bootstrap", group="state")
    return (
        f"the state bucket {backend.bucket} does not exist (in {backend.region}); create it, versioned, encrypted "
        f"and private, with: {bootstrap}"
    )


def _refuse_a_target_holding_another_state(session: Session, current: Mapping[str, str]) -> None:
    """A migration must never overwrite a state it did not come from: it runs with -force-copy,
    which replaces whatever the target holds. A target with resources is taken only when it is
    this very state (the same lineage) and not newer than it (another runner moved and applied
    it since); and never when what planton remembers beside it is another create."""
    source = _source_state(session, current)
    target = _target_state(session)
    wanted = session.prepared.backend
    if target is not None and _list(target.get("resources")):
        same_lineage = source is not None and target.get("lineage") == source.get("lineage")
        newer = _serial(target) > _serial(source)
        if not same_lineage or newer:
            held, ours = table_in_state(target), table_in_state(source)
            if same_lineage:
                why = "a newer copy of this same state (applied since it moved)"
            elif held is not None and ours is not None and _same_table(held, ours):
                why = f"another state of table {_where(held)} (moved or made there from another work dir)"
            else:
                why = f"the state of table {_where(held)}" if held is not None else "another state"
            raise ChangeRefused(
                f"refused: {_describe(wanted.place())} already holds {why}; moving this workspace's state "
                f"({_describe(current)}) there would overwrite it. Nothing was moved. Choose another key "
                "(--backend-config key=..., or the label), or, if that state is this table's already, plan with the "
                "new labels and flags from a fresh work dir"
            )
    source_memory = _records_at(session, current).interrupted_create()
    target_memory = session.records.interrupted_create()
    if target_memory is not None and target_memory != source_memory:
        raise ChangeRefused(
            f"refused: planton remembers an interrupted create of table {target_memory} beside "
            f"{_describe(wanted.place())}; moving this workspace's state there would mix two tables' records. "
            "Nothing was moved"
        )


def _serial(document: Mapping[str, Any] | None) -> int:
    serial = document.get("serial") if document is not None else None
    return serial if isinstance(serial, int) else 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


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
    return read_s3_state(S3Location.of_state(backend), session.env)


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
