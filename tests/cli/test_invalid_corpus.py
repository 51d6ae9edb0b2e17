"""No bad manifest gets through: every file of ``tests/fixtures/invalid/`` (and one too big to
commit, made here) is refused by the installed console script, by ``validate`` and by
``tofu plan`` alike, with the manifest exit code and the problem line ``expected.json`` gives for
it (a line that starts with the field, or the line and column, it blames), without a traceback,
before anything is written or terraform is run, in bounded time and memory (an alias bomb that
exploded would hit the memory limit and fail here, not take the machine down)."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from planton.errors import EXIT_BAD_MANIFEST
from planton.manifest.loader import MAX_MANIFEST_BYTES

from e2e_support import BIN_DIR, base_env
from support import REPO_ROOT

CORPUS = REPO_ROOT / "tests" / "fixtures" / "invalid"
EXPECTED_FILE = CORPUS / "expected.json"
EXPECTED: dict[str, str] = json.loads(EXPECTED_FILE.read_text(encoding="utf-8"))

TIMEOUT_SECONDS = 20
MEMORY_LIMIT_BYTES = 1024**3

VALID_HEAD = (
    "apiVersion: aws.project-planton.org/v1\nkind: AwsDynamodb\nmetadata:\n  name: corpus-table\n"
    "spec:\n  partition_key_name: id\n  partition_key_type: STRING\n"
)


def _over_the_size_limit() -> bytes:
    """A valid manifest padded with a comment to one byte over the limit (1 MiB: not committed)."""
    return (VALID_HEAD + "#" * (MAX_MANIFEST_BYTES + 1 - len(VALID_HEAD))).encode()


# Files made by the test, with their expected problem line.
GENERATED: dict[str, tuple[Callable[[], bytes], str]] = {
    "file-over-size-limit.yaml": (_over_the_size_limit, "(file): is larger than the 1048576 bytes planton reads"),
}

# The start of a problem line: the field it blames (in the user's spelling), or "(file)",
# "(document)", or "(yaml): line N, column M" for what is wrong before there are fields.
_NAMES_WHERE = re.compile(
    r"(\((file|document)\)|\(yaml\): line \d+, column \d+|[A-Za-z][\w-]*(\.[^\s:]+|\[\d+\])*): \S"
)

# A stand-in for tofu and terraform that records that it ran, and fails.
STAND_IN = """#!/bin/sh
echo "$0 $*" >> {log}
exit 1
"""

COMMANDS = {
    "validate": ("validate",),
    "plan": ("tofu", "plan"),
}


def corpus_files() -> list[str]:
    return sorted(path.name for path in CORPUS.iterdir() if path.name != EXPECTED_FILE.name)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every path below ``root`` with its size and modification time."""
    found: dict[str, tuple[int, int]] = {}
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories + files:
            path = Path(directory) / name
            stat = path.lstat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


# --- the corpus itself -----------------------------------------------------------------------


def test_the_corpus_is_large_and_every_file_has_its_expectation() -> None:
    files = corpus_files()
    assert len(files) + len(GENERATED) >= 100
    assert sorted(EXPECTED) == files, "every corpus file needs an expectation, and every expectation a file"
    assert not set(GENERATED) & set(files)
    assert all(path.is_file() and not path.is_symlink() for path in CORPUS.iterdir())


@pytest.mark.parametrize("fragment", [*EXPECTED.values(), *(fragment for _, fragment in GENERATED.values())])
def test_every_expectation_names_what_it_blames(fragment: str) -> None:
    assert _NAMES_WHERE.match(fragment), f"{fragment!r} names no field (nor a line and column)"


# --- every file, through the installed console script ------------------------------------------


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("name", [*corpus_files(), *GENERATED])
def test_a_bad_manifest_is_refused_before_anything_is_written_or_run(tmp_path: Path, name: str, command: str) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    manifest = manifests / name
    if name in GENERATED:
        make, expected = GENERATED[name]
        manifest.write_bytes(make())
    else:
        shutil.copyfile(CORPUS / name, manifest)
        expected = EXPECTED[name]

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "terraform-calls.log"
    for binary in ("tofu", "terraform"):
        stand_in = bin_dir / binary
        stand_in.write_text(STAND_IN.format(log=calls), encoding="utf-8")
        stand_in.chmod(0o755)
    env = base_env(tmp_path)
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}",
            "PLANTON_TOFU_BINARY": str(bin_dir / "tofu"),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
        }
    )
    env.pop("PLANTON_PLUGIN_MIRROR", None)  # nothing of the machine's: the listing is all of tmp_path
    work_dir = tmp_path / "work"
    args = [*COMMANDS[command], "--manifest", str(manifest)]
    if command == "plan":
        args += ["--work-dir", str(work_dir)]
    before = _listing(tmp_path)

    result = subprocess.run(
        [str(BIN_DIR / "planton"), *args],
        cwd=manifests,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=TIMEOUT_SECONDS,
        preexec_fn=_limit_memory,
        check=False,
    )

    stdout = result.stdout.decode("utf-8", "backslashreplace")
    stderr = result.stderr.decode("utf-8", "backslashreplace")
    shown = f"exit {result.returncode}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    assert result.returncode == EXIT_BAD_MANIFEST, shown
    assert "Traceback" not in stdout + stderr, shown
    assert "hit a bug" not in stderr, shown
    assert f"{manifest} is not a valid AwsDynamodb manifest:" in stderr, shown
    assert f"\n{expected}" in stderr, shown  # a problem line starts with it
    assert not calls.exists(), f"terraform was run: {calls.read_text(encoding='utf-8')}"
    assert _listing(tmp_path) == before, "something was written"
    assert not work_dir.exists()
