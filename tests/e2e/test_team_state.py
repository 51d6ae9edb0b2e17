"""Team state: the S3 backend against moto's S3, with real terraform, checked with boto3 reading
the bucket. Two work dirs stand in for two CI runners: each has its own workspace and nothing
else in common but the bucket."""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from test_data_safety import manifest, tables, unique

from e2e_support import BIN_DIR, Cli, assert_no_traceback, dynamodb, s3

pytestmark = pytest.mark.e2e

TYPE_LABEL = "terraform.project-planton.org/backend.type"
OBJECT_LABEL = "terraform.project-planton.org/backend.object"


def team_manifest(path: Path, table: str, bucket: str, key: str) -> Path:
    """``manifest()`` with the backend labels: state in s3://bucket/key."""
    manifest(path, table)
    text = path.read_text(encoding="utf-8").replace(
        "metadata:\n",
        f'metadata:\n  labels:\n    "{TYPE_LABEL}": s3\n    "{OBJECT_LABEL}": "{bucket}/{key}"\n',
        1,
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def bucket(moto_endpoint: str) -> str:
    name = unique("state")
    s3(moto_endpoint).create_bucket(Bucket=name)
    return name


def runner(cli: Cli, tmp_path: Path, name: str) -> Cli:
    """Another CI runner: the same environment, another work dir (nothing shared but S3)."""
    env = dict(cli.env, PLANTON_WORK_DIR=str(tmp_path / name / "work"))
    (tmp_path / name).mkdir(exist_ok=True)
    return Cli(env=env, cwd=tmp_path / name)


def state_document(endpoint: str, bucket: str, key: str) -> dict[str, Any]:
    body = s3(endpoint).get_object(Bucket=bucket, Key=key)["Body"].read()
    parsed = json.loads(body)
    assert isinstance(parsed, dict)
    return parsed


def recorded_tables(document: dict[str, Any]) -> list[str]:
    return [
        instance["attributes"]["name"]
        for resource in document.get("resources", [])
        if resource["type"] == "aws_dynamodb_table"
        for instance in resource["instances"]
    ]


def hold_the_lock(endpoint: str, bucket: str, key: str) -> None:
    """Another runner's apply holds the state's lock: S3's lock file, as terraform writes it."""
    holder = {"ID": "5f0c2bd6-0000-4000-8000-000000000000", "Operation": "OperationTypeApply", "Who": "runner-1"}
    s3(endpoint).put_object(Bucket=bucket, Key=f"{key}.tflock", Body=json.dumps(holder).encode())


def local_states(work_dir: Path) -> list[Path]:
    """Local state files with something in them (not terraform's record of the backend in
    .terraform/)."""
    return [
        path
        for path in work_dir.rglob("terraform.tfstate")
        if path.stat().st_size > 0 and ".terraform" not in path.parts
    ]


def test_apply_keeps_the_state_in_the_bucket_and_a_second_runner_plans_clean(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    table = unique("team")
    key = f"tables/{table}.tfstate"
    path = team_manifest(tmp_path / "m.yaml", table, bucket, key)
    first = runner(cli, tmp_path, "runner-1")
    applied = first.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    assert f"state s3://{bucket}/{key}" in applied.stderr
    assert recorded_tables(state_document(moto_endpoint, bucket, key)) == [table]
    assert not local_states(tmp_path / "runner-1" / "work"), "no local state beside an S3 one"
    # terraform wrote no credentials into its record of the backend.
    for recorded in (tmp_path / "runner-1" / "work").rglob(".terraform/terraform.tfstate"):
        backend = json.loads(recorded.read_text())["backend"]["config"]
        assert backend["access_key"] is None
        assert backend["secret_key"] is None
        assert backend["use_lockfile"] is True
        assert backend["encrypt"] is True

    second = runner(cli, tmp_path, "runner-2")
    clean = second.run("tofu", "plan", "-f", str(path), "--detailed-exitcode", "--json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["state"] == f"s3://{bucket}/{key}"
    assert table in tables(dynamodb(moto_endpoint, "us-east-1"))


def test_a_plan_saved_on_one_runner_applies_on_another_once(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    table = unique("reviewed")
    key = f"tables/{table}.tfstate"
    path = team_manifest(tmp_path / "m.yaml", table, bucket, key)
    plan_file = tmp_path / "reviewed.tfplan"
    runner(cli, tmp_path, "plan-job").ok("tofu", "plan", "-f", str(path), "--out", str(plan_file))
    assert table not in tables(dynamodb(moto_endpoint, "us-east-1"))

    apply_job = runner(cli, tmp_path, "apply-job")
    apply_job.ok("tofu", "apply", "-f", str(path), str(plan_file))
    assert table in tables(dynamodb(moto_endpoint, "us-east-1"))
    assert recorded_tables(state_document(moto_endpoint, bucket, key)) == [table]

    again = runner(cli, tmp_path, "apply-job-retry").run("tofu", "apply", "-f", str(path), str(plan_file))
    assert again.returncode == 1, again.stderr
    assert "was applied already" in again.stderr
    assert_no_traceback(again)


def test_a_plan_for_another_state_key_is_refused(cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str) -> None:
    table = unique("elsewhere")
    path = team_manifest(tmp_path / "m.yaml", table, bucket, f"a/{table}.tfstate")
    plan_file = tmp_path / "a.tfplan"
    cli.ok("tofu", "plan", "-f", str(path), "--out", str(plan_file))
    other = runner(cli, tmp_path, "other")
    refused = other.run("tofu", "apply", "-f", str(path), str(plan_file), "--backend-config", f"key=b/{table}.tfstate")
    assert refused.returncode == 2, refused.stderr
    assert "was not saved by `planton tofu plan --out` for this manifest's state" in refused.stderr
    assert table not in tables(dynamodb(moto_endpoint, "us-east-1"))


def test_a_held_lock_stops_an_apply_and_lock_timeout_waits_for_it(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    table = unique("locked")
    key = f"tables/{table}.tfstate"
    path = team_manifest(tmp_path / "m.yaml", table, bucket, key)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    before = state_document(moto_endpoint, bucket, key)
    # Another runner's apply holds the lock: S3's lock file, as terraform writes it.
    client = s3(moto_endpoint)
    hold_the_lock(moto_endpoint, bucket, key)
    second = runner(cli, tmp_path, "runner-2")
    blocked = second.run("tofu", "apply", "-f", str(path), "--auto-approve", "--set", "metadata.labels.stage=two")
    assert blocked.returncode == 1, blocked.stderr
    assert "Error acquiring the state lock" in blocked.stderr
    assert state_document(moto_endpoint, bucket, key)["serial"] == before["serial"]

    # Under --lock-timeout it waits: the lock goes once terraform says it is waiting for it.
    process = subprocess.Popen(
        [
            str(BIN_DIR / "planton"), "tofu", "apply", "-f", str(path), "--auto-approve",
            "--set", "metadata.labels.stage=two", "--lock-timeout", "120s",
        ],
        cwd=second.cwd, env=second.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "Acquiring state lock" in line:
            client.delete_object(Bucket=bucket, Key=f"{key}.tflock")
    assert process.wait(timeout=300) == 0, "".join(lines)
    after = state_document(moto_endpoint, bucket, key)
    assert after["serial"] > before["serial"]
    assert after["lineage"] == before["lineage"]
    assert recorded_tables(after) == [table]


def test_state_moves_local_to_s3_to_local_and_the_table_stays(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    table = unique("moved")
    key = f"moved/{table}.tfstate"
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    client = dynamodb(moto_endpoint, "us-east-1")
    created = client.describe_table(TableName=table)["Table"]["CreationDateTime"]
    to_s3 = ("--backend-type", "s3", "--backend-config", f"bucket={bucket}", "--backend-config", f"key={key}")

    # Changing the backend alone is refused, before terraform runs.
    refused = cli.run("tofu", "plan", "-f", str(path), *to_s3)
    assert refused.returncode == 2, refused.stderr
    assert "keeps its state locally" in refused.stderr
    assert f"in s3://{bucket}/{key}" in refused.stderr
    assert "planton tofu init" in refused.stderr
    assert "--migrate-state" in refused.stderr
    assert_no_traceback(refused)

    cli.ok("tofu", "init", "-f", str(path), "--migrate-state", *to_s3)
    assert recorded_tables(state_document(moto_endpoint, bucket, key)) == [table]
    clean = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode", *to_s3)
    assert clean.returncode == 0, clean.stderr

    # S3 -> another key of the same bucket.
    to_other = (*to_s3, "--backend-config", f"key=moved-again/{table}.tfstate")
    assert cli.run("tofu", "plan", "-f", str(path), *to_other).returncode == 2
    cli.ok("tofu", "init", "-f", str(path), "--migrate-state", *to_other)
    assert recorded_tables(state_document(moto_endpoint, bucket, f"moved-again/{table}.tfstate")) == [table]
    clean = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode", *to_other)
    assert clean.returncode == 0, clean.stderr

    cli.ok("tofu", "init", "-f", str(path), "--migrate-state", "--backend-type", "local")
    clean = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode")
    assert clean.returncode == 0, clean.stderr
    assert client.describe_table(TableName=table)["Table"]["CreationDateTime"] == created


def test_a_migration_never_overwrites_another_tables_state(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    taken = unique("taken")
    key = f"shared/{taken}.tfstate"
    runner(cli, tmp_path, "other").ok(
        "tofu", "apply", "-f", str(team_manifest(tmp_path / "other.yaml", taken, bucket, key)), "--auto-approve"
    )
    mine = unique("mine")
    path = manifest(tmp_path / "m.yaml", mine, name="mine")
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    refused = cli.run(
        "tofu", "init", "-f", str(path), "--migrate-state",
        "--backend-type", "s3", "--backend-config", f"bucket={bucket}", "--backend-config", f"key={key}",
    )  # fmt: skip
    assert refused.returncode == 5, refused.stderr
    assert f"already holds the state of table {taken}" in refused.stderr
    assert recorded_tables(state_document(moto_endpoint, bucket, key)) == [taken]
    clean = cli.run("tofu", "plan", "-f", str(path), "--detailed-exitcode")
    assert clean.returncode == 0, clean.stderr


def test_bootstrap_makes_a_versioned_encrypted_private_bucket_and_again_changes_nothing(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    bucket = unique("boot")
    path = team_manifest(tmp_path / "m.yaml", unique("t"), bucket, "k/state.tfstate")
    first = cli.ok("state", "bootstrap", "-f", str(path))
    assert bucket in first.stdout + first.stderr
    client = s3(moto_endpoint)
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    block = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert len(block) == 4
    again = cli.ok("state", "bootstrap", "-f", str(path))
    assert "created" not in again.stdout


def test_a_missing_bucket_names_the_bootstrap_command(cli: Cli, tmp_path: Path) -> None:
    bucket = unique("absent")
    path = team_manifest(tmp_path / "m.yaml", unique("t"), bucket, "k/state.tfstate")
    failed = cli.run("tofu", "plan", "-f", str(path))
    assert failed.returncode == 1, failed.stderr
    assert f"the state bucket {bucket} does not exist" in failed.stderr
    assert "planton state bootstrap -f" in failed.stderr
    assert_no_traceback(failed)


def test_a_corrupt_remote_state_is_refused_not_read_as_empty(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    table = unique("corrupt")
    key = f"c/{table}.tfstate"
    path = team_manifest(tmp_path / "m.yaml", table, bucket, key)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    s3(moto_endpoint).put_object(Bucket=bucket, Key=key, Body=b'{"version": 4, "resources": [')
    # A new runner (init reads the state) and the same one (already initialised: planton reads it).
    for again in (runner(cli, tmp_path, "next"), cli):
        refused = again.run("tofu", "apply", "-f", str(path), "--auto-approve")
        assert refused.returncode == 3, refused.stderr
    assert ("state" in refused.stderr and "corrupt" in refused.stderr) or "state pull failed" in refused.stderr
    assert_no_traceback(refused)


def test_a_corrupt_local_state_is_refused_not_read_as_empty(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    table = unique("corrupt-local")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    (state,) = local_states(tmp_path / "work")
    state.write_text('{"version": 4, "resources": [{"type": "aws_dynamo', encoding="utf-8")
    for command in (("plan",), ("apply", "--auto-approve"), ("destroy", "--auto-approve")):
        refused = cli.run("tofu", *command, "-f", str(path))
        assert refused.returncode == 3, refused.stderr
        assert f"the state at {state} is corrupt" in refused.stderr
        assert_no_traceback(refused)
    assert table in tables(dynamodb(moto_endpoint, "us-east-1"))


def test_an_emptied_state_of_a_workspace_that_applied_is_said_to_look_lost(
    cli: Cli, moto_endpoint: str, tmp_path: Path
) -> None:
    # An empty file is no state to terraform ("1 to add"): after an apply from here and no
    # destroy, planton says the state looks lost and how to adopt the table back.
    table = unique("emptied")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    (state,) = local_states(tmp_path / "work")
    for emptied in ("", '{"version": 4, "serial": 9, "lineage": "x", "outputs": {}, "resources": []}'):
        state.write_text(emptied, encoding="utf-8")
        planned = cli.run("tofu", "plan", "-f", str(path))
        assert planned.returncode == 0, planned.stderr
        assert f"but this workspace applied table {table} in us-east-1" in planned.stderr
        assert "the state looks lost or emptied" in planned.stderr
        assert f"planton tofu import -f {path}" in planned.stderr
        assert table in tables(dynamodb(moto_endpoint, "us-east-1"))  # it was there all along
    # Adopted back, the warning goes; destroyed from here, an empty state is what it should be.
    cli.ok("tofu", "import", "-f", str(path))
    quiet = cli.ok("tofu", "plan", "-f", str(path))
    assert "looks lost" not in quiet.stderr
    cli.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    after = cli.ok("tofu", "plan", "-f", str(path))
    assert "looks lost" not in after.stderr


class _RecordingProxy(http.server.BaseHTTPRequestHandler):
    """Every request that reaches it was meant for somewhere other than the emulator."""

    seen: ClassVar[list[str]] = []

    def _refuse(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(403)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_CONNECT = _refuse

    def log_message(self, *args: object) -> None:
        del args


@pytest.fixture
def recording_proxy() -> Iterator[tuple[str, list[str]]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RecordingProxy)
    seen: list[str] = []
    _RecordingProxy.seen = seen
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()


def test_nothing_leaves_for_any_address_but_the_emulators(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str, recording_proxy: tuple[str, list[str]]
) -> None:
    """Every HTTP client involved (terraform's S3 backend, the aws provider, planton's own S3
    calls) sends what is not for loopback through the proxy: it must receive nothing."""
    proxy, seen = recording_proxy
    env = dict(cli.env, HTTPS_PROXY=proxy, HTTP_PROXY=proxy, NO_PROXY="127.0.0.1,localhost")
    isolated = Cli(env=env, cwd=tmp_path)
    table = unique("loopback")
    key = f"l/{table}.tfstate"
    path = team_manifest(tmp_path / "m.yaml", table, bucket, key)
    plan_file = tmp_path / "p.tfplan"
    isolated.ok("tofu", "plan", "-f", str(path), "--out", str(plan_file))
    isolated.ok("tofu", "apply", "-f", str(path), str(plan_file))
    isolated.ok("tofu", "destroy", "-f", str(path), "--auto-approve")
    assert seen == []
    assert table not in tables(dynamodb(moto_endpoint, "us-east-1"))


def test_a_table_another_manifest_manages_elsewhere_is_never_adopted(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    """Two manifests name one table, each with its own state on its own runner: nothing beside
    the workspace can tell, but the table's PlantonManifest tag does."""
    table = unique("claimed")
    first = team_manifest(tmp_path / "a" / "m.yaml", table, bucket, f"a/{table}.tfstate")
    text = first.read_text(encoding="utf-8").replace("name: orders", "name: first")
    first.write_text(text, encoding="utf-8")
    second = team_manifest(tmp_path / "b" / "m.yaml", table, bucket, f"b/{table}.tfstate")
    second.write_text(text.replace("name: first", "name: second").replace(f"a/{table}", f"b/{table}"), "utf-8")
    runner(cli, tmp_path, "runner-a").ok("tofu", "apply", "-f", str(first), "--auto-approve")
    client = dynamodb(moto_endpoint, "us-east-1")
    client.put_item(TableName=table, Item={"customer_id": {"S": "c1"}})

    other = runner(cli, tmp_path, "runner-b")
    stopped = other.run("tofu", "apply", "-f", str(second), "--auto-approve")
    assert stopped.returncode == 6, stopped.stderr
    refused = other.run("tofu", "import", "-f", str(second))
    assert refused.returncode == 6, refused.stderr
    assert "carries the tag PlantonManifest=first: another planton manifest (first" in refused.stderr
    assert "The import was undone" in refused.stderr
    assert_no_traceback(refused)
    assert recorded_tables(state_document(moto_endpoint, bucket, f"b/{table}.tfstate")) == []
    # Its state holds nothing: destroy from here deletes nothing.
    other.ok("tofu", "destroy", "-f", str(second), "--auto-approve")
    assert client.scan(TableName=table, Select="COUNT")["Count"] == 1


def test_state_list_shows_where_each_workspace_keeps_its_state(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    remote, local = unique("listed-s3"), unique("listed-local")
    key = f"list/{remote}.tfstate"
    cli.ok("tofu", "apply", "-f", str(team_manifest(tmp_path / "r.yaml", remote, bucket, key)), "--auto-approve")
    cli.ok("tofu", "apply", "-f", str(manifest(tmp_path / "l.yaml", local, name="kept-here")), "--auto-approve")
    listed = cli.ok("state", "list", "--work-dir", str(tmp_path / "work"), "--json")
    rows = {row["manifest"]: row for row in json.loads(listed.stdout)["workspaces"]}
    assert rows["orders"]["backend"] == "s3"
    assert rows["orders"]["state"] == f"s3://{bucket}/{key}"
    assert rows["orders"]["table"] == remote
    assert rows["kept-here"]["backend"] == "local"
    assert rows["kept-here"]["table"] == local
    for row in rows.values():
        assert (row["region"], row["account"], row["problem"]) == ("us-east-1", "123456789012", None)
        assert row["last_apply"] is not None
    shown = cli.ok("state", "list", "--work-dir", str(tmp_path / "work"))
    assert remote in shown.stdout
    assert local in shown.stdout


def test_another_projects_state_is_never_taken_over(cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str) -> None:
    """A key typed wrong, or a bucket shared with another terraform project: its resources would
    be planned for deletion. Refused before anything plans."""
    key = "network.tfstate"
    foreign = {
        "version": 4,
        "terraform_version": "1.11.4",
        "serial": 3,
        "lineage": "0b0e0f0a-1111-2222-3333-444455556666",
        "outputs": {},
        "resources": [
            {
                "mode": "managed",
                "type": "aws_sqs_queue",
                "name": "payments",
                "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
                "instances": [{"schema_version": 0, "attributes": {"id": "https://sqs/payments", "name": "payments"}}],
            }
        ],
        "check_results": None,
    }
    s3(moto_endpoint).put_object(Bucket=bucket, Key=key, Body=json.dumps(foreign).encode())
    path = team_manifest(tmp_path / "m.yaml", unique("mine"), bucket, key)
    for command in (["plan"], ["apply", "--auto-approve", "--allow-replace"]):
        refused = cli.run("tofu", *command, "-f", str(path))
        assert refused.returncode == 5, refused.stderr
        assert "holds resources planton's module never makes (aws_sqs_queue.payments)" in refused.stderr
        assert_no_traceback(refused)
    assert state_document(moto_endpoint, bucket, key) == foreign


def test_two_manifests_sharing_one_state_never_replace_each_others_table(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    key = f"shared/{unique('k')}.tfstate"
    first_table, second_table = unique("first"), unique("second")
    first = team_manifest(tmp_path / "a" / "m.yaml", first_table, bucket, key)
    cli.ok("tofu", "apply", "-f", str(first), "--auto-approve")
    second = team_manifest(tmp_path / "b" / "m.yaml", second_table, bucket, key)
    second.write_text(second.read_text(encoding="utf-8").replace("name: orders", "name: second"), "utf-8")
    for extra, answer in ((["--auto-approve", "--allow-replace"], None), ([], "yes\n")):
        refused = runner(cli, tmp_path, "other").run("tofu", "apply", "-f", str(second), *extra, terminal_input=answer)
        assert refused.returncode == 5, refused.stderr
        assert f"this state's table {first_table} belongs to the manifest orders" in refused.stderr
    assert first_table in tables(dynamodb(moto_endpoint, "us-east-1"))
    assert second_table not in tables(dynamodb(moto_endpoint, "us-east-1"))


def test_a_stale_runner_never_migrates_over_a_newer_state(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    table = unique("raced")
    old, new = f"old/{table}.tfstate", f"new/{table}.tfstate"
    path = team_manifest(tmp_path / "m.yaml", table, bucket, old)
    first, stale = runner(cli, tmp_path, "first"), runner(cli, tmp_path, "stale")
    first.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    stale.ok("tofu", "plan", "-f", str(path))  # initialised at the old key
    moved = ("--backend-config", f"key={new}")
    first.ok("tofu", "init", "-f", str(path), "--migrate-state", *moved)
    first.ok("tofu", "apply", "-f", str(path), "--auto-approve", "--set", "metadata.labels.stage=two", *moved)
    newer = state_document(moto_endpoint, bucket, new)

    refused = stale.run("tofu", "init", "-f", str(path), "--migrate-state", *moved)
    assert refused.returncode == 5, refused.stderr
    assert "would overwrite it. Nothing was moved" in refused.stderr
    assert f"already holds another state of table {table}" in refused.stderr or "a newer copy" in refused.stderr
    assert state_document(moto_endpoint, bucket, new) == newer


def test_a_migration_that_failed_can_be_tried_again_and_carries_what_planton_remembers(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    table = unique("retried")
    path = manifest(tmp_path / "m.yaml", table)
    cli.ok("tofu", "apply", "-f", str(path), "--auto-approve")
    # What an interrupted create of another table left in this workspace (planton's own record).
    (workspace,) = [found.parent for found in (tmp_path / "work").rglob("orders/.planton.lock")]
    remembered = {"table_name": unique("half-made"), "region": "us-east-1", "account": "123456789012"}
    (workspace / ".planton-interrupted.json").write_text(json.dumps(remembered), encoding="utf-8")
    key = f"retried/{table}.tfstate"
    to_s3 = ("--backend-type", "s3", "--backend-config", f"bucket={bucket}", "--backend-config", f"key={key}")
    hold_the_lock(moto_endpoint, bucket, key)
    failed = cli.run("tofu", "init", "-f", str(path), "--migrate-state", *to_s3)
    assert failed.returncode == 1, failed.stderr
    s3(moto_endpoint).delete_object(Bucket=bucket, Key=f"{key}.tflock")

    cli.ok("tofu", "init", "-f", str(path), "--migrate-state", *to_s3)
    assert recorded_tables(state_document(moto_endpoint, bucket, key)) == [table]
    records = json.loads(s3(moto_endpoint).get_object(Bucket=bucket, Key=f"{key}.planton.json")["Body"].read())
    assert records["interrupted_create"]["table_name"] == remembered["table_name"]
    assert not (workspace / ".planton-interrupted.json").exists()


def test_migrate_state_needs_to_know_where_the_state_was(cli: Cli, tmp_path: Path, bucket: str) -> None:
    path = team_manifest(tmp_path / "m.yaml", unique("t"), bucket, "k.tfstate")
    refused = cli.run("tofu", "init", "-f", str(path), "--migrate-state")
    assert refused.returncode == 2, refused.stderr
    assert "--migrate-state: this workspace was never initialised" in refused.stderr


def test_adopting_this_manifests_table_from_another_state_is_warned_about(
    cli: Cli, moto_endpoint: str, tmp_path: Path, bucket: str
) -> None:
    """The labels moved to a new key without `init --migrate-state`, on a fresh runner: the new
    state finds the table (its create stops at it) and may adopt it, but the old state still
    records it, and planton says so."""
    table = unique("two-states")
    old = team_manifest(tmp_path / "m.yaml", table, bucket, f"old/{table}.tfstate")
    runner(cli, tmp_path, "first").ok("tofu", "apply", "-f", str(old), "--auto-approve")
    moved = team_manifest(tmp_path / "m.yaml", table, bucket, f"new/{table}.tfstate")
    fresh = runner(cli, tmp_path, "fresh")
    assert fresh.run("tofu", "apply", "-f", str(moved), "--auto-approve").returncode == 6
    adopted = fresh.ok("tofu", "import", "-f", str(moved))
    assert "carries this manifest's own tag (PlantonManifest=orders), and this state did not create it" in (
        adopted.stderr
    )
    assert "two states now manage one table" in adopted.stderr
