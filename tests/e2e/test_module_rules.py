"""The Python rules and the HCL module's own validations agree: each input planton refuses is
refused by the module too (for the rules HCL can express), when its variables are given to
terraform directly, as a user of the module alone would."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from planton.errors import ManifestError
from planton.manifest.base import API_VERSION, KIND
from planton.manifest.loader import validate_document
from planton.manifest.normalise import table_from_manifest
from planton.render import render_variables

from e2e_support import plugin_mirror
from support import MODULE_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.module]

TERRAFORM = shutil.which("tofu") or shutil.which("terraform")

BASE_SPEC: dict[str, Any] = {
    "aws_region": "us-east-1",
    "billing_mode": "PROVISIONED",
    "read_capacity_units": 5,
    "write_capacity_units": 5,
    "partition_key_name": "pk",
    "partition_key_type": "S",
    "sort_key_name": "sk",
    "sort_key_type": "S",
    "global_secondary_indexes": [
        {
            "name": "by-g",
            "partition_key_name": "g",
            "partition_key_type": "S",
            "read_capacity_units": 1,
            "write_capacity_units": 1,
        }
    ],
}


def _manifest(spec: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "rules"}
    if labels:
        metadata["labels"] = labels
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": metadata, "spec": spec}


def _variables(spec: dict[str, Any]) -> dict[str, Any]:
    table = table_from_manifest(validate_document(_manifest(spec), "base"))
    return render_variables(table, "us-east-1")


def _gsi(i: int, **more: Any) -> dict[str, Any]:
    return {
        "name": f"gsi-{i:02}",
        "partition_key_name": f"k{i}",
        "partition_key_type": "S",
        "read_capacity_units": 1,
        "write_capacity_units": 1,
        **more,
    }


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """Set a dotted path (``spec.global_secondary_indexes.0.name``) in a document."""

    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _more_gsis(count: int, **more: Any) -> tuple[Mutation, Mutation]:
    """Add ``count`` indexes to the manifest, and the same to the variables."""

    def manifest(document: dict[str, Any]) -> None:
        document["spec"]["global_secondary_indexes"] += [_gsi(i, **more) for i in range(count)]

    def variables(document: dict[str, Any]) -> None:
        for i in range(count):
            document["spec"]["attributes"].append({"name": f"k{i}", "type": "S"})
            document["spec"]["global_secondary_indexes"].append(
                {
                    "name": f"gsi-{i:02}",
                    "partition_key_name": f"k{i}",
                    "read_capacity_units": 1,
                    "write_capacity_units": 1,
                    "projection_type": more.get("projection_type", "ALL"),
                    "non_key_attributes": more.get("non_key_attributes", []),
                }
            )

    return manifest, variables


def _lsis(count: int) -> tuple[Mutation, Mutation]:
    def manifest(document: dict[str, Any]) -> None:
        document["spec"]["local_secondary_indexes"] = [
            {"name": f"lsi-{i}", "sort_key_name": f"s{i}", "sort_key_type": "N"} for i in range(count)
        ]

    def variables(document: dict[str, Any]) -> None:
        document["spec"]["attributes"] += [{"name": f"s{i}", "type": "N"} for i in range(count)]
        document["spec"]["local_secondary_indexes"] = [
            {"name": f"lsi-{i}", "sort_key_name": f"s{i}", "projection_type": "ALL", "non_key_attributes": []}
            for i in range(count)
        ]

    return manifest, variables


def _both(mutation: Mutation) -> tuple[Mutation, Mutation]:
    return mutation, mutation


def _unsorted_lsi() -> tuple[Mutation, Mutation]:
    manifest, variables = _lsis(1)

    def on_manifest(document: dict[str, Any]) -> None:
        manifest(document)
        del document["spec"]["sort_key_name"], document["spec"]["sort_key_type"]

    def on_variables(document: dict[str, Any]) -> None:
        variables(document)
        document["spec"]["sort_key_name"] = None
        document["spec"]["attributes"] = [a for a in document["spec"]["attributes"] if a["name"] != "sk"]

    return on_manifest, on_variables


# (id, manifest mutation, variables mutation, a phrase of the module's error message)
CASES: list[tuple[str, Mutation, Mutation, str]] = [
    ("table-name", _set("spec.table_name", "ab"), _set("spec.table_name", "ab"), "spec.table_name must be 3-255"),
    ("region", _set("spec.aws_region", "useast1"), _set("spec.aws_region", "useast1"), "must be an AWS region code"),
    ("21-gsis", *_more_gsis(20), "at most 20 global and 5 local"),
    ("6-lsis", *_lsis(6), "at most 20 global and 5 local"),
    ("lsi-without-sort-key", *_unsorted_lsi(), "need the table to have a sort key"),
    (
        "index-name",
        _set("spec.global_secondary_indexes.0.name", "ab"),
        _set("spec.global_secondary_indexes.0.name", "ab"),
        "Index names must be 3-255",
    ),
    (
        "include-without-attributes",
        _set("spec.global_secondary_indexes.0.projection_type", "INCLUDE"),
        _set("spec.global_secondary_indexes.0.projection_type", "INCLUDE"),
        "non_key_attributes exactly when it is INCLUDE",
    ),
    (
        "101-included",
        *_more_gsis(2, projection_type="INCLUDE", non_key_attributes=[f"a{i}" for i in range(51)]),
        "At most 100 INCLUDE-projected attributes",
    ),
    (
        "capacity-40001",
        _set("spec.read_capacity_units", 40001),
        _set("spec.read_capacity_units", 40001),
        "must be 1-40000 when billing_mode is PROVISIONED",
    ),
    (
        "gsi-capacity-0",
        _set("spec.global_secondary_indexes.0.write_capacity_units", 0),
        _set("spec.global_secondary_indexes.0.write_capacity_units", 0),
        "Every global secondary index's",
    ),
    (
        "pitr-period",
        _set("spec.point_in_time_recovery_period_days", 36),
        _set("spec.point_in_time_recovery_period_days", 36),
        "must be 1-35",
    ),
    (
        "table-class",
        _set("spec.table_class", "GLACIER"),
        _set("spec.table_class", "GLACIER"),
        "spec.table_class must be STANDARD",
    ),
    (
        "scaling-min-above-max",
        _set("spec.autoscaling", {"read": {"min_capacity": 9, "max_capacity": 5}}),
        _set(
            "spec.autoscaling",
            {"read": {"min_capacity": 9, "max_capacity": 5, "target_utilization": 70}, "write": None},
        ),
        "Every auto scaling policy needs",
    ),
    (
        "scaling-target",
        _set("spec.autoscaling", {"read": {"min_capacity": 1, "max_capacity": 5, "target_utilization": 95}}),
        _set(
            "spec.autoscaling",
            {"read": {"min_capacity": 1, "max_capacity": 5, "target_utilization": 95}, "write": None},
        ),
        "Every auto scaling policy needs",
    ),
    ("tag-aws-prefix", _set("spec.tags", {"aws:x": "y"}), _set("spec.tags", {"aws:x": "y"}), "reserved aws: prefix"),
    ("tag-reserved", _set("spec.tags", {"Name": "y"}), _set("spec.tags", {"Name": "y"}), "spec.tags must not set Name"),
    (
        "label-reserved",
        _set("metadata.labels", {"ManagedBy": "me"}),
        _set("metadata.labels", {"ManagedBy": "me"}),
        "metadata.labels must not set Name",
    ),
    (
        "alarm-period",
        _set("spec.alarms", {"enabled": True, "throttles": {"period": 90}}),
        _set("alarms", {"throttles": {"period": 90}}),
        "period must be a multiple of 60 seconds",
    ),
    (
        "alarm-window",
        _set("spec.alarms", {"enabled": True, "capacity": {"period": 3600, "evaluation_periods": 25}}),
        _set("alarms", {"capacity": {"period": 3600, "evaluation_periods": 25}}),
        "at most 86400",
    ),
    (
        "alarm-fifo-topic",
        _set("spec.alarms", {"enabled": True, "sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:t.fifo"}),
        _set("alarms", {"sns_topic_arn": "arn:aws:sns:us-east-1:123456789012:t.fifo"}),
        "alarms.sns_topic_arn must be a standard SNS topic",
    ),
    (
        "alarm-operation",
        _set("spec.alarms", {"enabled": True, "latency": {"operations": ["GetItem", "GetItem"]}}),
        _set("alarms", {"latency": {"operations": ["GetItem", "GetItem"]}}),
        "alarms.latency.operations must name each operation once",
    ),
    (
        "alarm-percent",
        _set("spec.alarms", {"enabled": True, "capacity": {"percent": 101}}),
        _set("alarms", {"capacity": {"percent": 101}}),
        "alarms.capacity.percent must be 1-100",
    ),
]


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if TERRAFORM is None:
        pytest.skip("neither tofu nor terraform is on PATH: the module's own validations cannot run")
    directory = tmp_path_factory.mktemp("module")
    for source in MODULE_DIR.glob("*.tf"):
        shutil.copy(source, directory / source.name)
    mirror = plugin_mirror()
    argv = [
        TERRAFORM,
        "init",
        "-backend=false",
        "-input=false",
        "-no-color",
        *([f"-plugin-dir={mirror}"] if mirror else []),
    ]
    done = subprocess.run(argv, cwd=directory, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return directory


def _plan_errors(module_dir: Path, variables: dict[str, Any], name: str) -> tuple[int, str]:
    """terraform's exit code and error output (on one line) for a plan of the module with
    ``variables``; the endpoint is a closed loopback port, so a plan that gets past the
    validations fails at the provider instead of reaching anything."""
    var_file = module_dir / f"{name}.tfvars.json"
    var_file.write_text(json.dumps(variables), encoding="utf-8")
    done = subprocess.run(
        [
            TERRAFORM or "terraform",
            "plan",
            "-input=false",
            "-no-color",
            "-refresh=false",
            "-lock=false",
            f"-var-file={var_file.name}",
            f"-state={name}.tfstate",
        ],
        cwd=module_dir,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(module_dir),
            "AWS_ACCESS_KEY_ID": "x",
            "AWS_SECRET_ACCESS_KEY": "x",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_MAX_ATTEMPTS": "1",
            "CHECKPOINT_DISABLE": "1",
        },
    )
    return done.returncode, " ".join(done.stderr.split())


@pytest.mark.parametrize(("name", "on_manifest", "on_variables", "phrase"), CASES, ids=[case[0] for case in CASES])
def test_python_and_module_refuse_alike(
    name: str, on_manifest: Mutation, on_variables: Mutation, phrase: str, module_dir: Path
) -> None:
    manifest = _manifest(copy.deepcopy(BASE_SPEC))
    on_manifest(manifest)
    with pytest.raises(ManifestError):
        validate_document(manifest, name)

    variables = copy.deepcopy(_variables(BASE_SPEC))
    on_variables(variables)
    returncode, refusal = _plan_errors(module_dir, variables, name)
    assert returncode != 0, f"{name}: the module accepted what planton refuses"
    assert "Invalid value for variable" in refusal, refusal
    assert phrase in refusal, refusal


@pytest.mark.parametrize("alarms", [None, {"enabled": True}], ids=["without-alarms", "with-alarms"])
def test_the_module_accepts_what_planton_renders(alarms: dict[str, Any] | None, module_dir: Path) -> None:
    """The base variables pass every validation: the plan gets past them, to the provider."""
    spec = {**BASE_SPEC, **({"alarms": alarms} if alarms else {})}
    _, errors = _plan_errors(module_dir, _variables(spec), "base")
    assert "Invalid value for variable" not in errors, errors
    assert errors, "the plan should have stopped at the closed endpoint"
