"""What a manifest or provider config holds, in and out of the installed console script: text
that is not text (a lone surrogate, a NUL) is invalid input, refused with exit 4 by the field
that holds it and never shown; any other text goes out on any output encoding, and an output
encoding is never mistaken for a reader that went away (exit 141)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_exit_codes import fake_terraform

from e2e_support import BIN_DIR, Cli
from support import HACK_MANIFEST

# Stands in for what must never be shown; a YAML escape follows it in the files below.
SECRET = "SECRETVALUE"


def run(cli: Cli, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """The console script, its output kept as bytes (whatever planton wrote, decodable or not)."""
    return subprocess.run(
        [str(BIN_DIR / "planton"), *args],
        cwd=cli.cwd,
        env={**cli.env, **(env or {})},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )


def manifest_with(tmp_path: Path, metadata: str) -> Path:
    """The hack manifest with ``metadata`` lines (YAML, indented by two) added to its metadata."""
    text = HACK_MANIFEST.read_text(encoding="utf-8").replace("metadata:\n", f"metadata:\n{metadata}", 1)
    path = tmp_path / "manifest.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def private_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def assert_refused(result: subprocess.CompletedProcess[bytes], tmp_path: Path, path: str, problem: str) -> None:
    """Exit 4, the field named with the problem, the value nowhere, no crash report."""
    stderr = result.stderr.decode("utf-8")  # strict: planton wrote nothing that is not UTF-8
    assert result.returncode == 4, stderr
    assert f"\n{path}: {problem}" in stderr, stderr
    assert SECRET.encode() not in result.stdout + result.stderr
    assert "hit a bug" not in stderr
    assert not list(tmp_path.rglob("crash-*.txt"))


# --- text that is not text: invalid input --------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "path"),
    [
        (f'  id: "{SECRET}\\ud800"\n', "metadata.id"),
        (f'  annotations:\n    note: "{SECRET}\\udcff"\n', "metadata.annotations.note"),
        (f'  tags: [ok, "{SECRET}\\0"]\n', "metadata.tags[1]"),
    ],
)
@pytest.mark.parametrize("command", ["validate", "render", "apply"])
def test_a_manifest_value_that_is_not_text_is_refused_by_every_command(
    cli: Cli, tmp_path: Path, metadata: str, path: str, command: str
) -> None:
    # validate accepted these; apply then crashed (exit 70) writing terraform's variables.
    manifest = manifest_with(tmp_path, metadata)
    binary = fake_terraform(tmp_path, 0)
    args = ["tofu", "apply", "--auto-approve", "--binary", str(binary)] if command == "apply" else [command]
    result = run(cli, *args, "-f", str(manifest))
    problem = "holds a NUL character" if "\\0" in metadata else "holds a lone surrogate (U+D800-U+DFFF)"
    assert_refused(result, tmp_path, path, problem)
    assert result.stdout == b""


def test_a_set_value_from_bytes_that_are_not_utf8_is_refused(cli: Cli, tmp_path: Path) -> None:
    # The argument's bytes reach planton as they are; Python reads the \xff as a lone surrogate.
    value = (SECRET.encode() + b"\xff").decode("utf-8", "surrogateescape")
    binary = fake_terraform(tmp_path, 0)
    for args in (["validate"], ["tofu", "plan", "--binary", str(binary)]):
        result = run(cli, *args, "-f", str(HACK_MANIFEST), "--set", f"metadata.id={value}")
        assert_refused(result, tmp_path, "metadata.id", "holds a lone surrogate")
        assert b"(set by --set metadata.id=...)" in result.stderr


@pytest.mark.parametrize(
    ("field", "escaped", "problem"),
    [
        ("secret_access_key", "\\0", "holds a NUL character"),
        ("session_token", "\\0", "holds a NUL character"),
        ("secret_access_key", "\\udcff", "holds a lone surrogate"),
        ("session_token", "\\ud800", "holds a lone surrogate"),
        ("region", "\\0", "holds a NUL character"),
    ],
)
def test_a_provider_config_value_that_is_not_text_is_refused_and_never_shown(
    cli: Cli, tmp_path: Path, field: str, escaped: str, problem: str
) -> None:
    # Such a value was a crash (exit 70) where terraform's environment is built.
    values = {
        "access_key_id": "AKIAFILE",
        "secret_access_key": "file-secret",
        "session_token": "file-token",
        "region": "us-east-1",
    }
    values[field] = f"{SECRET}{escaped}"
    lines = "".join(f'  {name}: "{value}"\n' for name, value in values.items())
    provider = private_file(tmp_path, "aws.yaml", lines.replace("\n  ", "\n").lstrip())
    target = "target:\n" + "".join(f"  {line}\n" for line in HACK_MANIFEST.read_text(encoding="utf-8").splitlines())
    stack = private_file(tmp_path, "stack.yaml", f"{target}provider_config:\n{lines}")
    binary = fake_terraform(tmp_path, 0)
    plan = ["tofu", "plan", "--binary", str(binary)]
    assert_refused(
        run(cli, *plan, "-f", str(HACK_MANIFEST), "--aws-provider-config", str(provider)), tmp_path, field, problem
    )
    for args in (["validate"], plan):
        assert_refused(run(cli, *args, "-i", str(stack)), tmp_path, f"provider_config.{field}", problem)
