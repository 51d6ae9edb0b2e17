"""``planton tofu apply ... | head -1``: whoever reads planton's output goes away after its first
line, through a real shell pipeline, with real terraform and the moto server. terraform must not
notice: the table is created and recorded in the state, planton exits 141, and nothing it
started is left running (terraform killed by SIGPIPE used to leave the aws provider behind)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from e2e_support import BIN_DIR, Cli, dynamodb
from support import HACK_MANIFEST

pytestmark = pytest.mark.e2e

# planton's exit status, not head's: the pipeline's first command.
PIPELINE = '"$1" tofu apply -f "$2" --auto-approve | head -1; exit "${PIPESTATUS[0]}"'


def processes_working_in(directory: Path) -> list[str]:
    """Every process whose working directory is inside ``directory`` (terraform runs in the
    workspace, and its providers where it runs), as ``pid: command line``. Other tests' terraform
    runs, under pytest-xdist, work in their own directories."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to look at
            continue
        if cwd.is_relative_to(directory):
            found.append(f"{entry.name}: {command}")
    return found


def test_apply_piped_into_head_still_applies_and_leaves_nothing_running(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    document = yaml.safe_load(HACK_MANIFEST.read_text(encoding="utf-8"))
    name = f"planton-head-{uuid.uuid4().hex[:8]}"
    document["metadata"]["name"] = document["spec"]["table_name"] = name
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(document), encoding="utf-8")

    # bash waits for the whole pipeline: when it returns, planton has exited, and planton waits
    # for terraform.
    pipeline = subprocess.run(
        ["bash", "-c", PIPELINE, "bash", str(BIN_DIR / "planton"), str(manifest)],
        cwd=tmp_path,
        env=cli.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    leftovers = processes_working_in(tmp_path)

    assert pipeline.returncode == 141, pipeline.stderr
    assert len(pipeline.stdout.splitlines()) == 1  # all head let through
    assert "terraform was killed" not in pipeline.stderr
    assert leftovers == []
    table = dynamodb(moto_endpoint, document["spec"]["aws_region"]).describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    state_line = next(line for line in pipeline.stderr.splitlines() if line.startswith("planton: state "))
    state = json.loads(Path(state_line.removeprefix("planton: state ")).read_text(encoding="utf-8"))
    recorded = [
        instance["attributes"]["name"]
        for resource in state["resources"]
        if resource["type"] == "aws_dynamodb_table"
        for instance in resource["instances"]
    ]
    assert recorded == [name]
