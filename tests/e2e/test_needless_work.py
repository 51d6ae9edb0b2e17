"""planton runs only the terraform work a command needs, with real terraform and moto: a warm
plan or apply of an unchanged manifest is one ``plan`` (no ``show -json`` to read back a plan
that changes nothing, no ``output -json`` for outputs the state holds, no ``init``), and a plan
with a change is still read back and judged."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from e2e_support import Cli, dynamodb
from support import HACK_MANIFEST

pytestmark = pytest.mark.e2e

TERRAFORM = shutil.which("tofu") or shutil.which("terraform")


def logging_binary(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in for the binary that writes down each command terraform is started with, then
    becomes terraform itself."""
    log = tmp_path / "commands.log"
    wrapper = tmp_path / "logged-terraform"
    wrapper.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        f"with open({str(log)!r}, 'a') as log:\n    log.write(sys.argv[1] + '\\n')\n"
        f"os.execv({TERRAFORM!r}, [{TERRAFORM!r}, *sys.argv[1:]])\n",
        encoding="utf-8",
    )
    wrapper.chmod(0o755)
    return wrapper, log


def commands(log: Path) -> list[str]:
    ran = log.read_text(encoding="utf-8").split()
    log.write_text("", encoding="utf-8")
    return ran


@pytest.mark.skipif(TERRAFORM is None, reason="neither tofu nor terraform is on PATH")
def test_an_unchanged_manifest_costs_one_plan(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    binary, log = logging_binary(tmp_path)
    manifest = tmp_path / "orders.yaml"
    # A table of its own: each test worker's moto server is shared by its tests.
    table_name = "needless-work-orders"
    text = HACK_MANIFEST.read_text(encoding="utf-8").replace("planton-demo-orders", table_name)
    assert table_name in text
    manifest.write_text(text, encoding="utf-8")
    given = ("--manifest", str(manifest), "--binary", str(binary))
    cli.ok("tofu", "apply", *given, "--auto-approve")
    # A fresh HOME: the binary's version is asked once (then remembered by its file's identity).
    assert commands(log) == ["version", "init", "plan", "show", "apply"]
    table = dynamodb(moto_endpoint, "us-east-1").describe_table(TableName=table_name)["Table"]

    plan = cli.run("tofu", "plan", *given, "--detailed-exitcode")
    assert plan.returncode == 0, plan.stderr
    assert "No changes" in plan.stderr + plan.stdout
    assert commands(log) == ["plan"]

    applied = cli.run("tofu", "apply", *given, "--auto-approve", "--json")
    assert applied.returncode == 0, applied.stderr
    assert commands(log) == ["plan"]
    document = json.loads(applied.stdout)
    # The outputs, read from the state: the table's real ARN, as boto3 reads it from moto.
    assert document["outputs"]["table_arn"] == table["TableArn"]
    assert document["outputs"]["table_name"] == table_name

    # A change is read back and judged (and applying it reads the outputs of the new state).
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("team: platform", "team: data"), encoding="utf-8")
    changed = cli.run("tofu", "plan", *given, "--detailed-exitcode")
    assert changed.returncode == 2, changed.stderr
    assert commands(log) == ["plan", "show"]
    cli.ok("tofu", "apply", *given, "--auto-approve")
    assert commands(log) == ["plan", "show", "apply"]
    tags = dynamodb(moto_endpoint, "us-east-1").list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert {"Key": "team", "Value": "data"} in tags
    cli.ok("tofu", "destroy", *given, "--auto-approve")
