"""An apply that succeeded is reported as one, whatever happens when its outputs are read
afterwards."""

from __future__ import annotations

from pathlib import Path

from planton.errors import EnvironmentNotReady
from planton.operations.apply import finish_apply
from planton.operations.catalogue import operation
from planton.operations.request import TofuRequest, prepare
from planton.operations.session import JudgedPlan, Session, Ui
from planton.plan import Decision
from planton.plan_summary import summarise
from planton.runner import RunResult
from planton.settings import Given
from planton.source import ManifestSource

from support import HACK_MANIFEST


def test_a_successful_apply_whose_state_cannot_be_read_back_is_still_a_success(tmp_path: Path) -> None:
    environ = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "PATH": "/usr/bin:/bin"}
    asked = TofuRequest(
        operation=operation("apply"),
        source=ManifestSource(manifest=HACK_MANIFEST),
        binary=Given("/bin/true", "--binary"),
        work_dir=Given(tmp_path / "work", "--work-dir"),
        auto_approve=True,
    )
    ui = Ui(notify=lambda _line: None, warn=lambda _lines: None, confirm=lambda _lines: False)
    prepared = prepare(asked, environ, tmp_path, ui.notify)
    prepared.workspace.root.mkdir(parents=True)
    session = Session(asked, prepared, environ, ui)
    session.state_written = True  # terraform's apply just wrote it

    def s3_hiccup() -> None:
        # An S3 state read after the apply: a dropped connection, credentials that expired while
        # the apply ran. `terraform output` failing the same way was not an error before.
        raise EnvironmentNotReady("cannot read s3://team-state/orders.tfstate: EndpointConnectionError")

    session.read_state = s3_hiccup  # type: ignore[method-assign]
    judged = JudgedPlan(Decision(changes=True), summarise({}))
    outcome = finish_apply(session, RunResult(0), judged, creates=False, agreed_loss=False)
    assert outcome.result.returncode == 0
    assert outcome.outputs is None
    assert any("the apply succeeded, but its outputs cannot be read back" in note for note in outcome.notes)
