"""The few facts that qualify every measurement: which machine, which module and release, which
power mode, whether clocks are pinned. Benchmarks and stream statistics carry them in their
header, since a frame rate means little without them.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass

from edgesr import host
from edgesr.jetson import clocks as clocks_mod
from edgesr.jetson import nvpmodel
from edgesr.jetson import release as release_mod
from edgesr.jetson.system import LOCAL, System

DEVICE_TREE_MODEL = "/proc/device-tree/model"


@dataclass(frozen=True)
class HostFacts:
    hostname: str
    platform: str
    cpu: str
    cpu_count: int
    jetson: str | None  # module name, None when not a Jetson
    device: str | None  # its id in the device table
    l4t: str | None
    jetpack: str | None
    power_mode: str | None
    clocks: str | None

    def to_dict(self) -> dict:
        return asdict(self)

    def headline(self) -> str:
        """One line: what ran the measurement."""
        if self.jetson is None:
            return f"{self.hostname}: {self.platform}, {self.cpu} ({self.cpu_count} CPUs), not a Jetson"
        return (
            f"{self.hostname}: {self.jetson}, {self.jetpack or 'JetPack unknown'}, power mode "
            f"{self.power_mode or 'unknown'}, clocks {self.clocks or 'unknown'}"
        )


def gather(system: System = LOCAL) -> HostFacts:
    model = system.read(DEVICE_TREE_MODEL)
    module = host.device_from_model_string(model) if model else None
    rel = release_mod.detect(system) if module is not None else None
    mode = nvpmodel.query(system) if module is not None else None
    clocks = clocks_mod.read(system) if module is not None else None
    return HostFacts(
        hostname=platform.node() or "unknown",
        platform=f"{platform.system()} {platform.machine()}",
        cpu=cpu_model(system),
        cpu_count=os.cpu_count() or 0,
        jetson=module.name if module else None,
        device=module.id if module else None,
        l4t=rel.l4t_text if rel else None,
        jetpack=rel.describe() if rel else None,
        power_mode=str(mode) if mode else None,
        clocks=clocks.describe() if clocks else None,
    )


def cpu_model(system: System = LOCAL) -> str:
    """The CPU as /proc/cpuinfo names it (``model name``, or ``Model``/``Hardware`` on some Arm kernels)."""
    text = system.read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware") and value.strip():
            return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"
