"""Workspaces: where each manifest's files live, what planton writes there, and what it never touches."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from planton.errors import EnvironmentNotReady, UsageError
from planton.render import VARIABLES_FILE
from planton.settings import WORK_DIR_ENV, Given
from planton.table import ResourceIdentity
from planton.workspace import (
    DEFAULT_WORK_DIR_NAME,
    LOCK_FILE,
    PLAN_FILE,
    STATE_FILE,
    InitInputs,
    Workspace,
    bundled_lock_file,
    bundled_module,
    init_fingerprint,
    module_files,
    resolve_work_dir,
    root_files,
    target_label,
    validate_plugin_mirror,
    workspace_key,
)

from support import MODULE_DIR

MODULE = {"main.tf": 'resource "null" "x" {}\n', "versions.tf": "terraform {}\n"}
VARIABLES = '{\n  "spec": {}\n}\n'
LOCK = 'provider "registry.terraform.io/hashicorp/aws" {\n  version = "5.100.0"\n  hashes = [\n    "h1:x",\n  ]\n}\n'


# --- workspace_key -------------------------------------------------------------------------


def test_workspace_key_is_the_name_alone() -> None:
    assert workspace_key(ResourceIdentity(name="orders")) == "orders"
    assert workspace_key(ResourceIdentity(name="orders", labels={"team": "a"}, tags=("x",))) == "orders"


def test_workspace_key_is_pinned() -> None:
    # A changed key would make planton lose track of existing state: these must never change.
    assert workspace_key(ResourceIdentity(name="orders", org="acme", env="prod", id="t1")) == "orders-03c23b6c1a"
    assert workspace_key(ResourceIdentity(name="orders", env="dev")) == "orders-cad2718ae6"


@pytest.mark.parametrize(
    "identity",
    [
        ResourceIdentity(name="orders", org="acme"),
        ResourceIdentity(name="orders", env="dev"),
        ResourceIdentity(name="orders", id="t1"),
        ResourceIdentity(name="orders", org="acme", env="dev", id="t1"),
    ],
)
def test_workspace_key_has_hash_suffix_when_qualified(identity: ResourceIdentity) -> None:
    key = workspace_key(identity)
    prefix, _, suffix = key.rpartition("-")
    assert prefix == "orders"
    assert len(suffix) == 10
    assert all(char in "0123456789abcdef" for char in suffix)


def test_workspace_keys_tell_tables_apart() -> None:
    identities = [
        ResourceIdentity(name="orders"),
        ResourceIdentity(name="orders", env="dev"),
        ResourceIdentity(name="orders", env="prod"),
        ResourceIdentity(name="orders", org="dev"),
        ResourceIdentity(name="orders", id="dev"),
        ResourceIdentity(name="orders", org="acme", env="dev"),
        ResourceIdentity(name="orders", org="acme", env="prod"),
        ResourceIdentity(name="orders", org="acmed", env="ev"),
        ResourceIdentity(name="users", env="dev"),
    ]
    keys = [workspace_key(identity) for identity in identities]
    assert len(set(keys)) == len(keys), keys


def test_workspace_key_stable_across_calls_and_processes() -> None:
    identity = ResourceIdentity(name="orders", org="acme", env="dev", id="t9")
    first = workspace_key(identity)
    assert workspace_key(ResourceIdentity(name="orders", org="acme", env="dev", id="t9")) == first
    code = (
        "from planton.table import ResourceIdentity; from planton.workspace import workspace_key; "
        "print(workspace_key(ResourceIdentity(name='orders', org='acme', env='dev', id='t9')))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert other.stdout.strip() == first


# --- target_label --------------------------------------------------------------------------


def test_target_label_local_and_aws() -> None:
    assert target_label(local=True, endpoints={}) == "local"
    assert target_label(local=True, endpoints={"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}) == "local"
    assert target_label(local=False, endpoints={}) == "aws"
    assert target_label(local=False, endpoints={"AWS_ENDPOINT_URL": ""}) == "aws"


def test_target_label_endpoint() -> None:
    def label(url: str) -> str:
        return target_label(local=False, endpoints={"AWS_ENDPOINT_URL": url})

    # The label workspaces have always had for AWS_ENDPOINT_URL alone: existing ones keep working.
    assert label("http://127.0.0.1:5000") == "endpoint-" + hashlib.sha256(b"http://127.0.0.1:5000").hexdigest()[:10]
    assert label("http://127.0.0.1:5000/") == label("http://127.0.0.1:5000")
    assert label("http://127.0.0.1:5001") != label("http://127.0.0.1:5000")
    assert label("http://localhost:5000") != label("http://127.0.0.1:5000")


@pytest.mark.parametrize("service", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_STS"])
def test_target_label_per_service_endpoint_is_never_real_aws(service: str) -> None:
    label = target_label(local=False, endpoints={service: "http://127.0.0.1:5000"})
    assert label.startswith("endpoint-")
    assert label != target_label(local=False, endpoints={"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    both = {service: "http://127.0.0.1:5000", "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
    assert target_label(local=False, endpoints=both) not in (label, "aws")
    assert target_label(local=False, endpoints={service: "http://127.0.0.1:5001"}) != label


# --- resolve_work_dir ----------------------------------------------------------------------


def test_resolve_work_dir_takes_the_given_one(tmp_path: Path) -> None:
    # --work-dir and PLANTON_WORK_DIR are one option (Typer's envvar=); the core never reads the
    # variable itself, so a stale one cannot sneak in.
    environ = {WORK_DIR_ENV: str(tmp_path / "from-env")}
    given = Given(tmp_path / "explicit", "--work-dir")
    assert resolve_work_dir(tmp_path / "m.yaml", given, environ) == tmp_path / "explicit"
    assert resolve_work_dir(tmp_path / "m.yaml", None, environ) == tmp_path / ".planton"


def test_resolve_work_dir_explicit_relative_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    resolved = resolve_work_dir(Path("m.yaml"), Given(Path("wd"), "--work-dir"), {})
    assert resolved.is_absolute()
    assert resolved == tmp_path / "wd"


def test_resolve_work_dir_explicit_expands_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/not/this/one")  # the environment given wins over the process's
    assert (
        resolve_work_dir(Path("/x/m.yaml"), Given(Path("~/wd"), "--work-dir"), {"HOME": str(tmp_path)})
        == tmp_path / "wd"
    )


def test_resolve_work_dir_unknown_user_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^--work-dir: '~no-such-user-here/wd' names the home of"):
        resolve_work_dir(Path("/x/m.yaml"), Given(Path("~no-such-user-here/wd"), "--work-dir"), {})
    with pytest.raises(UsageError, match=f"^{WORK_DIR_ENV}: '~no-such-user-here' names the home of"):
        resolve_work_dir(Path("/x/m.yaml"), Given(Path("~no-such-user-here"), WORK_DIR_ENV), {})


@pytest.mark.parametrize("source", ["flag", "environment"])
def test_resolve_work_dir_that_is_a_file_is_a_usage_error(tmp_path: Path, source: str) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("", encoding="utf-8")
    name = "--work-dir" if source == "flag" else WORK_DIR_ENV
    with pytest.raises(UsageError) as caught:
        resolve_work_dir(Path("/x/m.yaml"), Given(a_file, name), {})
    assert (
        caught.value.message
        == f"{name}: {a_file} exists and is not a directory; name a directory (it is created if missing)"
    )


def test_resolve_work_dir_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_work_dir(Path("/x/m.yaml"), Given(Path("env-wd"), WORK_DIR_ENV), {}) == tmp_path / "env-wd"
    assert resolve_work_dir(Path("/x/m.yaml"), Given(Path("/abs/wd"), WORK_DIR_ENV), {}) == Path("/abs/wd")


def test_resolve_work_dir_beside_the_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project" / "tables").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    resolved = resolve_work_dir(Path("../project/tables/orders.yaml"), None, {WORK_DIR_ENV: ""})
    assert resolved.is_absolute()
    assert resolved.resolve() == tmp_path / "project" / "tables" / DEFAULT_WORK_DIR_NAME
    assert resolve_work_dir(tmp_path / "m.yaml", None, {}) == tmp_path / ".planton"


@pytest.mark.parametrize("manifest", ["/dev/stdin", "/dev/fd/63", "/proc/self/fd/0", "/sys/x/m.yaml"])
def test_resolve_work_dir_refuses_a_pseudo_filesystem_default(manifest: str) -> None:
    with pytest.raises(UsageError, match="where state kept beside it would be lost") as caught:
        resolve_work_dir(Path(manifest), None, {})
    assert "--work-dir DIR (or PLANTON_WORK_DIR=DIR)" in caught.value.message


def test_resolve_work_dir_refuses_a_non_regular_manifest_default(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=f"^--manifest {tmp_path / 'fifo'} is not a regular file"):
        resolve_work_dir(tmp_path / "fifo", None, {}, manifest_is_file=False)


def test_resolve_work_dir_non_regular_manifest_with_an_explicit_work_dir(tmp_path: Path) -> None:
    for source in ("--work-dir", WORK_DIR_ENV):
        given = Given(tmp_path, source)
        assert resolve_work_dir(Path("/dev/stdin"), given, {}, manifest_is_file=False) == tmp_path


def test_resolve_work_dir_devices_is_not_dev(tmp_path: Path) -> None:
    # Only the top-level /dev, /proc and /sys are pseudo filesystems.
    assert resolve_work_dir(Path("/home/dev/m.yaml"), None, {}) == Path("/home/dev/.planton")


# --- filesystem errors ---------------------------------------------------------------------


def test_locked_under_a_file_names_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("keep", encoding="utf-8")
    root = blocker / "aws" / "orders"
    with pytest.raises(EnvironmentNotReady) as caught, Workspace(root).locked():
        pytest.fail("locked a workspace under a file")
    assert caught.value.message == (
        f"cannot write the workspace {root}: {blocker} is not a directory; "
        "point --work-dir (or PLANTON_WORK_DIR) at a directory you can write to"
    )
    assert blocker.read_text(encoding="utf-8") == "keep"


def test_locked_when_the_workspace_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "orders"
    root.write_text("", encoding="utf-8")
    with pytest.raises(EnvironmentNotReady, match=f"{root} is not a directory"), Workspace(root).locked():
        pytest.fail("locked a file")


def test_locked_reports_other_filesystem_errors_with_their_reason(tmp_path: Path) -> None:
    root = Path("/proc/planton-cannot-be-here/orders")
    with pytest.raises(EnvironmentNotReady) as caught, Workspace(root).locked():
        pytest.fail("created a directory in /proc")
    assert caught.value.message.startswith(f"cannot write the workspace {root}: No such file or directory")


def test_mark_initialised_reports_a_vanished_workspace(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentNotReady, match="cannot write the workspace"):
        Workspace(tmp_path / "gone").mark_initialised("abc", {"type": "local"})


# --- Workspace.prepare ---------------------------------------------------------------------


def _terraforms_files(root: Path) -> dict[Path, bytes]:
    """Files terraform (or the user) owns, created before planton runs."""
    files = {
        root / STATE_FILE: b'{"version": 4, "serial": 7}\n',
        root / "terraform.tfstate.backup": b'{"version": 4, "serial": 6}\n',
        root / ".terraform" / "terraform.tfstate": b"{}\n",
        root / ".terraform" / "providers" / "registry" / "provider.bin": b"\x7fELF...",
        root / ".terraform.lock.hcl": b'provider "registry.terraform.io/hashicorp/aws" {}\n',
        root / "notes.txt": b"mine\n",
        root / "main.tf.bak": b"old backup\n",
        root / "override.tf.json": b"{}\n",
        root / "plan.out": b"binary plan",
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return files


def _prepare(workspace: Workspace, module: dict[str, str], variables: str) -> None:
    workspace.prepare(module)
    workspace.write_variables(variables)


def test_prepare_writes_module_and_variables(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws" / "aws" / "orders")
    _prepare(workspace, MODULE, VARIABLES)
    for name, text in MODULE.items():
        assert (workspace.root / name).read_text(encoding="utf-8") == text
    assert workspace.variables_path == workspace.root / VARIABLES_FILE
    assert workspace.variables_path.read_text(encoding="utf-8") == VARIABLES
    assert stat.S_IMODE(workspace.variables_path.stat().st_mode) == 0o600
    assert workspace.state_path == workspace.root / STATE_FILE
    assert not workspace.state_path.exists()
    # No temporary files left behind by the atomic writes; the record of what planton wrote.
    assert sorted(path.name for path in workspace.root.iterdir()) == sorted(
        [*MODULE, VARIABLES_FILE, ".planton-files.json"]
    )


def test_prepare_rewrites_changed_files(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    _prepare(workspace, MODULE, VARIABLES)
    changed_module = {**MODULE, "main.tf": "# changed\n"}
    _prepare(workspace, changed_module, '{"spec": {"changed": true}}\n')
    assert (tmp_path / "main.tf").read_text(encoding="utf-8") == "# changed\n"
    assert workspace.variables_path.read_text(encoding="utf-8") == '{"spec": {"changed": true}}\n'
    assert stat.S_IMODE(workspace.variables_path.stat().st_mode) == 0o600


def test_prepare_leaves_unchanged_files_untouched(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    _prepare(workspace, MODULE, VARIABLES)
    os.chmod(workspace.variables_path, 0o644)  # as an older planton left it
    written = sorted(path for path in tmp_path.iterdir())
    before = {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in written}
    time.sleep(0.01)
    _prepare(workspace, MODULE, VARIABLES)
    # Not written again (a rewrite is a new file: a new inode, or at least a new mtime)...
    assert {path: (path.stat().st_ino, path.stat().st_mtime_ns) for path in written} == before
    assert sorted(path for path in tmp_path.iterdir()) == written
    # ...but the variables file is private again.
    assert stat.S_IMODE(workspace.variables_path.stat().st_mode) == 0o600


def test_prepare_removes_only_files_it_wrote(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    files = _terraforms_files(root)
    files[root / "backend.tf"] = b'terraform {\n  backend "s3" {}\n}\n'  # written by hand
    (root / "backend.tf").write_bytes(files[root / "backend.tf"])
    before = {path: path.stat().st_mtime_ns for path in files}
    workspace = Workspace(root)
    _prepare(workspace, {**MODULE, "planton_backend.tf.json": "{}\n"}, VARIABLES)
    workspace.prepare(MODULE)  # the backend file is no longer planton's to write: it goes
    assert not (root / "planton_backend.tf.json").exists()
    for path, content in files.items():
        assert path.read_bytes() == content, path
        assert path.stat().st_mtime_ns == before[path], path
    assert (root / "main.tf").read_text(encoding="utf-8") == MODULE["main.tf"]


def test_prepare_removes_the_module_files_an_earlier_planton_wrote(tmp_path: Path) -> None:
    """A workspace from before planton recorded what it wrote: the module files it copied then
    (providers.tf, which the module no longer has) go; a file of another name stays."""
    (tmp_path / "providers.tf").write_text('provider "aws" {}\n', encoding="utf-8")
    (tmp_path / "extra.tf").write_text("# mine\n", encoding="utf-8")
    Workspace(tmp_path).prepare(MODULE)
    assert not (tmp_path / "providers.tf").exists()
    assert (tmp_path / "extra.tf").read_text(encoding="utf-8") == "# mine\n"


def test_prepare_refuses_a_corrupt_record_of_its_files(tmp_path: Path) -> None:
    (tmp_path / ".planton-files.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(EnvironmentNotReady, match=r"\.planton-files\.json is corrupt"):
        Workspace(tmp_path).prepare(MODULE)


def test_prepare_leaves_the_lock_file_alone(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    with workspace.locked():
        _prepare(workspace, MODULE, VARIABLES)
        lock_files = [path for path in tmp_path.iterdir() if "lock" in path.name]
        assert lock_files, "locked() should create its lock file in the workspace"
    _prepare(workspace, MODULE, VARIABLES)
    assert all(path.exists() for path in lock_files)


def test_prepare_tightens_mode_of_existing_variables_file(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    workspace.variables_path.write_text(VARIABLES, encoding="utf-8")
    workspace.variables_path.chmod(0o644)
    _prepare(workspace, MODULE, VARIABLES)
    assert stat.S_IMODE(workspace.variables_path.stat().st_mode) == 0o600


def test_prepare_reports_an_unwritable_workspace(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(EnvironmentNotReady, match="cannot write the workspace"):
        _prepare(Workspace(blocker / "ws"), MODULE, VARIABLES)


# --- init marker ---------------------------------------------------------------------------


def test_needs_init_round_trip(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    _prepare(workspace, MODULE, VARIABLES)
    assert workspace.needs_init("fp-1")
    (tmp_path / ".terraform").mkdir()
    workspace.write_lock_file(LOCK)
    assert workspace.needs_init("fp-1")  # .terraform alone is not a finished init
    workspace.mark_initialised("fp-1", {"type": "local"})
    assert not workspace.needs_init("fp-1")
    assert workspace.needs_init("fp-2")
    workspace.mark_initialised("fp-2", {"type": "local"})
    assert not workspace.needs_init("fp-2")
    assert workspace.needs_init("fp-1")


def test_needs_init_without_terraform_directory(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    workspace.write_lock_file(LOCK)
    workspace.mark_initialised("fp-1", {"type": "local"})
    assert workspace.needs_init("fp-1")  # someone removed .terraform/: init must run again


def test_needs_init_without_the_lock_file(tmp_path: Path) -> None:
    workspace = _initialised(tmp_path, "fp-1")
    (tmp_path / LOCK_FILE).unlink()
    # terraform would refuse to plan ("inconsistent dependency lock file"): init writes it again.
    assert workspace.needs_init("fp-1")


def test_terraforms_additions_to_the_lock_file_need_no_init(tmp_path: Path) -> None:
    workspace = _initialised(tmp_path, "fp-1")
    # terraform on another platform adds that platform's checksum to the workspace's copy.
    (tmp_path / LOCK_FILE).write_text(LOCK.replace("hashes = [", 'hashes = [\n    "h1:other",'), encoding="utf-8")
    _prepare(workspace, MODULE, VARIABLES)
    assert not workspace.needs_init("fp-1")
    assert "h1:other" in (tmp_path / LOCK_FILE).read_text(encoding="utf-8")  # prepare leaves it alone


def _initialised(root: Path, fingerprint: str) -> Workspace:
    workspace = Workspace(root)
    _prepare(workspace, MODULE, VARIABLES)
    (root / ".terraform").mkdir()
    workspace.write_lock_file(LOCK)
    workspace.mark_initialised(fingerprint, {"type": "local"})
    return workspace


def test_marker_survives_prepare(tmp_path: Path) -> None:
    workspace = _initialised(tmp_path, "fp-1")
    _prepare(workspace, MODULE, VARIABLES)
    assert not workspace.needs_init("fp-1")


@pytest.mark.parametrize("content", ["not json", "[]", '"fp-1"', '{"other": "fp-1"}', ""])
def test_needs_init_with_unreadable_marker(tmp_path: Path, content: str) -> None:
    workspace = Workspace(tmp_path)
    (tmp_path / ".terraform").mkdir()
    workspace.mark_initialised("fp-1", {"type": "local"})
    markers = [path for path in tmp_path.iterdir() if path.is_file()]
    assert len(markers) == 1
    markers[0].write_text(content, encoding="utf-8")
    workspace.write_lock_file(LOCK)
    assert workspace.needs_init("fp-1")


CONFIGURATION = {**MODULE, "planton_backend.tf.json": '{"bucket": "b"}'}
INPUTS = InitInputs(
    files=CONFIGURATION,
    lock_file=LOCK,
    binary=Path("/usr/bin/terraform"),
    binary_version="1.11.4",
    plugin_mirror=None,
    plugin_cache=Path("/home/u/.cache/planton/plugins/default"),
)
# Each input changed in turn: every one of them must change the fingerprint (and so run init).
CHANGED_INPUTS = {
    "a module file's text": replace(INPUTS, files={**CONFIGURATION, "main.tf": MODULE["main.tf"] + " "}),
    "a file added": replace(INPUTS, files={**CONFIGURATION, "extra.tf": ""}),
    "a file renamed": replace(
        INPUTS, files={"main2.tf": MODULE["main.tf"], **{k: v for k, v in CONFIGURATION.items() if k != "main.tf"}}
    ),
    "the provider constraints": replace(
        INPUTS, files={**CONFIGURATION, "versions.tf": "terraform { required_providers {} }"}
    ),
    "the backend's settings": replace(INPUTS, files={**CONFIGURATION, "planton_backend.tf.json": '{"bucket": "c"}'}),
    "the backend (local state)": replace(INPUTS, files=MODULE),
    "the lock file": replace(INPUTS, lock_file=LOCK.replace("5.100.0", "5.101.0")),
    "the binary's path": replace(INPUTS, binary=Path("/usr/local/bin/terraform")),
    "the binary's version": replace(INPUTS, binary_version="1.12.0"),
    "a plugin mirror given": replace(INPUTS, plugin_mirror=Path("/opt/tf-plugins")),
    "the plugin cache": replace(INPUTS, plugin_cache=Path("/srv/plugin-cache")),
    "no plugin cache": replace(INPUTS, plugin_cache=None),
}


@pytest.mark.parametrize("changed", list(CHANGED_INPUTS.values()), ids=list(CHANGED_INPUTS))
def test_each_init_input_changes_the_fingerprint(changed: InitInputs) -> None:
    assert init_fingerprint(changed) != init_fingerprint(INPUTS)


def test_the_fingerprint_changes_with_nothing_else() -> None:
    # The same inputs, built anew and with the files in another order: the same fingerprint.
    same = replace(INPUTS, files=dict(reversed(list(CONFIGURATION.items()))), binary=Path("/usr/bin/terraform"))
    assert init_fingerprint(same) == init_fingerprint(INPUTS)
    assert len({init_fingerprint(inputs) for inputs in CHANGED_INPUTS.values()}) == len(CHANGED_INPUTS)


def test_init_fingerprint_does_not_confuse_names_and_text() -> None:
    one = replace(INPUTS, files={"a.tf": "bc"})
    other = replace(INPUTS, files={"a.tfb": "c"})
    assert init_fingerprint(one) != init_fingerprint(other)
    assert init_fingerprint(replace(INPUTS, plugin_mirror=Path("x"), plugin_cache=None)) != init_fingerprint(
        replace(INPUTS, plugin_mirror=None, plugin_cache=Path("x"))
    )


# --- the bundled lock file ------------------------------------------------------------------


def test_the_bundled_lock_file_agrees_with_the_provider_constraints() -> None:
    lock = bundled_lock_file()
    assert lock == (MODULE_DIR / LOCK_FILE).read_text(encoding="utf-8")
    versions = (MODULE_DIR / "versions.tf").read_text(encoding="utf-8")
    assert re.search(r'version\s*=\s*">= 5\.0, < 6\.0"', versions), "update the lock file's constraints too"
    # terraform's own spelling of versions.tf's constraint: with it, init leaves the file as it is.
    assert 'constraints = ">= 5.0.0, < 6.0.0"' in lock
    locked = re.search(r'version\s*=\s*"(\d+)\.(\d+)\.(\d+)"', lock)
    assert locked is not None
    assert int(locked.group(1)) == 5
    # Verified offline from the provider itself: linux_amd64's h1 checksum.
    assert '"h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0="' in lock


# --- locked --------------------------------------------------------------------------------


def test_locked_twice_in_process_conflicts(tmp_path: Path) -> None:
    # flock locks belong to an open file description, so two opens conflict even in one process.
    workspace = Workspace(tmp_path / "ws")
    with workspace.locked():
        with (
            pytest.raises(EnvironmentNotReady, match="another planton command") as caught,
            Workspace(tmp_path / "ws").locked(),
        ):
            pytest.fail("a second lock was granted while the first was held")
        assert str(tmp_path / "ws") in caught.value.message
    with workspace.locked():  # released: free again
        pass


def test_locked_conflicts_across_processes(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from pathlib import Path
        from planton.errors import EnvironmentNotReady
        from planton.workspace import Workspace
        try:
            with Workspace(Path(sys.argv[1])).locked():
                print("acquired")
        except EnvironmentNotReady as err:
            print("busy:", err)
            sys.exit(3)
        """
    )
    root = tmp_path / "ws"
    with Workspace(root).locked():
        busy = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=30)
        assert busy.returncode == 3, busy.stderr
        assert "another planton command" in busy.stdout
    free = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=30)
    assert free.returncode == 0, free.stderr
    assert free.stdout.strip() == "acquired"


def test_locked_released_after_an_exception(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    with pytest.raises(RuntimeError, match="boom"), workspace.locked():
        raise RuntimeError("boom")
    with workspace.locked():
        pass


def test_locked_waits_for_the_lock_timeout(tmp_path: Path) -> None:
    # --lock-timeout: a second command waits for the first to finish instead of failing at once.
    # The holder keeps the lock until it is told to let go (a line on its stdin), and notes that
    # it is letting go while it still holds it: no step here depends on how long anything takes.
    root = tmp_path / "ws"
    letting_go = tmp_path / "letting-go"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from planton.workspace import Workspace\n"
            "with Workspace(Path(sys.argv[1])).locked():\n"
            "    print('held', flush=True); sys.stdin.readline(); Path(sys.argv[2]).touch()",
            str(root),
            str(letting_go),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdin is not None
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(
                EnvironmentNotReady, match=rf"another planton command \(PID {holder.pid}\) is using .* \(waited 0.3s\)"
            ),
            Workspace(root).locked(timeout=0.3),
        ):
            pytest.fail("granted while held")
        # Told to let go just before the wait, which then (as a rule) finds the lock still held.
        holder.stdin.write("go\n")
        holder.stdin.flush()
        with Workspace(root).locked(timeout=60):
            assert letting_go.exists(), "granted before the holder let go"
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait(timeout=30)


def _a_dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_lock_kept_by_the_terraform_of_a_killed_planton_names_it(tmp_path: Path) -> None:
    # planton killed (SIGKILL) while its terraform runs: terraform inherited the lock's
    # descriptor, so the flock is still held, by a live process, and the message says which.
    root = tmp_path / "ws"
    with Workspace(root).locked() as held:
        terraform = subprocess.Popen(
            [sys.executable, "-c", "import sys; sys.stdin.readline()"],
            stdin=subprocess.PIPE,
            pass_fds=(held.descriptor,),
        )
        held.record(planton=_a_dead_pid(), terraform=terraform.pid)
    try:
        # This process let go; terraform still holds the descriptor, and so the lock.
        with pytest.raises(EnvironmentNotReady) as caught, Workspace(root).locked():
            pytest.fail("granted while terraform holds the lock")
        assert f"the terraform it started (PID {terraform.pid}) still runs there" in str(caught.value)
        assert "is gone" in str(caught.value)
    finally:
        assert terraform.stdin is not None
        terraform.stdin.close()
        terraform.wait(timeout=30)
    with Workspace(root).locked():  # terraform finished: the lock is free
        pass


def test_a_lock_file_naming_a_dead_planton_does_not_hold_the_workspace(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".planton.lock").write_text(json.dumps({"planton": _a_dead_pid()}), encoding="utf-8")
    with Workspace(root).locked():
        recorded = json.loads((root / ".planton.lock").read_text(encoding="utf-8"))
    assert recorded == {"planton": os.getpid()}


def test_different_workspaces_do_not_conflict(tmp_path: Path) -> None:
    with Workspace(tmp_path / "a").locked(), Workspace(tmp_path / "b").locked():
        pass


# --- validate_plugin_mirror ----------------------------------------------------------------


def test_validate_plugin_mirror_none() -> None:
    assert validate_plugin_mirror(None) is None


def test_validate_plugin_mirror_directory_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mirror").mkdir()
    monkeypatch.chdir(tmp_path)
    assert validate_plugin_mirror(Path("mirror")) == tmp_path / "mirror"


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_validate_plugin_mirror_not_a_directory(tmp_path: Path, kind: str) -> None:
    mirror = tmp_path / "mirror"
    if kind == "file":
        mirror.write_text("", encoding="utf-8")
    with pytest.raises(UsageError, match="--plugin-mirror") as caught:
        validate_plugin_mirror(mirror)
    assert str(mirror) in caught.value.message


# --- bundled module ------------------------------------------------------------------------


def test_bundled_module_files() -> None:
    files = module_files(bundled_module())
    assert {"versions.tf", "variables.tf", "main.tf", "outputs.tf"} <= set(files)
    assert set(files) == {path.name for path in MODULE_DIR.glob("*.tf")}
    for name, text in files.items():
        assert text == (MODULE_DIR / name).read_text(encoding="utf-8"), name
    assert 'variable "spec"' in files["variables.tf"]


def test_bundled_module_prepared_workspace_round_trip(tmp_path: Path) -> None:
    module = module_files(bundled_module())
    workspace = Workspace(tmp_path)
    workspace.prepare(module)
    assert module_files(tmp_path) == module
    # The module configures no provider (planton writes that configuration beside it).
    assert not re.search(r'^\s*provider\s+"', "".join(module.values()), flags=re.MULTILINE)
    assert re.search(r'^provider "aws"', "".join(root_files().values()), flags=re.MULTILINE)


def test_saved_plan_is_discarded_and_variables_rewritten(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "ws")
    _prepare(workspace, MODULE, VARIABLES)
    workspace.plan_path.write_text("plan", encoding="utf-8")
    workspace.discard_plan()
    assert not workspace.plan_path.exists()
    workspace.discard_plan()
    workspace.write_variables('{"other": true}\n')
    assert workspace.variables_path.read_text(encoding="utf-8") == '{"other": true}\n'
    assert stat.S_IMODE(workspace.variables_path.stat().st_mode) == 0o600


# ---------------------------------------------------------------------------------------------
# Privacy: a state, its variables and plans hold the table's settings and outputs in clear text


def test_a_new_workspace_is_its_owners_alone(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "work" / "orders")
    workspace.prepare({"main.tf": "# module\n"})
    workspace.write_variables("{}\n")
    assert stat.S_IMODE(workspace.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(workspace.variables_path.stat().st_mode) == 0o600


def test_an_older_workspace_open_to_others_is_made_private(tmp_path: Path) -> None:
    root = tmp_path / "orders"
    root.mkdir(mode=0o755)
    root.chmod(0o755)
    for name in (STATE_FILE, f"{STATE_FILE}.backup", PLAN_FILE):
        (root / name).write_text("{}", encoding="utf-8")
        (root / name).chmod(0o644)
    elsewhere = tmp_path / "shared.tfstate"
    elsewhere.write_text("{}", encoding="utf-8")
    elsewhere.chmod(0o644)
    (root / "errored.tfstate").symlink_to(elsewhere)  # a link: its target is not planton's to change
    with Workspace(root).locked():
        pass
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    for name in (STATE_FILE, f"{STATE_FILE}.backup", PLAN_FILE):
        assert stat.S_IMODE((root / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644


def test_neighbours_that_cannot_be_listed_stop_the_guard_that_asks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # (The tests run as root, which lists any directory: the refusal is played by iterdir.)
    work = tmp_path / "work"
    (work / "orders").mkdir(parents=True)

    def refuse(self: Path) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(EnvironmentNotReady, match=r"cannot list .*work to see whether another manifest's"):
        Workspace(work / "orders").neighbours()


def test_a_work_dir_not_there_yet_has_no_neighbours(tmp_path: Path) -> None:
    assert Workspace(tmp_path / "absent" / "orders").neighbours() == []
