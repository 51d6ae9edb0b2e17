"""``plan --out`` writes the plan through one open handle on the target's directory, checked to be
no workspace: a directory swapped for a link while terraform plans never receives it."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from planton.errors import UsageError
from planton.operations.planning import _write_outside_workspaces

PLAN = b"PK-a-plan"


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    workspace = tmp_path / "work" / "aws" / "orders"
    workspace.mkdir(parents=True)
    (workspace / ".planton.lock").write_text("", encoding="utf-8")
    (workspace / "terraform.tfstate").write_text('{"version": 4}', encoding="utf-8")
    return tmp_path / "work"


def test_a_plain_directory_gets_a_private_file_and_no_leftovers(tmp_path: Path, work_dir: Path) -> None:
    out = tmp_path / "plans"
    out.mkdir()
    _write_outside_workspaces(out / "t.tfplan", PLAN, work_dir)
    assert (out / "t.tfplan").read_bytes() == PLAN
    assert stat.S_IMODE((out / "t.tfplan").stat().st_mode) == 0o600
    assert [path.name for path in out.iterdir()] == ["t.tfplan"]


def test_a_directory_that_became_a_link_is_refused(tmp_path: Path, work_dir: Path) -> None:
    # Checked as a directory, swapped for a link to the workspace before the write.
    swapped = tmp_path / "d"
    swapped.symlink_to(work_dir / "aws" / "orders")
    state = work_dir / "aws" / "orders" / "terraform.tfstate"
    with pytest.raises(UsageError, match="changed while the plan was made"):
        _write_outside_workspaces(swapped / "terraform.tfstate", PLAN, work_dir)
    assert state.read_text(encoding="utf-8") == '{"version": 4}'
    assert sorted(os.listdir(work_dir / "aws" / "orders")) == [".planton.lock", "terraform.tfstate"]


@pytest.mark.parametrize("inside", ["aws/orders", "aws", ".", "aws/orders/sub"])
def test_a_path_through_a_link_above_it_is_judged_by_where_it_is(tmp_path: Path, work_dir: Path, inside: str) -> None:
    # race/inner is a real directory, reached through a link one level up (what a swap of a
    # directory above the target's leaves): the handle is on the real one, and that is judged.
    (work_dir / inside / "inner").mkdir(parents=True)
    (tmp_path / "race").symlink_to(work_dir / inside)
    target = tmp_path / "race" / "inner" / "x.tfplan"
    with pytest.raises(UsageError, match="is in planton's work dir or in a workspace now"):
        _write_outside_workspaces(target, PLAN, work_dir)
    assert not list(work_dir.rglob("*.tfplan*"))


def test_a_file_that_appeared_and_is_not_a_plan_is_never_replaced(tmp_path: Path, work_dir: Path) -> None:
    out = tmp_path / "plans"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(UsageError, match="appeared while the plan was made and is not a plan"):
        _write_outside_workspaces(out / "notes.txt", PLAN, work_dir)
    assert (out / "notes.txt").read_text(encoding="utf-8") == "mine"
    with zipfile.ZipFile(out / "earlier.tfplan", "w") as archive:
        archive.writestr("tfplan", b"an earlier plan")
    _write_outside_workspaces(out / "earlier.tfplan", PLAN, work_dir)  # an earlier plan is replaced
    assert (out / "earlier.tfplan").read_bytes() == PLAN
