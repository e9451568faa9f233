"""One ``tegrastats`` line -> a :class:`Sample`.

The format changed across modules and JetPack releases; every variant below was seen in real
output (see ``tests/jetson/fixtures/tegrastats/``):

- a timestamp ``MM-DD-YYYY HH:MM:SS`` leads the line from JetPack 5 on;
- GPU: ``GR3D_FREQ 0%@76`` (Nano), ``GR3D_FREQ 0%@[114]`` and ``0%@[0,0]`` (one frequency per GPC),
  ``GR3D_FREQ 0%`` with no frequency while the GPU is power-gated, ``GR3D_FREQ @[1000,1000]`` with
  no load, or no ``GR3D_FREQ`` at all (JetPack 7 on Thor);
- temperatures ``GPU@40C``, ``gpu@62.906C``, ``cpu@40.281C/40.281C`` (reading/limit on Thor) and
  ``CV0@-256C`` for a sensor that is off;
- power rails ``POM_5V_IN 1750/1628`` (milliwatts implied, before JetPack 5), ``VDD_IN 4556mW/4556mW``
  (current/average) and ``VIN 87426mW/43713mW/87426mW`` (current/average/peak, JetPack 7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Rails that measure the whole module's input; without one, the total is the sum of the rails
# (AGX Orin and AGX Xavier publish only per-domain rails). Most specific first.
TOTAL_RAILS = ("VIN", "VDD_IN", "POM_5V_IN")
_OFF_SENSOR = -256.0  # tegrastats prints -256C for a thermal zone that is powered down
# PMIC@100C / PMIC@50C is the PMIC's fixed thermal-alarm threshold, not a measurement.
_NOT_SENSORS = {"PMIC"}
_NOT_RAILS = {"NC"}  # AGX Orin prints unconnected monitor channels as "NC 0mW/0mW"

_TIME = re.compile(r"^(\d\d-\d\d-\d{4} \d\d:\d\d:\d\d)\s")
_RAM = re.compile(r"\bRAM (\d+)/(\d+)MB")
_SWAP = re.compile(r"\bSWAP (\d+)/(\d+)MB")
_CPU = re.compile(r"\bCPU \[([^\]]*)\]")
_GPU = re.compile(r"\bGR3D_FREQ (?:(\d+)%)?(?:@\[?([\d,]+)\]?)?")
_EMC = re.compile(r"\bEMC_FREQ (\d+)%(?:@(\d+))?")
_TEMP = re.compile(r"\b([A-Za-z][\w]*)@(-?\d+(?:\.\d+)?)C(?:/-?\d+(?:\.\d+)?C)?")
# NAME cur/avg[/peak] with optional mW units; the lookahead keeps "RAM 1923/3964MB" out.
_RAIL = re.compile(r"\b([A-Z][A-Z0-9_]*) (\d+)(?:mW)?/(\d+)(?:mW)?(?:/(\d+)(?:mW)?)?(?=\s|$)")


@dataclass(frozen=True)
class Sample:
    """What one line says. Fields the line does not carry are None (or empty)."""

    timestamp: str | None = None
    ram_used_mb: int | None = None
    ram_total_mb: int | None = None
    swap_used_mb: int | None = None
    swap_total_mb: int | None = None
    cpu_load_pct: tuple[float | None, ...] = ()  # None: core offline
    cpu_freq_mhz: tuple[int | None, ...] = ()
    gpu_load_pct: float | None = None
    gpu_freq_mhz: tuple[int, ...] = ()  # one per GPC on Orin and Thor
    emc_load_pct: float | None = None
    emc_freq_mhz: int | None = None
    temps_c: dict[str, float] = field(default_factory=dict)
    rails_mw: dict[str, int] = field(default_factory=dict)  # current reading of each rail

    @property
    def total_rail(self) -> str | None:
        """The rail measuring the whole module, or None when the total is a sum of rails."""
        return next((r for r in TOTAL_RAILS if r in self.rails_mw), None)

    @property
    def power_mw(self) -> int | None:
        """Module input power: the total rail where there is one, else the sum of all rails."""
        if not self.rails_mw:
            return None
        rail = self.total_rail
        return self.rails_mw[rail] if rail else sum(self.rails_mw.values())

    @property
    def gpu_max_freq_mhz(self) -> int | None:
        return max(self.gpu_freq_mhz) if self.gpu_freq_mhz else None


def parse_line(line: str) -> Sample | None:
    """Parse one line; None for anything that is not a tegrastats report (warnings, blank lines)."""
    ram = _RAM.search(line)
    if ram is None:
        return None
    swap = _SWAP.search(line)
    stamp = _TIME.match(line)
    cpu_load, cpu_freq = _cpus(line)
    gpu = _GPU.search(line)
    emc = _EMC.search(line)
    return Sample(
        timestamp=stamp.group(1) if stamp else None,
        ram_used_mb=int(ram.group(1)),
        ram_total_mb=int(ram.group(2)),
        swap_used_mb=int(swap.group(1)) if swap else None,
        swap_total_mb=int(swap.group(2)) if swap else None,
        cpu_load_pct=cpu_load,
        cpu_freq_mhz=cpu_freq,
        gpu_load_pct=float(gpu.group(1)) if gpu and gpu.group(1) else None,
        gpu_freq_mhz=tuple(int(f) for f in gpu.group(2).split(",") if f) if gpu and gpu.group(2) else (),
        emc_load_pct=float(emc.group(1)) if emc else None,
        emc_freq_mhz=int(emc.group(2)) if emc and emc.group(2) else None,
        temps_c={
            name: float(value)
            for name, value in _TEMP.findall(line)
            if float(value) != _OFF_SENSOR and name not in _NOT_SENSORS
        },
        rails_mw={m.group(1): int(m.group(2)) for m in _RAIL.finditer(line) if m.group(1) not in _NOT_RAILS},
    )


def _cpus(line: str) -> tuple[tuple[float | None, ...], tuple[int | None, ...]]:
    """``[5%@1224,off,3%@1224]`` -> loads and frequencies per core (None for an offline core)."""
    match = _CPU.search(line)
    if match is None:
        return (), ()
    loads: list[float | None] = []
    freqs: list[int | None] = []
    for core in match.group(1).split(","):
        load, _, freq = core.strip().partition("@")
        loads.append(float(load.rstrip("%")) if load.rstrip("%").isdigit() else None)
        freqs.append(int(freq) if freq.isdigit() else None)
    return tuple(loads), tuple(freqs)
