"""What planton remembers in a workspace directory (LocalRecordStore), and what an S3 record store
does before it ever reaches S3. The S3 store against a real server: tests/e2e/test_s3_records.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from planton.errors import EnvironmentNotReady
from planton.records import (
    INTERRUPTED_FILE,
    SAVED_PLANS_FILE,
    SAVED_PLANS_KEPT,
    InterruptedCreate,
    LocalRecordStore,
    S3RecordStore,
)
from planton.s3 import S3Location

CORRUPT_TEXTS = [b"not json", b"[]", b'"plans"', b'{"abc": 1}', b'{"abc": [true]}', b"\xff\xfe"]


def test_an_interrupted_create_is_remembered_until_cleared(tmp_path: Path) -> None:
    store = LocalRecordStore(tmp_path)
    assert store.where == str(tmp_path)
    assert store.interrupted_create() is None
    store.record_interrupted_create(InterruptedCreate("orders", "eu-west-1", "111111111111"))
    assert store.interrupted_create() == InterruptedCreate("orders", "eu-west-1", "111111111111")
    assert json.loads((tmp_path / INTERRUPTED_FILE).read_text(encoding="utf-8"))["table_name"] == "orders"
    store.clear_interrupted_create()
    assert store.interrupted_create() is None
    assert not (tmp_path / INTERRUPTED_FILE).exists()
    store.clear_interrupted_create()  # nothing to clear is fine


def test_saved_plans_round_trip(tmp_path: Path) -> None:
    store = LocalRecordStore(tmp_path)
    assert store.saved_plan("abc") is None
    store.record_saved_plan("abc", destroy=False, account="111111111111")
    store.record_saved_plan("def", destroy=True, account=None)
    first, second = store.saved_plan("abc"), store.saved_plan("def")
    assert first is not None
    assert second is not None
    assert (first.destroy, first.applied, first.account, first.failed) == (False, None, "111111111111", None)
    assert (second.destroy, second.account) == (True, None)
    store.mark_plan_failed("abc")
    failed = store.saved_plan("abc")
    assert failed is not None
    assert (failed.failed is not None, failed.applied) == (True, None)
    store.mark_plan_applied("abc")
    applied = store.saved_plan("abc")
    assert applied is not None
    assert applied.applied is not None
    store.mark_plan_applied("never-saved")  # nothing to mark: no record appears
    assert store.saved_plan("never-saved") is None
    assert set(json.loads((tmp_path / SAVED_PLANS_FILE).read_text(encoding="utf-8"))) == {"abc", "def"}


def test_records_a_workspace_kept_are_read_and_kept(tmp_path: Path) -> None:
    # Workspaces made before the record stores keep what they remembered, in the same files, as
    # the workspace wrote them (an interrupted create from before accounts were remembered too).
    (tmp_path / ".planton-saved-plans.json").write_text(
        json.dumps({"abc": {"destroy": True, "made": 1.0, "applied": None, "account": "111111111111"}}),
        encoding="utf-8",
    )
    (tmp_path / ".planton-interrupted.json").write_text(
        '{"table_name": "orders", "region": "eu-west-1"}\n', encoding="utf-8"
    )
    store = LocalRecordStore(tmp_path)
    saved = store.saved_plan("abc")
    assert saved is not None
    assert (saved.destroy, saved.account) == (True, "111111111111")
    assert store.interrupted_create() == InterruptedCreate("orders", "eu-west-1", None)
    store.mark_plan_applied("abc")
    applied = LocalRecordStore(tmp_path).saved_plan("abc")
    assert applied is not None
    assert applied.applied is not None


def test_the_newest_saved_plans_are_kept(tmp_path: Path) -> None:
    store = LocalRecordStore(tmp_path)
    total = SAVED_PLANS_KEPT + 10
    for number in range(total):
        store.record_saved_plan(f"plan-{number}", destroy=False, account=None)
    kept = json.loads((tmp_path / SAVED_PLANS_FILE).read_text(encoding="utf-8"))
    assert set(kept) == {f"plan-{number}" for number in range(10, total)}
    assert store.saved_plan("plan-9") is None
    assert store.saved_plan("plan-10") is not None


@pytest.mark.parametrize("content", CORRUPT_TEXTS)
def test_a_corrupt_saved_plan_registry_is_an_error_and_is_not_overwritten(tmp_path: Path, content: bytes) -> None:
    registry = tmp_path / SAVED_PLANS_FILE
    registry.write_bytes(content)
    store = LocalRecordStore(tmp_path)
    with pytest.raises(EnvironmentNotReady, match="is corrupt: planton remembers there the plans") as caught:
        store.saved_plan("abc")
    assert str(registry) in caught.value.message
    for change in (
        lambda: store.record_saved_plan("abc", destroy=False, account=None),
        lambda: store.mark_plan_applied("abc"),
        lambda: store.mark_plan_failed("abc"),
    ):
        with pytest.raises(EnvironmentNotReady, match="is corrupt"):
            change()
    assert registry.read_bytes() == content


def test_an_unreadable_saved_plan_registry_is_an_error(tmp_path: Path) -> None:
    (tmp_path / SAVED_PLANS_FILE).mkdir()  # unreadable as a file, even by root
    with pytest.raises(
        EnvironmentNotReady, match=r"cannot read .*saved-plans\.json, where planton remembers the plans"
    ):
        LocalRecordStore(tmp_path).saved_plan("abc")
    with pytest.raises(EnvironmentNotReady, match="cannot read"):
        LocalRecordStore(tmp_path).record_saved_plan("abc", destroy=False, account=None)
    assert (tmp_path / SAVED_PLANS_FILE).is_dir()


@pytest.mark.parametrize(
    "content", [b"not json", b"[]", b'{"region": "eu-west-1"}', b'{"table_name": ""}', b"\xff\xfe"]
)
def test_a_corrupt_interrupted_create_record_is_an_error(tmp_path: Path, content: bytes) -> None:
    # Read as "nothing remembered", it would switch off the guards that protect the half-made table.
    (tmp_path / INTERRUPTED_FILE).write_bytes(content)
    with pytest.raises(EnvironmentNotReady, match="is corrupt: planton remembers an interrupted create") as caught:
        LocalRecordStore(tmp_path).interrupted_create()
    assert str(tmp_path / INTERRUPTED_FILE) in caught.value.message
    assert caught.value.message.endswith("and remove this file")


def test_an_unreadable_interrupted_create_record_is_an_error(tmp_path: Path) -> None:
    (tmp_path / INTERRUPTED_FILE).mkdir()
    with pytest.raises(EnvironmentNotReady, match=r"cannot read .*interrupted\.json, where planton remembers"):
        LocalRecordStore(tmp_path).interrupted_create()


def test_a_workspace_that_cannot_be_written_says_which_path_is_in_the_way(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    store = LocalRecordStore(blocker / "ws")
    with pytest.raises(EnvironmentNotReady, match=f"cannot write the workspace .*: {blocker} is not a directory"):
        store.record_interrupted_create(InterruptedCreate("orders", None))
    with pytest.raises(EnvironmentNotReady, match="point --work-dir \\(or PLANTON_WORK_DIR\\)"):
        store.record_saved_plan("abc", destroy=False, account=None)


def test_an_s3_store_makes_no_client_until_used_and_names_where_it_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Offline: a profile that does not exist fails when the client is made, before any request.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    location = S3Location(bucket="states", key="env/orders.tfstate", region="eu-west-1", endpoint=None)
    store = S3RecordStore(location, {"AWS_PROFILE": "no-such-profile"})
    assert store.where == "s3://states/env/orders.tfstate.planton.json"
    with pytest.raises(EnvironmentNotReady) as caught:
        store.saved_plan("abc")
    assert caught.value.message.startswith("cannot use s3://states/env/orders.tfstate.planton.json: ProfileNotFound")


def test_an_s3_store_never_shows_its_credentials() -> None:
    location = S3Location(bucket="states", key="orders.tfstate", region="eu-west-1", endpoint=None)
    store = S3RecordStore(location, {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"})
    for shown in (repr(store), str(store)):
        assert "s3cr3t-value" not in shown
        assert "AKIDEXAMPLE" not in shown


def test_boto3_is_imported_only_when_s3_is_used() -> None:
    # Start-up time: planton's CLI and every module S3 state needs import without boto3.
    code = (
        "import sys, planton.cli.app, planton.records, planton.s3, planton.state_bucket; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'boto3', 'botocore'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
