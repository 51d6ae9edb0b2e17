"""Files and paths a user can easily hand planton, through the installed console script: each
ends in a message and its exit code, in bounded time and memory, with nothing written and no
traceback. None of these reaches terraform: ``--binary`` names a stand-in that would fail the
test if it ran."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from e2e_support import BIN_DIR, Cli, assert_no_traceback, base_env
from support import HACK_MANIFEST

# Answers the binary check (`version -json`, asked before anything is written); anything else
# it is asked is a failure of the test.
NOT_TERRAFORM = (
    "#!/bin/sh\n"
    'if [ "$1" = version ]; then echo \'{"terraform_version": "1.11.4"}\'; exit 0; fi\n'
    "echo 'terraform must not run in this test' >&2\nexit 99\n"
)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """No PLANTON_WORK_DIR (the default, beside the manifest, is what these cases are about),
    dummy credentials, and a --binary stand-in that must never run."""
    env = base_env(tmp_path)
    del env["PLANTON_WORK_DIR"]
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    fake = tmp_path / "not-terraform"
    fake.write_text(NOT_TERRAFORM, encoding="utf-8")
    fake.chmod(0o755)
    env["PLANTON_TOFU_BINARY"] = str(fake)
    return Cli(env=env, cwd=tmp_path)


def manifest_copy(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "m.yaml"
    shutil.copy(HACK_MANIFEST, path)
    return path


def as_nobody_when_root(cli: Cli, shared: Path) -> list[str]:
    """Root may read and write anything, so as root the command runs as nobody (setpriv), with a
    home and a copy of the stand-in binary that nobody can use. The wrapper for ``cli.run``."""
    if os.geteuid() != 0:
        return []
    home = shared / "home"
    home.mkdir(mode=0o777)
    home.chmod(0o777)
    cli.env["HOME"] = str(home)
    fake = shared / "not-terraform"
    shutil.copy(cli.env["PLANTON_TOFU_BINARY"], fake)
    fake.chmod(0o755)
    cli.env["PLANTON_TOFU_BINARY"] = str(fake)
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def files_under(directory: Path) -> set[Path]:
    return {path for path in directory.rglob("*")}


# --- manifests that are not regular files ---------------------------------------------------


def test_dev_stdin_needs_a_work_dir_for_tofu_commands(cli: Cli) -> None:
    result = cli.run("tofu", "plan", "-f", "/dev/stdin", input_text=HACK_MANIFEST.read_text(encoding="utf-8"))
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert result.stderr.splitlines()[-1].startswith(
        "error: --manifest /dev/stdin is not a regular file (a pipe, FIFO or device), so planton cannot keep its state"
    )
    assert "--work-dir DIR (or PLANTON_WORK_DIR=DIR)" in result.stderr
    assert not Path("/dev/.planton").exists()


def test_dev_stdin_redirected_from_a_file_still_needs_a_work_dir(cli: Cli, tmp_path: Path) -> None:
    # `-f /dev/stdin < m.yaml`: stdin is a regular file, but the directory beside /dev/stdin is /dev.
    manifest = manifest_copy(tmp_path / "m")
    with open(manifest, "rb") as stdin:
        result = subprocess.run(
            [str(BIN_DIR / "planton"), "tofu", "plan", "-f", "/dev/stdin"],
            env=cli.env,
            cwd=tmp_path,
            stdin=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(
        "error: --manifest /dev/stdin is under /dev, where state kept beside it would be lost"
    )
    assert not Path("/dev/.planton").exists()


def test_process_substitution_needs_a_work_dir(cli: Cli, tmp_path: Path) -> None:
    manifest = manifest_copy(tmp_path / "m")
    before = files_under(tmp_path)
    script = f'exec "$0" tofu plan -f <(cat "{manifest}")'
    result = subprocess.run(
        ["bash", "-c", script, str(BIN_DIR / "planton")],
        env=cli.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, result.stderr
    assert_no_traceback(result)
    assert "/dev/fd/" in result.stderr
    assert "is not a regular file" in result.stderr
    assert files_under(tmp_path) == before


def test_validate_reads_a_manifest_from_stdin(cli: Cli) -> None:
    result = cli.run("validate", "-f", "/dev/stdin", input_text=HACK_MANIFEST.read_text(encoding="utf-8"))
    assert result.returncode == 0, result.stderr
    assert "valid AwsDynamodb manifest (table planton-demo-orders" in result.stderr


def test_dev_zero_is_refused_in_bounded_time_and_memory(cli: Cli) -> None:
    # An address-space cap: reading /dev/zero without bound would end in MemoryError.
    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1024**3, 1024**3))

    started = time.monotonic()
    result = subprocess.run(
        [str(BIN_DIR / "planton"), "tofu", "plan", "-f", "/dev/zero"],
        env=cli.env,
        cwd=cli.cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=cap_memory,
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 4, result.stderr
    assert_no_traceback(result)
    assert result.stderr.splitlines() == [
        "error: /dev/zero is not a valid AwsDynamodb manifest:",
        "(file): is larger than the 1048576 bytes planton reads",
    ]


def test_dev_null_is_empty(cli: Cli) -> None:
    result = cli.run("validate", "-f", "/dev/null")
    assert result.returncode == 4
    assert result.stderr.splitlines()[-1] == "(file): is empty; see examples.md for a complete manifest"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.fifo"
    os.mkfifo(path)
    return path


def test_fifo_with_no_writer_times_out(cli: Cli, fifo: Path) -> None:
    cli.env["PLANTON_PIPE_TIMEOUT"] = "1"
    started = time.monotonic()
    result = cli.run("tofu", "plan", "-f", str(fifo), timeout=30)
    assert time.monotonic() - started < 15
    assert result.returncode == 4, result.stderr
    assert_no_traceback(result)
    assert result.stderr.splitlines()[-1] == (
        "(file): nothing finished arriving within 1 seconds (a pipe or FIFO that no one writes to, "
        "or a terminal?); give a file, or write the whole manifest into the pipe"
    )
    assert not (fifo.parent / ".planton").exists()


def test_fifo_with_a_writer_is_read_and_validated(cli: Cli, fifo: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", f"open({str(fifo)!r}, 'w').write(open({str(HACK_MANIFEST)!r}).read())"]
    )
    try:
        result = cli.run("validate", "-f", str(fifo), timeout=60)
    finally:
        writer.wait(timeout=30)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "100000"])
def test_bad_pipe_timeout_is_a_usage_error(cli: Cli, value: str) -> None:
    cli.env["PLANTON_PIPE_TIMEOUT"] = value
    result = cli.run("validate", "-f", str(HACK_MANIFEST))
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: PLANTON_PIPE_TIMEOUT: {value!r} is not a number of seconds")


def test_deeply_nested_manifest_is_a_short_error(cli: Cli, tmp_path: Path) -> None:
    manifest = tmp_path / "deep.yaml"
    manifest.write_text(HACK_MANIFEST.read_text(encoding="utf-8") + "  extra: " + "[" * 5000 + "]" * 5000 + "\n")
    assert manifest.stat().st_size < 1024 * 1024
    result = cli.run("tofu", "plan", "-f", str(manifest))
    assert result.returncode == 4, result.stderr[-2000:]
    assert_no_traceback(result)
    assert len(result.stderr) < 500
    assert "nested more than 32 levels deep" in result.stderr
    assert not (tmp_path / ".planton").exists()


def test_a_directory_without_manifests(cli: Cli, tmp_path: Path) -> None:
    # A directory names every manifest below it (a fleet); one that holds none is a usage mistake.
    (tmp_path / "notes.txt").write_text("not yaml\n")
    result = cli.run("validate", "-f", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"error: --manifest {tmp_path}: the directory holds no *.yaml or *.yml file"
    )


@pytest.mark.parametrize("command", [["validate"], ["tofu", "plan"]], ids=["validate", "plan"])
def test_unreadable_manifest_is_a_manifest_error(cli: Cli, command: list[str]) -> None:
    # planton reads the file itself: click's own "is not readable" check would exit 2.
    shared = Path(tempfile.mkdtemp(prefix="planton-unreadable-"))
    try:
        shared.chmod(0o755)
        manifest = manifest_copy(shared / "m")
        manifest.chmod(0o000)
        wrapper = as_nobody_when_root(cli, shared)
        cli.cwd = shared
        result = cli.run(*command, "-f", str(manifest), wrapper=wrapper)
        assert result.returncode == 4, result.stderr
        assert_no_traceback(result)
        assert result.stderr.splitlines()[-1] == "(file): permission denied; check the file's permissions"
        assert sorted(p.name for p in (shared / "m").iterdir()) == ["m.yaml"]  # nothing written
    finally:
        shutil.rmtree(shared)


# --- work dirs planton cannot write -----------------------------------------------------------


def test_work_dir_under_a_file(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me", encoding="utf-8")
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--work-dir", str(blocker / "work"))
    assert result.returncode == 3, result.stderr
    assert_no_traceback(result)
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"error: cannot write the workspace {blocker / 'work'}/")
    assert last.endswith(
        f": {blocker} is not a directory; point --work-dir (or PLANTON_WORK_DIR) at a directory you can write to"
    )
    assert blocker.read_text(encoding="utf-8") == "keep me"


def test_work_dir_from_the_environment_under_a_file(cli: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    cli.env["PLANTON_WORK_DIR"] = str(blocker / "work")
    result = cli.run("tofu", "init", "-f", str(HACK_MANIFEST))
    assert result.returncode == 3
    assert f"{blocker} is not a directory" in result.stderr


def test_work_dir_on_a_read_only_filesystem(cli: Cli, tmp_path: Path) -> None:
    # A read-only tmpfs in a mount namespace of the test's own (unshare -r maps the caller to
    # root inside it, so this needs no privileges).
    mount_point = tmp_path / "read-only"
    mount_point.mkdir()
    wrapper = [
        "unshare",
        "--user",
        "--map-root-user",
        "--mount",
        "sh",
        "-c",
        f'mount -t tmpfs -o ro,size=1m tmpfs "{mount_point}" && exec "$@"',
        "sh",
    ]
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--work-dir", str(mount_point / "w"), wrapper=wrapper)
    assert result.returncode == 3, result.stderr
    assert_no_traceback(result)
    assert f"cannot write the workspace {mount_point / 'w'}/" in result.stderr
    assert ": Read-only file system" in result.stderr
    assert result.stderr.rstrip().endswith("point --work-dir (or PLANTON_WORK_DIR) at a directory you can write to")


def test_work_dir_under_an_unwritable_directory(cli: Cli) -> None:
    # Root may write anywhere, so as root the command runs as nobody (setpriv); the manifest
    # and the stand-in binary then live where nobody can read them.
    shared = Path(tempfile.mkdtemp(prefix="planton-unwritable-"))
    try:
        shared.chmod(0o755)
        manifest = manifest_copy(shared / "m")
        locked = shared / "locked"
        locked.mkdir(mode=0o555)
        locked.chmod(0o555)
        wrapper = as_nobody_when_root(cli, shared)
        cli.cwd = shared
        result = cli.run("tofu", "plan", "-f", str(manifest), "--work-dir", str(locked / "w"), wrapper=wrapper)
        assert result.returncode == 3, result.stderr
        assert_no_traceback(result)
        assert f"cannot write the workspace {locked / 'w'}/" in result.stderr
        assert ": Permission denied" in result.stderr
        assert list(locked.iterdir()) == []
    finally:
        shutil.rmtree(shared)
