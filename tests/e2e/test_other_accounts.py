"""Another AWS account's credentials never act on, or lose track of, a table the state records:
the real CLI, real terraform and moto's accounts (the access keys of an IAM user created under
another account id are that account's credentials), with items written and counted by boto3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_data_safety import ITEMS, count_items, create_by_hand, manifest, tables, unique, write_items

from e2e_support import DEFAULT_ACCOUNT, OTHER_ACCOUNT, Cli, assert_no_traceback, dynamodb, other_account_keys

pytestmark = pytest.mark.e2e


def state_file(tmp_path: Path) -> Path:
    return next((tmp_path / "work").glob("*/orders/terraform.tfstate"))


def recorded_arn(state: Path) -> str:
    document = json.loads(state.read_text(encoding="utf-8"))
    table = next(item for item in document["resources"] if item["type"] == "aws_dynamodb_table")
    return str(table["instances"][0]["attributes"]["arn"])


def test_another_accounts_credentials_are_refused(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("accounts")
    path = manifest(tmp_path / "m.yaml", table)
    mine = dynamodb(moto_endpoint, "us-east-1")
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(mine, table)
    # A destroy reviewed with the table's own account's credentials.
    reviewed = tmp_path / "destroy.tfplan"
    cli.ok("tofu", "plan", "-f", str(path), "--destroy", "--out", str(reviewed))

    other_keys = other_account_keys(moto_endpoint)
    theirs = dynamodb(moto_endpoint, "us-east-1", other_keys)
    create_by_hand(theirs, table)  # the other account's same-named table, which a destroy there would delete
    write_items(theirs, table)
    state = state_file(tmp_path)
    recorded = state.read_bytes()
    assert f":{DEFAULT_ACCOUNT}:table/{table}" in recorded_arn(state)

    cli.env.update(other_keys)
    for command in (
        ["apply", "--auto-approve"],
        ["destroy", "--auto-approve"],
        ["apply", str(reviewed)],
        ["refresh"],
        ["import"],
        ["plan"],
    ):
        refused = cli.run("tofu", *command, "-f", str(path))
        assert refused.returncode == 5, (command, refused.stderr)
        assert_no_traceback(refused)
        assert f"in AWS account {DEFAULT_ACCOUNT}, and these credentials belong to account {OTHER_ACCOUNT}" in (
            refused.stderr
        ), command
        assert state.read_bytes() == recorded, (
            command,
            refused.stdout,
            refused.stderr,
        )  # the state still records the first table
    assert count_items(mine, table) == ITEMS
    assert count_items(theirs, table) == ITEMS

    # plan reports it as a danger: in the summary, and in --json.
    shown = cli.run("tofu", "plan", "-f", str(path))
    assert "No plan was made." in shown.stdout
    assert f"DANGER: this workspace's state records table {table}" in shown.stdout
    machine = cli.run("tofu", "plan", "-f", str(path), "--json")
    assert machine.returncode == 5, machine.stderr
    document = json.loads(machine.stdout)
    assert document["data_loss"] is True
    assert document["has_changes"] is None
    assert any(DEFAULT_ACCOUNT in danger and OTHER_ACCOUNT in danger for danger in document["dangers"])
    assert any(OTHER_ACCOUNT in line for line in document["error"])

    # Back under the table's own account, the reviewed plan was never used up: it applies.
    for name in other_keys:
        cli.env[name] = "testing"
    cli.ok("tofu", "apply", "-f", str(path), str(reviewed))
    assert table not in tables(mine)
    assert count_items(theirs, table) == ITEMS


def test_a_saved_plan_applies_only_under_the_account_it_was_made_for(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    # A plan for a table no state records yet: nothing binds it to an account but the plan itself.
    table = unique("saved-for")
    path = manifest(tmp_path / "m.yaml", table)
    saved = tmp_path / "create.tfplan"
    planned = cli.ok("tofu", "plan", "-f", str(path), "--out", str(saved))
    assert f"the plan is for AWS account {DEFAULT_ACCOUNT}" in planned.stderr

    other_keys = other_account_keys(moto_endpoint)
    own = dict(cli.env)
    cli.env.update(other_keys)
    refused = cli.run("tofu", "apply", "-f", str(path), str(saved))
    cli.env = own
    assert refused.returncode == 5, refused.stderr
    assert f"{saved} was made for AWS account {DEFAULT_ACCOUNT}, and these credentials belong to account " in (
        refused.stderr
    )
    assert table not in tables(dynamodb(moto_endpoint, "us-east-1", other_keys))
    assert table not in tables(dynamodb(moto_endpoint, "us-east-1"))

    cli.ok("tofu", "apply", "-f", str(path), str(saved))
    assert f":{DEFAULT_ACCOUNT}:table/{table}" in recorded_arn(state_file(tmp_path))
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_a_provider_config_naming_another_account_than_the_tables_is_refused_before_anything_runs(
    cli: Cli, tmp_path: Path
) -> None:
    table = unique("named")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    config = tmp_path / "provider.yaml"
    config.write_text(f"account_id: '{OTHER_ACCOUNT}'\n", encoding="utf-8")
    refused = cli.run("tofu", "plan", "-f", str(path), "--aws-provider-config", str(config))
    assert refused.returncode == 5, refused.stderr
    assert f"the provider config's account_id is {OTHER_ACCOUNT}, but this workspace's state records table" in (
        refused.stderr
    )
    assert refused.stdout == ""  # terraform never ran
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
