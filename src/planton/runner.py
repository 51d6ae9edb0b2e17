"""The one place that starts tofu/terraform.

Argument lists only (never a shell), an environment built by the caller and passed whole, live
streaming for people and capture for machines. On Ctrl-C terraform is left to stop gracefully and
write its state; planton waits for it and then exits 130. terraform never writes to planton's
stdout or stderr itself: its output comes through pipes planton reads and forwards, so that when
whoever reads planton's output goes away (``apply | head -1``) terraform never notices. It runs
on and writes its state, its remaining output is dropped, and the result says so
(``output_lost``).

Built on ``subprocess`` rather than python-terraform: see docs/design.md.
"""

from __future__ import annotations

import errno
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from planton.errors import EnvironmentNotReady
from planton.files import write_atomically
from planton.settings import BINARY_ENV, STATUS_FD_ENV, Given

DEFAULT_BINARIES = ("tofu", "terraform")

# Flags each command always gets. ``-input=false`` because every variable comes from the
# rendered file: a prompt for one would mean a bug, and would hang a CI job.
_BASE_FLAGS: Mapping[str, tuple[str, ...]] = {
    "init": ("-input=false",),
    "plan": ("-input=false",),
    "apply": (),
    "destroy": (),
    "refresh": ("-input=false",),
    "output": ("-json",),
    "show": ("-json",),
    "import": ("-input=false",),
    "untaint": (),
    # `state pull`: the state as JSON, from whichever backend holds it.
    "state": (),
}
_APPROVABLE = frozenset({"apply", "destroy"})
# The commands that take the state lock, and so -lock-timeout.
_LOCKING = frozenset({"init", "plan", "apply", "destroy", "refresh", "import", "untaint"})
_COLOURED = frozenset({"init", "plan", "apply", "destroy", "refresh", "import"})
# terraform's commands that start the aws provider (init only installs it; show, output and
# state read files), and those that may write the state (plan, show, output and `state pull`
# never do: a plan's refresh is not saved).
STARTS_THE_PROVIDER = frozenset({"plan", "apply", "destroy", "refresh", "import"})
WRITES_STATE = frozenset({"init", "apply", "destroy", "refresh", "import", "untaint", "state"})
# How much of terraform's stderr a watched run keeps for planton to read (its last bytes).
_STDERR_KEPT = 64 * 1024
# What terraform writes (state, its backup, plans, .terraform/) is its owner's alone: a state or
# a plan holds the table's settings and outputs in clear text.
PRIVATE_UMASK = 0o077


def find_binary(requested: Given[str] | None, environ: Mapping[str, str]) -> Path:
    """``requested`` (``--binary``, or ``$PLANTON_TOFU_BINARY`` behind it), else ``tofu``, else
    ``terraform``, looked up on the ``PATH`` of ``environ``."""
    choice = requested.value if requested is not None and requested.value else None
    search_path = environ.get("PATH", os.defpath)
    if requested is not None and choice:
        found = shutil.which(choice, path=search_path) if os.sep not in choice else choice
        if found and os.access(found, os.X_OK) and os.path.isfile(found):
            # Absolute: terraform runs from the workspace, where a relative path means nothing.
            return Path(found).absolute()
        raise EnvironmentNotReady(f"{requested.source}: {_why_not_a_binary(choice, search_path)}")
    for name in DEFAULT_BINARIES:
        found = shutil.which(name, path=search_path)
        if found:
            return Path(found).absolute()
    raise EnvironmentNotReady(
        "neither tofu nor terraform is on PATH; install OpenTofu (https://opentofu.org) or "
        f"Terraform >= 1.5, or point --binary / {BINARY_ENV} at one"
    )


def _why_not_a_binary(choice: str, search_path: str) -> str:
    """Why ``choice`` (a path, or a name looked up on ``search_path``) cannot be run, and the fix."""
    if os.sep not in choice:
        on_path = [os.path.join(entry, choice) for entry in search_path.split(os.pathsep) if entry]
        found = next((path for path in on_path if os.path.isfile(path)), None)
        if found is None:
            return f"{choice!r} is not a command on PATH; give its path, or install tofu or terraform"
        choice = found  # on PATH, but cannot be run: say why, as for a path
    if not os.path.lexists(choice):
        return f"{choice!r}: no such file; check the path"
    if os.path.isdir(choice):
        return f"{choice!r} is a directory, not a program; give the tofu or terraform binary inside it"
    if not os.path.isfile(choice):
        return f"{choice!r} is not a regular file (a dangling link, a device or a pipe); give the binary itself"
    return f"{choice!r} is not executable; make it so (chmod +x {choice}) or give another binary"


# How long ``version -json`` may take: it only prints, but a wrapper script may do more.
_VERSION_TIMEOUT_SECONDS = 30.0
_VERSIONS_KEPT = 16


def binary_version(binary: Path, env: Mapping[str, str], remembered: Path | None) -> str:
    """The version ``binary version -json`` reports (``terraform_version``; tofu uses the same
    key); ``EnvironmentNotReady`` when it does not answer so. Remembered in the file
    ``remembered`` by the binary's path and identity (device, inode, size, modification time:
    what an upgrade or reinstall changes), so that a later run with the same binary starts no
    process to ask (an answer an older planton remembered as "unknown" is asked again)."""
    identity = _file_identity(binary)
    known = _read_versions(remembered)
    entry = known.get(str(binary))
    if identity is not None and isinstance(entry, dict) and entry.get("identity") == identity:
        version = entry.get("version")
        if isinstance(version, str) and version and not version.startswith("unknown"):
            return version
    version = _ask_version(binary, env)
    if remembered is not None and identity is not None:
        known.pop(str(binary), None)
        kept = dict(list(known.items())[-(_VERSIONS_KEPT - 1) :])
        kept[str(binary)] = {"identity": identity, "version": version}
        try:
            remembered.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(remembered, json.dumps(kept, indent=1) + "\n")
        except OSError:
            pass  # only a cache: asked again next time
    return version


def _file_identity(path: Path) -> list[int] | None:
    try:
        found = os.stat(path)
    except OSError:
        return None
    return [found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns]


def _read_versions(path: Path | None) -> dict[str, object]:
    if path is None:
        return {}
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def _ask_version(binary: Path, env: Mapping[str, str]) -> str:
    """``binary version -json``'s ``terraform_version``; ``EnvironmentNotReady`` saying exactly
    what is wrong when the binary cannot be started or does not answer as terraform and tofu do
    (a wrapper that fails, a script whose interpreter is missing, another program)."""
    # CHECKPOINT_DISABLE: terraform's version command otherwise asks HashiCorp whether a newer
    # release exists.
    try:
        asked = subprocess.run(
            [str(binary), "version", "-json"],
            env={**env, "CHECKPOINT_DISABLE": "1"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_VERSION_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentNotReady(
            f"{binary} did not answer `version -json` within {_VERSION_TIMEOUT_SECONDS:g}s; is it tofu or terraform?"
        ) from None
    except OSError as err:
        raise EnvironmentNotReady(f"cannot start {binary}: {why_it_cannot_start(binary, err)}") from None
    text = asked.stdout.decode("utf-8", errors="replace")
    try:
        version = json.loads(text).get("terraform_version")
    except (ValueError, AttributeError):
        version = None
    if asked.returncode == 0 and isinstance(version, str) and version:
        return version
    printed = (text.strip() or asked.stderr.decode("utf-8", errors="replace").strip()).splitlines()
    said = f": {printed[0][:200]}" if printed else ", printing nothing"
    status = f"exited {asked.returncode}" if asked.returncode >= 0 else f"was killed by signal {-asked.returncode}"
    raise EnvironmentNotReady(
        f"{binary} is not a working tofu or terraform: `version -json` {status}{said}; point --binary "
        f"(or {BINARY_ENV}) at tofu or terraform"
    )


def why_it_cannot_start(binary: Path, err: OSError) -> str:
    """Why ``binary`` could not be started: a script's missing interpreter is named, not
    reported as the binary itself missing (as the kernel's ENOENT would have it)."""
    if err.errno == errno.ENOENT and binary.exists():
        interpreter = _interpreter(binary)
        if interpreter:
            return f"its interpreter {interpreter} (its #! line) does not exist"
        return "it, or a program it needs, does not exist"
    if err.errno == errno.ENOEXEC:
        return "it is not a program this machine can run (no #! line, or built for another system)"
    return err.strerror or str(err)


def _interpreter(binary: Path) -> str | None:
    try:
        with open(binary, "rb") as handle:
            first = handle.readline(256)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", errors="replace").split()
    return words[0] if words else None


@dataclass(frozen=True)
class CommandOptions:
    """What varies between two runs of the same terraform command."""

    auto_approve: bool = False
    colour: bool = True
    plugin_dir: Path | None = None
    detailed_exitcode: bool = False
    # terraform's own spelling of a duration (30s, 5m): how long to wait for the state lock.
    lock_timeout: str | None = None
    # init only: move the state from the backend the workspace used to the one configured now
    # (without a question: -force-copy), or forget the old backend's settings (-reconfigure:
    # the state stays where it is, as when only the lock settings changed).
    migrate_state: bool = False
    reconfigure: bool = False
    extra: tuple[str, ...] = ()


def build_args(command: str, options: CommandOptions = CommandOptions()) -> list[str]:
    """The argument list (without the binary) for one terraform ``command``."""
    if command not in _BASE_FLAGS:
        raise ValueError(f"planton does not run terraform {command!r}")
    args = [command, *_BASE_FLAGS[command]]
    if command in _APPROVABLE and options.auto_approve:
        args += ["-auto-approve", "-input=false"]
    if command == "plan" and options.detailed_exitcode:
        args.append("-detailed-exitcode")
    if command == "init" and options.plugin_dir is not None:
        args.append(f"-plugin-dir={options.plugin_dir}")
    if command == "init" and options.migrate_state:
        args += ["-migrate-state", "-force-copy"]
    elif command == "init" and options.reconfigure:
        args.append("-reconfigure")
    if command in _COLOURED and not options.colour:
        args.append("-no-color")
    if command in _LOCKING and options.lock_timeout is not None:
        args.append(f"-lock-timeout={options.lock_timeout}")
    args.extend(options.extra)
    return args


@dataclass(frozen=True)
class Invocation:
    """A fully decided process start: nothing about it comes from ambient state."""

    binary: Path
    args: Sequence[str]
    cwd: Path
    env: Mapping[str, str] = field(repr=False)

    @property
    def argv(self) -> list[str]:
        """The binary followed by its arguments."""
        return [str(self.binary), *self.args]


@dataclass(frozen=True)
class RunResult:
    """How a run ended. ``interrupted_by`` is the signal planton received, if any;
    ``output_lost`` is True when planton's stdout or stderr lost its reader (a broken pipe) while
    terraform's output was forwarded to it: terraform ran on, and what it wrote after that was
    dropped."""

    returncode: int
    stdout: str = ""
    interrupted_by: int | None = None
    stderr: str = ""
    output_lost: bool = False
    # --timeout ran out: planton interrupted terraform (``interrupted_by`` is SIGINT).
    timed_out: bool = False


# Where an echoed line of terraform's output goes: planton's stdout (1) or stderr (2).
Echo = Callable[[str, int], None]


def run(
    invocation: Invocation,
    *,
    capture: bool = False,
    stdout_to_stderr: bool = False,
    watch_stderr: bool = False,
    echo: Echo | None = None,
    inherit: Sequence[int] = (),
    on_start: Callable[[int], None] | None = None,
    deadline: float | None = None,
) -> RunResult:
    """Run to completion, streaming output live (or capturing stdout when ``capture``; or
    sending it to stderr when ``stdout_to_stderr``, to keep planton's stdout for data). With
    ``watch_stderr`` terraform's stderr is still shown live, and its end is kept in the result
    for planton to recognise an error by. With ``echo``, terraform's output is handed over line
    by line instead of forwarded to planton's streams as it comes (a terminal's spinner then
    keeps its place below it); each line says which of planton's streams it belongs on.

    terraform's stdout and stderr are pipes that planton drains to the end whatever becomes of
    its own streams (a captured run keeps its stderr as before: planton's own, unless watched or
    echoed). When forwarding meets a broken pipe, the rest is dropped and the result's
    ``output_lost`` says so; any other failure to forward is raised once terraform has finished.

    SIGINT and SIGTERM do not stop planton while terraform runs: terraform runs in a process
    group of its own (with no terminal to read: every value comes from files) and each signal
    planton receives is passed on to it exactly once. So a terminal's Ctrl-C (which reaches only
    the terminal's foreground group: planton's) and a signal sent to planton alone reach
    terraform alike, and one Ctrl-C is never delivered twice (a second SIGINT makes terraform
    abort without saving its state: only the user's own second Ctrl-C may do that).

    ``inherit`` are descriptors terraform keeps open (the workspace's lock, so that it stays
    held while terraform runs even if planton is killed); ``on_start`` is told terraform's PID.
    When ``deadline`` (``time.monotonic()``) passes, terraform gets SIGINT, as from Ctrl-C, and is
    waited for; the result says ``timed_out``.
    """
    received: list[int] = []
    started: list[subprocess.Popen[bytes]] = []
    timed_out = False

    def forward(signum: int) -> None:
        if started and started[0].poll() is None:
            started[0].send_signal(signum)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        forward(signum)

    stdout_fd = 2 if stdout_to_stderr else 1
    # Handlers go in before the child starts, so no Ctrl-C can orphan it: one that lands while
    # it starts is forwarded as soon as it exists.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    readers: list[_PipeReader] = []
    try:
        err_reader = None
        if not capture or echo is not None or watch_stderr:
            err_reader = _PipeReader(
                _echo_lines(echo, 2) if echo else _forward(2), keep=watch_stderr, fallback=_forward(2) if echo else None
            )
            readers.append(err_reader)
        out_reader = None
        if not capture:
            out_reader = _PipeReader(
                _echo_lines(echo, stdout_fd) if echo else _forward(stdout_fd),
                keep=False,
                fallback=_forward(stdout_fd) if echo else None,
            )
            readers.append(out_reader)
        try:
            process = subprocess.Popen(
                invocation.argv,
                cwd=invocation.cwd,
                env=dict(invocation.env),
                stdout=out_reader.write_end if out_reader else subprocess.PIPE,
                stderr=err_reader.write_end if err_reader else None,
                stdin=subprocess.DEVNULL,
                process_group=0,
                umask=PRIVATE_UMASK,
                pass_fds=tuple(inherit),
            )
        except OSError as err:
            raise EnvironmentNotReady(
                f"cannot start {invocation.binary}: {why_it_cannot_start(invocation.binary, err)}"
            ) from None
        finally:
            for reader in readers:
                reader.started()
        started.append(process)
        if on_start is not None:
            on_start(process.pid)
        for signum in list(received):
            forward(signum)
        try:
            stdout_bytes, _ = process.communicate(timeout=None if deadline is None else deadline - time.monotonic())
        except subprocess.TimeoutExpired:
            # --timeout: interrupted as Ctrl-C would, and then waited for, as after Ctrl-C.
            timed_out = True
            received.append(signal.SIGINT)
            process.send_signal(signal.SIGINT)
            stdout_bytes, _ = process.communicate()
    finally:
        for reader in readers:
            reader.finish()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for reader in readers:
        if reader.failure is not None:
            raise reader.failure
    text = stdout_bytes.decode("utf-8", errors="replace") if stdout_bytes else ""
    stderr = err_reader.text() if err_reader and watch_stderr else ""
    lost = any(reader.reader_gone for reader in readers)
    return RunResult(
        process.returncode, text, received[0] if received else None, stderr, output_lost=lost, timed_out=timed_out
    )


class _PipeReader:
    """A pipe for one of the child's streams, handed to ``sink`` chunk by chunk as it arrives
    (so people see it live), with its last bytes kept when ``keep``. The pipe is drained to its
    end whatever the sink does. A broken pipe stops the delivery (``reader_gone``: nobody reads
    any more); any other failure of the sink is kept in ``failure`` (raised once the child has
    finished) and the rest goes to ``fallback`` (the stream itself, when the sink shows lines on
    it), so that none of terraform's output is lost to a bug in showing it."""

    def __init__(
        self, sink: Callable[[bytes], None], *, keep: bool, fallback: Callable[[bytes], None] | None = None
    ) -> None:
        self._read_end, self.write_end = os.pipe()
        self._kept = bytearray()
        self._keep = keep
        self._fallback = fallback
        self._sink: Callable[[bytes], None] | None = sink
        self.reader_gone = False
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._copy, name="terraform-output", daemon=True)

    def started(self) -> None:
        """The child has its copy of the write end (or failed to start): drop ours, and copy."""
        os.close(self.write_end)
        self._thread.start()

    def _copy(self) -> None:
        while chunk := os.read(self._read_end, 65536):
            if self._keep:
                self._kept += chunk
                del self._kept[:-_STDERR_KEPT]
            self._deliver(chunk)
        self._deliver(b"")  # the end: a sink that buffers lines hands over the last one

    def _deliver(self, chunk: bytes) -> None:
        if self._sink is None:
            return
        try:
            self._sink(chunk)
        except BrokenPipeError:  # nobody reads planton's output any more: keep draining the pipe
            self._sink = None
            self.reader_gone = True
        except BaseException as failure:  # run() raises it once the child has finished
            self._sink, self._fallback = self._fallback, None
            if self.failure is None:
                self.failure = failure
            if self._sink is not None:
                self._deliver(chunk)  # this chunk too, whole: a line shown twice, rather than none

    def finish(self) -> None:
        """Wait for the child's stream to close (it has exited) and release the pipe."""
        if self._thread.ident is not None:  # started
            self._thread.join()
        os.close(self._read_end)

    def text(self) -> str:
        return self._kept.decode("utf-8", errors="replace")


def _forward(fd: int) -> Callable[[bytes], None]:
    """Chunks written as they come, whole, to planton's stdout (``fd`` 1) or stderr (2); nowhere
    when planton was started without that stream (``>&-``, ``2>&-``). A reader that went away is
    a BrokenPipeError (Python ignores SIGPIPE)."""
    target = _planton_fd(sys.stdout if fd == 1 else sys.stderr)

    def write(chunk: bytes) -> None:
        remaining = memoryview(chunk)
        while target is not None and remaining:
            try:
                remaining = remaining[os.write(target, remaining) :]
            except BlockingIOError:  # a non-blocking stream shared with another program: wait
                select.select([], [target], [])

    return write


def _echo_lines(echo: Echo, fd: int) -> Callable[[bytes], None]:
    """Chunks split into lines for ``echo``; an empty chunk (the end) flushes a last partial line."""
    pending = bytearray()

    def deliver(chunk: bytes) -> None:
        pending.extend(chunk)
        *lines, rest = pending.split(b"\n")
        if not chunk and rest:
            lines.append(rest)
            rest = bytearray()
        pending[:] = rest
        for line in lines:
            echo(line.decode("utf-8", errors="replace"), fd)

    return deliver


def _planton_fd(stream: IO[str] | None) -> int | None:
    """The file descriptor behind one of planton's streams, or None when planton was started
    without it (its number may then belong to a file planton opened since)."""
    try:
        return stream.fileno() if stream is not None else None
    except (OSError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Several children at once: a fleet of manifests, one planton child each.


@dataclass(frozen=True)
class ChildEvents:
    """What ``run_children`` reports as the children run, each call naming the child by its
    index. Called from reader threads (``line``, ``status``) and the calling thread (``started``,
    ``ended``); the receiver serialises what it prints."""

    started: Callable[[int], None]
    # A line the child wrote on stderr, and a status line on its status pipe.
    line: Callable[[int, str], None]
    status: Callable[[int, str], None]
    ended: Callable[[int, RunResult], None]


def run_children(
    invocations: Sequence[Invocation],
    *,
    at_once: int,
    events: ChildEvents,
    stop_starting: Callable[[RunResult], bool] = lambda _result: False,
    capture_stdout: bool = True,
) -> tuple[list[RunResult | None], int | None]:
    """Run every invocation, at most ``at_once`` at a time, in order; each child's stdout is
    captured (its result's ``stdout``: a JSON document), or with ``capture_stdout`` False handed
    over with its stderr; its stderr and status pipe are handed over line by line.
    The results, None for a child never started, and the signal planton received, if any.

    Children run without a terminal (stdin is /dev/null) and in process groups of their own, so
    a terminal's Ctrl-C reaches planton alone: each SIGINT or SIGTERM planton receives is
    forwarded once to every running child, no new child starts, and planton waits for the
    running ones to finish (each lets its terraform write its state). ``stop_starting`` is asked
    about each result: True (``--fail-fast`` after a failure) also starts no new child, and the
    running ones finish as they would."""
    results: list[RunResult | None] = [None] * len(invocations)
    running: dict[int, _Child] = {}
    received: list[int] = []
    finished: list[int] = []
    changed = threading.Condition()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        for child in list(running.values()):
            if child.process.poll() is None:
                child.process.send_signal(signum)

    def wait_for(index: int, child: _Child) -> None:
        child.process.wait()
        for reader in child.readers:
            reader.finish()
        with changed:
            finished.append(index)
            changed.notify()

    def collect() -> list[int]:
        with changed:
            while not finished:
                changed.wait()
            done = list(finished)
            finished.clear()
        return done

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        next_index = 0
        stopping = False
        while True:
            while not received and not stopping and next_index < len(invocations) and len(running) < at_once:
                index = next_index
                next_index += 1
                events.started(index)
                child = _Child.start(invocations[index], index, events, capture_stdout=capture_stdout)
                running[index] = child
                if received:  # a signal that came while it started, before the handler could see it
                    child.process.send_signal(received[0])
                threading.Thread(target=wait_for, args=(index, child), name="planton-child", daemon=True).start()
            if not running:
                break
            for index in collect():
                child = running.pop(index)
                result = RunResult(child.process.returncode, child.stdout(), received[0] if received else None)
                results[index] = result
                events.ended(index, result)
                stopping = stopping or stop_starting(result)
    except BaseException:
        # Whatever went wrong here (a child that could not start, a report that failed), the
        # children already running finish before it is raised: none is left behind unwatched.
        while running:
            for index in collect():
                running.pop(index, None)
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return results, (received[0] if received else None)


class _Child:
    """A running planton child: its process, and the readers of its stdout (kept whole), stderr
    and status pipe (handed over line by line)."""

    def __init__(self, process: subprocess.Popen[bytes], kept: list[bytes], readers: list[_PipeReader]) -> None:
        self.process = process
        self._kept = kept
        self.readers = readers

    @classmethod
    def start(cls, invocation: Invocation, index: int, events: ChildEvents, *, capture_stdout: bool) -> _Child:
        kept: list[bytes] = []
        err = _PipeReader(_echo_lines(lambda text, _fd: events.line(index, text), 2), keep=False)
        status = _PipeReader(_echo_lines(lambda text, _fd: events.status(index, text), 2), keep=False)
        # Without a document to capture, stdout is terraform's text: it joins stderr's lines.
        out = _PipeReader(kept.append, keep=False) if capture_stdout else None
        readers = [reader for reader in (out, err, status) if reader is not None]
        try:
            process = subprocess.Popen(
                invocation.argv,
                cwd=invocation.cwd,
                env={**invocation.env, STATUS_FD_ENV: str(status.write_end)},
                stdin=subprocess.DEVNULL,
                stdout=out.write_end if out is not None else err.write_end,
                stderr=err.write_end,
                pass_fds=(status.write_end,),
                process_group=0,
            )
        except OSError as err_:
            for reader in readers:
                reader.started()
                reader.finish()
            raise EnvironmentNotReady(f"cannot start {invocation.binary}: {err_.strerror}") from None
        for reader in readers:
            reader.started()
        return cls(process, kept, readers)

    def stdout(self) -> str:
        return b"".join(self._kept).decode("utf-8", errors="replace")
