"""The one seam between edgesr and the machine it inspects: files read under a root, commands
found on a search path.

On a device the root is ``/`` and commands come from ``PATH``. Tests point the root at a
folder holding fixture copies of ``/proc/device-tree/model``, ``/etc/nv_tegra_release``, sysfs
nodes and small executables standing in for ``nvpmodel`` or ``dpkg-query``, so every probe runs
its real code on recorded device output.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

COMMAND_TIMEOUT = 10.0  # seconds; nvpmodel and dpkg-query answer in well under one


@dataclass(frozen=True)
class System:
    """A machine to inspect: ``root`` prefixes every absolute path; commands are looked up in
    ``PATH`` when the root is ``/``, otherwise in the root's own bin folders."""

    root: Path = Path("/")

    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def read(self, absolute: str) -> str | None:
        """The file's text (device-tree strings end in NUL, which is stripped), None if unreadable."""
        try:
            return self.path(absolute).read_text(errors="replace").replace("\x00", "")
        except OSError:
            return None

    def exists(self, absolute: str) -> bool:
        return self.path(absolute).exists()

    def glob(self, pattern: str) -> list[str]:
        """Absolute paths (as seen on the machine) matching ``pattern``, sorted."""
        base = str(self.root).rstrip("/")
        return sorted("/" + os.path.relpath(p, self.root) for p in glob.glob(base + "/" + pattern.lstrip("/")))

    def which(self, name: str) -> str | None:
        if self.root == Path("/"):
            return shutil.which(name)
        dirs = [str(self.path(d)) for d in ("/usr/local/bin", "/usr/bin", "/usr/sbin", "/bin", "/sbin")]
        return shutil.which(name, path=os.pathsep.join(dirs))

    def run(self, argv: Sequence[str], timeout: float = COMMAND_TIMEOUT) -> str | None:
        """Standard output of a command that exits 0; None when it is missing, fails or hangs."""
        exe = self.which(argv[0])
        if exe is None:
            return None
        try:
            done = subprocess.run([exe, *argv[1:]], capture_output=True, text=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None


LOCAL = System()
