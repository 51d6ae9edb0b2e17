"""The seed README's four commands, verbatim, through the ``project-planton`` entry point."""

from __future__ import annotations

import pytest
import yaml

from e2e_support import Cli, dynamodb
from support import HACK_MANIFEST, REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.lowest]

SEED_COMMANDS = [
    "project-planton tofu init --manifest hack/manifest.yaml",
    "project-planton tofu plan --manifest hack/manifest.yaml",
    "project-planton tofu apply --manifest hack/manifest.yaml --auto-approve",
    "project-planton tofu destroy --manifest hack/manifest.yaml --auto-approve",
]


def test_seed_readme_commands_run_verbatim(cli: Cli, moto_endpoint: str) -> None:
    cli.cwd = REPO_ROOT  # the commands name hack/manifest.yaml relative to the repository
    spec = yaml.safe_load(HACK_MANIFEST.read_text(encoding="utf-8"))["spec"]
    client = dynamodb(moto_endpoint, spec["aws_region"])
    names = client.list_tables()["TableNames"]
    assert spec["table_name"] not in names

    init, plan, apply, destroy = SEED_COMMANDS
    script, *args = init.split()
    cli.ok(*args, script=script)

    script, *args = plan.split()
    planned = cli.ok(*args, script=script)
    assert "2 to add, 0 to change, 0 to destroy" in planned.stdout  # the table and its index record
    assert spec["table_name"] not in client.list_tables()["TableNames"], "plan must not create anything"

    script, *args = apply.split()
    applied = cli.ok(*args, script=script)
    state_line = next(line for line in applied.stderr.splitlines() if line.startswith("planton: state "))
    assert state_line.startswith(f"planton: state {cli.env['PLANTON_WORK_DIR']}/")
    assert client.describe_table(TableName=spec["table_name"])["Table"]["TableStatus"] == "ACTIVE"

    script, *args = destroy.split()
    cli.ok(*args, script=script)
    assert spec["table_name"] not in client.list_tables()["TableNames"]
