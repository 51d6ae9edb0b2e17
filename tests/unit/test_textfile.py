"""Bounded reads of whatever a user names: regular files, pipes, FIFOs, devices."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from planton.textfile import TextFile, UnreadableFile, read_text_file

LIMIT = 1000


def read(path: Path | str, wait: float = 5.0) -> TextFile:
    return read_text_file(Path(path), limit=LIMIT, wait_seconds=wait)


def test_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("a: café\n", encoding="utf-8")
    assert read(path) == TextFile(text="a: café\n", regular=True)


def test_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"x" * LIMIT)
    assert read(path).text == "x" * LIMIT


def test_one_byte_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"x" * (LIMIT + 1))
    with pytest.raises(UnreadableFile, match=f"^is larger than the {LIMIT} bytes planton reads$"):
        read(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such file"),
        (lambda p: p, "is a directory; name the file itself"),
        (lambda p: p / "missing-dir" / "m.yaml", "no such file"),
    ],
)
def test_unreadable(tmp_path: Path, make: object, message: str) -> None:
    with pytest.raises(UnreadableFile) as caught:
        read(make(tmp_path))  # type: ignore[operator]
    assert str(caught.value) == message


def test_path_through_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("", encoding="utf-8")
    with pytest.raises(UnreadableFile, match=r"^cannot be opened: Not a directory$"):
        read(tmp_path / "f" / "m.yaml")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(b"caf\xe9")
    with pytest.raises(UnreadableFile, match=r"^is not UTF-8 text$"):
        read(path)


def test_dev_zero_stops_at_the_limit() -> None:
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match="larger than"):
        read("/dev/zero")
    assert time.monotonic() - started < 5


def test_dev_null_is_empty_and_not_regular() -> None:
    assert read("/dev/null") == TextFile(text="", regular=False)


def test_pipe_is_read_to_its_end() -> None:
    read_end, write_end = os.pipe()

    def write_slowly() -> None:
        for part in (b"a: 1\n", b"b: 2\n"):
            time.sleep(0.1)
            os.write(write_end, part)
        os.close(write_end)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    try:
        assert read(f"/proc/self/fd/{read_end}") == TextFile(text="a: 1\nb: 2\n", regular=False)
    finally:
        writer.join()
        os.close(read_end)


def test_pipe_over_the_limit() -> None:
    read_end, write_end = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write_end, b"x" * (LIMIT + 500)), os.close(write_end)))
    writer.start()
    try:
        with pytest.raises(UnreadableFile, match="larger than"):
            read(f"/proc/self/fd/{read_end}")
    finally:
        writer.join()
        os.close(read_end)


def test_fifo_without_a_writer_gives_up_at_the_deadline(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match=r"^nothing finished arriving within 0\.3 seconds"):
        read(fifo, wait=0.3)
    assert 0.3 <= time.monotonic() - started < 3


def test_pipe_that_never_closes_gives_up_at_the_deadline() -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, b"a: 1\n")  # some data, then the writer just stays open
    try:
        with pytest.raises(UnreadableFile, match=r"nothing finished arriving within 0\.3 seconds"):
            read(f"/proc/self/fd/{read_end}", wait=0.3)
    finally:
        os.close(write_end)
        os.close(read_end)


@pytest.mark.skipif(not os.access("/proc/kmsg", os.R_OK), reason="/proc/kmsg is not readable by this user")
def test_a_regular_file_whose_read_blocks_gives_up_at_the_deadline() -> None:
    # /proc/kmsg says it is a regular file, and a read waits for the next kernel message.
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match=r"nothing finished arriving within 0.3 seconds"):
        read_text_file(Path("/proc/kmsg"), limit=1 << 20, wait_seconds=0.3)
    assert time.monotonic() - started < 5


# A signal that does not interrupt the wait itself: sent to another thread, whose handler only
# notes it (as happens to any signal that arrives just before the main thread begins to wait).
# The wait must end at once all the same, so that Ctrl-C never waits for the whole wait_seconds.
SIGNAL_ELSEWHERE = """\
import contextlib, os, signal, sys, threading, time
from pathlib import Path
from planton.textfile import read_text_file

fifo = sys.argv[1]

class Stop(BaseException):
    pass

def stop(*_):
    raise Stop

def has_the_fifo_open():
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == fifo:
                return True
    return False

def signal_this_thread_once_the_fifo_is_open():
    while not has_the_fifo_open():
        time.sleep(0.001)
    signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

signal.signal(signal.SIGUSR1, stop)
threading.Thread(target=signal_this_thread_once_the_fifo_is_open, daemon=True).start()
try:
    read_text_file(Path(fifo), limit=100, wait_seconds=3600)
except Stop:
    print("stopped")
"""


def test_a_signal_ends_the_wait_even_when_it_does_not_interrupt_it(tmp_path: Path) -> None:
    fifo = tmp_path / "nobody-writes.fifo"
    os.mkfifo(fifo)
    # The timeout is only how long a failure takes to show (without the fix: the whole hour).
    result = subprocess.run(
        [sys.executable, "-c", SIGNAL_ELSEWHERE, str(fifo)], capture_output=True, text=True, timeout=120
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "stopped\n", "")
