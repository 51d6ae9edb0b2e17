"""What a manifest or provider config holds, in and out of the installed console script: text
that is not text (a lone surrogate, a NUL) is invalid input, refused with exit 4 by the field
that holds it and never shown; any other text goes out on any output encoding, and an output
encoding is never mistaken for a reader that went away (exit 141)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_exit_codes import CREATE_PLAN, fake_terraform

from e2e_support import BIN_DIR, Cli
from support import HACK_MANIFEST

# Stands in for what must never be shown; a YAML escape follows it in the files below.
SECRET = "SECRETVALUE"


def shown(output: bytes) -> str:
    """Output for an assertion's message, whatever its bytes."""
    return output.decode("utf-8", "backslashreplace")


def json_out(result: subprocess.CompletedProcess[bytes], encoding: str) -> Any:
    """stdout's JSON document, read in the encoding planton was given (strictly: it holds
    nothing else)."""
    return json.loads(result.stdout.decode(CODECS[encoding]))


def names(text: str, path: Path) -> bool:
    """Whether ``text``, as planton printed it, names ``path``: in a locale that is not UTF-8
    Python reads a name's bytes beyond ASCII as lone surrogates, and they are those bytes."""
    return text.encode("utf-8", "surrogateescape") == os.fsencode(path)


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
    assert result.returncode == 4, shown(result.stderr)
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


# --- any text, on any output encoding ------------------------------------------------------

# What stdout and stderr can encode: an ASCII encoding asked for, Latin-1, a locale that is not
# UTF-8 (Python then reads the C locale as ASCII), and UTF-8 itself.
ENCODINGS = {
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "latin-1": {"PYTHONIOENCODING": "latin-1"},
    "c-locale": {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
    "utf-8": {},
}
CODECS = {"ascii": "ascii", "latin-1": "latin-1", "c-locale": "ascii", "utf-8": "utf-8"}
LABEL = "café 東京"
ODD_TEXT = {
    "emoji": "🦆 duck",
    "terminal-escape": "\x1b[31mred\x1b[0m",
    "line-separator": "one\u2028two",
    "carriage-return": "over\rwritten",
    "right-to-left": "\u202eevil",
    "combining": "e\u0301",
}


def odd_manifest(tmp_path: Path, name: str = "manifest.yaml") -> Path:
    """The hack manifest with a non-ASCII label and id, and annotations of odd text."""
    document = yaml.safe_load(HACK_MANIFEST.read_text(encoding="utf-8"))
    document["metadata"].update({"id": LABEL, "annotations": ODD_TEXT})
    document["metadata"]["labels"]["owner"] = LABEL
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def plan_with_the_label(tmp_path: Path) -> Path:
    """The recorded create plan, its table tagged with the label (as terraform would plan it)."""
    plan = json.loads(CREATE_PLAN.read_text(encoding="utf-8"))
    after = plan["resource_changes"][0]["change"]["after"]
    for tags in ("tags", "tags_all"):
        after[tags]["owner"] = LABEL
    path = tmp_path / "create-with-label.json"
    path.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    return path


def tags_planned(document: dict[str, Any]) -> Any:
    [resource] = document["resources"]
    return next(change["after"] for change in resource["attributes"] if change["path"] == "tags")


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("command", ["apply", "plan"])
def test_a_json_document_is_valid_json_on_any_output_encoding(
    cli: Cli, tmp_path: Path, encoding: str, command: str
) -> None:
    # An ASCII stdout and a non-ASCII label: the apply created the table, then exited 141
    # without its document.
    binary = fake_terraform(tmp_path, 0, plan_json=plan_with_the_label(tmp_path))
    approve = ["--auto-approve"] if command == "apply" else []
    args = ["tofu", command, "-f", str(odd_manifest(tmp_path)), *approve, "--json", "--binary", str(binary)]
    result = run(cli, *args, env=ENCODINGS[encoding])
    assert result.returncode == 0, shown(result.stderr)
    document = json_out(result, encoding)
    assert tags_planned(document)["owner"] == LABEL
    assert document["exit_code"] == 0
    if command == "apply":
        assert document["applied"] is True


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_plan_for_people_shows_any_text_on_any_output_encoding(cli: Cli, tmp_path: Path, encoding: str) -> None:
    binary = fake_terraform(tmp_path, 0, plan_json=plan_with_the_label(tmp_path))
    manifest = odd_manifest(tmp_path)
    result = run(cli, "tofu", "plan", "-f", str(manifest), "--binary", str(binary), env=ENCODINGS[encoding])
    assert result.returncode == 0, shown(result.stderr)
    assert b"Plan: 1 to add, 0 to change, 0 to destroy." in result.stdout


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_render_and_validate_carry_any_text_on_any_output_encoding(cli: Cli, tmp_path: Path, encoding: str) -> None:
    manifest = odd_manifest(tmp_path, "mañana.yaml")
    rendered = run(cli, "render", "-f", str(manifest), env=ENCODINGS[encoding])
    assert rendered.returncode == 0, shown(rendered.stderr)
    metadata = json_out(rendered, encoding)["metadata"]
    assert (metadata["id"], metadata["labels"]["owner"], metadata["annotations"]) == (LABEL, LABEL, ODD_TEXT)
    validated = run(cli, "validate", "-f", str(manifest), "--json", env=ENCODINGS[encoding])
    assert validated.returncode == 0, shown(validated.stderr)
    assert names(json_out(validated, encoding)["manifest"], manifest)
    for_people = run(cli, "validate", "-f", str(manifest), env=ENCODINGS[encoding])
    assert for_people.returncode == 0, shown(for_people.stderr)
    assert b"valid AwsDynamodb manifest" in for_people.stderr


@pytest.mark.parametrize("encoding", ["utf-8", "ascii"])
def test_a_file_name_that_is_not_utf8_is_no_broken_pipe(cli: Cli, tmp_path: Path, encoding: str) -> None:
    # Python reads the name's \xff as a lone surrogate, which no encoding can write: in a UTF-8
    # locale too, that was exit 141 with nobody gone.
    name = os.fsdecode(b"orders-\xff.yaml")
    manifest = tmp_path / name
    manifest.write_text(HACK_MANIFEST.read_text(encoding="utf-8"), encoding="utf-8")
    validated = run(cli, "validate", "-f", str(manifest), "--json", env=ENCODINGS[encoding])
    assert validated.returncode == 0, shown(validated.stderr)
    assert names(json_out(validated, encoding)["manifest"], manifest)
    for_people = run(cli, "validate", "-f", str(manifest), env=ENCODINGS[encoding])
    assert for_people.returncode == 0, shown(for_people.stderr)
    assert b"orders-\\udcff.yaml: valid AwsDynamodb manifest" in for_people.stderr
    invalid = manifest.with_name(os.fsdecode(b"invalid-\xff.yaml"))
    invalid.write_text("kind: AwsDynamodb\n", encoding="utf-8")
    refused = run(cli, "validate", "-f", str(invalid), "--json", env=ENCODINGS[encoding])
    assert refused.returncode == 4, shown(refused.stderr)
    assert json_out(refused, encoding)["error"]["exit_code"] == 4


@pytest.mark.parametrize("command", [["render"], ["validate", "--json"]])
def test_a_reader_that_went_away_is_still_141_on_an_ascii_output(cli: Cli, tmp_path: Path, command: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read planton's stdout
    try:
        result = subprocess.run(
            [str(BIN_DIR / "planton"), *command, "-f", str(odd_manifest(tmp_path))],
            cwd=cli.cwd,
            env={**cli.env, **ENCODINGS["ascii"]},
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 141, shown(result.stderr)
    assert result.stderr == b""
