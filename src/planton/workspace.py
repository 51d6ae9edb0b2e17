"""Where a manifest's module copy, variables and local state live.

Each manifest gets its own directory, ``<work dir>/<target>/<key>``:

* the work dir is ``.planton`` beside the manifest (``--work-dir`` / ``PLANTON_WORK_DIR``
  override), so the state is found again from any current directory;
* the target separates real AWS (``aws``), the local emulator (``local``) and any other endpoint
  (``endpoint-<hash>``), so applying against an emulator can never overwrite real state;
* the key is ``metadata.name``, with a hash of org/env/id appended when any is set, so two
  manifests never share a workspace (a remote state's place is the backend labels' and flags'
  to say).

Planton refreshes the files it writes (the module's, the provider's, a remote backend's, the
variables) on every run, removes only files it wrote itself, and never touches anything else
here: the state and terraform's own files are terraform's. With a remote backend the state is
not here at all, and what planton remembers lives beside it (``records.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import IO

from planton.errors import EnvironmentNotReady, UsageError
from planton.files import epoch_seconds, lock_exclusively, why_unwritable, write_atomically
from planton.paths import expand_path
from planton.render import VARIABLES_FILE
from planton.settings import WORK_DIR_ENV, Given
from planton.table import ResourceIdentity

DEFAULT_WORK_DIR_NAME = ".planton"
STATE_FILE = "terraform.tfstate"
_LOCK_FILE = ".planton.lock"
_INIT_MARKER = ".planton-init.json"
_WRITTEN = ".planton-files.json"
_LAST_APPLY = ".planton-last-apply.json"
# What terraform leaves in the workspace when it cannot save the state to its backend.
ERRORED_STATE = "errored.tfstate"
# The module files planton copied into workspaces before it recorded what it wrote.
_EARLIER_MODULE_FILES = frozenset(
    {"main.tf", "autoscaling.tf", "kms.tf", "variables.tf", "outputs.tf", "providers.tf", "versions.tf"}
)
PLAN_FILE = "planton.tfplan"
MODULE_NAME = "aws_dynamodb"
# terraform's dependency lock file: shipped with the module, copied into a workspace before each
# init planton runs there (see Workspace.write_lock_file).
LOCK_FILE = ".terraform.lock.hcl"
_PSEUDO_FILESYSTEMS = frozenset({"dev", "proc", "sys"})


def workspace_marker(directory: Path | int, *, state: bool = True) -> str | None:
    """The file that shows ``directory`` (a path, or an open directory's descriptor) is a planton
    workspace (its lock or init record) or, with ``state``, a terraform working directory with a
    local state; None when it holds none."""
    names = (_LOCK_FILE, _INIT_MARKER, STATE_FILE) if state else (_LOCK_FILE, _INIT_MARKER)
    return next((name for name in names if _holds(directory, name)), None)


def _holds(directory: Path | int, name: str) -> bool:
    if isinstance(directory, Path):
        return os.path.lexists(directory / name)
    try:
        os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def bundled_module() -> Traversable:
    """The HCL module shipped inside the package (``planton/modules/aws_dynamodb``)."""
    packaged = resources.files("planton").joinpath("modules", MODULE_NAME)
    if packaged.is_dir():
        return packaged
    # An editable install of a source checkout: the module sits at the repository's top level.
    checkout = Path(__file__).resolve().parents[2] / "modules" / MODULE_NAME
    if checkout.is_dir():
        return checkout
    raise EnvironmentNotReady(f"the bundled module {MODULE_NAME} is missing from this installation; reinstall planton")


def module_files(module: Traversable) -> dict[str, str]:
    """The module's ``.tf`` files by name."""
    return {item.name: item.read_text(encoding="utf-8") for item in module.iterdir() if item.name.endswith(".tf")}


def bundled_lock_file() -> str:
    """The module's dependency lock file: the provider version planton is tested with, and its
    checksums."""
    try:
        return bundled_module().joinpath(LOCK_FILE).read_text(encoding="utf-8")
    except OSError:
        raise EnvironmentNotReady(
            f"the bundled module's {LOCK_FILE} is missing from this installation; reinstall planton"
        ) from None


def root_files() -> dict[str, str]:
    """The files planton adds to the module to run it as a root configuration: the aws
    provider's configuration (the module has none, so that it can be used on its own)."""
    return module_files(resources.files("planton").joinpath("root"))


def workspace_key(identity: ResourceIdentity) -> str:
    """The manifest's key (``ResourceIdentity.key``): its workspace's directory name."""
    return identity.key


def target_label(*, local: bool, endpoints: Mapping[str, str]) -> str:
    """``local``, ``aws``, or ``endpoint-<hash>`` when any endpoint is overridden
    (``AWS_ENDPOINT_URL`` or a per-service ``AWS_ENDPOINT_URL_DYNAMODB``, ``_STS``, ...): state
    kept for an emulator must never be mistaken for real AWS's, or the other way round."""
    if local:
        return "local"
    urls = {name: url.rstrip("/") for name, url in endpoints.items() if url}
    if not urls:
        return "aws"
    if set(urls) == {"AWS_ENDPOINT_URL"}:
        # The hash workspaces made with AWS_ENDPOINT_URL alone have always had: they keep working.
        key = urls["AWS_ENDPOINT_URL"]
    else:
        key = "\n".join(f"{name}={url}" for name, url in sorted(urls.items()))
    return "endpoint-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def resolve_work_dir(
    manifest_path: Path,
    requested: Given[Path] | None,
    environ: Mapping[str, str],
    *,
    manifest_is_file: bool = True,
    option: str = "--manifest",
) -> Path:
    """``--work-dir`` (or ``$PLANTON_WORK_DIR`` behind it), else ``.planton`` beside the manifest.

    A manifest read from a pipe or device (``/dev/stdin``, ``<(...)``, a FIFO) has no directory
    worth keeping state in: beside it would be ``/dev/.planton`` or ``/dev/fd/.planton``, gone at
    the next reboot or never creatable. Such a manifest needs the work dir said explicitly. A
    work dir that exists and is not a directory is a usage mistake, wherever it came from.
    """
    if requested is not None:
        return _existing_or_new_directory(expand_path(requested.value, requested.source, environ), requested.source)
    beside = manifest_path.absolute().parent
    if not manifest_is_file:
        raise UsageError(
            f"{option} {manifest_path} is not a regular file (a pipe, FIFO or device), so planton cannot keep "
            f"its state beside it; say where the state lives with --work-dir DIR (or {WORK_DIR_ENV}=DIR)"
        )
    if _on_a_pseudo_filesystem(beside):
        raise UsageError(
            f"{option} {manifest_path} is under /{beside.parts[1]}, where state kept beside it would be lost; "
            f"say where the state lives with --work-dir DIR (or {WORK_DIR_ENV}=DIR)"
        )
    return beside / DEFAULT_WORK_DIR_NAME


def _existing_or_new_directory(path: Path, source: str) -> Path:
    if os.path.lexists(path) and not os.path.isdir(path):
        raise UsageError(f"{source}: {path} exists and is not a directory; name a directory (it is created if missing)")
    return path


def _on_a_pseudo_filesystem(directory: Path) -> bool:
    """/dev, /proc and /sys hold devices, shared memory and file descriptors, not anyone's files."""
    return len(directory.parts) > 1 and directory.parts[1] in _PSEUDO_FILESYSTEMS


@dataclass(frozen=True)
class LastApply:
    """When the last successful apply from a workspace finished (seconds since the epoch), and
    the table and region it applied (None in a record from before planton kept them)."""

    time: float
    table: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Workspace:
    """One manifest's terraform working directory."""

    root: Path

    @property
    def state_path(self) -> Path:
        """The local backend's state file."""
        return self.root / STATE_FILE

    def neighbours(self) -> list[Workspace]:
        """The other workspaces beside this one: other manifests' in the same work dir, for the
        same target. ``EnvironmentNotReady`` when the work dir cannot be listed: the guards that
        ask would otherwise pass without looking."""
        try:
            found = sorted(path for path in self.root.parent.iterdir() if path.is_dir() and path != self.root)
        except FileNotFoundError:
            return []
        except OSError as err:
            raise EnvironmentNotReady(
                f"cannot list {self.root.parent} to see whether another manifest's workspace there manages this "
                f"table: {err.strerror or err}; make it readable, or point --work-dir (or {WORK_DIR_ENV}) elsewhere"
            ) from None
        return [Workspace(path) for path in found]

    @property
    def variables_path(self) -> Path:
        """The rendered variables file."""
        return self.root / VARIABLES_FILE

    def prepare(self, files: Mapping[str, str]) -> None:
        """Write the configuration files (the module's, the provider's, a backend's) and remove
        those planton wrote here before and no longer writes. Nothing else is ever removed: a
        ``.tf`` file someone put here by hand stays."""
        try:
            self.make_private()
            for stale in sorted(self._written() - set(files)):
                (self.root / stale).unlink(missing_ok=True)
            for name, text in files.items():
                write_atomically(self.root / name, text)
            write_atomically(self.root / _WRITTEN, json.dumps(sorted(files)) + "\n")
        except OSError as err:
            raise self._unusable(err) from None

    def make_private(self) -> None:
        """Create the workspace readable by its owner alone (0700), and make a workspace an older
        planton left open to others private: its state, variables and plans hold the table's
        settings and outputs in clear text (terraform itself runs with umask 077, so what it
        writes next is private too). Links are never followed."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        _restrict(self.root, 0o700)
        for name in _PRIVATE_FILES:
            _restrict(self.root / name, 0o600)

    def _written(self) -> set[str]:
        """The configuration files planton wrote here last time. A workspace from before planton
        kept this record holds the module files it copied then, under names it knows."""
        try:
            recorded = json.loads((self.root / _WRITTEN).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {name for name in _EARLIER_MODULE_FILES if (self.root / name).is_file()}
        except (OSError, ValueError):
            recorded = None
        if not isinstance(recorded, list) or not all(isinstance(name, str) for name in recorded):
            raise EnvironmentNotReady(
                f"{self.root / _WRITTEN} is corrupt: it lists the files planton wrote in this workspace. Remove it; "
                "planton then rewrites its files and leaves the others alone"
            )
        # Names only: a record that names a path elsewhere removes nothing there.
        return {name for name in recorded if name == os.path.basename(name) and name not in ("", ".", "..")}

    @property
    def plan_path(self) -> Path:
        """Where ``apply`` saves the plan it shows, decides on and then applies."""
        return self.root / PLAN_FILE

    def write_plan(self, content: bytes) -> None:
        """Put a saved plan's bytes where terraform reads this workspace's plan (private: a plan
        holds the variables in clear text)."""
        try:
            descriptor = os.open(self.plan_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
            os.chmod(self.plan_path, 0o600)
        except OSError as err:
            raise self._unusable(err) from None

    def write_variables(self, variables: str) -> None:
        """Replace the variables file (the table as terraform is to see it next)."""
        try:
            write_atomically(self.variables_path, variables, mode=0o600)
        except OSError as err:
            raise self._unusable(err) from None

    def discard_plan(self) -> None:
        """Remove the saved plan: it holds the variables in clear text, and is stale once used."""
        try:
            self.plan_path.unlink(missing_ok=True)
        except OSError as err:
            raise self._unusable(err) from None

    def needs_init(self, fingerprint: str) -> bool:
        """True unless ``init`` last succeeded here with the same inputs (``init_fingerprint``)
        and its results are still here: ``.terraform/`` and the dependency lock file."""
        recorded = self._init_record()
        if recorded is None or not os.path.isfile(self.root / LOCK_FILE):
            return True
        return recorded.get("fingerprint") != fingerprint

    def write_lock_file(self, text: str) -> None:
        """Put the bundled dependency lock file in place for an init. Between inits the file is
        terraform's: it adds the checksums of a platform the bundled file lacks, and planton
        leaves them (nothing else rewrites it, and the fingerprint covers the bundled file, not
        this copy)."""
        try:
            write_atomically(self.root / LOCK_FILE, text)
        except OSError as err:
            raise self._unusable(err) from None

    def initialised_backend(self) -> Mapping[str, str] | None:
        """Where the state was when ``init`` last succeeded here (the backend's ``place()``):
        None when it never did. A workspace initialised before planton recorded it, or holding
        a local state file, kept its state locally."""
        recorded = self._init_record(require_terraform_dir=False)
        place = recorded.get("backend") if recorded is not None else None
        if isinstance(place, dict) and all(isinstance(value, str) for value in place.values()):
            return place
        # A local state file with something in it (terraform leaves an empty one behind when it
        # moves the state elsewhere).
        if recorded is not None or _non_empty(self.state_path):
            return {"type": "local"}
        return None

    def _init_record(self, *, require_terraform_dir: bool = True) -> dict[str, object] | None:
        if require_terraform_dir and not os.path.isdir(self.root / ".terraform"):
            return None
        try:
            recorded = json.loads((self.root / _INIT_MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return recorded if isinstance(recorded, dict) else None

    def mark_initialised(self, fingerprint: str, backend: Mapping[str, str]) -> None:
        """Remember that ``init`` succeeded for ``fingerprint``, with the state at ``backend``."""
        try:
            record = {"fingerprint": fingerprint, "backend": dict(backend)}
            write_atomically(self.root / _INIT_MARKER, json.dumps(record) + "\n")
        except OSError as err:
            raise self._unusable(err) from None

    def record_apply(self, table: str, region: str, account: str | None) -> None:
        """Remember the last successful apply made from here (``planton state list`` shows it)."""
        record = {"time": time.time(), "table": table, "region": region, "account": account}
        try:
            write_atomically(self.root / _LAST_APPLY, json.dumps(record) + "\n")
        except OSError as err:
            raise self._unusable(err) from None

    def last_apply(self) -> LastApply | None:
        """The last successful apply made from this workspace, if planton recorded one."""
        try:
            record = json.loads((self.root / _LAST_APPLY).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        when = epoch_seconds(record.get("time")) if isinstance(record, dict) else None
        if when is None:
            return None
        table, region = record.get("table"), record.get("region")
        return LastApply(when, table if isinstance(table, str) else None, region if isinstance(region, str) else None)

    def forget_apply(self) -> None:
        """The table applied from here was destroyed from here: nothing to miss in an empty state."""
        try:
            (self.root / _LAST_APPLY).unlink(missing_ok=True)
        except OSError as err:
            raise self._unusable(err) from None

    @contextmanager
    def locked(self, timeout: float = 0.0) -> Iterator[WorkspaceLock]:
        """Hold the workspace for one planton command. A second one waits up to ``timeout``
        seconds (``--lock-timeout``) and then fails, instead of rewriting the variables under a
        running terraform, naming who holds it. Each terraform run gets the lock's descriptor
        (``WorkspaceLock.descriptor``), so the lock outlives a planton killed while terraform
        still works here."""
        try:
            self.make_private()
            handle = open(self.root / _LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as err:
            raise self._unusable(err) from None
        with handle:
            try:
                taken = lock_exclusively(handle, timeout)
            except OSError as err:
                raise self._unusable(err) from None
            if not taken:
                raise self._busy(timeout)
            held = WorkspaceLock(handle)
            held.record(planton=os.getpid())
            # Released by closing the file, never by LOCK_UN: that would release it for a
            # terraform still running with the descriptor too.
            yield held

    def _busy(self, timeout: float) -> EnvironmentNotReady:
        waited = f" (waited {timeout:g}s)" if timeout else ""
        holder = _holder(self.root / _LOCK_FILE)
        planton, terraform = holder.get("planton"), holder.get("terraform")
        if planton is not None and not _alive(planton) and terraform is not None and _alive(terraform):
            return EnvironmentNotReady(
                f"{self.root} is in use{waited}: the planton command that held it (PID {planton}) is gone, but the "
                f"terraform it started (PID {terraform}) still runs there; wait for it to finish (or stop it "
                f"gracefully: kill -INT {terraform}), then run planton again"
            )
        who = f" (PID {planton})" if planton is not None and _alive(planton) else ""
        return EnvironmentNotReady(
            f"another planton command{who} is using {self.root}{waited}; wait for it to finish, "
            "or give --lock-timeout a longer wait"
        )

    def _unusable(self, err: OSError) -> EnvironmentNotReady:
        return unwritable_workspace(self.root, err)


class WorkspaceLock:
    """A workspace held by this process, and who holds it: planton's PID, and terraform's while
    one runs (written into the lock file, for the message of the command that has to wait)."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._holders: dict[str, int] = {}

    @property
    def descriptor(self) -> int:
        """The locked file's descriptor, for terraform to inherit (an ``flock`` is released only
        when every process holding its descriptor has closed it)."""
        return self._handle.fileno()

    def record(self, **holders: int) -> None:
        """Write who holds the lock (``planton=PID``, ``terraform=PID``); best effort: the lock
        itself is the flock, this only names it."""
        self._holders.update(holders)
        try:
            self._handle.seek(0)
            self._handle.truncate()
            self._handle.write(json.dumps(self._holders) + "\n")
            self._handle.flush()
        except OSError:
            pass  # a full disk: the lock holds all the same, and a waiting command names no PID

    def terraform_started(self, pid: int) -> None:
        self.record(terraform=pid)


def _holder(path: Path) -> dict[str, int]:
    """The PIDs a lock file names, by role; empty when it names none (an older planton's)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    return {
        role: pid for role, pid in document.items() if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0
    }


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


# What holds the table's settings, outputs or state in a workspace.
_PRIVATE_FILES = (STATE_FILE, f"{STATE_FILE}.backup", ERRORED_STATE, VARIABLES_FILE, PLAN_FILE)


def _restrict(path: Path, mode: int) -> None:
    """Take away what ``mode`` does not allow from ``path`` (never a link's target): group and
    others' access to a file or directory of the workspace."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(found.st_mode) or not stat.S_IMODE(found.st_mode) & ~mode:
        return
    os.chmod(path, stat.S_IMODE(found.st_mode) & mode)


def unwritable_workspace(root: Path, err: OSError) -> EnvironmentNotReady:
    """The message for a filesystem error in a workspace: the path, why, and what to do."""
    return EnvironmentNotReady(
        f"cannot write the workspace {root}: {why_unwritable(root, err)}; point --work-dir "
        f"(or {WORK_DIR_ENV}) at a directory you can write to"
    )


def _non_empty(path: Path) -> bool:
    try:
        return os.stat(path).st_size > 0
    except OSError:
        return False


@dataclass(frozen=True)
class InitInputs:
    """Everything a finished ``init`` depends on: change any one and init must run again."""

    # The configuration: the module's files (its versions.tf holds the provider constraints),
    # planton's provider file, and a remote backend's settings file.
    files: Mapping[str, str]
    # The bundled dependency lock file (the copy in the workspace is terraform's to extend).
    lock_file: str
    binary: Path
    binary_version: str
    # Where providers are installed from (--plugin-mirror) and cached.
    plugin_mirror: Path | None
    plugin_cache: Path | None


def init_fingerprint(inputs: InitInputs) -> str:
    """One digest of ``inputs``, in an encoding that cannot confuse one input with another."""
    document = {
        "files": dict(sorted(inputs.files.items())),
        "lock_file": inputs.lock_file,
        "binary": str(inputs.binary),
        "binary_version": inputs.binary_version,
        "plugin_mirror": str(inputs.plugin_mirror) if inputs.plugin_mirror is not None else None,
        "plugin_cache": str(inputs.plugin_cache) if inputs.plugin_cache is not None else None,
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def validate_plugin_mirror(path: Path | None, source: str = "--plugin-mirror") -> Path | None:
    """The mirror directory as an absolute path, or a UsageError naming ``source`` (the option or
    variable it came from) when it is not a directory."""
    if path is None:
        return None
    if not os.path.isdir(path):
        raise UsageError(
            f"{source}: {path} is not a directory; point it at a provider mirror "
            "laid out as <host>/<namespace>/<type>/<version>/<os_arch>/"
        )
    return path.absolute()
