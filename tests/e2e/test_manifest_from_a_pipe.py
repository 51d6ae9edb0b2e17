"""A manifest that arrives through a pipe deploys once ``--work-dir`` says where its state lives,
and later commands find that state again."""

from __future__ import annotations

import subprocess

import pytest

from e2e_support import BIN_DIR, Cli, dynamodb
from support import HACK_MANIFEST

pytestmark = pytest.mark.e2e


def test_apply_and_destroy_from_stdin_with_a_work_dir(cli: Cli, moto_endpoint: str) -> None:
    text = HACK_MANIFEST.read_text(encoding="utf-8").replace("planton-demo-orders", "planton-piped-orders")
    work_dir = cli.cwd / "piped-state"
    client = dynamodb(moto_endpoint, "us-east-1")

    refused = cli.run(
        "tofu",
        "apply",
        "-f",
        "/dev/stdin",
        "--auto-approve",
        input_text=text,
        wrapper=("env", "-u", "PLANTON_WORK_DIR"),
    )
    assert refused.returncode == 2
    assert "planton-piped-orders" not in client.list_tables()["TableNames"]

    apply = cli.run("tofu", "apply", "-f", "/dev/stdin", "--auto-approve", "--work-dir", str(work_dir), input_text=text)
    assert apply.returncode == 0, apply.stdout + apply.stderr
    assert client.describe_table(TableName="planton-piped-orders")["Table"]["TableStatus"] == "ACTIVE"
    assert list(work_dir.glob("*/*/terraform.tfstate")), "the state lives under --work-dir"

    # Process substitution this time: the same state is found, nothing would change.
    plan = subprocess.run(
        [
            "bash",
            "-c",
            'exec "$0" tofu plan --detailed-exitcode --work-dir "$1" -f <(printf %s "$2")',
            str(BIN_DIR / "planton"),
            str(work_dir),
            text,
        ],
        env=cli.env,
        cwd=cli.cwd,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert plan.returncode == 0, plan.stdout + plan.stderr

    destroy = cli.run(
        "tofu", "destroy", "-f", "/dev/stdin", "--auto-approve", "--work-dir", str(work_dir), input_text=text
    )
    assert destroy.returncode == 0, destroy.stdout + destroy.stderr
    assert "planton-piped-orders" not in client.list_tables()["TableNames"]
