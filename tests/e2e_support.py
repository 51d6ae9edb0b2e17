"""Helpers for the e2e tests: the installed CLI run as a subprocess, a clean environment, boto3."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

BIN_DIR = Path(sys.executable).parent
DEFAULT_MIRROR = Path("/opt/tf-plugins")


def plugin_mirror() -> str | None:
    """This machine has no registry access: providers come from a filesystem mirror."""
    configured = os.environ.get("PLANTON_PLUGIN_MIRROR")
    if configured:
        return configured
    return str(DEFAULT_MIRROR) if DEFAULT_MIRROR.is_dir() else None


@dataclass
class Cli:
    """Runs the installed console scripts with an explicit environment."""

    env: dict[str, str]
    cwd: Path
    calls: list[list[str]] = field(default_factory=list)
    # What the last run at a pseudo-terminal wrote to that terminal (typed input echoed included).
    terminal_output: str = ""

    def run(
        self,
        *args: str,
        script: str = "planton",
        timeout: float = 300,
        input_text: str | None = None,
        wrapper: Sequence[str] = (),
        terminal_input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the console script; stdin is empty unless ``input_text`` is given (a pipe) or
        ``terminal_input`` (typed at a terminal: stdin is a pseudo-terminal, so planton may ask).
        ``wrapper`` goes before it (``setpriv ...``, ``unshare ...``)."""
        executable = BIN_DIR / script
        assert executable.exists(), f"{executable} is not installed; pip install the project first"
        argv = [*wrapper, str(executable), *args]
        self.calls.append(argv)
        if terminal_input is not None:
            result, self.terminal_output = _run_at_a_terminal(argv, self.cwd, self.env, terminal_input, timeout)
            return result
        stdin: dict[str, Any] = {"input": input_text} if input_text is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run(
            argv,
            cwd=self.cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            **stdin,
        )

    def ok(self, *args: str, script: str = "planton") -> subprocess.CompletedProcess[str]:
        result = self.run(*args, script=script)
        assert result.returncode == 0, f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        return result


def _run_at_a_terminal(
    argv: list[str], cwd: Path, env: dict[str, str], typed: str, timeout: float
) -> tuple[subprocess.CompletedProcess[str], str]:
    """``argv`` with a pseudo-terminal for stdin, ``typed`` waiting in it; stdout and stderr
    captured (so no spinner: those are not terminals). Also what was written to the terminal,
    read as it comes (a full terminal buffer would block the writer)."""
    controller, terminal = pty.openpty()
    transcript = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: every holder of the terminal's other end has closed it
                return
            if not chunk:
                return
            transcript.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    try:
        os.write(controller, typed.encode())
        reader.start()
        result = subprocess.run(
            argv, cwd=cwd, env=env, stdin=terminal, capture_output=True, text=True, timeout=timeout, check=False
        )
    finally:
        os.close(terminal)
        reader.join(timeout=10)
        os.close(controller)
    return result, transcript.decode("utf-8", errors="replace")


def base_env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: nothing from the developer's AWS setup leaks into a test."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "NO_COLOR": "1",
        "PLANTON_WORK_DIR": str(tmp_path / "work"),
        "PLANTON_LOCAL_STATE_DIR": str(tmp_path / "local-state"),
        "CHECKPOINT_DISABLE": "1",
        # What planton gives terraform by default on a machine with 8 GiB or more (docs/performance.md,
        # "Terraform's Go runtime"), said here so that every machine runs the tests alike: CI's
        # 2 cores are the e2e suite's bound, and with the collector off they do a quarter less work.
        "GOGC": "off",
        "GOMEMLIMIT": "1GiB",
    }
    mirror = plugin_mirror()
    if mirror:
        env["PLANTON_PLUGIN_MIRROR"] = mirror
    (tmp_path / "home").mkdir(exist_ok=True)
    return env


def manifest_key(metadata: Mapping[str, Any]) -> str:
    """The PlantonManifest tag planton gives a manifest's table: metadata.name, with a hash of
    org, env and id when any is set (pinned in tests/unit/test_workspace.py)."""
    from planton.table import ResourceIdentity

    return ResourceIdentity(
        name=str(metadata["name"]), id=metadata.get("id"), org=metadata.get("org"), env=metadata.get("env")
    ).key


DEFAULT_ACCOUNT = "123456789012"  # moto's, for credentials it does not know (such as "testing")
OTHER_ACCOUNT = "222222222222"


def dynamodb(endpoint: str, region: str, keys: Mapping[str, str] | None = None) -> Any:
    """A boto3 DynamoDB client for the moto server: moto's default account, or the account whose
    ``keys`` (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``) are given."""
    keys = keys or {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
    )


def s3(endpoint: str, region: str = "us-east-1") -> Any:
    """A boto3 S3 client for the moto server (moto's default account), path-style."""
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    )


def other_account_keys(endpoint: str, account: str = OTHER_ACCOUNT) -> dict[str, str]:
    """Access keys of a new IAM user of ``account`` on the moto server: moto serves every request
    signed with them (STS's GetCallerIdentity, DynamoDB) as that account's, as AWS would."""
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    role = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/admin", RoleSessionName="planton-tests")
    credentials = role["Credentials"]
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    user = f"planton-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    caller = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    ).get_caller_identity()
    assert caller["Account"] == account, caller
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    """Neither Python's traceback nor Typer's boxed one reached the terminal."""
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, stream
        assert "╭" not in stream, stream
