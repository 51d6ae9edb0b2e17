"""The CLI as a CI pipeline uses it, against real terraform and moto, checked with boto3:
--set, plan --out then apply FILE (exactly that plan, once, only in its own workspace, never
when stale), plan --destroy, every --json document with plan --detailed-exitcode 2 then 0 around
an apply, credentials given only by a stack input, and the capacity cost line of a plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_data_safety import count_items, manifest, tables, unique, write_items

from e2e_support import Cli, assert_no_traceback, dynamodb

pytestmark = pytest.mark.e2e


def tags(client: Any, table: str) -> dict[str, str]:
    arn = client.describe_table(TableName=table)["Table"]["TableArn"]
    return {tag["Key"]: tag["Value"] for tag in client.list_tags_of_resource(ResourceArn=arn)["Tags"]}


def with_label(path: Path, value: str) -> Path:
    """The manifest with metadata.labels.stage set (an in-place tag change)."""
    text = path.read_text(encoding="utf-8").replace("metadata:\n", f"metadata:\n  labels: {{stage: {value}}}\n", 1)
    path.write_text(text, encoding="utf-8")
    return path


def document(result: Any) -> dict[str, Any]:
    """stdout is exactly one JSON document."""
    parsed = json.loads(result.stdout)
    assert isinstance(parsed, dict)
    return parsed


def test_set_changes_what_is_deployed(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("set")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", "placeholder-name")
    overrides = [
        "--set", f"spec.table_name={table}",
        "--set", "spec.billingMode=PROVISIONED",  # the other spelling of a field the manifest has
        "--set", "spec.read_capacity_units=5",
        "--set", "spec.write_capacity_units=3",
        "--set", "metadata.labels.team=core",
    ]  # fmt: skip
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve", *overrides)
    described = client.describe_table(TableName=table)["Table"]
    assert described["BillingModeSummary"]["BillingMode"] == "PROVISIONED"
    assert described["ProvisionedThroughput"]["ReadCapacityUnits"] == 5
    assert described["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    assert tags(client, table)["team"] == "core"
    assert "placeholder-name" not in tables(client)
    # The same overrides plan clean; a mistyped path is refused before anything runs.
    clean = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode", *overrides)
    assert clean.returncode == 0, clean.stderr
    typo = cli.run("tofu", "apply", "-f", str(path), "--auto-approve", "--set", "spec.read_capacity_unit=9")
    assert typo.returncode == 2
    assert "did you mean spec.read_capacity_units?" in typo.stderr
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve", *overrides)
    assert table not in tables(client)


def test_a_saved_plan_is_applied_exactly_once_and_never_when_stale(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    table = unique("reviewed")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = with_label(manifest(tmp_path / "m.yaml", table), "reviewed")
    plan_file = tmp_path / "reviewed.tfplan"
    planned = cli.run("tofu", "plan", "-f", str(path), "--out", str(plan_file), "--json")
    assert planned.returncode == 0, planned.stderr
    shown = document(planned)
    assert shown["plan_file"] == str(plan_file)
    assert shown["has_changes"] is True
    assert shown["counts"]["add"] == 2
    assert plan_file.stat().st_mode & 0o777 == 0o600  # a plan holds the variables in clear text
    assert table not in tables(client)  # planning changed nothing

    # The manifest changes after the review: applying the file applies what was reviewed.
    with_label(manifest(path, table), "changed-after-review")
    applied = cli.run("tofu", "apply", "-f", str(path), str(plan_file))  # no --auto-approve, no terminal
    assert applied.returncode == 0, applied.stderr
    assert "Do you want to perform these actions?" not in applied.stderr
    assert tags(client, table)["stage"] == "reviewed"

    again = cli.run("tofu", "apply", "-f", str(path), str(plan_file))
    assert again.returncode == 1
    assert f"error: {plan_file} was applied already; nothing was applied" in again.stderr

    # A plan made, then overtaken by another apply, is stale: terraform refuses it, and planton says so.
    stale_file = tmp_path / "stale.tfplan"
    cli.ok("tofu", "plan", "-f", str(path), "--out", str(stale_file))
    cli.ok("tofu", "apply", "-f", str(with_label(manifest(path, table), "applied-in-between")), "--auto-approve")
    stale = cli.run("tofu", "apply", "-f", str(path), str(stale_file))
    assert stale.returncode == 1, stale.stderr
    assert_no_traceback(stale)
    assert f"error: {stale_file} is stale: the state changed after the plan was made" in stale.stderr
    assert tags(client, table)["stage"] == "applied-in-between"

    # plan --destroy saves a deletion for review; applying it deletes the table.
    destroy_file = tmp_path / "destroy.tfplan"
    doomed = cli.run("tofu", "plan", "-f", str(path), "--destroy", "--out", str(destroy_file))
    assert doomed.returncode == 0, doomed.stderr
    assert "DATA LOSS" in doomed.stdout
    assert table in tables(client)
    cli.ok("tofu", "apply", "-f", str(path), str(destroy_file))
    assert table not in tables(client)


def test_a_plan_file_applies_only_in_its_own_workspace(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    mine, theirs = unique("mine"), unique("theirs")
    first = manifest(tmp_path / "a.yaml", mine, name="first")
    second = manifest(tmp_path / "b.yaml", theirs, name="second")
    plan_file = tmp_path / "first.tfplan"
    cli.ok("tofu", "plan", "-f", str(first), "--out", str(plan_file))
    refused = cli.run("tofu", "apply", "-f", str(second), str(plan_file))
    assert refused.returncode == 2, refused.stderr
    assert f"{plan_file} was not saved by `planton tofu plan --out` for this manifest's state" in refused.stderr
    assert not {mine, theirs} & set(tables(dynamodb(moto_endpoint, "us-east-1")))
    missing = cli.run("tofu", "apply", "-f", str(first), str(tmp_path / "no-such.tfplan"))
    assert missing.returncode == 2
    assert "PLAN_FILE:" in missing.stderr


def test_a_saved_replacement_needs_allow_replace(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("swap")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(client, table)
    manifest(path, table, partition_key="shop_id")
    plan_file = tmp_path / "swap.tfplan"
    planned = cli.run("tofu", "plan", "-f", str(path), "--out", str(plan_file), "--json")
    shown = document(planned)
    assert shown["data_loss"] is True
    [change] = [item for item in shown["resources"] if item["address"] == "aws_dynamodb_table.this"]
    assert change["action"] == "replace"
    assert any(item["path"] == "hash_key" and item["forces_replacement"] for item in change["attributes"])
    refused = cli.run("tofu", "apply", "-f", str(path), str(plan_file))
    assert refused.returncode == 5, refused.stderr
    assert f"refused: applying {plan_file} would lose a table" in refused.stderr
    assert count_items(client, table) == 5
    cli.ok("tofu", "apply", "-f", str(path), str(plan_file), "--allow-replace")
    assert count_items(client, table) == 0
    described = client.describe_table(TableName=table)["Table"]
    assert described["KeySchema"][0]["AttributeName"] == "shop_id"
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


@pytest.mark.lowest
def test_every_json_document_parses(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("json")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)

    validated = document(cli.ok("validate", "-f", str(path), "--json"))
    assert validated["valid"] is True
    assert validated["table"]["name"] == table

    # plan --detailed-exitcode: 2 before the apply, 0 after it (below), in the code and the document.
    planning = cli.run("tofu", "plan", "-f", str(path), "--json", "--detailed-exitcode")
    assert planning.returncode == 2, planning.stderr
    planned = document(planning)
    assert planned["exit_code"] == 2
    assert planned["counts"] == {"add": 2, "change": 0, "destroy": 0, "replace": 0}

    applied_run = cli.run("tofu", "apply", "-f", str(path), "--auto-approve", "--json")
    assert applied_run.returncode == 0, applied_run.stderr
    applied = document(applied_run)
    assert "Apply complete!" in applied_run.stderr  # terraform's text went to stderr
    arn = client.describe_table(TableName=table)["Table"]["TableArn"]
    assert applied["applied"] is True
    assert applied["counts"]["add"] == 2
    assert applied["outputs"]["table_arn"] == arn

    outputs = document(cli.ok("tofu", "output", "-f", str(path), "--json"))
    assert outputs["table_arn"] == arn
    assert outputs["table_name"] == table

    settled = cli.run("tofu", "plan", "-f", str(path), "--json", "--detailed-exitcode")
    assert settled.returncode == 0, settled.stderr
    clean = document(settled)
    assert clean["has_changes"] is False
    assert clean["exit_code"] == 0
    unchanged = document(cli.ok("tofu", "apply", "-f", str(path), "--auto-approve", "--json"))
    assert unchanged["applied"] is False
    assert unchanged["outputs"]["table_arn"] == arn

    # A failure before any result still prints one document, saying why.
    bad = cli.run("tofu", "plan", "-f", str(path), "--json", "--set", "spec.billing_mode=FREE")
    assert bad.returncode == 4
    assert document(bad)["error"]["exit_code"] == 4
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_credentials_given_only_by_the_stack_input(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("stacked")
    client = dynamodb(moto_endpoint, "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        cli.env.pop(name)
    target = manifest(tmp_path / "target.yaml", table).read_text(encoding="utf-8")
    # moto takes any keys; these are distinctive enough to search every written file for.
    config = (
        "  access_key_id: AKIASTACKINPUTKEY\n  secret_access_key: stack-input-secret\n  account_id: '123456789012'\n"
    )
    stack = tmp_path / "stack.yaml"
    stack.write_text(
        "target:\n" + "".join(f"  {line}\n" for line in target.splitlines()) + "provider_config:\n" + config,
        encoding="utf-8",
    )
    stack.chmod(0o600)
    no_keys = cli.run("tofu", "plan", "-f", str(tmp_path / "target.yaml"))
    assert no_keys.returncode == 3  # the environment alone has none
    applied = cli.run("tofu", "apply", "-i", str(stack), "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert table in tables(client)
    for stream in (applied.stdout, applied.stderr):
        assert "stack-input-secret" not in stream
        assert "AKIASTACKINPUTKEY" not in stream
    # Neither key reaches any file planton or terraform wrote (variables, state, plan, lock).
    for written in Path(cli.env["PLANTON_WORK_DIR"]).rglob("*"):
        if written.is_file() and ".terraform" not in written.parts:  # not the provider binaries
            content = written.read_bytes()
            assert b"stack-input-secret" not in content, written
            assert b"AKIASTACKINPUTKEY" not in content, written

    # Credentials of another account than the stack input names are refused by the provider.
    wrong = tmp_path / "wrong-account.yaml"
    wrong.write_text(config.replace("123456789012", "111111111111").replace("  ", ""), encoding="utf-8")
    wrong.chmod(0o600)
    other = manifest(tmp_path / "other.yaml", unique("elsewhere"), name="other")
    refused = cli.run("tofu", "apply", "-f", str(other), "--aws-provider-config", str(wrong), "--auto-approve")
    assert refused.returncode == 1, refused.stderr
    assert "not allowed" in refused.stderr
    cli.ok("tofu", "destroy", "-i", str(stack), "--auto-approve")
    assert table not in tables(client)


def test_a_plan_shows_the_capacity_cost_and_json_carries_it(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    path = manifest(tmp_path / "m.yaml", unique("cost"))
    provisioned = ("--set", "spec.billing_mode=PROVISIONED", "--set", "spec.read_capacity_units=10")
    provisioned += ("--set", "spec.write_capacity_units=5")
    shown = cli.ok("tofu", "plan", "-f", str(path), *provisioned)
    # 10 RCU x $0.00013 + 5 WCU x $0.00065, for 730 hours: $3.32 a month.
    assert (
        "Capacity cost: $3.32/month for the new table (us-east-1 list prices of 2026-12-07, 730 hours a month)"
        in shown.stdout
    )
    planned = document(cli.ok("tofu", "plan", "-f", str(path), "--json", *provisioned))
    assert planned["cost"]["after"]["monthly_usd"] == {"min": 3.32, "max": 3.32}
    assert planned["cost"]["before"] is None
    on_demand = document(cli.ok("tofu", "plan", "-f", str(path), "--json"))
    assert on_demand["cost"]["after"]["not_estimated"] == "on-demand: usage-based, not estimated"
