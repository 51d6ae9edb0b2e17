"""The CLI's error boundary, in process through ``main(argv)``: every way a command can end
becomes a code, and nothing escapes."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any, NoReturn

import pytest
import typer

from planton.cli import output
from planton.cli.app import main
from planton.cli.early import detailed_exitcode_requested
from planton.errors import EnvironmentNotReady, OutputClosed
from planton.operations import validation

from support import HACK_MANIFEST


@pytest.fixture(autouse=True)
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Crash reports go to the test's own directory."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def validate_raises(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    def validate(*_: object) -> NoReturn:
        raise error

    monkeypatch.setattr(validation, "validate_manifest", validate)


def test_success_returns_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-f", str(HACK_MANIFEST)]) == 0
    assert "valid AwsDynamodb manifest" in capsys.readouterr().err


def test_usage_mistake_returns_2_with_clicks_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tofu", "plna"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "Usage: planton tofu [OPTIONS] COMMAND [ARGS]...",
        "Try 'planton tofu --help' for help.",
        "",
        "Error: No such command 'plna'. Did you mean 'plan'?",
    ]


def test_planton_error_returns_its_code(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    validate_raises(monkeypatch, EnvironmentNotReady("first line\nsecond line"))
    assert main(["validate", "-f", "x.yaml"]) == 3
    assert capsys.readouterr().err.splitlines() == ["error: first line", "second line"]


def test_bug_returns_70_and_writes_a_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_home: Path
) -> None:
    validate_raises(monkeypatch, KeyError("surprise"))
    assert main(["validate", "-f", "x.yaml"]) == 70
    [report] = (state_home / "planton" / "crash-reports").iterdir()
    assert capsys.readouterr().err.splitlines() == [
        f"error: planton hit a bug (builtins.KeyError); the full report is in {report}; "
        "please attach it to a bug report"
    ]
    assert "KeyError: 'surprise'" in report.read_text(encoding="utf-8")


def test_bug_without_anywhere_to_write_still_returns_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_report(*_: object) -> NoReturn:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("planton.crash_report.write_crash_report", no_report)
    validate_raises(monkeypatch, RuntimeError("boom"))
    assert main(["validate", "-f", "x.yaml"]) == 70
    assert capsys.readouterr().err.splitlines() == [
        "error: planton hit a bug (builtins.RuntimeError) and could not write a crash report (Permission denied); "
        "please report it"
    ]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_outside_terraform_is_interrupted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], signum: int, code: int
) -> None:
    def validate(*_: object) -> None:
        os.kill(os.getpid(), signum)
        time.sleep(5)
        pytest.fail("the signal did not interrupt")

    monkeypatch.setattr(validation, "validate_manifest", validate)
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    assert main(["validate", "-f", "x.yaml"]) == code
    assert capsys.readouterr().err.splitlines() == ["error: interrupted"]
    assert {sig: signal.getsignal(sig) for sig in before} == before, "handlers restored"


def test_a_signal_while_the_handlers_are_installed_is_held_until_the_command_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Python runs a handler at the next bytecode: here, before the try that catches what it
    # raises (this once escaped as a traceback, exit 1, under CI's load).
    install = signal.signal
    ran: list[str] = []

    def signal_then_interrupt(signum: int, handler: object) -> object:
        previous = install(signum, handler)  # type: ignore[arg-type]
        if signum == signal.SIGTERM and callable(handler) and not ran:
            ran.append("sent")
            os.kill(os.getpid(), signal.SIGINT)
        return previous

    monkeypatch.setattr(signal, "signal", signal_then_interrupt)
    monkeypatch.setattr(validation, "validate_manifest", lambda *_: ran.append("validated"))
    assert main(["validate", "-f", "x.yaml"]) == 130
    assert capsys.readouterr().err.splitlines() == ["error: interrupted"]
    assert ran == ["sent"], "the command never started"


def test_a_signal_as_the_command_returns_is_interrupted_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from planton.cli import boundary

    outcome = boundary._outcome

    def outcome_then_signal(*args: Any) -> Any:
        result = outcome(*args)
        os.kill(os.getpid(), signal.SIGTERM)
        return result

    monkeypatch.setattr(boundary, "_outcome", outcome_then_signal)
    assert main(["validate", "-f", str(HACK_MANIFEST)]) == 143
    assert capsys.readouterr().err.splitlines()[-1] == "error: interrupted"


@pytest.mark.parametrize("error", [typer.Abort(), KeyboardInterrupt()])
def test_abort_and_keyboard_interrupt_are_130(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    validate_raises(monkeypatch, error)
    assert main(["validate", "-f", "x.yaml"]) == 130


@pytest.mark.parametrize("error", [OutputClosed(), BrokenPipeError(32, "Broken pipe")])
def test_closed_output_is_141_without_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], error: BaseException
) -> None:
    monkeypatch.setattr("planton.cli.boundary.silence", lambda _stream: None)  # keep pytest's stdout
    validate_raises(monkeypatch, error)
    assert main(["validate", "-f", "x.yaml"]) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(("code", "expected"), [(None, 0), (0, 0), (3, 3)])
def test_a_system_exit_with_a_number_or_none_is_that_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int | None, expected: int
) -> None:
    validate_raises(monkeypatch, SystemExit(code))
    assert main(["validate", "-f", "x.yaml"]) == expected
    assert capsys.readouterr().err == ""


def test_a_system_exit_with_text_is_a_bug_reported_not_a_silent_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], state_home: Path
) -> None:
    # sys.exit("some text") from a library: no outcome planton knows; said, with a crash report.
    validate_raises(monkeypatch, SystemExit("a library gave up"))
    assert main(["validate", "-f", "x.yaml"]) == 70
    [report] = (state_home / "planton" / "crash-reports").iterdir()
    assert capsys.readouterr().err.splitlines() == [
        f"error: planton hit a bug (builtins.SystemExit); the full report is in {report}; "
        "please attach it to a bug report"
    ]
    assert "a library gave up" in report.read_text(encoding="utf-8")


def test_typer_exit_code_is_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    validate_raises(monkeypatch, typer.Exit(5))
    assert main(["validate", "-f", "x.yaml"]) == 5


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (typer.Exit(2), 2),  # a finished plan with changes
        (typer.Exit(0), 0),
        (typer.Exit(130), 1),
        (EnvironmentNotReady("no"), 1),
        (KeyError("bug"), 1),
        (KeyboardInterrupt(), 1),
    ],
)
def test_detailed_exitcode_leaves_only_0_1_2(monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int) -> None:
    def plan(*_: object, **__: object) -> NoReturn:
        raise error

    monkeypatch.setattr("planton.cli.tofu.run_tofu", plan)
    assert main(["tofu", "plan", "--detailed-exitcode", "-f", "x.yaml"]) == code


def test_detailed_exitcode_usage_mistake_is_1() -> None:
    assert main(["tofu", "plan", "--detailed-exitcode"]) == 1
    assert main(["tofu", "plan", "--detailed-exitcode", "-f", "x.yaml", "--nope"]) == 1


@pytest.mark.parametrize(
    ("argv", "requested"),
    [
        (["tofu", "plan", "--detailed-exitcode"], True),
        (["tofu", "plan", "--detailed-exitcode=yes"], True),
        (["tofu", "plan", "--", "--detailed-exitcode"], False),
        (["tofu", "plan", "--detailed"], False),
        ([], False),
    ],
)
def test_detailed_exitcode_requested(argv: list[str], requested: bool) -> None:
    assert detailed_exitcode_requested(argv) is requested


def test_entry_turns_an_interrupt_before_the_boundary_into_130(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Ctrl-C while Typer, Rich and pydantic are still being imported.
    import signal

    import planton.cli.app
    from planton.cli import entry

    def interrupted_import() -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(planton.cli.app, "main", interrupted_import)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert entry.main() == 130
        # Exiting from here on: a late Ctrl-C is ignored rather than raised.
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _reader_went_away_then(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """validate notes a reader that went away (as a print to a broken pipe does), then ends
    with ``error``."""

    def validate(*_: object) -> NoReturn:
        output._state["output_lost"] = True
        raise error

    monkeypatch.setattr(validation, "validate_manifest", validate)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (typer.Exit(0), 141),
        (typer.Exit(1), 1),  # terraform failed: a failure's own code stands
        (EnvironmentNotReady("no terraform"), 3),
    ],
)
def test_a_reader_that_went_away_turns_only_a_success_into_141(
    monkeypatch: pytest.MonkeyPatch, error: BaseException, code: int
) -> None:
    validate = validation.validate_manifest
    _reader_went_away_then(monkeypatch, error)
    assert main(["validate", "-f", "x.yaml"]) == code
    # The next command in this process starts afresh.
    monkeypatch.setattr(validation, "validate_manifest", validate)
    assert main(["validate", "-f", str(HACK_MANIFEST)]) == 0


@pytest.mark.parametrize(
    ("argv", "environ", "answered"),
    [
        (["--version"], {}, True),
        (["--version", "validate"], {}, False),
        (["validate", "--version"], {}, False),
        # A shell asking Typer to complete a word: Typer answers, whatever argv is.
        (["--version"], {"_PLANTON_COMPLETE": "bash_source"}, False),
        (["--version"], {"_PROJECT_PLANTON_COMPLETE": "zsh_source"}, False),
    ],
)
def test_entry_answers_only_a_lone_version(argv: list[str], environ: dict[str, str], answered: bool) -> None:
    from planton.cli import entry

    assert entry._only_the_version(argv, environ) is answered
