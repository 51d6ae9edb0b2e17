"""The fleet's pure parts: its exit status, shards, collisions, and terraform's error quoted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from planton.errors import ManifestError, UsageError
from planton.operations.fleet import (
    FleetOutcome,
    Member,
    MemberResult,
    Result,
    default_parallelism,
    fleet_exit_code,
    terraform_error,
)
from planton.operations.validation import Placement, Shard, refuse_collisions, shard_members


def member(name: str = "m") -> Any:
    # The exit-code function reads results only: a member stands in by name.
    return Member(
        validated=None,  # type: ignore[arg-type]
        name=name,
        key=name,
        id=name,
        manifest_file=Path(name),
        work_dir=Path("."),
        log=Path("log"),
    )


def outcome(*ended: tuple[Result, int | None], interrupted: int | None = None, **kwargs: Any) -> FleetOutcome:
    return FleetOutcome(
        "plan",
        tuple(MemberResult(member(str(i)), result, exit_code=code) for i, (result, code) in enumerate(ended)),
        interrupted_by=interrupted,
        **kwargs,
    )


NONE = (Result.NO_CHANGES, 0)
CHANGES = (Result.CHANGES, 0)
FAILED = (Result.FAILED, 1)


@pytest.mark.parametrize(
    ("ended", "detailed", "plain"),
    [
        ([NONE, NONE], 0, 0),
        ([NONE, CHANGES], 2, 0),
        ([CHANGES, FAILED], 1, 1),  # 1 > 2: a failure is never hidden by another manifest's changes
        ([FAILED, CHANGES, NONE], 1, 1),
        ([(Result.REFUSED, 5), FAILED], 1, 5),
        ([(Result.FAILED, 3), (Result.FAILED, 4)], 1, 3),
        ([(Result.FAILED, 2), (Result.FAILED, 1)], 1, 2),
        ([(Result.FAILED, 99)], 1, 1),
        ([(Result.SKIPPED, None), NONE], 0, 0),
        ([(Result.APPLIED, 0), (Result.DONE, 0)], 0, 0),
    ],
)
def test_exit_status_precedence(ended: list[tuple[Result, int | None]], detailed: int, plain: int) -> None:
    assert fleet_exit_code(outcome(*ended), detailed=True) == detailed
    assert fleet_exit_code(outcome(*ended), detailed=False) == plain


def test_an_interruption_wins() -> None:
    interrupted = outcome(CHANGES, (Result.INTERRUPTED, 130), (Result.SKIPPED, None), interrupted=2)
    assert fleet_exit_code(interrupted) == 130
    assert fleet_exit_code(interrupted, detailed=True) == 1
    assert fleet_exit_code(outcome(NONE, interrupted=15)) == 143


def test_a_refusal_or_a_no_is_a_failure() -> None:
    assert fleet_exit_code(outcome(CHANGES, refusal=("refused",))) == 5
    assert fleet_exit_code(outcome(CHANGES, declined=True)) == 1
    assert fleet_exit_code(outcome(CHANGES, declined=True), detailed=True) == 1


def test_shards_deal_every_key_once_balanced_and_stable() -> None:
    keys = [f"table-{i}" for i in range(50)]
    shares = [shard_members(keys, Shard(k, 4)) for k in range(1, 5)]
    assert sorted(i for share in shares for i in share) == list(range(50))
    assert sorted(len(share) for share in shares) == [12, 12, 13, 13]
    # The order the manifests are found in does not move a manifest to another share.
    reordered = list(reversed(keys))
    assert {reordered[i] for i in shard_members(reordered, Shard(2, 4))} == {keys[i] for i in shares[1]}
    assert shard_members(keys, None) == list(range(50))


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", "-1/2", ""])
def test_a_bad_shard_names_the_option(text: str) -> None:
    with pytest.raises(UsageError, match="--shard"):
        Shard.parse(text)


def test_two_manifests_for_one_table_or_state_are_refused() -> None:
    a = Placement("a.yaml", "orders", "us-east-1", "/w/orders", None)
    refuse_collisions([a, Placement("b.yaml", "orders", "eu-west-1", "/w/orders-eu", None)])  # another region
    with pytest.raises(ManifestError) as caught:
        refuse_collisions([a, Placement("b.yaml", "orders", "us-east-1", "/w/other", None)])
    assert caught.value.problems[0] == "a.yaml and b.yaml both manage table orders in us-east-1"
    with pytest.raises(ManifestError, match="both share the workspace /w/orders"):
        refuse_collisions([a, Placement("b.yaml", "events", "us-east-1", "/w/orders", None)])
    with pytest.raises(ManifestError, match="both share the state s3://b/k"):
        refuse_collisions(
            [
                Placement("a.yaml", "t1", "us-east-1", "/w/1", "s3://b/k"),
                Placement("b.yaml", "t2", "us-east-1", "/w/2", "s3://b/k"),
            ]
        )


def test_terraform_error_is_quoted_from_the_last_error_to_the_end() -> None:
    lines = [
        "Plan: 1 to add",
        "",
        "Error: first",
        "Error: reading KMS Key (alias/x): couldn't find resource",
        "",
        "  with data.aws_kms_key.sse[0],",
        "planton: failed (exit 1)",
    ]
    assert terraform_error(lines) == (
        "Error: reading KMS Key (alias/x): couldn't find resource",
        "  with data.aws_kms_key.sse[0],",
    )
    assert terraform_error(["│ Error: boxed", "│ more"]) == ("│ Error: boxed", "│ more")
    assert terraform_error(["all fine"]) == ()


def test_parallelism_is_bounded_by_memory() -> None:
    assert default_parallelism(None) >= 1
    assert default_parallelism(1) == 1
    assert default_parallelism(2 * 640 * 1024 * 1024) <= 2
