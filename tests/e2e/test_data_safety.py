"""No table is lost or orphaned unless the user asked for exactly that: the real CLI, real
terraform and moto, with items written by boto3 and counted afterwards."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from holding_proxy import HoldingProxy, holding_proxy

from e2e_support import (
    BIN_DIR,
    DEFAULT_ACCOUNT,
    OTHER_ACCOUNT,
    Cli,
    assert_no_traceback,
    dynamodb,
    other_account_keys,
    s3,
)

pytestmark = pytest.mark.e2e

TERRAFORM = shutil.which("tofu") or shutil.which("terraform")

ITEMS = 5


# The bucket that keeps the state of every manifest a test writes, while the test runs with the
# S3 backend (the state_backend fixture); each manifest's key is its metadata.name and id.
_STATE_BUCKET: list[str] = []


@pytest.fixture(params=["local", "s3"])
def state_backend(request: pytest.FixtureRequest, moto_endpoint: str) -> Iterator[str]:
    """Runs a test once with local state and once with S3 state (in moto): every manifest
    ``manifest()`` writes carries the backend labels then."""
    if request.param == "s3":
        bucket = unique("safety-state")
        s3(moto_endpoint).create_bucket(Bucket=bucket)
        _STATE_BUCKET.append(bucket)
    try:
        yield str(request.param)
    finally:
        _STATE_BUCKET.clear()


def another_runner(cli: Cli, tmp_path: Path, state_backend: str) -> None:
    """With S3 state, what follows runs as on another CI runner: a fresh work dir, nothing in
    common with the first but the bucket. (Local state lives on one machine only.)"""
    if state_backend == "s3":
        cli.env["PLANTON_WORK_DIR"] = str(tmp_path / f"runner-{uuid.uuid4().hex[:6]}")


def remembered(endpoint: str, tmp_path: Path, state_backend: str, name: str = "orders") -> str | None:
    """The table of the interrupted create planton remembers for the manifest ``name``: in its
    workspace with local state, in the object beside the state with S3 state."""
    if state_backend == "s3":
        body = s3(endpoint).get_object(Bucket=_STATE_BUCKET[0], Key=f"{name}.tfstate.planton.json")["Body"].read()
        create = json.loads(body).get("interrupted_create")
    else:
        found = list((tmp_path / "work").rglob(f"{name}/.planton-interrupted.json"))
        create = json.loads(found[0].read_text(encoding="utf-8")) if found else None
    return str(create["table_name"]) if create else None


def manifest(
    path: Path,
    table: str,
    *,
    name: str = "orders",
    region: str = "us-east-1",
    partition_key: str = "customer_id",
    metadata_id: str | None = None,
) -> Path:
    labels = []
    if _STATE_BUCKET:
        key = f"{name}-{metadata_id}" if metadata_id else name
        labels = [
            "  labels:",
            '    "terraform.project-planton.org/backend.type": s3',
            f'    "terraform.project-planton.org/backend.object": "{_STATE_BUCKET[0]}/{key}.tfstate"',
        ]
    lines = [
        "apiVersion: aws.project-planton.org/v1",
        "kind: AwsDynamodb",
        "metadata:",
        f"  name: {name}",
        *([f"  id: {metadata_id}"] if metadata_id else []),
        *labels,
        "spec:",
        f"  table_name: {table}",
        f"  aws_region: {region}",
        "  billing_mode: PAY_PER_REQUEST",
        f"  partition_key_name: {partition_key}",
        "  partition_key_type: STRING",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def write_items(client: Any, table: str, key: str = "customer_id") -> None:
    for number in range(ITEMS):
        client.put_item(TableName=table, Item={key: {"S": f"c{number}"}})


def count_items(client: Any, table: str) -> int:
    return int(client.scan(TableName=table, Select="COUNT")["Count"])


def tables(client: Any) -> list[str]:
    return list(client.list_tables()["TableNames"])


def create_by_hand(client: Any, table: str, **extra: Any) -> None:
    """A table made outside planton, keyed as ``manifest()`` keys its tables."""
    client.create_table(
        TableName=table,
        AttributeDefinitions=[{"AttributeName": "customer_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "customer_id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def test_a_key_change_is_refused_under_auto_approve(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table = unique("keyed")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(client, table)

    manifest(path, table, partition_key="shop_id")
    refused = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert_no_traceback(refused)
    assert f"the plan replaces table {table}" in refused.stderr
    assert "forced by a change to the partition key" in refused.stderr
    assert count_items(client, table) == ITEMS

    # Asked, and not answered yes: nothing happens either.
    declined = cli.run("tofu", "apply", "-f", str(path), terminal_input="no\n")
    assert declined.returncode == 1
    assert "warning: the plan replaces table" in declined.stderr
    assert declined.stderr.index("warning: the plan replaces") < declined.stderr.index("Only 'yes' will be accepted")
    assert "apply cancelled: the answer was not 'yes'; nothing was changed" in declined.stderr
    assert count_items(client, table) == ITEMS

    # What the user asked for, exactly: replaced, items gone, new key in place.
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve", "--allow-replace")
    described = client.describe_table(TableName=table)["Table"]
    assert described["KeySchema"] == [{"AttributeName": "shop_id", "KeyType": "HASH"}]
    assert count_items(client, table) == 0
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_only_the_exact_answer_yes_replaces_a_table(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("exact")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(client, table)
    manifest(path, table, partition_key="shop_id")
    for answer in (" yes\n", "yes \n"):
        declined = cli.run("tofu", "apply", "-f", str(path), terminal_input=answer)
        assert declined.returncode == 1, declined.stderr
        assert "apply cancelled: the answer was not 'yes'; nothing was changed" in declined.stderr
        assert count_items(client, table) == ITEMS
    assert client.describe_table(TableName=table)["Table"]["KeySchema"][0]["AttributeName"] == "customer_id"
    manifest(path, table)
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_yes_at_the_question_lets_a_replacement_through(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("asked")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    manifest(path, table, partition_key="shop_id")
    result = cli.run("tofu", "apply", "-f", str(path), terminal_input="yes\n")
    assert result.returncode == 0, result.stderr
    assert client.describe_table(TableName=table)["Table"]["KeySchema"][0]["AttributeName"] == "shop_id"
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_two_manifests_with_one_name_never_delete_each_other(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    client = dynamodb(moto_endpoint, "us-east-1")
    team_a, team_b = unique("team-a-orders"), unique("team-b-orders")
    first = manifest(tmp_path / "a" / "orders.yaml", team_a)
    second = manifest(tmp_path / "b" / "orders.yaml", team_b)  # same metadata.name, shared PLANTON_WORK_DIR
    cli.ok("tofu", "apply", "-f", str(first), "--auto-approve")
    write_items(client, team_a)

    refused = cli.run("tofu", "apply", "-f", str(second), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert f"this workspace holds table {team_a}, and the manifest names {team_b}" in refused.stderr
    assert "give it its own metadata.name or metadata.id" in refused.stderr
    assert "Destroying" not in refused.stdout
    assert count_items(client, team_a) == ITEMS
    assert team_b not in tables(client)

    # Its own identity gives it its own workspace: both tables live.
    manifest(second, team_b, metadata_id="team-b")
    cli.ok("tofu", "apply", "-f", str(second), "--auto-approve")
    assert count_items(client, team_a) == ITEMS
    assert team_b in tables(client)
    cli.ok("tofu", "destroy", "-f", str(second), "--auto-approve")
    cli.ok("tofu", "destroy", "-f", str(first), "--auto-approve")
    assert {team_a, team_b}.isdisjoint(tables(client))


def test_a_region_change_never_orphans_the_table(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table = unique("moving")
    east, west = dynamodb(moto_endpoint, "us-east-1"), dynamodb(moto_endpoint, "eu-west-1")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(east, table)

    manifest(path, table, region="eu-west-1")
    refused = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert "spec.aws_region changed from us-east-1 to eu-west-1" in refused.stderr
    assert "leaving it unmanaged and still billed" in refused.stderr
    assert count_items(east, table) == ITEMS
    assert table not in tables(west)

    # Agreed: the old table is deleted in its own region, the new one created; nothing is left behind.
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve", "--allow-replace")
    assert table not in tables(east)
    assert table in tables(west)
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(east) + tables(west)


def test_plan_warns_before_apply_would_lose_a_table(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("warned")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    manifest(path, table, partition_key="shop_id")
    plan = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert f"warning: the plan replaces table {table}" in plan.stderr
    assert not list((tmp_path / "work").rglob("planton.tfplan"))  # the saved plan is never left behind
    manifest(path, table)
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_a_table_the_state_does_not_know_is_adopted_not_clobbered(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table = unique("by-hand")
    client = dynamodb(moto_endpoint, "us-east-1")
    # Encrypted as the manifest has it: moto cannot change a table's encryption afterwards (AWS can).
    create_by_hand(client, table, SSESpecification={"Enabled": True})
    write_items(client, table)
    path = manifest(tmp_path / "m.yaml", table)

    stopped = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
    assert stopped.returncode == 6, stopped.stderr
    assert f"table {table} already exists in us-east-1, but this workspace's state does not record it" in stopped.stderr
    assert f"planton tofu import -f {path}" in stopped.stderr
    assert count_items(client, table) == ITEMS

    imported = cli.ok("tofu", "import", "-f", str(path))
    assert "Import successful" in imported.stdout
    # Only real differences remain (the tags the manifest adds), and applying them keeps the items.
    plan = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert "must be replaced" not in plan.stdout
    assert "warning:" not in plan.stderr
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    assert count_items(client, table) == ITEMS
    assert cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode").returncode == 0
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(client)


# --- Ctrl-C at exactly the wrong moment: a proxy in front of moto holds one reply ------------


def interrupted_apply(cli: Cli, proxy: HoldingProxy, path: Path) -> subprocess.CompletedProcess[str]:
    """Start an apply (through the proxy: the whole test talks to moto through it, so that
    every command finds the same workspace), SIGINT planton once the held reply is pending, and
    let it end. planton forwards the signal to terraform exactly once."""
    process = subprocess.Popen(
        [str(BIN_DIR / "planton"), "tofu", "apply", "-f", str(path), "--auto-approve"],
        env=cli.env,
        cwd=cli.cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proxy.held.wait(180), f"the held operation never came: {proxy.seen}"
        time.sleep(0.5)  # terraform is waiting for the reply
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        proxy.release()
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_ctrl_c_while_waiting_for_a_new_table_keeps_it(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table = unique("tainted")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table, name=table)
    with holding_proxy(moto_endpoint) as proxy:
        cli.env["AWS_ENDPOINT_URL"] = proxy.url
        proxy.hold("DescribeTable", after="CreateTable")  # the wait for ACTIVE after the create
        stopped = interrupted_apply(cli, proxy, path)
        assert stopped.returncode == 130, stopped.stderr
        assert_no_traceback(stopped)
        assert f"terraform stopped while table {table} was being created; the state records it as tainted" in (
            stopped.stderr
        )
        write_items(client, table)  # written between the interruption and the next apply
        another_runner(cli, tmp_path, state_backend)

        # The half-created table has no ARN in the state; planton remembered its region, so a
        # region edit now is still a move (never an orphan), and destroy still refuses.
        manifest(path, table, name=table, region="us-west-2")
        moved = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
        assert moved.returncode == 5, moved.stderr
        assert "spec.aws_region changed from us-east-1 to us-west-2" in moved.stderr
        assert cli.run("tofu", "destroy", "-f", str(path), "--auto-approve").returncode == 5
        assert count_items(client, table) == ITEMS
        manifest(path, table, name=table)

        resumed = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
        assert resumed.returncode == 0, resumed.stderr
        assert (
            f"table {table} was left tainted by planton's own interrupted apply; it exists, so planton untainted"
            in (resumed.stderr)
        )
        assert "Destroying" not in resumed.stdout
        assert count_items(client, table) == ITEMS
        assert cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode").returncode == 0
        cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_a_taint_planton_did_not_leave_is_guarded(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    # Someone ran `terraform taint` by hand: planton cannot know why, so it is a replacement.
    table = unique("hand-tainted")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table, name=table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(client, table)
    workspace = next((tmp_path / "work").glob(f"*/{table}"))
    env = {**cli.env, "AWS_ENDPOINT_URL": moto_endpoint, "TF_CLI_CONFIG_FILE": os.devnull}
    taint = subprocess.run(
        [str(TERRAFORM), "taint", "aws_dynamodb_table.this"], cwd=workspace, env=env, capture_output=True, text=True
    )
    assert taint.returncode == 0, taint.stderr
    refused = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert "terraform marked it tainted" in refused.stderr
    assert count_items(client, table) == ITEMS
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_ctrl_c_while_create_table_is_in_flight_is_recovered_by_import(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table = unique("unrecorded")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table, name=table)
    with holding_proxy(moto_endpoint) as proxy:
        cli.env["AWS_ENDPOINT_URL"] = proxy.url
        proxy.hold("CreateTable")  # moto creates the table; terraform never hears back
        stopped = interrupted_apply(cli, proxy, path)
        assert stopped.returncode == 130, stopped.stderr
        assert f"terraform stopped before the state recorded table {table}" in stopped.stderr
        assert table in tables(client)
        write_items(client, table)
        another_runner(cli, tmp_path, state_backend)

        blocked = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
        assert blocked.returncode == 6, blocked.stderr
        assert f"planton tofu import -f {path}" in blocked.stderr
        assert count_items(client, table) == ITEMS

        cli.ok("tofu", "import", "-f", str(path))
        assert cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode").returncode == 0
        assert count_items(client, table) == ITEMS
        cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(client)


@pytest.mark.parametrize("change", ["region", "name"])
def test_a_create_interrupted_in_flight_is_never_left_behind(
    cli: Cli, moto_endpoint: str, tmp_path: Path, change: str, state_backend: str
) -> None:
    # The state records nothing yet; planton's memory of the create is all that knows the table.
    table, renamed = unique("half-made"), unique("renamed")
    east, west = dynamodb(moto_endpoint, "us-east-1"), dynamodb(moto_endpoint, "us-west-2")
    path = manifest(tmp_path / "m.yaml", table)
    with holding_proxy(moto_endpoint) as proxy:
        cli.env["AWS_ENDPOINT_URL"] = proxy.url
        proxy.hold("CreateTable")
        stopped = interrupted_apply(cli, proxy, path)
        assert stopped.returncode == 130, stopped.stderr
        assert table in tables(east)
        write_items(east, table)
        another_runner(cli, tmp_path, state_backend)

        if change == "region":
            manifest(path, table, region="us-west-2")
        else:
            manifest(path, renamed)
        held = f"planton's apply of table {table} (us-east-1, account 123456789012) was interrupted"
        for extra in (["--auto-approve"], ["--auto-approve", "--allow-replace"]):
            refused = cli.run("tofu", "apply", "-f", str(path), *extra)
            assert refused.returncode == 6, refused.stderr
            assert_no_traceback(refused)
            assert held in refused.stderr
            assert "run `planton tofu import`" in refused.stderr
        answered = cli.run("tofu", "apply", "-f", str(path), terminal_input="yes\n")
        assert answered.returncode == 6, answered.stderr
        warned = cli.run("tofu", "plan", "-f", str(path))
        assert f"warning: {held}" in warned.stderr
        adopting_another = cli.run("tofu", "import", "-f", str(path))
        assert adopting_another.returncode == 6, adopting_another.stderr
        assert count_items(east, table) == ITEMS
        assert renamed not in tables(east) + tables(west)
        assert table not in tables(west)

        # Adopted, the table is the state's; the rename or move is then an ordinary, guarded apply.
        manifest(path, table)
        cli.ok("tofu", "import", "-f", str(path))
        assert cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode").returncode == 0
        assert count_items(east, table) == ITEMS
        cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(east)


def test_an_interrupted_create_that_left_no_table_is_forgotten_by_import(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table, renamed = unique("never-made"), unique("renamed")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    with holding_proxy(moto_endpoint) as proxy:
        cli.env["AWS_ENDPOINT_URL"] = proxy.url
        proxy.hold("CreateTable")
        assert interrupted_apply(cli, proxy, path).returncode == 130
        client.delete_table(TableName=table)  # gone, say deleted by hand; planton cannot know yet
        another_runner(cli, tmp_path, state_backend)
        manifest(path, renamed)
        assert cli.run("tofu", "apply", "-f", str(path), "--auto-approve").returncode == 6

        manifest(path, table)
        looked = cli.run("tofu", "import", "-f", str(path))
        assert looked.returncode == 1, looked.stderr
        assert f"table {table} (us-east-1, account 123456789012) does not exist: there is nothing to adopt, and " in (
            looked.stderr
        )
        manifest(path, renamed)
        cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
        assert renamed in tables(client)
        assert table not in tables(client)
        cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_an_interrupted_create_recorded_without_its_account_waits_for_the_account(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    # An earlier planton remembered the create without its account: unbound, another account's
    # credentials would create a second table there, or find none and forget the first.
    table = unique("unaccounted")
    mine = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    with holding_proxy(moto_endpoint) as proxy:
        cli.env["AWS_ENDPOINT_URL"] = proxy.url
        proxy.hold("CreateTable")
        assert interrupted_apply(cli, proxy, path).returncode == 130
        write_items(mine, table)
        record = next((tmp_path / "work").rglob(".planton-interrupted.json"))
        record.write_text(json.dumps({"table_name": table, "region": "us-east-1"}), encoding="utf-8")

        own, other = dict(cli.env), other_account_keys(moto_endpoint)
        cli.env.update(other)
        for command in (["apply", "--auto-approve"], ["import"], ["plan"]):
            refused = cli.run("tofu", *command, "-f", str(path))
            assert refused.returncode == 5, (command, refused.stderr)
            assert "in an AWS account nobody recorded" in refused.stderr
            assert "give provider_config.account_id" in refused.stderr
        assert table not in tables(dynamodb(moto_endpoint, "us-east-1", other))
        assert json.loads(record.read_text(encoding="utf-8")).get("account") is None

        # Said once, with that account's credentials: remembered, and every run is bound to it.
        cli.env = dict(own)
        config = tmp_path / "provider.yaml"
        config.write_text(f"account_id: '{DEFAULT_ACCOUNT}'\n", encoding="utf-8")
        cli.ok("tofu", "plan", "-f", str(path), "--aws-provider-config", str(config))
        assert json.loads(record.read_text(encoding="utf-8"))["account"] == DEFAULT_ACCOUNT
        cli.env.update(other)
        refused = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
        assert refused.returncode == 5, refused.stderr
        assert f"these credentials belong to account {OTHER_ACCOUNT}" in refused.stderr
        cli.env = dict(own)
        cli.ok("tofu", "import", "-f", str(path))
        assert count_items(mine, table) == ITEMS
        cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_an_interrupted_create_of_a_table_another_manifest_manages_is_let_go(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    # The second manifest's create was interrupted before AWS's answer (that the table exists)
    # came: planton cannot know it failed, and remembers it, until it learns whose table it is.
    table = unique("taken")
    client = dynamodb(moto_endpoint, "us-east-1")
    first = manifest(tmp_path / "a" / "m.yaml", table, name="first")
    second = manifest(tmp_path / "b" / "m.yaml", table, name="second")
    with holding_proxy(moto_endpoint) as proxy:
        cli.env["AWS_ENDPOINT_URL"] = proxy.url
        cli.ok("tofu", "apply", "-f", str(first), "--auto-approve")
        write_items(client, table)
        proxy.hold("CreateTable")
        assert interrupted_apply(cli, proxy, second).returncode == 130
        record = next((tmp_path / "work").rglob("second/.planton-interrupted.json"))

        taken = cli.run("tofu", "apply", "-f", str(second), "--auto-approve")
        assert taken.returncode == 6, taken.stderr
        assert "is already managed by another planton workspace" in taken.stderr
        assert f"planton forgets its interrupted create of {table} here" in taken.stderr
        assert not record.exists()

        # Given a table of its own, the second manifest just applies.
        own = unique("own")
        manifest(second, own, name="second")
        cli.ok("tofu", "apply", "-f", str(second), "--auto-approve")
        assert own in tables(client)
        assert count_items(client, table) == ITEMS
        cli.ok("tofu", "destroy", "-f", str(second), "--auto-approve")
        cli.ok("tofu", "destroy", "-f", str(first), "--auto-approve")


def test_destroying_a_table_left_half_created_forgets_its_create(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table, renamed = unique("half-gone"), unique("renamed")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    with holding_proxy(moto_endpoint) as proxy:
        cli.env["AWS_ENDPOINT_URL"] = proxy.url
        proxy.hold("DescribeTable", after="CreateTable")  # tainted: the state records it
        assert interrupted_apply(cli, proxy, path).returncode == 130
        assert remembered(moto_endpoint, tmp_path, state_backend) == table
        another_runner(cli, tmp_path, state_backend)
        cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
        assert table not in tables(client)
        # planton deleted it itself: nothing is left behind to remember.
        assert remembered(moto_endpoint, tmp_path, state_backend) is None
        manifest(path, renamed)
        cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
        assert renamed in tables(client)
        cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


# --- per-service endpoints -----------------------------------------------------------------


def test_per_service_endpoints_are_an_endpoint_target(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("per-service")
    client = dynamodb(moto_endpoint, "us-east-1")
    del cli.env["AWS_ENDPOINT_URL"]
    cli.env["AWS_ENDPOINT_URL_DYNAMODB"] = moto_endpoint
    cli.env["AWS_ENDPOINT_URL_STS"] = moto_endpoint
    path = manifest(tmp_path / "m.yaml", table, name=table)
    applied = cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    assert table in tables(client)
    state_line = next(line for line in applied.stderr.splitlines() if line.startswith("planton: state "))
    state = Path(state_line.removeprefix("planton: state "))
    # Never the real-AWS workspace: that state would be mistaken for production's.
    assert state.parent.parent.name.startswith("endpoint-")
    assert not (tmp_path / "work" / "aws").exists()
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(client)


# --- commands that act on the recorded table, and tables in two places -----------------------


def test_refresh_and_destroy_refuse_a_manifest_that_names_another_table(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    table = unique("recorded")
    east = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(east, table)
    state = next((tmp_path / "work").glob("*/orders/terraform.tfstate"))
    recorded_state = state.read_text(encoding="utf-8")
    variables = state.parent / "terraform.tfvars.json"
    applied_variables = variables.read_text(encoding="utf-8")

    # Region edited: refresh would drop the table from the state, destroy would forget it.
    # Refused before anything is written: the variables still describe the applied table.
    manifest(path, table, region="us-west-2")
    for command in (["refresh"], ["destroy", "--auto-approve"]):
        refused = cli.run("tofu", *command, "-f", str(path))
        assert refused.returncode == 5, refused.stderr
        assert f"this workspace's state holds table {table} in us-east-1" in refused.stderr
        assert state.read_text(encoding="utf-8") == recorded_state
        assert variables.read_text(encoding="utf-8") == applied_variables
    # Another table named (a second manifest sharing the name): destroy must not delete ours.
    other = manifest(tmp_path / "other" / "m.yaml", unique("other"))
    refused = cli.run("tofu", "destroy", "-f", str(other), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert count_items(east, table) == ITEMS

    manifest(path, table)
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(east)


def test_a_same_named_table_in_the_new_region_is_not_taken_over(
    cli: Cli, moto_endpoint: str, tmp_path: Path, state_backend: str
) -> None:
    table = unique("twin")
    east, west = dynamodb(moto_endpoint, "us-east-1"), dynamodb(moto_endpoint, "us-west-2")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(east, table)
    create_by_hand(west, table)
    manifest(path, table, region="us-west-2")
    plan = cli.run("tofu", "plan", "-f", str(path))
    assert f"warning: a table named {table} already exists in us-west-2" in plan.stderr
    # No answer lets planton take over the twin, or delete the original to get there.
    for extra, answer in ((["--auto-approve", "--allow-replace"], None), ([], "yes\n")):
        refused = cli.run("tofu", "apply", "-f", str(path), *extra, terminal_input=answer)
        assert refused.returncode == 6, refused.stderr
        assert "would take over a table planton never made" in refused.stderr
    assert count_items(east, table) == ITEMS
    west.delete_table(TableName=table)
    manifest(path, table)
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


def test_a_table_another_manifest_manages_is_never_adopted(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("claimed")
    client = dynamodb(moto_endpoint, "us-east-1")
    first = manifest(tmp_path / "a" / "m.yaml", table, name="first")
    second = manifest(tmp_path / "b" / "m.yaml", table, name="second")
    cli.ok("tofu", "apply", "-f", str(first), "--auto-approve")
    write_items(client, table)
    for command in (["apply", "--auto-approve"], ["import"]):
        refused = cli.run("tofu", *command, "-f", str(second))
        assert refused.returncode == 6, refused.stderr
        assert "is already managed by another planton workspace" in refused.stderr
        assert "Two manifests must never manage one table" in refused.stderr
    assert count_items(client, table) == ITEMS
    cli.ok("tofu", "destroy", "-f", str(first), "--auto-approve")


def test_a_key_type_change_is_a_replacement_not_a_silent_no_op(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    # The aws provider plans nothing for it (terraform-provider-aws#14889); planton asks for the
    # replacement DynamoDB needs, and guards it.
    table = unique("typed")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(client, table)
    path.write_text(
        path.read_text(encoding="utf-8").replace("partition_key_type: STRING", "partition_key_type: NUMBER")
    )
    refused = cli.run("tofu", "apply", "-f", str(path), "--auto-approve")
    assert refused.returncode == 5, refused.stderr
    assert "a key type change (partition key customer_id from S to N)" in refused.stderr
    assert count_items(client, table) == ITEMS
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve", "--allow-replace")
    described = client.describe_table(TableName=table)["Table"]
    assert described["AttributeDefinitions"] == [{"AttributeName": "customer_id", "AttributeType": "N"}]
    assert cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode").returncode == 0
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")


# --- order that means nothing to DynamoDB: local indexes, non-key attributes -----------------


def indexed_manifest(
    path: Path,
    table: str,
    *,
    local_order: tuple[str, str] = ("by-b", "by-a"),
    local_attributes: tuple[str, ...] = ("zeta", "alpha", "mid"),
    global_attributes: tuple[str, ...] = ("zeta", "alpha", "mid"),
) -> Path:
    """A table with two local indexes (by-b projecting ``local_attributes``) and a global one
    projecting ``global_attributes``, the local ones listed in ``local_order``."""
    local = {
        "by-a": [
            "    - name: by-a",
            "      keySchema: [{attributeName: pk, keyType: HASH}, {attributeName: a, keyType: RANGE}]",
            "      projection: {type: KEYS_ONLY}",
        ],
        "by-b": [
            "    - name: by-b",
            "      keySchema: [{attributeName: pk, keyType: HASH}, {attributeName: b, keyType: RANGE}]",
            f"      projection: {{type: INCLUDE, nonKeyAttributes: [{', '.join(local_attributes)}]}}",
        ],
    }
    lines = [
        "apiVersion: aws.project-planton.org/v1",
        "kind: AwsDynamodb",
        "metadata:",
        f"  name: {table}",
        "spec:",
        "  awsRegion: us-east-1",
        "  attributeDefinitions: [{name: pk, type: S}, {name: sk, type: S}, {name: a, type: N}, {name: b, type: N}, "
        "{name: g, type: S}]",
        "  keySchema: [{attributeName: pk, keyType: HASH}, {attributeName: sk, keyType: RANGE}]",
        "  globalSecondaryIndexes:",
        "    - name: by-g",
        "      keySchema: [{attributeName: g, keyType: HASH}]",
        f"      projection: {{type: INCLUDE, nonKeyAttributes: [{', '.join(global_attributes)}]}}",
        "  localSecondaryIndexes:",
        *[line for name in local_order for line in local[name]],
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_indexed_items(client: Any, table: str) -> None:
    for number in range(ITEMS):
        item = {"pk": {"S": "p"}, "sk": {"S": f"s{number}"}, "a": {"N": str(number)}, "b": {"N": str(number)}}
        client.put_item(TableName=table, Item={**item, "g": {"S": "g"}, "zeta": {"S": "z"}})


def test_reordered_local_indexes_and_non_key_attributes_plan_nothing(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    # The module's trigger records the local indexes as a list, and the provider a local index's
    # non-key attributes: a new order alone was planned as a replacement of the table.
    table = unique("reordered")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = indexed_manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    created = client.describe_table(TableName=table)["Table"]["CreationDateTime"]
    write_indexed_items(client, table)

    steps: list[tuple[str, dict[str, Any]]] = [
        ("local index list", {"local_order": ("by-a", "by-b")}),
        ("local index's nonKeyAttributes", {"local_attributes": ("mid", "zeta", "alpha")}),
        ("global index's nonKeyAttributes", {"global_attributes": ("alpha", "mid", "zeta")}),
        (
            "all at once",
            {
                "local_order": ("by-a", "by-b"),
                "local_attributes": ("alpha", "mid", "zeta"),
                "global_attributes": ("mid", "zeta", "alpha"),
            },
        ),
    ]
    for what, reordered in steps:
        indexed_manifest(path, table, **reordered)
        plan = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode")
        assert plan.returncode == 0, f"{what}:\n{plan.stdout}\n{plan.stderr}"
        # No warning but the best-practice note every local index gets: none about the order.
        warned = [line for line in plan.stderr.splitlines() if line.startswith("warning:")]
        assert all(line.endswith("[local-secondary-index]") for line in warned), (what, warned)

    applied = cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    assert "No changes." in applied.stdout
    described = client.describe_table(TableName=table)["Table"]
    assert described["CreationDateTime"] == created
    assert sorted(index["IndexName"] for index in described["LocalSecondaryIndexes"]) == ["by-a", "by-b"]
    assert count_items(client, table) == ITEMS
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(client)


def test_a_table_applied_in_another_order_plans_nothing(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    # Earlier planton versions passed the manifest's order through: their states record it, and
    # planton's sorted order must not replace those tables.
    table = unique("unsorted")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = indexed_manifest(tmp_path / "m.yaml", table)
    init = cli.ok("tofu", "init", "-f", str(path))
    workspace = Path(
        next(line for line in init.stderr.splitlines() if line.startswith("planton: workspace ")).removeprefix(
            "planton: workspace "
        )
    )
    variables = json.loads(cli.ok("render", "-f", str(path)).stdout)
    spec = variables["spec"]
    assert [index["name"] for index in spec["local_secondary_indexes"]] == ["by-a", "by-b"]  # planton's order
    spec["local_secondary_indexes"].reverse()
    spec["local_secondary_indexes"][0]["non_key_attributes"] = ["zeta", "alpha", "mid"]
    (workspace / "terraform.tfvars.json").write_text(json.dumps(variables), encoding="utf-8")
    env = {**cli.env, "TF_CLI_CONFIG_FILE": os.devnull}
    applied = subprocess.run(
        [str(TERRAFORM), "apply", "-auto-approve", "-input=false"],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert applied.returncode == 0, applied.stderr
    write_indexed_items(client, table)

    plan = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode")
    assert plan.returncode == 0, f"{plan.stdout}\n{plan.stderr}"
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    recorded = json.loads((workspace / "terraform.tfvars.json").read_text(encoding="utf-8"))["spec"]
    assert [index["name"] for index in recorded["local_secondary_indexes"]] == ["by-b", "by-a"]
    assert count_items(client, table) == ITEMS
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(client)


# --- plan --out never writes over the state, through links either ---------------------------


def test_plan_out_through_a_linked_directory_never_replaces_the_state(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    # A link to the workspace, outside the work dir: `--out link/terraform.tfstate` once replaced
    # the state of a fresh workspace with the saved plan (a zip file).
    table = unique("linked")
    client = dynamodb(moto_endpoint, "us-east-1")
    path = manifest(tmp_path / "m.yaml", table, name=table)
    init = cli.ok("tofu", "init", "-f", str(path))
    workspace = Path(
        next(line for line in init.stderr.splitlines() if line.startswith("planton: workspace ")).removeprefix(
            "planton: workspace "
        )
    )
    link = tmp_path / "plans"
    link.symlink_to(workspace)
    out = link / "terraform.tfstate"
    state = workspace / "terraform.tfstate"

    def refused_plan_out() -> None:
        refused = cli.run("tofu", "plan", "-f", str(path), "--out", str(out))
        assert refused.returncode == 2, refused.stderr
        assert_no_traceback(refused)
        real = workspace.resolve() / "terraform.tfstate"
        assert f"error: --out: {out} (that is, {real}) is inside planton's work dir" in refused.stderr

    refused_plan_out()  # a fresh workspace: no state yet, and none written
    assert not state.exists()
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    write_items(client, table)
    before = state.read_bytes()
    refused_plan_out()  # the state records the table
    assert state.read_bytes() == before
    assert cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode").returncode == 0
    assert count_items(client, table) == ITEMS
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert table not in tables(client)
