"""Bad flag values, through the installed console script: each is refused with the exit code the
README's table gives it, a message naming the flag (or the file it names) and the fix, no
traceback, nothing written (no workspace under the work dir) and, where the flag is checked
before terraform, terraform never run: the stand-in binary records every call.

What test_usage_mistakes.py and test_files_and_paths.py already cover is not repeated here:
click's own mistakes, an empty --work-dir or --plugin-mirror, a --work-dir that is a file, under
a file, unwritable or read-only, manifests that are not regular files.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from test_exit_codes import fake_terraform
from test_files_and_paths import as_nobody_when_root

from planton.errors import EXIT_BAD_MANIFEST, EXIT_ENVIRONMENT, EXIT_OK, EXIT_USAGE, ManifestError
from planton.source import ManifestSource, load_input

from e2e_support import Cli, assert_no_traceback, base_env
from support import HACK_MANIFEST

# Records each call, one line of arguments per call, in the file named beside it; answers
# version -json as terraform does, and does nothing else.
RECORDER = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls.log"
if [ "$1" = version ]; then echo '{"terraform_version": "1.9.0"}'; fi
exit 0
"""
SECRET = "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    env = base_env(tmp_path)
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    # Anything that reached for S3 by mistake would find a closed port here, never AWS.
    env.update({"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9"})
    return Cli(env=env, cwd=tmp_path)


@pytest.fixture
def recorder(tmp_path: Path) -> Path:
    directory = tmp_path / "bin"
    directory.mkdir()
    binary = directory / "terraform"
    binary.write_text(RECORDER, encoding="utf-8")
    binary.chmod(0o755)
    return binary


def calls(binary: Path) -> list[str]:
    log = binary.parent / "calls.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def plan(cli: Cli, binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary), *args)


def assert_refused(result: subprocess.CompletedProcess[str], code: int, *said: str) -> None:
    assert result.returncode == code, result.stderr
    assert_no_traceback(result)
    for text in said:
        assert text in result.stderr, result.stderr
    assert result.stdout == ""


def assert_nothing_done(tmp_path: Path, binary: Path) -> None:
    assert not (tmp_path / "work").exists(), "a workspace was written"
    assert calls(binary) == [], "terraform ran"


# --- --set --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "code", "said"),
    [
        pytest.param("spec.table_name", EXIT_USAGE, "--set spec.table_name: expected PATH=VALUE, such as",
                     id="no-equals"),
        pytest.param("=orders", EXIT_USAGE, "--set =orders: the path before '=' is empty", id="empty-path"),
        pytest.param("spec.tabel_name=x", EXIT_USAGE, "spec has no field 'tabel_name'; did you mean spec.table_name?",
                     id="unknown-path"),
        pytest.param("spec.globalSecondaryIndexes[x].name=a", EXIT_USAGE,
                     "malformed list position '[x]'; write [N] with N a whole number", id="index-not-a-number"),
        pytest.param("spec.globalSecondaryIndexes[99999999999999999999].name=a", EXIT_USAGE,
                     "spec.globalSecondaryIndexes has no entries; use [0] to add one", id="huge-index"),
        pytest.param("spec.table_name[0]=a", EXIT_USAGE, "spec.table_name is not a list, so [0] does not apply",
                     id="index-on-a-value"),
        pytest.param("spec.read_capacity_units=five", EXIT_USAGE,
                     "spec.read_capacity_units takes a whole number, not 'five'", id="wrong-type"),
        pytest.param("spec.point_in_time_recovery_enabled=yes", EXIT_USAGE,
                     "spec.point_in_time_recovery_enabled takes true or false, not 'yes'", id="yaml-1.1-boolean"),
        pytest.param("spec.billing_mode=FREE", EXIT_BAD_MANIFEST,
                     "(set by --set spec.billing_mode=FREE)", id="valid-type-invalid-value"),
        # argv cannot hold a NUL (see the in-process test below); a control character can.
        pytest.param("spec.table_name=a\x01b", EXIT_BAD_MANIFEST, "(set by --set 'spec.table_name=a\\x01b')",
                     id="control-character"),
    ],
)  # fmt: skip
def test_a_bad_set_is_refused_before_anything_runs(
    cli: Cli, tmp_path: Path, recorder: Path, raw: str, code: int, said: str
) -> None:
    result = plan(cli, recorder, "--set", raw)
    assert_refused(result, code, said)
    assert_nothing_done(tmp_path, recorder)


def test_a_set_holding_a_nul_is_a_manifest_error(tmp_path: Path) -> None:
    # execve ends an argument at its first NUL, so no shell can pass one: checked in-process.
    manifest = tmp_path / "m.yaml"
    shutil.copy(HACK_MANIFEST, manifest)
    with pytest.raises(ManifestError) as caught:
        load_input(ManifestSource(manifest=manifest, overrides=("spec.table_name=a\0b",)))
    assert caught.value.problems == [
        "spec.table_name: holds a NUL character (\\0), which no text planton passes on may hold "
        "(set by --set spec.table_name=...)"
    ]


# --- --stack-input and --aws-provider-config ----------------------------------------------------

FILE_OPTIONS = {"--stack-input": "stack input", "--aws-provider-config": "AWS provider config"}


def credentials_file(option: str, secret_access_key: str) -> str:
    """A provider config with these credentials, as ``option`` takes it."""
    lines = ["access_key_id: AKIAEXAMPLEKEY0000000", f"secret_access_key: {secret_access_key}"]
    if option == "--aws-provider-config":
        return "".join(f"{line}\n" for line in lines)
    return "provider_config:\n" + "".join(f"  {line}\n" for line in lines)


def run_with_file(cli: Cli, recorder: Path, option: str, path: Path) -> subprocess.CompletedProcess[str]:
    # --stack-input is taken beside -f (its target would win; these files have none to give).
    return plan(cli, recorder, option, str(path))


@pytest.mark.parametrize("option", list(FILE_OPTIONS))
@pytest.mark.parametrize(
    ("content", "said"),
    [
        pytest.param(None, "(file): no such file; check the {option} path", id="missing"),
        pytest.param("directory", "(file): is a directory; name the file itself", id="a-directory"),
        pytest.param("region: [us-east-1\n", "(yaml): line 2, column 1: ", id="not-yaml"),
        pytest.param("- region\n- us-east-1\n", "(document): must be a mapping with ", id="a-list"),
        pytest.param("", "(file): is empty; give ", id="empty"),
    ],
)
def test_a_bad_input_file_is_a_manifest_error_before_anything_runs(
    cli: Cli, tmp_path: Path, recorder: Path, option: str, content: str | None, said: str
) -> None:
    path = tmp_path / "given.yaml"
    if content == "directory":
        path.mkdir()
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = run_with_file(cli, recorder, option, path)
    assert_refused(
        result, EXIT_BAD_MANIFEST, f"{path} is not a valid {FILE_OPTIONS[option]}:", said.format(option=option)
    )
    assert_nothing_done(tmp_path, recorder)


@pytest.mark.parametrize("option", list(FILE_OPTIONS))
def test_an_unreadable_input_file_is_a_manifest_error(cli: Cli, tmp_path: Path, option: str) -> None:
    # Root reads anything: as root, the command runs as nobody (setpriv).
    shared = Path(tempfile.mkdtemp(prefix="planton-bad-flags-"))
    try:
        shared.chmod(0o777)
        private = shared / "private.yaml"
        private.write_text(f"provider_config:\n  region: us-east-1\n  secret_access_key: {SECRET}\n")
        private.chmod(0o000)
        binary = shared / "terraform"
        binary.write_text(RECORDER, encoding="utf-8")
        binary.chmod(0o755)
        manifest = shared / "m.yaml"
        shutil.copy(HACK_MANIFEST, manifest)
        manifest.chmod(0o644)
        cli.env["PLANTON_TOFU_BINARY"] = str(binary)
        wrapper = as_nobody_when_root(cli, shared)
        cli.cwd = shared
        cli.env["PLANTON_WORK_DIR"] = str(shared / "work")
        result = cli.run("tofu", "plan", "-f", str(manifest), option, str(private), wrapper=wrapper)
        assert_refused(result, EXIT_BAD_MANIFEST, "(file): permission denied; check the file's permissions")
        assert SECRET not in result.stderr
        assert not (shared / "work").exists()
        assert calls(Path(cli.env["PLANTON_TOFU_BINARY"])) == []
    finally:
        shutil.rmtree(shared)


@pytest.mark.parametrize("option", list(FILE_OPTIONS))
def test_secrets_in_a_world_readable_file_are_warned_about_never_shown(cli: Cli, tmp_path: Path, option: str) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text(credentials_file(option, SECRET), encoding="utf-8")
    path.chmod(0o644)
    binary = fake_terraform(tmp_path, 0)
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary), option, str(path))
    assert result.returncode == EXIT_OK, result.stderr
    assert_no_traceback(result)
    assert (
        f"{option} {path} holds AWS secrets and every user of this machine can read it; make it private: "
        f"chmod 600 {path}"
    ) in result.stderr
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize("option", list(FILE_OPTIONS))
def test_a_secret_in_the_wrong_form_is_never_quoted(cli: Cli, tmp_path: Path, recorder: Path, option: str) -> None:
    # A secret YAML reads as a list, as a number in YAML 1.1 only, or as text holding a NUL.
    for value, hidden in ((f"[{SECRET}]", SECRET), ("0x5EC12E7ABCDEF", "5EC12E7ABCDEF"), (f'"{SECRET}\\0"', SECRET)):
        path = tmp_path / "creds.yaml"
        path.write_text(credentials_file(option, value), encoding="utf-8")
        path.chmod(0o600)
        result = run_with_file(cli, recorder, option, path)
        assert_refused(result, EXIT_BAD_MANIFEST, "secret_access_key")
        assert hidden not in result.stderr, result.stderr
    assert_nothing_done(tmp_path, recorder)


# --- --plugin-mirror ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "a-file"])
@pytest.mark.parametrize("from_env", [False, True], ids=["flag", "environment"])
def test_a_plugin_mirror_that_is_no_directory(
    cli: Cli, tmp_path: Path, recorder: Path, kind: str, from_env: bool
) -> None:
    mirror = tmp_path / "mirror"
    if kind == "a-file":
        mirror.write_text("", encoding="utf-8")
    if from_env:
        cli.env["PLANTON_PLUGIN_MIRROR"] = str(mirror)
        result = plan(cli, recorder)
    else:
        result = plan(cli, recorder, "--plugin-mirror", str(mirror))
    source = "PLANTON_PLUGIN_MIRROR" if from_env else "--plugin-mirror"
    assert_refused(result, EXIT_USAGE, f"{source}: {mirror} is not a directory; point it at a provider mirror")
    assert_nothing_done(tmp_path, recorder)


# --- --binary -----------------------------------------------------------------------------------


@pytest.fixture
def binaries(tmp_path: Path) -> dict[str, Path]:
    directory = tmp_path / "binaries"
    directory.mkdir()
    made = {"missing": directory / "no-such-terraform", "a-directory": directory / "a-directory"}
    made["a-directory"].mkdir()
    not_executable = directory / "not-executable"
    not_executable.write_text(RECORDER, encoding="utf-8")
    not_executable.chmod(0o644)
    made["not-executable"] = not_executable
    no_interpreter = directory / "no-interpreter"
    no_interpreter.write_text("#!/nonexistent/sh\nexit 0\n", encoding="utf-8")
    no_interpreter.chmod(0o755)
    made["missing-interpreter"] = no_interpreter
    return made


def test_a_missing_binary_is_refused_before_anything_is_written(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-terraform"
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(missing))
    assert_refused(result, EXIT_ENVIRONMENT, f"--binary: '{missing}'")
    assert not (tmp_path / "work").exists()


# The binary is checked once (found, then `version -json`) before anything is written, and the
# message says exactly what is wrong with it.
@pytest.mark.parametrize(
    ("kind", "said"),
    [
        pytest.param("missing", "no such file", id="missing"),
        pytest.param("not-executable", "chmod +x", id="not-executable"),
        pytest.param("a-directory", "is a directory", id="a-directory"),
        pytest.param("missing-interpreter", "its interpreter /nonexistent/sh (its #! line) does not exist",
                     id="missing-interpreter"),
    ],
)  # fmt: skip
def test_a_binary_that_cannot_run_is_named_with_the_exact_reason(
    cli: Cli, tmp_path: Path, binaries: dict[str, Path], kind: str, said: str
) -> None:
    binary = binaries[kind]
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    assert_refused(result, EXIT_ENVIRONMENT, "--binary", str(binary), said)
    assert not (tmp_path / "work").exists(), "a workspace was written for a binary that cannot run"


GARBAGE = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/calls.log"
echo "Usage: not-terraform [--frobnicate]"
exit 0
"""


def test_a_binary_that_is_not_terraform_is_refused_at_version_json(cli: Cli, tmp_path: Path) -> None:
    binary = tmp_path / "not-terraform"
    binary.write_text(GARBAGE, encoding="utf-8")
    binary.chmod(0o755)
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    assert_refused(result, EXIT_ENVIRONMENT, "--binary", str(binary), "version -json")
    # What it printed is quoted (its first line) in planton's message, never passed on as an answer.
    assert "is not a working tofu or terraform: `version -json` exited 0: Usage: not-terraform" in result.stderr
    assert calls(binary) == ["version -json"], "asked more than its version, once"
    assert not (tmp_path / "work").exists()


OUTPUT_GARBAGE = """#!/bin/sh
case "$1" in
version) echo '{"terraform_version": "1.9.0"}' ;;
init) mkdir -p .terraform ;;
output) echo "Usage: not-terraform [--frobnicate]" ;;
esac
exit 0
"""


def test_output_that_is_not_json_is_said_to_be_not_json(cli: Cli, tmp_path: Path) -> None:
    binary = tmp_path / "odd-terraform"
    binary.write_text(OUTPUT_GARBAGE, encoding="utf-8")
    binary.chmod(0o755)
    result = cli.run("tofu", "output", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    assert result.returncode in (1, EXIT_ENVIRONMENT), result.stderr
    assert_no_traceback(result)
    assert "output -json" in result.stderr, result.stderr
    assert "JSON" in result.stderr.replace("output -json", ""), result.stderr
    assert "status 1" not in result.stderr, "it exited 0"
    assert result.stdout == "", "its output is passed on as terraform's answer"
    assert result.stderr.count("--frobnicate") == 1, "quoted once, in planton's message"


# --- --backend-type and --backend-config ----------------------------------------------------------

S3 = ("--backend-type", "s3", "--backend-config", "bucket=team-state", "--backend-config", "key=t/orders.tfstate")


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        pytest.param(("--backend-type", "foo"), "--backend-type: 'foo' is not a backend; use local or s3",
                     id="unknown-type"),
        pytest.param(("--backend-type", ""), "--backend-type: '' is not a backend; use local or s3", id="empty-type"),
        pytest.param(("--backend-type", "S3"), "--backend-type: 'S3' is not a backend; use local or s3",
                     id="type-case"),
        pytest.param(("--backend-config", "bucket=team-state"), "--backend-config bucket=...: the local backend takes "
                     "no settings", id="settings-for-local-state"),
        pytest.param((*S3, "--backend-config", "bucket"), "--backend-config bucket: not key=value (a key is letters, "
                     "digits and _), and cannot read it as a file: No such file or directory", id="no-equals"),
        pytest.param((*S3, "--backend-config", "=x"), "--backend-config (a value not shown: neither key=value nor "
                     "a file, and it may be a secret): not key=value", id="empty-key"),
        pytest.param((*S3, "--backend-config", "AQoDYXdzEJr/SECRETTOKEN+8kk=="), "--backend-config (a value not "
                     "shown: neither key=value nor a file, and it may be a secret): not key=value", id="pasted-token"),
        pytest.param((*S3, "--backend-config", "bucket="), "--backend-config bucket=: empty; name the state bucket",
                     id="empty-bucket"),
        pytest.param((*S3, "--backend-config", "use_lockfile=maybe"), "--backend-config use_lockfile=maybe: expected "
                     "true or false", id="not-a-boolean"),
        pytest.param((*S3, "--backend-config", "region=nowhere"), "--backend-config region: 'nowhere' does not look "
                     "like an AWS region", id="not-a-region"),
        pytest.param((*S3, "--backend-config", "region=us-east-1\nx"), "--backend-config region: 'us-east-1\\nx' does "
                     "not look like an AWS region", id="region-with-a-line-break"),
        pytest.param((*S3, "--backend-config", "key=/abs.tfstate"), "the key '/abs.tfstate' may not start or end with "
                     "'/'", id="key-from-the-root"),
        pytest.param((*S3, "--backend-config", "endpoint=http://x"), "planton sets endpoint itself",
                     id="endpoint-setting"),
    ],
)  # fmt: skip
def test_a_bad_backend_flag_is_a_usage_error_before_anything_runs(
    cli: Cli, tmp_path: Path, recorder: Path, flags: tuple[str, ...], said: str
) -> None:
    result = plan(cli, recorder, *flags)
    assert_refused(result, EXIT_USAGE, said)
    assert "SECRETTOKEN" not in result.stdout + result.stderr
    assert_nothing_done(tmp_path, recorder)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        pytest.param("directory", "cannot read it as a file: Is a directory", id="a-directory"),
        pytest.param(f'bucket = "team-state"\nsecret_key = {SECRET}\n', ", line 2: expected key = \"value\", got "
                     "'secret_key' = ...", id="unquoted-secret"),
        pytest.param(f'key = "t/o.tfstate"\n{SECRET}\n', ", line 2: expected key = \"value\", got a line without '='",
                     id="a-pasted-secret"),
        pytest.param(f'bucket = "team-state"\nkey = "t/o.tfstate"\nsecret_key = "{SECRET}"\n', ", line 3: secret_key "
                     "is a credential setting", id="a-credential"),
    ],
)  # fmt: skip
def test_a_bad_backend_config_file_never_shows_a_secret(
    cli: Cli, tmp_path: Path, recorder: Path, content: str, said: str
) -> None:
    path = tmp_path / "backend.hcl"
    if content == "directory":
        path.mkdir()
    else:
        path.write_text(content, encoding="utf-8")
    result = plan(cli, recorder, "--backend-type", "s3", "--backend-config", str(path))
    assert_refused(result, EXIT_USAGE, f"--backend-config {path}", said)
    assert SECRET not in result.stderr
    assert_nothing_done(tmp_path, recorder)
