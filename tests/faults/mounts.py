"""Small, real file systems for fault tests: a size-limited tmpfs (disk full) and read-only bind mounts.

Both need root (CI and the development machines run as root). Elsewhere the tests skip, except in CI,
where a missing capability is a failure rather than a silent skip.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(args: list[str]) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        message = f"cannot mount ({' '.join(args)}): {done.stderr.strip()}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


@contextlib.contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` (e.g. "512k") mounted at ``path`` for the duration of the block."""
    path.mkdir(parents=True, exist_ok=True)
    _mount(["-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)])
    try:
        yield path
    finally:
        _umount(path)


@contextlib.contextmanager
def read_only_view(source: Path, path: Path) -> Iterator[Path]:
    """``source`` seen read-only at ``path`` (a read-only bind mount: even root cannot write there)."""
    path.mkdir(parents=True, exist_ok=True)
    _mount(["--bind", str(source), str(path)])
    try:
        _mount(["-o", "remount,ro,bind", str(path)])
        yield path
    finally:
        _umount(path)


def fill(directory: Path, leave_bytes: int = 0) -> Path:
    """Fill the file system holding ``directory`` until at most ``leave_bytes`` are free."""
    filler = directory / "filler"
    with filler.open("wb") as handle:
        chunk = b"\0" * 65536
        while True:
            free = os.statvfs(directory).f_bavail * os.statvfs(directory).f_frsize
            if free <= leave_bytes:
                break
            try:
                handle.write(chunk[: max(1, min(len(chunk), free - leave_bytes))])
                handle.flush()
            except OSError:
                break
    return filler
