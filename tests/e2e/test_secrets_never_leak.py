"""The AWS credentials never leave terraform's process environment: every command a user runs,
with the credentials given every way planton takes them (environment, ``--stack-input``,
``--aws-provider-config``), succeeding and failing, with and without terraform's debug log.

After each command, stdout, stderr and every file under the test's directory (work dir, state,
saved plans, planton's HOME and its XDG directories, terraform's ``TF_LOG_PATH``, crash reports,
and ``TMPDIR``, which planton and terraform are pointed into) are searched for the three secret
values, as written and base64-encoded at every alignment. Files planton or terraform might have
put in the real temporary directory despite ``TMPDIR`` are searched too. Only the input files
that hold the secrets on purpose are left out. The real CLI, real terraform and moto.

What terraform's own debug log does show is pinned in the environment run of
``test_every_command_keeps_the_credentials_to_terraforms_environment``: the aws provider logs the SigV4
``Authorization`` header with the access key id masked to its first and last four characters
(``Credential=AKIA************ECK1/...``) and ``X-Amz-Security-Token`` as ``*****``.
"""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
import textwrap
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_data_safety import create_by_hand, manifest, unique

from e2e_support import DEFAULT_ACCOUNT, OTHER_ACCOUNT, Cli, assert_no_traceback, dynamodb, other_account_keys, s3

pytestmark = pytest.mark.e2e

# Distinctive values moto accepts: it serves unknown access keys as its default account's.
ACCESS_KEY_ID = "AKIASECRETLEAKCHECK1"
SECRET_ACCESS_KEY = "s3cr3t-LEAKCHECK-ABCDEF0123456789abcdef"
SESSION_TOKEN = "t0ken-LEAKCHECK-" + "IQoJb3JpZ2luX2VjEXAMPLEtokenBODY0123456789" * 4
SECRETS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "AWS_SESSION_TOKEN": SESSION_TOKEN,
}
# The SigV4 masking the aws provider applies to the access key id in its debug log.
MASKED_ACCESS_KEY_ID = ACCESS_KEY_ID[:4] + "*" * (len(ACCESS_KEY_ID) - 8) + ACCESS_KEY_ID[-4:]

# Files bigger than this are not searched (nothing planton or terraform writes comes close; the
# provider binaries are symbolic links into the mirror, which are never followed).
_MAX_SCANNED = 64 << 20


# --- the scanner ---------------------------------------------------------------------------


def needles(secrets: Mapping[str, str]) -> dict[bytes, str]:
    """Every spelling searched for, with a description: the value itself, and its base64
    (standard and URL-safe) as it appears inside a longer encoded text starting at any of the
    three byte alignments (only the complete 4-character groups, which do not depend on the
    bytes around the secret)."""
    found: dict[bytes, str] = {}
    for name, value in secrets.items():
        raw = value.encode()
        found[raw] = name
        for skip in range(3):
            tail = raw[skip:]
            whole = tail[: len(tail) // 3 * 3]
            found[base64.b64encode(whole)] = f"{name} (base64, offset {skip})"
            found.setdefault(base64.urlsafe_b64encode(whole), f"{name} (urlsafe base64, offset {skip})")
    return found


def _excerpt(data: bytes, needle: bytes) -> str:
    at = data.find(needle)
    start = data.rfind(b"\n", 0, at) + 1
    end = data.find(b"\n", at)
    line = data[start : end if end != -1 else len(data)]
    return line[:600].decode("utf-8", "replace")


def leaks_in(where: str, data: bytes, searched: Mapping[bytes, str]) -> list[str]:
    return [f"{where}: {what}: {_excerpt(data, needle)}" for needle, what in searched.items() if needle in data]


def files_below(root: Path, skip: Sequence[Path] = ()) -> Iterator[Path]:
    """Regular files below ``root`` (symbolic links are not followed), except below ``skip``."""
    for directory, subdirectories, names in os.walk(root):
        here = Path(directory)
        subdirectories[:] = [name for name in subdirectories if here / name not in skip]
        for name in names:
            path = here / name
            if path.is_file() and not path.is_symlink():
                yield path


def leaks_in_files(paths: Iterable[Path], searched: Mapping[bytes, str]) -> list[str]:
    found: list[str] = []
    for path in paths:
        try:
            if path.stat().st_size > _MAX_SCANNED:
                continue
            data = path.read_bytes()
        except OSError:  # gone meanwhile, or another user's
            continue
        found += leaks_in(str(path), data, searched)
    return found


SYSTEM_TMP = Path(tempfile.gettempdir())


def system_tmp_entries() -> set[str]:
    return set(os.listdir(SYSTEM_TMP))


def new_system_tmp_files(before: set[str]) -> Iterator[Path]:
    """Files in entries of the real temporary directory that appeared since ``before``
    (another test's or process's too: they are searched for our values all the same)."""
    for name in sorted(system_tmp_entries() - before):
        entry = SYSTEM_TMP / name
        if entry.is_symlink():
            continue
        if entry.is_file():
            yield entry
        elif entry.is_dir():
            yield from files_below(entry)


# --- one run of the sweep ------------------------------------------------------------------


@dataclass
class Sweep:
    """Runs commands and searches everything they could have written."""

    cli: Cli
    root: Path
    # Where the input files that hold the secrets on purpose live: never searched.
    inputs: Path
    searched: dict[bytes, str] = field(default_factory=lambda: needles(SECRETS))
    ran: list[str] = field(default_factory=list)

    def run(self, *args: str, expect: int | Sequence[int] = 0) -> subprocess.CompletedProcess[str]:
        before = system_tmp_entries()
        result = self.cli.run(*args, timeout=600)
        codes = (expect,) if isinstance(expect, int) else tuple(expect)
        assert result.returncode in codes, (
            f"{args} exited {result.returncode}\n{result.stdout}\n{result.stderr[-4000:]}"
        )
        assert_no_traceback(result)
        leaks = self.leaks(result, before)
        assert not leaks, f"{args} leaked a secret:\n" + "\n".join(leaks)
        self.ran.append(" ".join(args))
        return result

    def leaks(self, result: subprocess.CompletedProcess[str], tmp_before: set[str]) -> list[str]:
        found = leaks_in("stdout", result.stdout.encode(), self.searched)
        found += leaks_in("stderr", result.stderr.encode(), self.searched)
        found += leaks_in_files(files_below(self.root, skip=[self.inputs]), self.searched)
        found += leaks_in_files(new_system_tmp_files(tmp_before), self.searched)
        return found


def sweep_for(cli: Cli, tmp_path: Path) -> Sweep:
    """``cli`` without the fixture's dummy keys, its temporary directory inside ``tmp_path``."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        cli.env.pop(name, None)
    (tmp_path / "tmp").mkdir()
    cli.env["TMPDIR"] = str(tmp_path / "tmp")
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    return Sweep(cli=cli, root=tmp_path, inputs=inputs)


MANIFEST_LINES = (
    "apiVersion: aws.project-planton.org/v1",
    "kind: AwsDynamodb",
    "metadata:",
    "  name: orders",
    "spec:",
    "  table_name: {table}",
    "  aws_region: us-east-1",
    "  billing_mode: PAY_PER_REQUEST",
    "  partition_key_name: customer_id",
    "  partition_key_type: STRING",
)

PROVIDER_CONFIG = textwrap.dedent(
    f"""\
    access_key_id: {ACCESS_KEY_ID}
    secret_access_key: {SECRET_ACCESS_KEY}
    session_token: {SESSION_TOKEN}
    """
)


def private(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@dataclass(frozen=True)
class Source:
    """How the credentials reach planton: the arguments that name the manifest (and the
    credentials) for validate/render and for tofu commands."""

    reading: tuple[str, ...]
    tofu: tuple[str, ...]


def give_credentials(how: str, sweep: Sweep, table: str) -> Source:
    path = manifest(sweep.root / "m.yaml", table)
    if how == "environment":
        sweep.cli.env.update(SECRETS)
        return Source(("-f", str(path)), ("-f", str(path)))
    if how == "stack-input":
        target = textwrap.indent("\n".join(MANIFEST_LINES).format(table=table), "  ")
        stack = private(
            sweep.inputs / "stack.yaml",
            f"target:\n{target}\nprovider_config:\n{textwrap.indent(PROVIDER_CONFIG, '  ')}",
        )
        return Source(("-i", str(stack)), ("-i", str(stack)))
    assert how == "provider-config"
    config = private(sweep.inputs / "provider.yaml", PROVIDER_CONFIG)
    return Source(("-f", str(path)), ("-f", str(path), "--aws-provider-config", str(config)))


# terraform's own log: on stderr through planton, or into TF_LOG_PATH (a file under tmp_path).
LOGS = {
    "no-log": {},
    "TF_LOG=DEBUG": {"TF_LOG": "DEBUG"},
    "TF_LOG=TRACE,TF_LOG_PATH": {"TF_LOG": "TRACE", "TF_LOG_PATH": "{root}/logs/terraform.log"},
}


def use_log(sweep: Sweep, log: str) -> None:
    (sweep.root / "logs").mkdir()
    sweep.cli.env.update({name: value.format(root=sweep.root) for name, value in LOGS[log].items()})


# --- the scanner finds what it must --------------------------------------------------------


def test_the_scanner_finds_a_planted_secret(tmp_path: Path) -> None:
    searched = needles(SECRETS)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    private(inputs / "provider.yaml", PROVIDER_CONFIG)  # left out on purpose: found nowhere
    sweep = Sweep(cli=Cli(env={}, cwd=tmp_path), root=tmp_path, inputs=inputs, searched=searched)
    clean = subprocess.CompletedProcess[str]([], 0, "all good", "nothing here")
    assert sweep.leaks(clean, system_tmp_entries()) == []

    deep = tmp_path / "work" / "ws" / ".terraform"
    deep.mkdir(parents=True)
    (deep / "state.json").write_text(f'{{"secret": "{SECRET_ACCESS_KEY}"}}', encoding="utf-8")
    # Base64 inside a longer encoded blob, the secret starting at an odd offset.
    blob = base64.b64encode(b"xy:" + SESSION_TOKEN.encode() + b":z")
    (tmp_path / "plan.bin").write_bytes(b"\x00\x01" + blob)
    stdout = f"Credential={ACCESS_KEY_ID}/20240101/us-east-1"
    leaked = subprocess.CompletedProcess[str]([], 0, stdout, "")
    before = system_tmp_entries()
    with tempfile.NamedTemporaryFile("w", prefix="planton-scanner-check-", delete=False) as planted:
        planted.write(base64.urlsafe_b64encode(ACCESS_KEY_ID.encode()).decode())
    try:
        found = sweep.leaks(leaked, before)
    finally:
        os.unlink(planted.name)
    assert any(line.startswith("stdout: AWS_ACCESS_KEY_ID:") for line in found), found
    assert any(str(deep / "state.json") in line and "AWS_SECRET_ACCESS_KEY:" in line for line in found), found
    assert any("plan.bin: AWS_SESSION_TOKEN (base64" in line for line in found), found
    assert any(planted.name in line and "AWS_ACCESS_KEY_ID (base64, offset 0)" in line for line in found), found
    assert not any("inputs" in line for line in found), found
    # And the masked form terraform logs is not one of the secrets.
    assert leaks_in("log", MASKED_ACCESS_KEY_ID.encode(), searched) == []


# --- every command, every source ----------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "log"),
    [
        ("environment", "TF_LOG=DEBUG"),
        ("stack-input", "TF_LOG=TRACE,TF_LOG_PATH"),
        ("provider-config", "no-log"),
    ],
)
def test_every_command_keeps_the_credentials_to_terraforms_environment(
    cli: Cli, moto_endpoint: str, tmp_path: Path, how: str, log: str
) -> None:
    sweep = sweep_for(cli, tmp_path)
    use_log(sweep, log)
    table = unique("leak")
    source = give_credentials(how, sweep, table)
    reading, tofu = source.reading, source.tofu
    plans = tmp_path / "plans"
    plans.mkdir()

    # Every command and flag with the environment's credentials; with a file's, the commands
    # that read it and run terraform with it (what follows the file's reading is the same code).
    full = how == "environment"
    sweep.run("validate", *reading)
    if full:
        sweep.run("validate", *reading, "--json")
    sweep.run("render", *reading)
    sweep.run("tofu", "init", *tofu)
    if full:
        shown = sweep.run("tofu", "plan", *tofu)
        # What terraform's debug log, which planton passes through to stderr, does show of the
        # credentials: the access key id masked to its first and last four characters, the
        # session token as *****.
        assert f"Credential={MASKED_ACCESS_KEY_ID}/" in shown.stderr
        assert 'http.request.header.x_amz_security_token="*****"' in shown.stderr
        sweep.run("tofu", "plan", *tofu, "--json")
    sweep.run("tofu", "plan", *tofu, "--out", str(plans / "create.tfplan"))
    sweep.run("tofu", "apply", *tofu, str(plans / "create.tfplan"))
    client = dynamodb(moto_endpoint, "us-east-1")
    assert client.describe_table(TableName=table)["Table"]["TableStatus"] == "ACTIVE"
    if full:
        sweep.run(
            "tofu", "apply", *tofu, "--auto-approve", "--json", "--set", "spec.point_in_time_recovery_enabled=true"
        )
        sweep.run("tofu", "refresh", *tofu)
    sweep.run("tofu", "output", *tofu, "--json")
    if full:
        sweep.run("tofu", "output", *tofu)
        sweep.run("state", "list", "--work-dir", str(tmp_path / "work"))
        sweep.run("state", "list", "--work-dir", str(tmp_path / "work"), "--json")
        sweep.run("tofu", "plan", *tofu, "--destroy", "--out", str(plans / "destroy.tfplan"))
        sweep.run("tofu", "apply", *tofu, str(plans / "destroy.tfplan"))
    else:
        sweep.run("tofu", "destroy", *tofu, "--auto-approve")
    assert table not in client.list_tables()["TableNames"]

    # A table made by hand, refused, adopted, then destroyed with destroy itself.
    if full:
        create_by_hand(client, table, SSESpecification={"Enabled": True})
        sweep.run("tofu", "apply", *tofu, "--auto-approve", expect=6)  # not recorded: refused
        sweep.run("tofu", "import", *tofu)
        sweep.run("tofu", "destroy", *tofu, "--auto-approve")
        assert table not in client.list_tables()["TableNames"]
    if "TF_LOG_PATH" in LOGS[log]:
        assert (tmp_path / "logs" / "terraform.log").stat().st_size > 0  # terraform did log there


def test_remote_state_keeps_no_credentials(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    """With the state in S3: the bucket's bootstrap, the backend's settings in the workspace, and
    every object terraform and planton write to the bucket."""
    sweep = sweep_for(cli, tmp_path)
    use_log(sweep, "TF_LOG=DEBUG")
    cli.env.update(SECRETS)
    table, bucket = unique("leak-s3"), unique("leak-state")
    path = tmp_path / "m.yaml"
    path.write_text(
        "\n".join(MANIFEST_LINES)
        .format(table=table)
        .replace(
            "metadata:\n  name: orders\n",
            "metadata:\n  name: orders\n  labels:\n"
            '    "terraform.project-planton.org/backend.type": s3\n'
            f'    "terraform.project-planton.org/backend.object": "{bucket}/orders.tfstate"\n',
        )
        + "\n",
        encoding="utf-8",
    )
    sweep.run("state", "bootstrap", "-f", str(path))
    sweep.run("tofu", "apply", "-f", str(path), "--auto-approve")
    sweep.run("tofu", "plan", "-f", str(path), "--json")
    sweep.run("tofu", "output", "-f", str(path), "--json")
    sweep.run("state", "list", "--work-dir", str(tmp_path / "work"), "--json")

    def objects() -> dict[str, bytes]:
        client = s3(moto_endpoint)
        listed = client.list_object_versions(Bucket=bucket).get("Versions", [])
        return {
            f"s3://{bucket}/{item['Key']}?versionId={item['VersionId']}": client.get_object(
                Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"]
            )["Body"].read()
            for item in listed
        }

    stored = objects()
    assert any(key.split("?")[0].endswith("orders.tfstate") for key in stored), stored.keys()
    sweep.run("tofu", "destroy", "-f", str(path), "--auto-approve")
    stored.update(objects())
    leaks = [line for key, body in stored.items() for line in leaks_in(key, body, sweep.searched)]
    assert not leaks, "\n".join(leaks)


def test_a_fleet_keeps_the_credentials(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    sweep = sweep_for(cli, tmp_path)
    use_log(sweep, "TF_LOG=DEBUG")
    cli.env.update(SECRETS)
    folder = tmp_path / "tables"
    tables = [unique("leak-fleet"), unique("leak-fleet")]
    for number, table in enumerate(tables):
        manifest(folder / f"t{number}.yaml", table, name=f"orders{number}")
    plans = tmp_path / "plans"
    sweep.run("validate", "-f", str(folder))
    sweep.run("render", "-f", str(folder))
    sweep.run("tofu", "plan", "-f", str(folder), "--out", str(plans))
    sweep.run("tofu", "apply", "-f", str(folder), str(plans))
    sweep.run("tofu", "apply", "-f", str(folder), "--auto-approve", "--json", "-v")
    sweep.run("tofu", "output", "-f", str(folder), "--json")
    sweep.run("tofu", "destroy", "-f", str(folder), "--auto-approve")
    assert not set(tables) & set(dynamodb(moto_endpoint, "us-east-1").list_tables()["TableNames"])


# --- failures ------------------------------------------------------------------------------


def test_failures_keep_the_credentials(cli: Cli, moto_endpoint: str, tmp_path: Path) -> None:
    # Under terraform's debug log: what it adds to stderr is the most there is to leak.
    sweep = sweep_for(cli, tmp_path)
    use_log(sweep, "TF_LOG=DEBUG")
    table = unique("leak-fail")
    path = manifest(tmp_path / "m.yaml", table)

    # Provider config files planton refuses, the secret written beside the mistake.
    for name, text in {
        "misspelt": PROVIDER_CONFIG.replace("secret_access_key", "secret_acess_key"),
        "token alone": f"session_token: {SESSION_TOKEN}\n",
        "lists": f"access_key_id: [{ACCESS_KEY_ID}]\nsecret_access_key: {{{SECRET_ACCESS_KEY}: 1}}\n",
        "bad yaml": PROVIDER_CONFIG + f"  {SESSION_TOKEN}: [\n",
        "unknown provider_config field": "provider_config:\n" + textwrap.indent(PROVIDER_CONFIG, "  "),
    }.items():
        config = private(sweep.inputs / f"{name.replace(' ', '-')}.yaml", text)
        sweep.run("tofu", "plan", "-f", str(path), "--aws-provider-config", str(config), expect=4)
    target = textwrap.indent("\n".join(MANIFEST_LINES).format(table=table), "  ")
    stack = private(
        sweep.inputs / "stack-typo.yaml",
        f"target:\n{target}\nprovider_config:\n{textwrap.indent(PROVIDER_CONFIG, '  ')}  secret: {SECRET_ACCESS_KEY}\n",
    )
    sweep.run("tofu", "apply", "-i", str(stack), "--auto-approve", expect=4)
    sweep.run("validate", "-i", str(stack), expect=4)

    cli.env.update(SECRETS)
    # An invalid manifest.
    broken = tmp_path / "broken.yaml"
    broken.write_text(path.read_text(encoding="utf-8").replace("PAY_PER_REQUEST", "FREE"), encoding="utf-8")
    sweep.run("validate", "-f", str(broken), expect=4)
    sweep.run("tofu", "plan", "-f", str(broken), expect=4)

    # terraform fails: a KMS key that does not exist.
    kms = tmp_path / "kms.yaml"
    kms.write_text(
        path.read_text(encoding="utf-8").replace("name: orders", "name: kms")
        + "  server_side_encryption_enabled: true\n  kms_key_arn: alias/no-such-key\n",
        encoding="utf-8",
    )
    failed = sweep.run("tofu", "apply", "-f", str(kms), "--auto-approve", expect=1)
    assert "alias/no-such-key" in failed.stderr

    # Credentials of another account than the provider config's account_id.
    wrong_account = private(sweep.inputs / "wrong-account.yaml", f'account_id: "{OTHER_ACCOUNT}"\n' + PROVIDER_CONFIG)
    wrong = sweep.run(
        "tofu", "apply", "-f", str(path), "--aws-provider-config", str(wrong_account), "--auto-approve", expect=1
    )
    assert f"AWS account ID not allowed: {DEFAULT_ACCOUNT}" in wrong.stderr  # the provider's allowed_account_ids

    # A table the state records in another account: these credentials' account is refused.
    theirs = other_account_keys(moto_endpoint)
    cli.env.update(theirs)
    cli.env.pop("AWS_SESSION_TOKEN")
    sweep.run("tofu", "apply", "-f", str(path), "--auto-approve")
    cli.env.update(SECRETS)
    for command in (["apply", "--auto-approve"], ["plan", "--json"], ["refresh"], ["destroy", "--auto-approve"]):
        refused = sweep.run("tofu", *command, "-f", str(path), expect=5)
        assert f"in AWS account {OTHER_ACCOUNT}, and these credentials belong to account {DEFAULT_ACCOUNT}" in (
            refused.stderr + refused.stdout
        ), command
    cli.env.update(theirs)
    cli.env.pop("AWS_SESSION_TOKEN")
    sweep.run("tofu", "destroy", "-f", str(path), "--auto-approve")


# --- a crash -------------------------------------------------------------------------------

# A bug planted deep inside planton (see tests/crash_support.py): the exception's message
# quotes the AWS environment terraform was about to get, secrets and all, as a careless
# f-string or a KeyError of a mapping would.
CRASHING_SITECUSTOMIZE = textwrap.dedent(
    """\
    import planton.operations.run as run

    _real = run.aws_environment

    def aws_environment(config, environ, *, local):
        child = _real(config, environ, local=local)
        raise ValueError(f"an unexpected failure with {child}")

    run.aws_environment = aws_environment
    """
)


# The crash report blanks the secret-looking environment variables and the credentials read
# from files (planton.secrets): each source of credentials, with a bug that quotes them.
@pytest.mark.parametrize("how", ["environment", "stack-input", "provider-config"])
def test_a_crash_report_holds_no_credentials(cli: Cli, tmp_path: Path, how: str) -> None:
    sweep = sweep_for(cli, tmp_path)
    hook = tmp_path / "plant-a-bug"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(CRASHING_SITECUSTOMIZE, encoding="utf-8")
    cli.env["PYTHONPATH"] = str(hook)
    source = give_credentials(how, sweep, unique("leak-crash"))
    before = system_tmp_entries()
    crashed = sweep.cli.run("tofu", "plan", *source.tofu)
    assert crashed.returncode == 70, crashed.stderr
    reports = sorted((tmp_path / "home" / ".local" / "state" / "planton" / "crash-reports").glob("crash-*.txt"))
    assert len(reports) == 1, crashed.stderr
    assert "ValueError: an unexpected failure with" in reports[0].read_text(encoding="utf-8")
    leaks = sweep.leaks(crashed, before)
    assert not leaks, "\n".join(leaks)
