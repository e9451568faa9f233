"""Whether the clocks are pinned (``jetson_clocks``), read from sysfs without root.

``jetson_clocks`` raises every CPU core's and the GPU's minimum frequency to its maximum, so
"locked" here means minimum == maximum for every CPU policy and for the GPU. Timings taken with
clocks left to DVFS vary with load history; benchmarks record this next to the power mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgesr.jetson.system import LOCAL, System

# GPU devfreq nodes: 57000000.gpu (Nano), 17000000.gp10b (TX2), 17000000.gv11b (Xavier),
# 17000000.ga10b / 17000000.gpu (Orin), gpu-gpc-0 (Thor).
_GPU_DEVFREQ = re.compile(r"gpu|gp10b|gv11b|ga10b")


@dataclass(frozen=True)
class Clocks:
    cpu_locked: bool | None  # None: not readable here
    gpu_locked: bool | None
    gpu_min_mhz: int | None = None
    gpu_max_mhz: int | None = None

    @property
    def locked(self) -> bool | None:
        """True when CPU and GPU are both pinned; None when neither could be read."""
        known = [v for v in (self.cpu_locked, self.gpu_locked) if v is not None]
        return all(known) if known else None

    def describe(self) -> str:
        if self.locked is None:
            return "unknown (no cpufreq/devfreq nodes readable)"
        parts = [f"CPU {_word(self.cpu_locked)}", f"GPU {_word(self.gpu_locked)}"]
        if self.gpu_min_mhz is not None and self.gpu_max_mhz is not None:
            parts[-1] += f" ({self.gpu_min_mhz}-{self.gpu_max_mhz} MHz)"
        return ", ".join(parts)


def _word(value: bool | None) -> str:
    return "unknown" if value is None else "locked" if value else "scaling"


def read(system: System = LOCAL) -> Clocks:
    cpu = []
    for policy in system.glob("/sys/devices/system/cpu/cpufreq/policy*"):
        low, high = _int(system, f"{policy}/scaling_min_freq"), _int(system, f"{policy}/scaling_max_freq")
        if low is not None and high is not None:
            cpu.append(low == high)
    gpu_nodes = [p for p in system.glob("/sys/class/devfreq/*") if _GPU_DEVFREQ.search(p.rsplit("/", 1)[-1])]
    gpu_locked = gpu_min = gpu_max = None
    for node in gpu_nodes:
        low, high = _int(system, f"{node}/min_freq"), _int(system, f"{node}/max_freq")
        if low is not None and high is not None:
            gpu_locked, gpu_min, gpu_max = low == high, low // 1_000_000, high // 1_000_000
            break
    return Clocks(all(cpu) if cpu else None, gpu_locked, gpu_min, gpu_max)


def _int(system: System, path: str) -> int | None:
    text = system.read(path)
    return int(text.strip()) if text and text.strip().isdigit() else None
