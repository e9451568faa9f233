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

    ``flock`` is released by the kernel when the holder dies, so a crashed build never blocks the
    next one. The lock file is removed on release, so a finished artifact folder holds none; a
    process that locked a file another one removed meanwhile sees it replaced and locks again.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    path = d / LOCK_NAME
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise BusyError(
                f"another edgesr process (pid {holder}) is writing {d}; wait for it or use another -o"
            ) from None
        if _same_file(fd, path):
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield d
    finally:
        path.unlink(missing_ok=True)  # still held: nobody else can have locked this file
        os.close(fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except FileNotFoundError:
        return False
