"""Read a small text file a user names, whatever it turns out to be, in bounded time and memory.

A path can be a regular file, but also ``/dev/stdin``, a process substitution (``<(...)``, a pipe
under ``/dev/fd``), a FIFO nobody writes to, ``/dev/zero`` or a terminal. ``stat()`` cannot be
trusted for any of these (a pipe's size is 0, ``/dev/zero``'s too), so the read itself is
bounded: never more than ``limit + 1`` bytes, and never longer than ``wait_seconds`` (the file is
opened without blocking, so a FIFO with no writer cannot hang the open either).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 64 * 1024


class UnreadableFile(Exception):
    """The file cannot be read as asked; the message says why, for the person who named it."""


@dataclass(frozen=True)
class TextFile:
    """A file's text, and whether it came from a regular file (not a pipe, FIFO or device)."""

    text: str
    regular: bool


def read_text_file(path: Path, *, limit: int, wait_seconds: float) -> TextFile:
    """Read ``path`` as UTF-8 text of at most ``limit`` bytes."""
    try:
        # O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, forever.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UnreadableFile("no such file") from None
    except PermissionError:
        raise UnreadableFile("permission denied; check the file's permissions") from None
    except OSError as err:
        raise UnreadableFile(f"cannot be opened: {err.strerror}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise UnreadableFile("is a directory; name the file itself")
        regular = stat.S_ISREG(mode)
        # Regular files go through the same bounded loop: some claim to be regular and block
        # on read all the same (/proc/kmsg), and a hung network mount blocks too.
        data = _read_bounded(descriptor, limit, time.monotonic() + wait_seconds, wait_seconds)
    except OSError as err:
        raise UnreadableFile(f"cannot be read: {err.strerror}") from None
    finally:
        os.close(descriptor)
    if len(data) > limit:
        raise UnreadableFile(f"is larger than the {limit} bytes planton reads")
    try:
        return TextFile(text=data.decode("utf-8"), regular=regular)
    except UnicodeDecodeError:
        raise UnreadableFile("is not UTF-8 text") from None


def _read_bounded(descriptor: int, limit: int, deadline: float, wait_seconds: float) -> bytes:
    """Read a file, pipe, FIFO, terminal or device until end of file, ``limit + 1`` bytes, or
    the deadline, whichever comes first."""
    poller = select.poll()
    poller.register(descriptor, select.POLLIN | select.POLLPRI)
    chunks: list[bytes] = []
    size = 0
    with _woken_by_signals(poller) as wakeup:
        while size <= limit:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UnreadableFile(
                    f"nothing finished arriving within {wait_seconds:g} seconds (a pipe or FIFO that no one "
                    "writes to, or a terminal?); give a file, or write the whole manifest into the pipe"
                )
            ready = {fd for fd, _ in poller.poll(remaining * 1000)}
            if wakeup in ready:
                # A signal came; its handler runs now, between bytecodes (Ctrl-C raises there).
                with contextlib.suppress(BlockingIOError):
                    os.read(wakeup, 512)
            if descriptor not in ready:
                continue
            try:
                chunk = os.read(descriptor, min(_CHUNK, limit + 1 - size))
            except BlockingIOError:
                continue
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    return b"".join(chunks)


@contextlib.contextmanager
def _woken_by_signals(poller: select.poll) -> Iterator[int | None]:
    """A descriptor ``poller`` also watches, readable once a signal has arrived (None where
    signals are not handled: outside the main thread).

    Python runs a signal's handler between bytecodes; a signal that arrives after the last
    check and before ``poll`` has begun does not interrupt it, so without this a Ctrl-C could
    wait for the whole ``wait_seconds``. The interpreter writes a byte to its wakeup descriptor
    for every signal it catches, whenever it comes."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    read_end, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        try:
            poller.register(read_end, select.POLLIN)
            yield read_end
        finally:
            signal.set_wakeup_fd(previous)
    finally:
        os.close(read_end)
        os.close(write_end)
