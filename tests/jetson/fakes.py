"""Recorded device output (``fixtures/``) and fake machine roots built from it.

A fake root is a folder laid out like ``/``: the device-tree model, ``/etc/nv_tegra_release``,
sysfs nodes, and small shell scripts in ``usr/bin`` standing in for ``nvpmodel``, ``dpkg-query``
and ``tegrastats``, so :class:`edgesr.jetson.system.System` runs its real code against them.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from edgesr.jetson.system import System

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_PROVENANCE = re.compile(r"^# source:|^#   ")


def fixture(relative: str) -> str:
    """A fixture's capture, without its provenance comment lines."""
    lines = (FIXTURES / relative).read_text().splitlines()
    return "\n".join(line for line in lines if not _PROVENANCE.match(line)) + "\n"


def table(relative: str) -> list[list[str]]:
    """The rows of a tab-separated fixture, comments dropped."""
    return [line.split("\t") for line in fixture(relative).splitlines() if line and not line.startswith("#")]


class FakeRoot:
    """A machine root under ``path``; ``system`` reads it."""

    def __init__(self, path: Path):
        self.path = path
        self.system = System(path)

    def file(self, absolute: str, text: str) -> FakeRoot:
        target = self.path / absolute.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        return self

    def command(self, name: str, stdout: str, status: int = 0) -> FakeRoot:
        """An executable ``usr/bin/name`` that prints ``stdout`` and exits with ``status``."""
        script = self.path / "usr" / "bin" / name
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(f"#!/bin/sh\nprintf '%s' {shlex.quote(stdout)}\nexit {status}\n")
        script.chmod(0o755)
        return self

    def dpkg(self, versions: dict[str, str]) -> FakeRoot:
        """A ``dpkg-query`` that knows ``versions`` (package -> version) and no other package."""
        cases = "".join(f"  {name}) printf '%s' {shlex.quote(v)} ;;\n" for name, v in versions.items())
        script = self.path / "usr" / "bin" / "dpkg-query"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(f'#!/bin/sh\nfor last; do :; done\ncase "$last" in\n{cases}  *) exit 1 ;;\nesac\n')
        script.chmod(0o755)
        return self

    def jetson(self, model: str, release: str | None = None) -> FakeRoot:
        self.file("/proc/device-tree/model", model + "\x00")
        if release is not None:
            self.file("/etc/nv_tegra_release", fixture(f"nv_tegra_release/{release}.txt"))
        return self

    def clocks(self, cpu: tuple[int, int], gpu: tuple[int, int], gpu_node: str = "17000000.gpu") -> FakeRoot:
        for policy in ("policy0", "policy4"):
            self.file(f"/sys/devices/system/cpu/cpufreq/{policy}/scaling_min_freq", f"{cpu[0]}\n")
            self.file(f"/sys/devices/system/cpu/cpufreq/{policy}/scaling_max_freq", f"{cpu[1]}\n")
        self.file(f"/sys/class/devfreq/{gpu_node}/min_freq", f"{gpu[0]}\n")
        self.file(f"/sys/class/devfreq/{gpu_node}/max_freq", f"{gpu[1]}\n")
        return self


# Prints a fixture's lines (comments included, as tegrastats' own warnings would be), PERIOD seconds
# apart, cycling for ever; COUNT > 0 stops after that many lines and exits with STATUS.
EMITTER = """
import sys, time
path, period, count, status = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
lines = open(path).read().splitlines()
i = 0
while count <= 0 or i < count:
    print(lines[i % len(lines)], flush=True)
    i += 1
    time.sleep(period)
sys.exit(status)
"""


def emitter(name: str, period: float = 0.0, count: int = 0, status: int = 0) -> list[str]:
    """A command standing in for ``tegrastats``, replaying ``fixtures/tegrastats/NAME.txt``."""
    return [
        sys.executable,
        "-c",
        EMITTER,
        str(FIXTURES / "tegrastats" / f"{name}.txt"),
        str(period),
        str(count),
        str(status),
    ]
