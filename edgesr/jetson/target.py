"""The device a build is for, reconciled with the Jetson module this code runs on.

``auto`` means this machine: its module on a Jetson, the ONNX Runtime artifact (``cpu``)
elsewhere. A device named on a Jetson is checked against the module found in the device tree:

- the same module, or ``cpu``: nothing to say;
- another module with the same GPU architecture (an ``orin-nano`` build on an AGX Orin): a
  warning, since the engine must be built on the target itself, so a bundle is written there;
- another GPU architecture (an ``orin-agx`` build on a Xavier): an error. This Jetson can
  neither build nor test that engine, which almost always means a configuration copied from
  another device; a host (or the target) prepares that bundle.
"""

from __future__ import annotations

from pathlib import Path

from edgesr import devices, host
from edgesr.devices import Device
from edgesr.errors import DeviceError
from edgesr.log import logger

AUTO = "auto"


def resolve(requested: str, model_file: Path | None = None) -> Device:
    """The device for ``--device requested`` on this machine (see the module docstring);
    ``model_file`` replaces ``/proc/device-tree/model``."""
    here = host.jetson(model_file if model_file is not None else host.DEVICE_TREE_MODEL)
    if requested.strip().lower() == AUTO:
        if here is None:
            logger.info(
                "--device auto: this machine is not a Jetson, so the ONNX Runtime artifact (cpu) is built; "
                "name a device to prepare its bundle"
            )
            return devices.get("cpu")
        logger.info("--device auto: this is a %s (%s)", here.name, here.id)
        return here
    target = devices.get(requested)
    warning = mismatch(target, here)
    if warning:
        logger.warning("%s", warning)
    return target


def mismatch(target: Device, here: Device | None) -> str | None:
    """A warning when ``target`` is another module of this Jetson's GPU architecture; raises
    :class:`DeviceError` when it is another architecture; None when there is nothing to say."""
    if here is None or not target.is_jetson or target.id == here.id:
        return None
    if target.compute_capability == here.compute_capability:
        return (
            f"this machine is a {here.name}, not a {target.name}: a {target.id} engine must be built on the "
            f"{target.name} itself, so a bundle is written for it; pass --device {here.id} (or auto) to build "
            f"an engine for this {here.name}"
        )
    raise DeviceError(
        f"this machine is a {here.name} ({here.gpu}, compute capability {here.compute_capability}) and can neither "
        f"build nor test {target.id} engines ({target.gpu}, compute capability {target.compute_capability}); pass "
        f"--device auto to build for this {here.name}, or prepare the {target.id} bundle on a host or on the "
        f"{target.name}"
    )
