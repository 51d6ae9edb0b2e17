"""Operations: the pipe timeout setting, the exit code of a finished terraform run, and what
the local emulator cannot serve."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from planton.errors import EnvironmentNotReady, UsageError
from planton.manifest.loader import LoadedManifest, parse_yaml, validate_document
from planton.operations.apply import after_apply
from planton.operations.catalogue import operation
from planton.operations.request import TofuRequest, emulator_gaps, prepare
from planton.operations.results import ExitStatus, exit_status
from planton.operations.session import Session, TofuOutcome, Ui
from planton.operations.validation import PIPE_TIMEOUT_ENV, pipe_timeout
from planton.records import InterruptedCreate, LocalRecordStore
from planton.runner import RunResult
from planton.settings import Given
from planton.source import ManifestSource

from support import HACK_MANIFEST


@pytest.mark.parametrize(("value", "seconds"), [(None, 30.0), ("", 30.0), ("1", 1.0), ("0.5", 0.5), ("3600", 3600.0)])
def test_pipe_timeout(value: str | None, seconds: float) -> None:
    environ = {} if value is None else {PIPE_TIMEOUT_ENV: value}
    assert pipe_timeout(environ) == seconds


@pytest.mark.parametrize("value", ["0", "-2", "abc", "nan", "inf", "3601"])
def test_pipe_timeout_rejects(value: str) -> None:
    with pytest.raises(UsageError, match=f"^{PIPE_TIMEOUT_ENV}: '{value}' is not a number of seconds"):
        pipe_timeout({PIPE_TIMEOUT_ENV: value})


@pytest.mark.parametrize(
    ("result", "detailed", "code", "note"),
    [
        (RunResult(0), False, 0, None),
        (RunResult(1), False, 1, None),
        (RunResult(2), False, 1, "plan: terraform exited with status 2"),
        (RunResult(2), True, 2, None),
        (RunResult(0), True, 0, None),
        (RunResult(3), True, 1, "plan: terraform exited with status 3"),
        (RunResult(-signal.SIGKILL), False, 1, "plan: terraform was killed by signal 9"),
        (RunResult(1, interrupted_by=signal.SIGINT), False, 130, None),
        (RunResult(1, interrupted_by=signal.SIGTERM), False, 143, None),
        # terraform finished its work before the signal could stop it: the command completed.
        (RunResult(0, interrupted_by=signal.SIGINT), False, 0, None),
    ],
)
def test_tofu_exit_code(result: RunResult, detailed: bool, code: int, note: str | None) -> None:
    status = exit_status(TofuOutcome("plan", result), detailed_exitcode=detailed)
    assert status == ExitStatus(code, (note,) if note else ())


@pytest.mark.parametrize(("status", "code"), [(2, 1), (1, 1), (0, 0)])
def test_a_failed_automatic_init_never_reads_as_changes(status: int, code: int) -> None:
    outcome = TofuOutcome("init", RunResult(status))
    assert exit_status(outcome, detailed_exitcode=True) == ExitStatus(
        code, ("init: terraform exited with status 2",) if status == 2 else ()
    )


def test_an_apply_stopped_after_a_finished_intermediate_step_is_interrupted() -> None:
    # Ctrl-C landed as the apply's plan (or untaint, or old-table destroy) finished: that step
    # completed, but nothing was applied, so the command was interrupted.
    outcome = TofuOutcome("plan", RunResult(0, interrupted_by=signal.SIGINT), finished=False)
    assert exit_status(outcome, detailed_exitcode=False).code == 130
    finished = TofuOutcome("apply", RunResult(0, interrupted_by=signal.SIGINT))
    assert exit_status(finished, detailed_exitcode=False).code == 0


@pytest.mark.parametrize(
    ("result", "detailed", "code"),
    [
        (RunResult(0), False, 141),
        (RunResult(2), True, 141),  # changes, as a plan --detailed-exitcode reports them
        (RunResult(0), True, 141),
        (RunResult(1), False, 1),  # a failure's own code stands
        (RunResult(3), False, 1),
        (RunResult(1, interrupted_by=signal.SIGINT), False, 130),
    ],
)
def test_a_reader_that_went_away_while_terraform_ran_turns_only_a_success_into_141(
    result: RunResult, detailed: bool, code: int
) -> None:
    outcome = TofuOutcome("plan", result, output_lost=True)
    assert exit_status(outcome, detailed_exitcode=detailed).code == code


def _loaded(text: str) -> LoadedManifest:
    document = parse_yaml(text, "m.yaml")
    return LoadedManifest(path=Path("m.yaml"), document=document, model=validate_document(document, "m.yaml"))


FLAT = """\
apiVersion: aws.project-planton.org/v1
kind: AwsDynamodb
metadata: {name: carts}
spec:
  billing_mode: PROVISIONED
  read_capacity_units: 5
  write_capacity_units: 5
  partition_key_name: cart_id
  partition_key_type: STRING
  contributor_insights_enabled: INSIGHTS
  global_secondary_indexes:
    - {name: by-user, partition_key_name: user_id, partition_key_type: STRING, read_capacity_units: 1,
       write_capacity_units: 1}
    - name: by-shop
      partition_key_name: shop_id
      partition_key_type: STRING
      write_capacity_units: 1
      autoscaling: {read: {min_capacity: 1, max_capacity: 5}}
"""


def test_emulator_gaps_are_the_fields_turned_on_as_the_manifest_spells_them() -> None:
    gaps = emulator_gaps(_loaded(FLAT.replace("INSIGHTS", "true")))
    assert [field for field, _ in gaps] == [
        "spec.contributor_insights_enabled",
        "spec.global_secondary_indexes[1].autoscaling",
    ]
    assert "HTTP 500" in gaps[0][1]
    assert [field for field, _ in emulator_gaps(_loaded(FLAT.replace("INSIGHTS", "false")))] == [
        "spec.global_secondary_indexes[1].autoscaling"
    ]


class _StoreThatCannotWrite(LocalRecordStore):
    """A record store whose backend is unreachable (S3 down at the moment of the interruption)."""

    def record_interrupted_create(self, create: InterruptedCreate) -> None:
        raise EnvironmentNotReady("cannot write s3://team-state/orders.tfstate.planton.json: EndpointConnectionError")


def test_an_interrupted_create_that_cannot_be_remembered_is_said_and_the_interruption_stays(tmp_path: Path) -> None:
    environ = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": "/usr/bin:/bin"}
    asked = TofuRequest(
        operation=operation("apply"),
        source=ManifestSource(manifest=HACK_MANIFEST),
        binary=Given("/bin/true", "--binary"),
        work_dir=Given(tmp_path / "work", "--work-dir"),
        auto_approve=True,
    )
    warned: list[str] = []
    ui = Ui(
        notify=lambda _line: None,
        warn=lambda findings: warned.extend(finding.text() for finding in findings),
        confirm=lambda _lines: False,
    )
    prepared = prepare(asked, environ, tmp_path, ui.notify)
    session = Session(asked, prepared, environ, ui)
    session.records = _StoreThatCannotWrite(tmp_path)
    after_apply(session, RunResult(1, interrupted_by=signal.SIGINT), creates=True, agreed_loss=False)
    (warning,) = warned
    assert warning.startswith("planton could not remember its interrupted create of table planton-demo-orders")
    assert "EndpointConnectionError" in warning
    assert f"planton tofu import -f {HACK_MANIFEST}" in warning
    assert session.memory_lost
