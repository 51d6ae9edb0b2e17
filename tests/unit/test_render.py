"""Rendering: manifest -> terraform.tfvars.json, checked against golden files and variables.tf."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from planton.manifest import load_manifest
from planton.manifest.loader import parse_yaml, validate_document
from planton.manifest.normalise import table_from_manifest
from planton.operations import render_manifest
from planton.render import render_variables, variables_json
from planton.source import ManifestSource

from support import HACK_MANIFEST, REPO_ROOT, example_blocks, object_attributes

GOLDEN = REPO_ROOT / "tests" / "fixtures" / "golden"
PRODUCTION = dict(example_blocks())["Production configuration"]


def _render_file(path: Path, region: str = "us-east-1") -> str:
    table = table_from_manifest(load_manifest(path).model)
    return variables_json(render_variables(table, table.aws_region or region))


def _render_text(text: str, region: str = "us-east-1") -> str:
    table = table_from_manifest(validate_document(parse_yaml(text, "example"), "example"))
    return variables_json(render_variables(table, table.aws_region or region))


def test_hack_manifest_matches_golden() -> None:
    assert _render_file(HACK_MANIFEST) == (GOLDEN / "hack-manifest.tfvars.json").read_text(encoding="utf-8")


def test_production_example_matches_golden() -> None:
    assert _render_text(PRODUCTION) == (GOLDEN / "production.tfvars.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.tfvars.json")), ids=lambda p: p.name)
def test_golden_keys_match_module_variables(golden: Path) -> None:
    variables = json.loads(golden.read_text(encoding="utf-8"))
    assert set(variables) == {"metadata", "spec"}
    assert sorted(variables["metadata"]) == sorted(object_attributes("metadata"))
    assert sorted(variables["spec"]) == sorted(object_attributes("spec"))


def test_variables_parser_sees_nested_objects_as_one_attribute() -> None:
    # Guards the helper above: "attributes" is a list(object({name, type})).
    spec = object_attributes("spec")
    assert "attributes" in spec
    assert "name" not in spec
    assert "type" not in spec


def test_region_from_environment_is_rendered_when_the_manifest_has_none() -> None:
    text = PRODUCTION.replace("  aws_region: eu-central-1\n", "")
    assert json.loads(_render_text(text, region="ap-south-1"))["spec"]["aws_region"] == "ap-south-1"


def test_manifest_region_wins() -> None:
    assert json.loads(_render_text(PRODUCTION, region="ap-south-1"))["spec"]["aws_region"] == "eu-central-1"


def test_on_demand_table_renders_zero_capacity_and_null_sort_key() -> None:
    minimal = dict(example_blocks())["Minimal table with pay-per-request billing"]
    spec = json.loads(_render_text(minimal))["spec"]
    assert spec["billing_mode"] == "PAY_PER_REQUEST"
    assert spec["read_capacity_units"] == 0
    assert spec["write_capacity_units"] == 0
    assert spec["sort_key_name"] is None
    assert spec["attributes"] == [{"name": "session_id", "type": "S"}]
    assert spec["table_name"] == "minimal-sessions"
    assert spec["server_side_encryption_enabled"] is True
    assert spec["point_in_time_recovery_enabled"] is False


@pytest.mark.parametrize(("spelling", "expected"), [("ATTRIBUTE_TYPE_BINARY", "B"), ("ATTRIBUTE_TYPE_B", "B")])
def test_enum_spellings_render_as_aws_strings(spelling: str, expected: str) -> None:
    telemetry = dict(example_blocks())["High-performance table with binary keys"]
    text = telemetry.replace("partitionKeyType: ATTRIBUTE_TYPE_BINARY", f"partitionKeyType: {spelling}")
    spec = json.loads(_render_text(text))["spec"]
    assert spec["billing_mode"] == "PROVISIONED"
    assert spec["attributes"] == [{"name": "device_hash", "type": expected}, {"name": "reading_key", "type": "B"}]


def test_rendered_variables_never_contain_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value-123")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-token-xyz")
    rendered = _render_file(HACK_MANIFEST)
    for secret in ("AKIAEXAMPLEKEYID0000", "very-secret-value-123", "session-token-xyz"):
        assert secret not in rendered


def _declared_variables() -> set[str]:
    text = "".join(path.read_text(encoding="utf-8") for path in (REPO_ROOT / "modules" / "aws_dynamodb").glob("*.tf"))
    return set(re.findall(r'^variable "([a-z_]+)"', text, flags=re.MULTILINE))


def test_the_account_id_is_rendered_as_a_declared_variable(tmp_path: Path) -> None:
    # terraform only warns about a tfvars key no variable declares: the account check would be
    # silently dropped.
    stack = tmp_path / "stack.yaml"
    stack.write_text("provider_config:\n  account_id: '012345678901'\n  region: eu-west-2\n", encoding="utf-8")
    source = ManifestSource(manifest=HACK_MANIFEST, stack_input=stack)
    variables = json.loads(render_manifest(source, {}))
    assert variables["allowed_account_ids"] == ["012345678901"]
    assert set(variables) <= _declared_variables()
    assert variables["spec"]["aws_region"] == "us-east-1"  # the manifest's region wins
    # Without an account, and for the local emulator (whose account is its own), none.
    assert "allowed_account_ids" not in json.loads(render_manifest(ManifestSource(manifest=HACK_MANIFEST), {}))
    assert "allowed_account_ids" not in json.loads(render_manifest(source, {}, local=True))
