"""The power mode, from ``nvpmodel -q``.

The answer is the mode name and, on the next line, its id; some releases print warnings first
(``NVPM WARN: fan mode is not set!``) and ``--verbose`` prefixes the line with ``NVPM VERB:
Current mode:``. Mode ids differ between modules (MAXN_SUPER is 2 on an Orin Nano, 0 on an
Orin NX), so the name is what identifies a mode in reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgesr.jetson.system import LOCAL, System

_MODE = re.compile(r"NV Power Mode:\s*(\S+)\s*\n\s*(\d+)\b")


@dataclass(frozen=True)
class PowerMode:
    name: str
    id: int

    def __str__(self) -> str:
        return f"{self.name} (mode {self.id})"


def parse(text: str) -> PowerMode | None:
    match = _MODE.search(text)
    return PowerMode(match.group(1), int(match.group(2))) if match else None


def query(system: System = LOCAL) -> PowerMode | None:
    """The current power mode, or None where ``nvpmodel`` is missing or does not answer."""
    out = system.run(["nvpmodel", "-q"])
    return parse(out) if out else None
