"""What a device can build: precision and DLA requests checked against the device table.

Anything the device cannot do is an error naming the alternative, never a quiet downgrade.
``best`` is the one request that chooses: INT8 where the device has fast INT8 and the accuracy
budget is met, else the next precision the device runs well, and the choice is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgesr.devices import Device
from edgesr.errors import DeviceError, InputError

PRECISIONS: tuple[str, ...] = ("best", "int8", "fp16", "fp32")


@dataclass(frozen=True)
class Plan:
    """The precisions to try, in order, and where the engine runs."""

    requested: str
    candidates: tuple[str, ...]  # "best" may fall through this list; an explicit request has one entry
    dla_core: int | None

    @property
    def wants_int8(self) -> bool:
        return "int8" in self.candidates


def plan(device: Device, precision: str, *, dla_core: int | None = None, dynamic: bool = False) -> Plan:
    if precision not in PRECISIONS:
        raise InputError(f"unknown precision '{precision}'; choose one of: {', '.join(PRECISIONS)}")
    if dla_core is not None:
        _check_dla(device, dla_core, dynamic)
    runnable = tuple(p for p in device.precisions if dla_core is None or p != "fp32")
    if precision == "best":
        return Plan(precision, runnable, dla_core)
    if precision not in device.precisions:
        raise DeviceError(_why_not(device, precision))
    if dla_core is not None and precision == "fp32":
        raise DeviceError("DLA runs FP16 and INT8 only; use --precision fp16 or int8 with --dla")
    return Plan(precision, (precision,), dla_core)


def _why_not(device: Device, precision: str) -> str:
    if not device.is_jetson:
        return (
            f"{device.id} (ONNX Runtime on the CPU) has no fast {precision.upper()} kernels; "
            f"use --precision {' or '.join(device.precisions)}"
        )
    return (
        f"{device.id} ({device.gpu}, compute capability {device.compute_capability}) has no fast "
        f"{precision.upper()}; use --precision {' or '.join(device.precisions)}"
    )


def _check_dla(device: Device, core: int, dynamic: bool) -> None:
    if not device.has_dla:
        raise DeviceError(f"{device.id} has no DLA cores; drop --dla to build for its GPU")
    if not 0 <= core < device.dla_cores:
        raise DeviceError(f"{device.id} has DLA cores 0..{device.dla_cores - 1}; --dla {core} does not exist")
    if dynamic:
        raise DeviceError(
            "DLA needs a static input shape (a dynamic profile sends every DLA layer to the GPU); "
            "pass --input-size HxW instead of --input-size-range"
        )
