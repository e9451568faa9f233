"""The L4T (Jetson Linux) release and the JetPack it belongs to.

``/etc/nv_tegra_release`` starts with ``# R36 (release), REVISION: 4.3, GCID: ..., BOARD: ...``
(JetPack 6 and 7 add lines such as ``# KERNEL_VARIANT: oot`` after it). Images that lack the
file still carry the ``nvidia-l4t-core`` package, whose version (``36.4.3-20250107174145``) is the
same release. The exact JetPack comes from the ``nvidia-jetpack`` package (``6.2.1+b38``) when it
is installed, else from NVIDIA's L4T -> JetPack pairs below; failing both, only the JetPack
line of the device table is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edgesr import devices
from edgesr.jetson.system import LOCAL, System

RELEASE_FILE = "/etc/nv_tegra_release"
_HEADER = re.compile(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*(\d+)(?:\.(\d+))?")
_BOARD = re.compile(r"\bBOARD:\s*([^,\n]+)")
_VERSION = re.compile(r"^(\d+(?:\.\d+)*)")

# L4T -> JetPack, from NVIDIA's JetPack archive and release notes (and, for 36.4.7 and 36.5.0,
# the nvidia-jetpack package seen beside nvidia-l4t-core on updated devices).
JETPACK_OF_L4T: dict[tuple[int, int, int], str] = {
    (32, 6, 1): "4.6",
    (32, 7, 1): "4.6.1",
    (32, 7, 2): "4.6.2",
    (32, 7, 3): "4.6.3",
    (32, 7, 4): "4.6.4",
    (32, 7, 5): "4.6.5",
    (32, 7, 6): "4.6.6",
    (35, 1, 0): "5.0.2",
    (35, 2, 1): "5.1",
    (35, 3, 1): "5.1.1",
    (35, 4, 1): "5.1.2",
    (35, 5, 0): "5.1.3",
    (35, 6, 0): "5.1.4",
    (35, 6, 1): "5.1.5",
    (36, 2, 0): "6.0 DP",
    (36, 3, 0): "6.0",
    (36, 4, 0): "6.1",
    (36, 4, 3): "6.2",
    (36, 4, 4): "6.2.1",
    (36, 4, 7): "6.2.1",
    (36, 5, 0): "6.2.2",
    (38, 2, 0): "7.0",
}
# L4T major -> JetPack major: R32 is JetPack 4, R34/R35 JetPack 5, R36 JetPack 6, R38/R39 JetPack 7.
_JETPACK_MAJOR = {32: 4, 34: 5, 35: 5, 36: 6, 38: 7, 39: 7}


@dataclass(frozen=True)
class Release:
    """An L4T release; ``jetpack`` is the exact JetPack when known."""

    l4t: tuple[int, int, int]
    source: str
    board: str | None = None
    jetpack: str | None = None

    @property
    def l4t_text(self) -> str:
        return "R{}.{}.{}".format(*self.l4t)

    @property
    def jetpack_major(self) -> int | None:
        return _JETPACK_MAJOR.get(self.l4t[0])

    @property
    def jetpack_line(self) -> devices.JetPack | None:
        """The device table's row for this release (its TensorRT, CUDA and Python)."""
        major, minor, _ = self.l4t
        version = {
            32: "4.6.x" if minor >= 6 else None,
            35: "5.1.x" if minor >= 2 else None,
            36: "6.0" if minor < 4 else "6.1/6.2",
            38: "7.0/7.1",
            39: "7.2",
        }.get(major)
        return next((jp for jp in devices.JETPACKS if jp.version == version), None)

    def describe(self) -> str:
        if self.jetpack:
            jp = f"JetPack {self.jetpack}"
        elif self.jetpack_line:
            jp = f"JetPack {self.jetpack_line.version}"
        elif self.jetpack_major:
            jp = f"JetPack {self.jetpack_major}.x"
        else:
            jp = "JetPack unknown"
        return f"L4T {self.l4t_text} ({jp})"


def parse_release_file(text: str) -> Release | None:
    """The first line of ``/etc/nv_tegra_release``; None when it is not in that format."""
    header = _HEADER.search(text)
    if header is None:
        return None
    l4t = (int(header.group(1)), int(header.group(2)), int(header.group(3) or 0))
    board = _BOARD.search(text[header.start() :].split("\n", 1)[0])
    return Release(l4t, RELEASE_FILE, board=board.group(1).strip() if board else None, jetpack=JETPACK_OF_L4T.get(l4t))


def parse_package_version(version: str) -> tuple[int, ...] | None:
    """``36.4.3-20250107174145`` -> (36, 4, 3); ``6.2.1+b38`` -> (6, 2, 1); ``5.1.2-b104`` -> (5, 1, 2)."""
    match = _VERSION.match(version.strip())
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def detect(system: System = LOCAL) -> Release | None:
    """This machine's release, or None when it is not a Jetson running L4T."""
    text = system.read(RELEASE_FILE)
    release = parse_release_file(text) if text else None
    if release is None:
        core = _package(system, "nvidia-l4t-core")
        if core is None or len(core) < 2:
            return None
        l4t = (core[0], core[1], core[2] if len(core) > 2 else 0)
        release = Release(l4t, "dpkg nvidia-l4t-core", jetpack=JETPACK_OF_L4T.get(l4t))
    jetpack = _package(system, "nvidia-jetpack")
    if jetpack is not None:
        release = Release(release.l4t, release.source, release.board, ".".join(str(p) for p in jetpack))
    return release


def _package(system: System, name: str) -> tuple[int, ...] | None:
    out = system.run(["dpkg-query", "-W", "-f=${Version}", name])
    return parse_package_version(out) if out and out.strip() else None
