"""The files kept beside saved plans: a fleet's mark on its own plans is honoured only in a
private directory of the user's own holding the same token, and a kept show -json only from one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planton.saved_plan_files import forget_shown, keep_shown, kept_shown, mark_own_plans, own_plan
from planton.settings import OWN_PLANS_ENV


@pytest.fixture
def own(tmp_path: Path) -> Path:
    directory = tmp_path / "own"
    directory.mkdir(mode=0o700)
    return directory


def test_a_plan_in_the_fleets_marked_directory_is_its_own(own: Path) -> None:
    token = mark_own_plans(own)
    assert own_plan(own / "m.tfplan", {OWN_PLANS_ENV: token})


@pytest.mark.parametrize("environ", [{}, {OWN_PLANS_ENV: ""}, {OWN_PLANS_ENV: "x" * 48}, {OWN_PLANS_ENV: "."}])
def test_without_the_same_token_no_plan_is_the_fleets(own: Path, environ: dict[str, str]) -> None:
    mark_own_plans(own)
    assert not own_plan(own / "m.tfplan", environ)


def test_an_unmarked_or_shared_directory_holds_no_own_plan(own: Path, tmp_path: Path) -> None:
    token = mark_own_plans(own)
    # The token alone: a plan anywhere else is bound as always.
    assert not own_plan(tmp_path / "m.tfplan", {OWN_PLANS_ENV: token})
    # A directory others can read, or a link to the marked one, is not the fleet's.
    link = tmp_path / "link"
    link.symlink_to(own)
    assert not own_plan(link / "m.tfplan", {OWN_PLANS_ENV: token})
    os.chmod(own, 0o755)  # noqa: S103 (readable by others: on purpose)
    assert not own_plan(own / "m.tfplan", {OWN_PLANS_ENV: token})


def test_a_kept_show_is_private_read_back_and_forgotten(tmp_path: Path) -> None:
    directory = tmp_path / "shown"
    keep_shown(directory, "ab" * 32, '{"format_version": "1.2"}')
    assert os.stat(directory).st_mode & 0o777 == 0o700
    (kept,) = directory.iterdir()
    assert kept.stat().st_mode & 0o777 == 0o600
    assert kept_shown(directory, "ab" * 32) == '{"format_version": "1.2"}'
    assert kept_shown(directory, "cd" * 32) is None
    forget_shown(directory, "ab" * 32)
    assert kept_shown(directory, "ab" * 32) is None


def test_only_the_newest_few_are_kept(tmp_path: Path) -> None:
    for i in range(10):
        keep_shown(tmp_path / "shown", f"{i:064d}", "{}")
        os.utime(tmp_path / "shown" / f"{i:064d}.show.json", (i, i))
    assert len(list((tmp_path / "shown").iterdir())) <= 9
    assert kept_shown(tmp_path / "shown", f"{9:064d}") == "{}"
    assert kept_shown(tmp_path / "shown", f"{0:064d}") is None


def test_what_is_not_private_or_not_json_reads_as_nothing_kept(tmp_path: Path) -> None:
    directory = tmp_path / "shown"
    keep_shown(directory, "ab" * 32, "{}")
    os.chmod(directory / f"{'ab' * 32}.show.json", 0o644)
    assert kept_shown(directory, "ab" * 32) is None
    keep_shown(directory, "cd" * 32, "{not json")
    assert kept_shown(directory, "cd" * 32) is None
    os.chmod(directory, 0o755)  # noqa: S103 (readable by others: on purpose)
    with pytest.raises(PermissionError):
        keep_shown(directory, "ef" * 32, "{}")
