"""The stack input and provider config files, and their precedence over the environment:
--aws-provider-config > the stack input's provider_config > the environment; the stack input's
target > --manifest; credentials as one set."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from planton.credentials import (
    AwsProviderConfig,
    aws_environment,
    merge_provider_config,
    provider_config_from_environment,
)
from planton.errors import ManifestError, UsageError
from planton.source import ManifestSource, load_input
from planton.stack_input import read_provider_config, read_stack_input

from support import HACK_MANIFEST

KEYS = {"access_key_id": "AKIAFILE", "secret_access_key": "file-secret"}
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "AKIAENV",
    "AWS_SECRET_ACCESS_KEY": "env-secret",
    "AWS_SESSION_TOKEN": "env-token",
    "AWS_PROFILE": "env-profile",
    "AWS_REGION": "eu-west-1",
}


def write(path: Path, document: object, mode: int = 0o600) -> Path:
    # JSON is YAML that every YAML version reads alike (PyYAML's dump writes 012345678901 plain,
    # which YAML 1.2 reads as a number).
    path.write_text(json.dumps(document), encoding="utf-8")
    path.chmod(mode)
    return path


def hack_document() -> dict[str, object]:
    loaded = yaml.safe_load(HACK_MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


# --- reading the files ---------------------------------------------------------------------


def test_a_stack_input_holds_the_target_and_the_provider_config(tmp_path: Path) -> None:
    path = write(
        tmp_path / "stack.yaml", {"target": hack_document(), "provider_config": {**KEYS, "region": "us-west-2"}}
    )
    stack = read_stack_input(path)
    assert stack.target == hack_document()
    assert stack.provider_config is not None
    assert stack.provider_config.config.access_key_id == "AKIAFILE"
    assert stack.provider_config.config.region == "us-west-2"
    assert stack.warnings == ()


def test_camel_case_spellings_are_accepted(tmp_path: Path) -> None:
    path = write(tmp_path / "stack.yaml", {"providerConfig": {"accessKeyId": "A", "secretAccessKey": "S"}})
    config = read_stack_input(path).provider_config
    assert config is not None
    assert (config.config.access_key_id, config.config.secret_access_key) == ("A", "S")


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"provider_config": {"acess_key_id": "A"}}, "provider_config.acess_key_id: unknown field; did you mean"),
        ({"targt": {}}, "targt: unknown field; did you mean 'target'?"),
        ({"provider_config": {"access_key_id": "A"}}, "provider_config.secret_access_key: required with access_key_id"),
        ({"provider_config": {"secret_access_key": "S"}}, "provider_config.access_key_id: required with secret"),
        ({"provider_config": {"session_token": "T"}}, "provider_config.session_token: a session token needs"),
        ({"provider_config": {"account_id": 123456789012}}, "provider_config.account_id: must be quoted text"),
        ({"provider_config": {"account_id": "12345"}}, "provider_config.account_id: '12345' is not an AWS account id"),
        ({"provider_config": {"region": "mars"}}, "provider_config.region: 'mars' does not look like an AWS region"),
        ({"target": "m.yaml"}, "target: must be a mapping"),
    ],
)
def test_a_bad_stack_input_names_the_field(tmp_path: Path, document: object, problem: str) -> None:
    path = write(tmp_path / "stack.yaml", document)
    with pytest.raises(ManifestError) as caught:
        read_stack_input(path)
    assert caught.value.lines()[0] == f"{path} is not a valid stack input:"
    assert any(line.startswith(problem) for line in caught.value.problems), caught.value.problems


def test_a_provider_config_file_is_the_provider_config_alone(tmp_path: Path) -> None:
    path = write(tmp_path / "aws.yaml", {**KEYS, "account_id": "012345678901"})
    config, warnings = read_provider_config(path)
    assert config.config.account_id == "012345678901"
    assert warnings == ()
    with pytest.raises(ManifestError) as caught:
        read_provider_config(write(tmp_path / "bad.yaml", {"provider_config": KEYS}))
    assert caught.value.lines()[0] == f"{tmp_path / 'bad.yaml'} is not a valid AWS provider config:"


def test_an_account_id_with_a_leading_zero_must_be_quoted(tmp_path: Path) -> None:
    # YAML 1.1 reads 012345678901 as text, YAML 1.2 as the number 12345678901 (the account's
    # leading zero lost): refused, naming the field and never quoting the file's values.
    path = tmp_path / "aws.yaml"
    path.write_text("account_id: 012345678901\nsecret_access_key: yes\n", encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(ManifestError) as caught:
        read_provider_config(path)
    assert caught.value.problems == [
        "account_id: this value is text to YAML 1.1 and a number to YAML 1.2; quote it if it is text; "
        "write a number in plain digits (1500) (line 1, column 13)",
        "secret_access_key: this value is a boolean to YAML 1.1 and text to YAML 1.2; quote it for text, "
        "or write true or false for a boolean (line 2, column 20)",
    ]


def test_secrets_are_never_in_a_repr(tmp_path: Path) -> None:
    path = write(tmp_path / "stack.yaml", {"provider_config": {**KEYS, "session_token": "file-token"}})
    stack = read_stack_input(path)
    shown = repr(stack) + repr(stack.provider_config) + repr(stack.provider_config and stack.provider_config.config)
    for secret in ("file-secret", "file-token", "AKIAFILE"):
        assert secret not in shown


@pytest.mark.parametrize(("mode", "warned"), [(0o600, False), (0o640, False), (0o644, True), (0o604, True)])
def test_a_world_readable_file_with_secrets_is_warned_about(tmp_path: Path, mode: int, warned: bool) -> None:
    stack = read_stack_input(write(tmp_path / "stack.yaml", {"provider_config": KEYS}, mode))
    _, warnings = read_provider_config(write(tmp_path / "aws.yaml", KEYS, mode))
    for found, option, name in (
        (stack.warnings, "--stack-input", "stack.yaml"),
        (warnings, "--aws-provider-config", "aws.yaml"),
    ):
        expected = (
            f"{option} {tmp_path / name} holds AWS secrets and every user of this machine can read it; "
            f"make it private: chmod 600 {tmp_path / name}",
        )
        assert tuple(finding.text() for finding in found) == (expected if warned else ())


def test_a_world_readable_file_without_secrets_is_fine(tmp_path: Path) -> None:
    stack = read_stack_input(write(tmp_path / "stack.yaml", {"provider_config": {"region": "us-east-1"}}, 0o644))
    assert stack.warnings == ()


# --- precedence ----------------------------------------------------------------------------


def test_file_keys_replace_the_environments_as_one_set(tmp_path: Path) -> None:
    config, _ = read_provider_config(write(tmp_path / "aws.yaml", KEYS))
    merged = merge_provider_config([config], provider_config_from_environment(ENVIRONMENT))
    assert (merged.access_key_id, merged.secret_access_key) == ("AKIAFILE", "file-secret")
    # The environment's token and profile belong to its own keys: never sent with the file's.
    assert merged.session_token is None
    assert merged.profile is None
    assert merged.region == "eu-west-1"  # not in the file: the environment's
    child = aws_environment(merged, ENVIRONMENT, local=False)
    assert child["AWS_ACCESS_KEY_ID"] == "AKIAFILE"
    assert "AWS_SESSION_TOKEN" not in child
    assert "AWS_PROFILE" not in child


def test_a_file_without_keys_keeps_the_environments_credentials(tmp_path: Path) -> None:
    config, _ = read_provider_config(
        write(tmp_path / "aws.yaml", {"region": "ap-south-1", "account_id": "123456789012"})
    )
    merged = merge_provider_config([config], provider_config_from_environment(ENVIRONMENT))
    assert (merged.access_key_id, merged.session_token, merged.profile) == ("AKIAENV", "env-token", "env-profile")
    assert (merged.region, merged.account_id) == ("ap-south-1", "123456789012")


def test_no_file_is_the_environment() -> None:
    environment = provider_config_from_environment(ENVIRONMENT)
    assert merge_provider_config([], environment) is environment


def test_endpoints_always_come_from_the_environment(tmp_path: Path) -> None:
    config, _ = read_provider_config(write(tmp_path / "aws.yaml", KEYS))
    environment = AwsProviderConfig(endpoint_url="http://127.0.0.1:5000")
    assert merge_provider_config([config], environment).endpoint_url == "http://127.0.0.1:5000"


def test_the_provider_config_file_wins_over_the_stack_inputs(tmp_path: Path) -> None:
    stack = write(
        tmp_path / "stack.yaml",
        {"target": hack_document(), "provider_config": {"access_key_id": "AKIASTACK", "secret_access_key": "s"}},
    )
    loaded = load_input(ManifestSource(stack_input=stack))
    assert merge_provider_config(loaded.provider_configs, AwsProviderConfig()).access_key_id == "AKIASTACK"
    aws = write(tmp_path / "aws.yaml", KEYS)
    loaded = load_input(ManifestSource(stack_input=stack, provider_config=aws))
    assert merge_provider_config(loaded.provider_configs, AwsProviderConfig()).access_key_id == "AKIAFILE"


def test_the_stack_inputs_target_wins_over_manifest(tmp_path: Path) -> None:
    target = hack_document()
    target["metadata"] = {"name": "from-the-stack-input"}
    stack = write(tmp_path / "stack.yaml", {"target": target})
    loaded = load_input(ManifestSource(manifest=HACK_MANIFEST, stack_input=stack))
    assert loaded.manifest.model.metadata.name == "from-the-stack-input"
    assert loaded.manifest.path == stack  # the state lives beside the stack input
    assert tuple(finding.text() for finding in loaded.warnings) == (
        f"--manifest {HACK_MANIFEST} is ignored: the stack input's target is the manifest "
        "(a stack input's target wins, as in project-planton)",
    )
    assert loaded.input_args == ("-i", str(stack))
    assert loaded.manifest_option == "--stack-input"


def test_a_stack_input_without_target_takes_the_manifest(tmp_path: Path) -> None:
    stack = write(tmp_path / "stack.yaml", {"provider_config": {"region": "us-west-2"}})
    loaded = load_input(ManifestSource(manifest=HACK_MANIFEST, stack_input=stack))
    assert loaded.manifest.path == HACK_MANIFEST
    with pytest.raises(UsageError, match=r"has no target; add the manifest under target:, or give it with --manifest"):
        load_input(ManifestSource(stack_input=stack))


def test_no_manifest_at_all_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"^no manifest: give --manifest FILE \(-f\), or --stack-input FILE \(-i\)"):
        load_input(ManifestSource())


def test_an_invalid_target_names_the_stack_input(tmp_path: Path) -> None:
    target = hack_document()
    spec = target["spec"]
    assert isinstance(spec, dict)
    spec["billing_mode"] = "FREE"
    stack = write(tmp_path / "stack.yaml", {"target": target})
    with pytest.raises(ManifestError) as caught:
        load_input(ManifestSource(stack_input=stack))
    assert caught.value.lines()[0] == f"{stack} (target) is not a valid AwsDynamodb manifest:"
    assert caught.value.problems[0].startswith("spec.billing_mode: 'FREE' is not a billing mode")


def test_overrides_apply_to_the_stack_inputs_target_and_are_blamed(tmp_path: Path) -> None:
    stack = write(tmp_path / "stack.yaml", {"target": hack_document()})
    loaded = load_input(ManifestSource(stack_input=stack, overrides=("spec.table_name=from-set",)))
    assert loaded.manifest.document["spec"]["table_name"] == "from-set"
    assert (loaded.input_args, loaded.override_args) == (("-i", str(stack)), ("--set", "spec.table_name=from-set"))
    with pytest.raises(ManifestError) as caught:
        load_input(ManifestSource(manifest=HACK_MANIFEST, overrides=("spec.billing_mode=FREE",)))
    assert caught.value.problems == [
        "spec.billing_mode: 'FREE' is not a billing mode; use PAY_PER_REQUEST or PROVISIONED "
        "(set by --set spec.billing_mode=FREE)"
    ]


def test_the_files_are_never_changed(tmp_path: Path) -> None:
    stack = write(tmp_path / "stack.yaml", {"target": hack_document(), "provider_config": KEYS})
    before = (stack.read_bytes(), os.stat(stack).st_mode)
    load_input(ManifestSource(stack_input=stack, overrides=("spec.table_name=other",)))
    assert (stack.read_bytes(), os.stat(stack).st_mode) == before


def test_a_value_yaml_cannot_read_is_never_quoted_from_a_file_with_secrets(tmp_path: Path) -> None:
    path = tmp_path / "aws.yaml"
    path.write_text("access_key_id: AKIA\nsecret_access_key: !!int SECRETTAG\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        read_provider_config(path)
    assert "SECRETTAG" not in "\n".join(caught.value.lines())
    assert caught.value.problems == ["(yaml): line 2, column 20: cannot read this value as int; quote it if it is text"]


def test_the_provider_config_file_layers_over_the_stack_inputs(tmp_path: Path) -> None:
    # --aws-provider-config with only a region keeps the stack input's keys and account.
    stack = write(
        tmp_path / "stack.yaml",
        {"target": hack_document(), "provider_config": {**KEYS, "account_id": "123456789012", "region": "eu-west-1"}},
    )
    region_only = write(tmp_path / "region.yaml", {"region": "us-west-2"})
    loaded = load_input(ManifestSource(stack_input=stack, provider_config=region_only))
    config = merge_provider_config(loaded.provider_configs, AwsProviderConfig())
    assert (config.access_key_id, config.secret_access_key) == ("AKIAFILE", "file-secret")
    assert (config.account_id, config.region) == ("123456789012", "us-west-2")
    # Keys from the higher file replace the lower file's as a set (no stray token).
    keys_only = write(tmp_path / "keys.yaml", {"access_key_id": "AKIAOTHER", "secret_access_key": "other"})
    stack_token = write(
        tmp_path / "stack2.yaml",
        {"target": hack_document(), "provider_config": {**KEYS, "session_token": "stack-token"}},
    )
    loaded = load_input(ManifestSource(stack_input=stack_token, provider_config=keys_only))
    config = merge_provider_config(loaded.provider_configs, AwsProviderConfig())
    assert (config.access_key_id, config.session_token) == ("AKIAOTHER", None)


# --- text that cannot reach terraform's environment ---------------------------------------


@pytest.mark.parametrize(
    ("field", "bad", "problem"),
    [
        ("secret_access_key", "\0", "holds a NUL character"),
        ("session_token", "\0", "holds a NUL character"),
        ("secret_access_key", chr(0xDCFF), "holds a lone surrogate"),
        ("session_token", chr(0xD800), "holds a lone surrogate"),
        ("access_key_id", "\0", "holds a NUL character"),
        ("region", chr(0xD800), "holds a lone surrogate"),
        ("account_id", "\0", "holds a NUL character"),
    ],
)
def test_a_provider_config_value_that_is_not_text_is_named_never_shown(
    tmp_path: Path, field: str, bad: str, problem: str
) -> None:
    # Such a value cannot go into terraform's environment; it was a crash (exit 70) there.
    config = {**KEYS, "session_token": "file-token", "region": "eu-west-1", "account_id": "123456789012"}
    config[field] = f"SECRET{bad}TAIL"
    provider = write(tmp_path / "aws.yaml", config)
    stack = write(tmp_path / "stack.yaml", {"target": hack_document(), "provider_config": config})
    for read, where in (
        (lambda: read_provider_config(provider), field),
        (lambda: read_stack_input(stack), f"provider_config.{field}"),
    ):
        with pytest.raises(ManifestError) as caught:
            read()
        assert [line.split(": ", 1)[0] for line in caught.value.problems] == [where]
        assert problem in caught.value.problems[0]
        assert "SECRET" not in "\n".join(caught.value.lines())


def test_a_set_value_that_is_not_text_is_blamed_by_its_path_alone() -> None:
    # Bytes on the command line that are not UTF-8 reach Python as lone surrogates.
    raw = "metadata.id=SECRET" + b"\xff".decode("utf-8", "surrogateescape")
    with pytest.raises(ManifestError) as caught:
        load_input(ManifestSource(manifest=HACK_MANIFEST, overrides=(raw,)))
    [problem] = caught.value.problems
    assert problem.startswith("metadata.id: holds a lone surrogate")
    assert problem.endswith("(set by --set metadata.id=...)")
    assert "SECRET" not in "\n".join(caught.value.lines())
