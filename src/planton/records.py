"""What planton remembers about a workspace beside terraform's state: a create of its own that
was interrupted, and the plans ``plan --out`` saved.

A ``RecordStore`` keeps them where the state is: ``LocalRecordStore`` in files of the workspace
directory next to a local state, ``S3RecordStore`` in one object next to an S3 backend's state
key, so that a plan saved on one CI runner can be applied on another.

A record that exists and cannot be read is an error, never "nothing remembered": the guards
built on an interrupted create would be skipped without a word, and a saved-plan registry read as
empty would be written back without the plans it held.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from planton.errors import EnvironmentNotReady
from planton.files import epoch_seconds, write_atomically
from planton.s3 import S3Location, read_object_with_etag, replace_object, s3_client
from planton.workspace import unwritable_workspace

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

INTERRUPTED_FILE = ".planton-interrupted.json"
SAVED_PLANS_FILE = ".planton-saved-plans.json"
# The suffix of the object beside an S3 state key (``<state key>.planton.json``).
S3_RECORDS_SUFFIX = ".planton.json"
SAVED_PLANS_KEPT = 50
# How often an S3 read-modify-write is tried while other writers keep changing the object.
S3_WRITE_ATTEMPTS = 5


@dataclass(frozen=True)
class InterruptedCreate:
    """planton's own create of a table, interrupted before it finished: which table, where, and
    under which account's credentials (None when not known)."""

    table_name: str
    region: str | None
    account: str | None = None

    def __str__(self) -> str:
        where = [part for part in (self.region, f"account {self.account}" if self.account else None) if part]
        return f"{self.table_name} ({', '.join(where)})" if where else self.table_name


@dataclass(frozen=True)
class SavedPlan:
    """What ``plan --out`` recorded of a plan it saved: a destroy plan or not, the AWS account it
    was made for (None when not known), once applied when (seconds since the epoch), and when an
    apply of it last failed."""

    destroy: bool
    applied: float | None
    account: str | None = None
    failed: float | None = None


class RecordStore(Protocol):
    """Where planton keeps what it remembers about one workspace's state."""

    @property
    def where(self) -> str:
        """Where the records live, for people: a directory, or ``s3://bucket/key``."""
        ...

    def record_interrupted_create(self, create: InterruptedCreate) -> None:
        """Remember that planton's own create of a table was interrupted: a taint it left is then
        known to be planton's (and can be undone instead of replacing the table), the table's
        region and account are known although the state of a half-created table (or no state at
        all, when CreateTable itself was in flight) holds no ARN to read them from, and every
        apply that would leave it behind stops until it is adopted or known to be gone."""
        ...

    def interrupted_create(self) -> InterruptedCreate | None:
        """The create planton saw interrupted here and has not yet seen adopted or gone. A record
        that cannot be read is an error, never "nothing remembered"."""
        ...

    def clear_interrupted_create(self) -> None:
        """The interrupted create's table was adopted, or is known to be gone."""
        ...

    def record_saved_plan(self, digest: str, *, destroy: bool, account: str | None) -> None:
        """Remember a plan that ``plan --out`` saved (by its SHA-256) and the account it was made
        for, so that ``apply FILE`` applies only plans made here, and says so when one was applied
        already. Only the newest ``SAVED_PLANS_KEPT`` plans are kept."""
        ...

    def saved_plan(self, digest: str) -> SavedPlan | None:
        """What ``plan --out`` recorded of the plan with this SHA-256, if it was made here."""
        ...

    def mark_plan_applied(self, digest: str) -> None:
        """The saved plan with this SHA-256 was applied: terraform would refuse it as stale now."""
        ...

    def mark_plan_failed(self, digest: str) -> None:
        """An apply of the saved plan with this SHA-256 failed: terraform may have changed some
        things (and then refuses the plan as stale), or nothing."""
        ...


class _MarksSavedPlans:
    """What both stores do alike: a saved plan is marked applied, or failed, by the time of it
    (each store's ``_mark_plan`` writes the mark where it keeps its records)."""

    def mark_plan_applied(self, digest: str) -> None:
        """See ``RecordStore.mark_plan_applied``."""
        self._mark_plan(digest, "applied")

    def mark_plan_failed(self, digest: str) -> None:
        """See ``RecordStore.mark_plan_failed``."""
        self._mark_plan(digest, "failed")

    def _mark_plan(self, digest: str, what: str) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class LocalRecordStore(_MarksSavedPlans):
    """The records in a workspace directory, in the files (and with the messages) planton has
    always used there, so that existing workspaces keep what they remembered."""

    root: Path

    @property
    def where(self) -> str:
        """The workspace directory."""
        return str(self.root)

    def record_interrupted_create(self, create: InterruptedCreate) -> None:
        """See ``RecordStore.record_interrupted_create``."""
        try:
            write_atomically(self.root / INTERRUPTED_FILE, json.dumps(_interrupted_record(create)) + "\n")
        except OSError as err:
            raise unwritable_workspace(self.root, err) from None

    def interrupted_create(self) -> InterruptedCreate | None:
        """See ``RecordStore.interrupted_create``."""
        path = self.root / INTERRUPTED_FILE
        try:
            content = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # no file: nothing remembered
            return None
        except OSError as err:
            raise EnvironmentNotReady(
                f"cannot read {path}, where planton remembers an interrupted create: {err.strerror or err}"
            ) from None
        try:
            record: object = json.loads(content.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError is one too
            record = None
        return _interrupted_from(record, str(path), "and remove this file")

    def clear_interrupted_create(self) -> None:
        """See ``RecordStore.clear_interrupted_create``."""
        try:
            (self.root / INTERRUPTED_FILE).unlink(missing_ok=True)
        except OSError as err:
            raise unwritable_workspace(self.root, err) from None

    def record_saved_plan(self, digest: str, *, destroy: bool, account: str | None) -> None:
        """See ``RecordStore.record_saved_plan``."""
        self._write_saved_plans(_with_saved_plan(self._saved_plans(), digest, destroy=destroy, account=account))

    def saved_plan(self, digest: str) -> SavedPlan | None:
        """See ``RecordStore.saved_plan``."""
        record = self._saved_plans().get(digest)
        return None if record is None else _saved_plan_from(record)

    def _mark_plan(self, digest: str, what: str) -> None:
        records = self._saved_plans()
        if _marked(records, digest, what):
            self._write_saved_plans(records)

    def _saved_plans(self) -> dict[str, dict[str, object]]:
        path = self.root / SAVED_PLANS_FILE
        try:
            content = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):  # no file: nothing remembered
            return {}
        except OSError as err:
            raise EnvironmentNotReady(
                f"cannot read {path}, where planton remembers the plans `plan --out` saved: {err.strerror or err}"
            ) from None
        try:
            records = _saved_plans_from(json.loads(content.decode("utf-8")))
        except ValueError:  # UnicodeDecodeError is one too
            records = None
        if records is None:
            raise EnvironmentNotReady(
                f"{path} is corrupt: planton remembers there the plans `plan --out` saved for this workspace. "
                "Remove it, and save again with `plan --out` any plan you still mean to apply"
            )
        return records

    def _write_saved_plans(self, records: Mapping[str, object]) -> None:
        try:
            write_atomically(self.root / SAVED_PLANS_FILE, json.dumps(records, indent=1, sort_keys=True) + "\n")
        except OSError as err:
            raise unwritable_workspace(self.root, err) from None


class S3RecordStore(_MarksSavedPlans):
    """The records in one object beside an S3 backend's state, ``<state key>.planton.json``:
    ``{"interrupted_create": {...} | null, "saved_plans": {...}}``.

    Every change is a read-modify-write made safe by S3's conditional writes: the object is
    replaced only if it is still the version read (``If-Match`` its ETag), or created only if it
    still does not exist (``If-None-Match: *``). A writer that lost the race reads again and
    applies its change to what the other one wrote, so two CI runners never drop each other's
    records. The S3 client is made on first use (not when the store is made) and then reused.
    """

    def __init__(self, location: S3Location, environ: Mapping[str, str]) -> None:
        self._location = S3Location(
            bucket=location.bucket,
            key=location.key + S3_RECORDS_SUFFIX,
            region=location.region,
            endpoint=location.endpoint,
        )
        self._environ = dict(environ)
        self._client: S3Client | None = None

    def __repr__(self) -> str:
        # The environment holds credentials: never shown.
        return f"S3RecordStore({self.where!r})"

    @property
    def where(self) -> str:
        """``s3://bucket/<state key>.planton.json``."""
        return self._location.url

    def record_interrupted_create(self, create: InterruptedCreate) -> None:
        """See ``RecordStore.record_interrupted_create``."""
        record = _interrupted_record(create)

        def change(document: dict[str, object]) -> bool:
            document["interrupted_create"] = record
            return True

        self._update(change)

    def interrupted_create(self) -> InterruptedCreate | None:
        """See ``RecordStore.interrupted_create``."""
        record = self._read()[0].get("interrupted_create")
        if record is None:
            return None
        return _interrupted_from(
            record,
            self.where,
            'and set its "interrupted_create" to null',
        )

    def clear_interrupted_create(self) -> None:
        """See ``RecordStore.clear_interrupted_create``."""

        def change(document: dict[str, object]) -> bool:
            if document.get("interrupted_create") is None:
                return False
            document["interrupted_create"] = None
            return True

        self._update(change)

    def record_saved_plan(self, digest: str, *, destroy: bool, account: str | None) -> None:
        """See ``RecordStore.record_saved_plan``."""

        def change(document: dict[str, object]) -> bool:
            document["saved_plans"] = _with_saved_plan(
                self._saved_plans(document), digest, destroy=destroy, account=account
            )
            return True

        self._update(change)

    def saved_plan(self, digest: str) -> SavedPlan | None:
        """See ``RecordStore.saved_plan``."""
        record = self._saved_plans(self._read()[0]).get(digest)
        return None if record is None else _saved_plan_from(record)

    def _mark_plan(self, digest: str, what: str) -> None:
        def change(document: dict[str, object]) -> bool:
            records = self._saved_plans(document)
            if not _marked(records, digest, what):
                return False
            document["saved_plans"] = records
            return True

        self._update(change)

    def _client_for_use(self) -> S3Client:
        if self._client is None:
            self._client = s3_client(self._location, self._environ)
        return self._client

    def _read(self) -> tuple[dict[str, object], str | None]:
        """The document and its ETag; an empty document and None when there is no object yet."""
        found = read_object_with_etag(self._client_for_use(), self._location.bucket, self._location.key)
        if found is None:
            return {}, None
        try:
            document: object = json.loads(found.body.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError is one too
            document = None
        if not isinstance(document, dict):
            raise self._corrupt()
        return document, found.etag

    def _saved_plans(self, document: Mapping[str, object]) -> dict[str, dict[str, object]]:
        records = _saved_plans_from(document.get("saved_plans", {}))
        if records is None:
            raise self._corrupt()
        return records

    def _update(self, change: Callable[[dict[str, object]], bool]) -> None:
        """Apply ``change`` to the stored document (it returns False when there is nothing to
        write) and write it back only over the version it was applied to, reading again while
        another writer got there first."""
        for attempt in range(S3_WRITE_ATTEMPTS):
            document, etag = self._read()
            if not change(document):
                return
            document.setdefault("interrupted_create", None)
            document.setdefault("saved_plans", {})
            body = (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")
            if replace_object(
                self._client_for_use(), self._location.bucket, self._location.key, body, expected_etag=etag
            ):
                return
            if attempt + 1 < S3_WRITE_ATTEMPTS:
                # Spread the writers out, so that two of them do not collide again at once.
                time.sleep(random.uniform(0.05, 0.2) * (attempt + 1))  # noqa: S311 - not for secrets
        raise EnvironmentNotReady(
            f"cannot write {self.where}: another writer changed it each of the {S3_WRITE_ATTEMPTS} times planton "
            "tried to; run the command again"
        )

    def _corrupt(self) -> EnvironmentNotReady:
        return EnvironmentNotReady(
            f"{self.where} is corrupt: it is not the JSON object in which planton remembers the plans "
            "`plan --out` saved for this state and any create of a table that was interrupted. Restore an "
            "earlier version of it (when the bucket keeps versions), or delete it: planton then forgets those "
            "plans (save again with `plan --out` any you still mean to apply) and any interrupted create "
            "(check first that no `planton tofu apply` of this table was interrupted)"
        )


def _interrupted_record(create: InterruptedCreate) -> dict[str, str | None]:
    return {"table_name": create.table_name, "region": create.region, "account": create.account}


def _interrupted_from(record: object, where: str, remedy: str) -> InterruptedCreate:
    """An interrupted create as recorded, or the error saying ``where`` is corrupt and what to do
    (``remedy`` ends the message)."""
    name = record.get("table_name") if isinstance(record, dict) else None
    if not isinstance(record, dict) or not isinstance(name, str) or not name:
        raise EnvironmentNotReady(
            f"{where} is corrupt: planton remembers an interrupted create there, and cannot tell which table "
            "it was. Check which table the last interrupted `planton tofu apply` was creating, adopt it with "
            f"`planton tofu import` if it exists, {remedy}"
        )
    region, account = record.get("region"), record.get("account")
    return InterruptedCreate(
        name,
        region if isinstance(region, str) and region else None,
        account if isinstance(account, str) and account else None,
    )


def _saved_plans_from(recorded: object) -> dict[str, dict[str, object]] | None:
    """The saved-plan records by digest, or None when ``recorded`` is not what planton writes."""
    if not isinstance(recorded, dict) or not all(isinstance(value, dict) for value in recorded.values()):
        return None
    return {str(key): dict(value) for key, value in recorded.items()}


def _with_saved_plan(
    records: dict[str, dict[str, object]], digest: str, *, destroy: bool, account: str | None
) -> dict[str, dict[str, object]]:
    records[digest] = {"destroy": destroy, "made": time.time(), "applied": None, "account": account}
    # A bounded record: the newest plans are the ones anybody still applies.
    newest = sorted(records.items(), key=lambda item: epoch_seconds(item[1].get("made")) or 0.0)[-SAVED_PLANS_KEPT:]
    return dict(newest)


def _saved_plan_from(record: Mapping[str, object]) -> SavedPlan:
    account = record.get("account")
    return SavedPlan(
        destroy=record.get("destroy") is True,
        applied=epoch_seconds(record.get("applied")),
        account=account if isinstance(account, str) and account else None,
        failed=epoch_seconds(record.get("failed")),
    )


def _marked(records: dict[str, dict[str, object]], digest: str, what: str) -> bool:
    """Stamp ``what`` (applied or failed) on the plan's record; False when there is none."""
    if digest not in records:
        return False
    records[digest][what] = time.time()
    return True
