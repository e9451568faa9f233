"""An exclusive lock on an output directory, so two builds or training runs never write the same files."""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from edgesr.errors import EdgeSRError

LOCK_NAME = ".edgesr.lock"


class BusyError(EdgeSRError):
    """Another process holds the directory's lock."""


@contextlib.contextmanager
def locked(directory: str | os.PathLike) -> Iterator[Path]:
    """Hold ``directory``'s lock for the block; fail at once if another build holds it.

    ``flock`` is released by the kernel when the holder dies, so a crashed build never leaves
    a stale lock behind.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise BusyError(f"another edgesr process (pid {holder}) is writing {d}; wait for it or use another -o") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield d
    finally:
        os.close(fd)
