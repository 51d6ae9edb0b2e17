"""Reading what a local state records about the table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planton.state import RecordedTable, recorded_table


def state(path: Path, instances: list[dict[str, object]], resource_type: str = "aws_dynamodb_table") -> Path:
    document = {
        "version": 4,
        "resources": [{"mode": "managed", "type": resource_type, "name": "this", "instances": instances}],
    }
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_recorded_table(tmp_path: Path) -> None:
    path = state(tmp_path / "s", [{"attributes": {"name": "orders"}}])
    assert recorded_table(path) == RecordedTable("orders", tainted=False)


def test_a_tainted_table(tmp_path: Path) -> None:
    path = state(tmp_path / "s", [{"status": "tainted", "attributes": {"name": "orders"}}])
    assert recorded_table(path) == RecordedTable("orders", tainted=True)


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"resources": 5}', '{"resources": [1, "x"]}'])
def test_no_table_in_odd_states(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s"
    path.write_text(text, encoding="utf-8")
    assert recorded_table(path) is None


def test_no_state_and_other_resources(tmp_path: Path) -> None:
    assert recorded_table(tmp_path / "missing") is None
    assert recorded_table(state(tmp_path / "s", [{"attributes": {"name": "x"}}], "aws_s3_bucket")) is None
    assert recorded_table(state(tmp_path / "t", [])) is None
