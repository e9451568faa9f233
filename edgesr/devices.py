"""The device table: every target edgesr builds for, with the facts the build policy rests on.

One typed table is the source of truth; CLI choices, validation, ``edgesr devices`` and the
README table are derived from it. Facts: NVIDIA's JetPack release notes and module data sheets
(docs/background.md, TensorRT and Jetson).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from edgesr.errors import InputError
from edgesr.texttable import align


@dataclass(frozen=True)
class JetPack:
    """One JetPack release line and the stack it ships."""

    version: str
    tensorrt: tuple[str, ...]  # TensorRT versions shipped across the line
    cuda: str
    python: str
    devices: tuple[str, ...]
    note: str = ""


JETPACKS: tuple[JetPack, ...] = (
    JetPack("4.6.x", ("8.0.1", "8.2.1"), "10.2", "3.6", ("nano", "tx2", "xavier-nx", "xavier-agx")),
    JetPack("5.1.x", ("8.5.2",), "11.4", "3.8", ("xavier-nx", "xavier-agx", "orin-nano", "orin-nx", "orin-agx")),
    JetPack("6.0", ("8.6.2",), "12.2", "3.10", ("orin-nano", "orin-nx", "orin-agx")),
    JetPack("6.1/6.2", ("10.3",), "12.6", "3.10", ("orin-nano", "orin-nx", "orin-agx")),
    JetPack("7.0/7.1", ("10.13",), "13.0", "3.12", ("thor",)),
    JetPack(
        "7.2",
        ("10.16", "11.4.1"),
        "13.x",
        "3.12",
        ("thor", "orin-nano", "orin-nx", "orin-agx"),
        note="TensorRT 11.4.1 from 7.2.2 on AGX Orin and Thor",
    ),
)


@dataclass(frozen=True)
class Device:
    """A build target. ``compute_capability`` is None for the CPU target."""

    id: str
    name: str
    gpu: str
    compute_capability: str | None
    dla_cores: int
    fast_int8: bool
    note: str = ""

    @property
    def is_jetson(self) -> bool:
        return self.compute_capability is not None

    @property
    def has_dla(self) -> bool:
        return self.dla_cores > 0

    @property
    def precisions(self) -> tuple[str, ...]:
        """Precisions this device can run, fastest first."""
        if not self.is_jetson:
            return ("int8", "fp32")  # ONNX Runtime CPU: Q/DQ INT8 or FP32; no fast FP16 kernels
        return ("int8", "fp16", "fp32") if self.fast_int8 else ("fp16", "fp32")

    @property
    def jetpacks(self) -> tuple[JetPack, ...]:
        return tuple(jp for jp in JETPACKS if self.id in jp.devices)

    @property
    def tensorrt_versions(self) -> tuple[str, ...]:
        """Every TensorRT version a JetPack for this device ships, oldest first."""
        versions = []
        for jp in self.jetpacks:
            for v in jp.tensorrt:
                if v == "11.4.1" and self.id not in ("orin-agx", "thor"):
                    continue  # JetPack 7.2.2 brings TensorRT 11 to AGX Orin and Thor only
                versions.append(v)
        return tuple(versions)


DEVICES: tuple[Device, ...] = (
    Device(
        "cpu",
        "ONNX Runtime on the host CPU (embedded default)",
        "-",
        None,
        0,
        True,
        note="INT8 through Q/DQ kernels; no TensorRT",
    ),
    Device("nano", "Jetson Nano", "Maxwell", "5.3", 0, False),
    Device("tx2", "Jetson TX2", "Pascal", "6.2", 0, False),
    Device("xavier-nx", "Jetson Xavier NX", "Volta", "7.2", 2, True),
    Device("xavier-agx", "Jetson AGX Xavier", "Volta", "7.2", 2, True),
    Device("orin-nano", "Jetson Orin Nano", "Ampere", "8.7", 0, True),
    Device("orin-nx", "Jetson Orin NX", "Ampere", "8.7", 2, True, note="the 8 GB module has 1 DLA core"),
    Device("orin-agx", "Jetson AGX Orin", "Ampere", "8.7", 2, True),
    Device("thor", "Jetson Thor", "Blackwell", "11.0", 0, True, note="compute capability 10.1 with CUDA <= 12.9"),
)

# Short names people type; each resolves to exactly one table row.
ALIASES: dict[str, str] = {"orin": "orin-agx", "xavier": "xavier-agx", "jetson-nano": "nano", "host": "cpu"}

_BY_ID = {d.id: d for d in DEVICES}


def device_ids() -> list[str]:
    return [d.id for d in DEVICES]


def get(device_id: str) -> Device:
    """Look up a device by id or alias; a typo gets the closest match suggested."""
    key = device_id.strip().lower()
    key = ALIASES.get(key, key)
    if key in _BY_ID:
        return _BY_ID[key]
    names = device_ids() + sorted(ALIASES)
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise InputError(f"unknown device '{device_id}'; {hint}choose one of: {', '.join(names)}")


def table_data() -> dict:
    """The device table and the aliases as plain data, for ``edgesr devices --json``."""
    rows = [
        dict(
            id=d.id,
            name=d.name,
            gpu=d.gpu,
            compute_capability=d.compute_capability,
            dla_cores=d.dla_cores,
            fast_int8=d.fast_int8,
            precisions=list(d.precisions),
            tensorrt=list(d.tensorrt_versions),
            jetpack=[j.version for j in d.jetpacks],
            note=d.note,
        )
        for d in DEVICES
    ]
    return {"devices": rows, "aliases": ALIASES}


def format_table() -> str:
    """The device table and the JetPack table as aligned text, for ``edgesr devices``."""
    rows = [("device", "module", "GPU", "CC", "DLA", "precisions", "TensorRT (JetPack)", "note")]
    for d in DEVICES:
        trt = (
            ", ".join(
                f"{'/'.join(v for v in j.tensorrt if v in d.tensorrt_versions)} ({j.version})" for j in d.jetpacks
            )
            or "-"
        )
        rows.append(
            (
                d.id,
                d.name if d.is_jetson else "host CPU, ONNX Runtime",
                d.gpu,
                d.compute_capability or "-",
                str(d.dla_cores),
                "/".join(d.precisions),
                trt,
                d.note,
            )
        )
    out = [align(rows)]
    out.append("aliases: " + ", ".join(f"{k} -> {v}" for k, v in ALIASES.items()))
    jp = [("JetPack", "TensorRT", "CUDA", "Python", "devices")]
    for j in JETPACKS:
        jp.append(
            (
                j.version,
                " / ".join(j.tensorrt) + (f" ({j.note})" if j.note else ""),
                j.cuda,
                j.python,
                ", ".join(j.devices),
            )
        )
    out.append("")
    out.append(align(jp))
    return "\n".join(out)
