"""Writing files the user asked for (reports, exports): atomically, and never through a planted symlink.

A report is written to a new temporary file in the destination's directory and renamed into place, so
a reader never sees half a report and a crash never leaves one. A destination that is a symbolic link
is refused unless the user asks to follow it: in a shared reports directory a planted
``gap-report.html -> ~/.bashrc`` would otherwise make Annexa overwrite the link's target.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO


class OutputError(Exception):
    """A file the user asked for cannot be written there: one line naming the path and what to do."""


def check_destination(path: Path, *, follow_symlinks: bool = False) -> Path:
    """The path to write (the link's target when following symlinks), or OutputError before any work."""
    if path.is_symlink():
        if not follow_symlinks:
            raise OutputError(
                f"{path} is a symbolic link; refusing to write through it (remove it, or pass --follow-symlinks)"
            )
        path = path.resolve()
    if path.is_dir():
        raise OutputError(f"{path} is a directory; give a file name for the output")
    parent = path.parent
    existing = parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK):
        raise OutputError(f"cannot write {path}: {existing} is not writable")
    return path


def check_directory(directory: Path, names: Iterable[str], *, follow_symlinks: bool = False) -> None:
    """Every file of a report directory can be written: checked before a run starts."""
    if directory.exists() and not directory.is_dir():
        raise OutputError(f"--report-dir {directory} is a file, not a directory")
    for name in names:
        check_destination(directory / name, follow_symlinks=follow_symlinks)


def write_text(path: Path, text: str, *, follow_symlinks: bool = False) -> Path:
    return write_bytes(path, text.encode("utf-8"), follow_symlinks=follow_symlinks)


def write_bytes(path: Path, data: bytes, *, follow_symlinks: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename; returns the path written."""
    return write_streamed(path, lambda handle: handle.write(data), follow_symlinks=follow_symlinks)


def write_streamed(path: Path, produce: Callable[[IO[bytes]], object], *, follow_symlinks: bool = False) -> Path:
    """Let ``produce`` write into a temporary file beside ``path``, then rename it into place: a large
    output (the auditor pack) streams to disk, and a reader never sees half a file."""
    target = check_destination(path, follow_symlinks=follow_symlinks)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            produce(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 would hide reports from their readers
        os.replace(temporary, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise OutputError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return target


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def refuse_terminal(output: Path | None, what: str) -> None:
    """A binary document (PDF, XLSX) is never written to a terminal."""
    if output is None and sys.stdout.isatty():
        raise OutputError(f"{what} is not written to a terminal: give -o FILE, or redirect standard output")


def emit_bytes(data: bytes, output: Path | None, *, follow_symlinks: bool = False) -> None:
    """Write a binary document to ``output`` (atomically, saying so on stderr) or to standard output."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_bytes(output, data, follow_symlinks=follow_symlinks)
    print(f"wrote {output}", file=sys.stderr)
