"""The embedded default: ``--local`` starts moto on demand, later commands reuse it,
``planton local status|stop`` report and end it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from e2e_support import BIN_DIR, Cli, base_env, dynamodb, s3
from support import HACK_MANIFEST, example_blocks, slug

pytestmark = [pytest.mark.e2e, pytest.mark.lowest]


def _pid_alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has already exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_local_flag_deploys_on_an_emulator_it_starts_and_keeps(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    # Real-looking credentials in the environment must not be needed, used or harmful.
    env["AWS_PROFILE"] = "does-not-exist"
    cli = Cli(env=env, cwd=tmp_path)
    state_dir = Path(env["PLANTON_LOCAL_STATE_DIR"])
    try:
        status = cli.run("local", "status")
        assert status.returncode == 1
        assert "not running" in status.stderr

        apply = cli.ok("tofu", "apply", "--local", "--auto-approve", "-f", str(HACK_MANIFEST))
        assert "started the local emulator at http://127.0.0.1:" in apply.stderr
        record = json.loads((state_dir / "emulator.json").read_text())
        endpoint = f"http://127.0.0.1:{record['port']}"
        assert _pid_alive(record["pid"])

        table = dynamodb(endpoint, "us-east-1").describe_table(TableName="planton-demo-orders")["Table"]
        assert table["TableStatus"] == "ACTIVE"
        assert "/local/" in next(line for line in apply.stderr.splitlines() if line.startswith("planton: state "))

        plan = cli.run("tofu", "plan", "--local", "--detailed-exitcode", "-f", str(HACK_MANIFEST))
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert f"using the local emulator at {endpoint}" in plan.stderr

        status = cli.ok("local", "status")
        assert re.search(rf"running at {re.escape(endpoint)} \(pid {record['pid']}", status.stderr)

        cli.ok("tofu", "destroy", "--local", "--auto-approve", "-f", str(HACK_MANIFEST))
        assert dynamodb(endpoint, "us-east-1").list_tables()["TableNames"] == []
    finally:
        stop = cli.run("local", "stop")
    assert stop.returncode == 0
    assert "stopped the local emulator" in stop.stderr
    assert not _pid_alive(record["pid"])
    assert cli.run("local", "status").returncode == 1


def test_plan_local_of_what_the_emulator_cannot_serve_still_works(tmp_path: Path) -> None:
    # apply --local refuses contributor insights (moto answers HTTP 500; tests/cli/test_exit_codes.py);
    # the plan needs nothing of that API, so it runs on the emulator and says so.
    cli = Cli(env=base_env(tmp_path), cwd=tmp_path)
    manifest = tmp_path / "m.yaml"
    blocks = {slug(heading): text for heading, text in example_blocks()}
    manifest.write_text(blocks["table-class-deletion-protection-and-contributor-insights"], encoding="utf-8")
    try:
        plan = cli.run("tofu", "plan", "--local", "--detailed-exitcode", "-f", str(manifest))
        assert plan.returncode == 2, plan.stdout + plan.stderr
        assert "aws_dynamodb_contributor_insights.table[0] will be created" in plan.stdout
        assert (
            "warning: spec.contributorInsightsEnabled: the local emulator cannot serve contributor insights"
            in plan.stderr
        )
        assert "`planton tofu apply --local` refuses it" in plan.stderr
        record = json.loads((Path(cli.env["PLANTON_LOCAL_STATE_DIR"]) / "emulator.json").read_text())
        assert dynamodb(f"http://127.0.0.1:{record['port']}", "us-east-1").list_tables()["TableNames"] == []
    finally:
        cli.run("local", "stop")


def test_local_s3_state_makes_its_bucket_in_the_emulator(tmp_path: Path) -> None:
    """Team state on the emulator: the state bucket is made there when missing, the state goes
    there, and nothing reaches AWS."""
    cli = Cli(env=base_env(tmp_path), cwd=tmp_path)
    state_dir = Path(cli.env["PLANTON_LOCAL_STATE_DIR"])
    labels = (
        "--set", "metadata.labels.terraform\\.project-planton\\.org/backend\\.type=s3",
        "--set", "metadata.labels.terraform\\.project-planton\\.org/backend\\.object=dev-state/orders.tfstate",
    )  # fmt: skip
    try:
        apply = cli.ok("tofu", "apply", "--local", "--auto-approve", "-f", str(HACK_MANIFEST), *labels)
        assert "created the state bucket dev-state in the local emulator" in apply.stderr
        assert "planton: state s3://dev-state/orders.tfstate" in apply.stderr
        record = json.loads((state_dir / "emulator.json").read_text())
        emulator_s3 = s3(f"http://127.0.0.1:{record['port']}")
        state = json.loads(emulator_s3.get_object(Bucket="dev-state", Key="orders.tfstate")["Body"].read())
        assert [resource["type"] for resource in state["resources"]].count("aws_dynamodb_table") == 1
        again = cli.run("tofu", "plan", "--local", "--detailed-exitcode", "-f", str(HACK_MANIFEST), *labels)
        assert again.returncode == 0, again.stderr
        assert "created the state bucket" not in again.stderr
        # Listed with the emulator's own dummy credentials, read from its bucket.
        (row,) = json.loads(cli.ok("state", "list", "--json").stdout)["workspaces"]
        assert (row["target"], row["backend"], row["state"]) == ("local", "s3", "s3://dev-state/orders.tfstate")
        assert (row["table"], row["problem"]) == ("planton-demo-orders", None)
        cli.ok("tofu", "destroy", "--local", "--auto-approve", "-f", str(HACK_MANIFEST), *labels)
    finally:
        cli.run("local", "stop")


def _moto_servers_of(home: Path) -> list[int]:
    """The moto servers running with ``home`` as HOME (planton gives its emulator the user's),
    read from /proc: this test's, and no other's."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:  # ended meanwhile, or not ours to read
            continue
        if b"moto.server" in cmdline and f"HOME={home}".encode() in environ and _pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def test_two_local_commands_at_once_start_one_emulator(tmp_path: Path) -> None:
    cli = Cli(env=base_env(tmp_path), cwd=tmp_path)
    home = Path(cli.env["HOME"])
    argv = [str(BIN_DIR / "planton"), "local", "start"]
    both = [
        subprocess.Popen(argv, env=cli.env, cwd=tmp_path, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        outputs = [command.communicate(timeout=120)[1] for command in both]
        assert [command.returncode for command in both] == [0, 0], outputs
        record = json.loads((Path(cli.env["PLANTON_LOCAL_STATE_DIR"]) / "emulator.json").read_text())
        endpoint = f"http://127.0.0.1:{record['port']}"
        assert sorted("started at" in output for output in outputs) == [False, True], outputs
        assert all(f"at {endpoint} (pid {record['pid']}," in output for output in outputs), outputs
        assert _moto_servers_of(home) == [record["pid"]]
    finally:
        for command in both:
            if command.poll() is None:
                command.kill()
                command.communicate()
        stop = cli.run("local", "stop")
    assert stop.returncode == 0, stop.stderr
    assert not _pid_alive(record["pid"])
    assert _moto_servers_of(home) == []
