"""What a command imports before it can answer: only what it uses. Checked by the modules a
fresh interpreter holds after the command, never by a time (a loaded machine is slow, not wrong)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import HACK_MANIFEST

# Run one command in a fresh interpreter the way the console script does, and print the names
# of the modules loaded by then (its own output goes to /dev/null).
PROGRAM = """\
import json, os, sys
sys.argv = ["planton", *sys.argv[1:]]
from planton.cli.entry import main
null = os.open(os.devnull, os.O_WRONLY)
saved = os.dup(1), os.dup(2)
os.dup2(null, 1); os.dup2(null, 2)
code = main()
sys.stdout.flush(); sys.stderr.flush()
os.dup2(saved[0], 1); os.dup2(saved[1], 2)
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# The machinery of terraform runs, the emulator, S3, the crash report and the JSON Schema
# generator: no command that reads a manifest without running anything needs them.
NEVER_WITHOUT_TERRAFORM = (
    "planton.runner",
    "planton.emulator",
    "planton.workspace",
    "planton.operations.request",
    "planton.operations.run",
    "planton.operations.session",
    "planton.cli.tofu",
    "planton.cli.local",
    "planton.cli.state",
    "planton.crash_report",
    "boto3",
    "botocore",
    "urllib.request",
)


def loaded_by(*argv: str) -> tuple[int, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM, *argv], capture_output=True, text=True, timeout=120, check=True
    )
    outcome = json.loads(result.stdout)
    return outcome["code"], set(outcome["modules"])


def test_version_imports_no_cli() -> None:
    code, modules = loaded_by("--version")
    assert code == 0
    assert not {"typer", "rich", "pydantic", "yaml", "planton.cli.app"} & modules


@pytest.mark.parametrize(
    "argv",
    [("validate", "-f", str(HACK_MANIFEST), "--json"), ("render", "-f", str(HACK_MANIFEST))],
    ids=["validate", "render"],
)
def test_reading_a_manifest_runs_nothing_and_imports_nothing_that_does(argv: tuple[str, ...]) -> None:
    # Both print JSON, through no Rich.
    code, modules = loaded_by(*argv)
    assert code == 0
    assert not {*NEVER_WITHOUT_TERRAFORM, "planton.manifest.schema", "rich", "planton.cli.consoles"} & modules


def test_help_reads_no_manifest_model() -> None:
    # Rich renders Typer's help; the manifest's models and the sub-apps' modules are not needed.
    code, modules = loaded_by("--help")
    assert code == 0
    assert not {*NEVER_WITHOUT_TERRAFORM, "planton.manifest.schema", "pydantic", "yaml"} & modules


def test_schema_builds_the_schema_and_runs_nothing() -> None:
    code, modules = loaded_by("schema")
    assert code == 0
    assert "planton.manifest.schema" in modules
    assert not {*NEVER_WITHOUT_TERRAFORM, "rich"} & modules
