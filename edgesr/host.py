"""What this machine is, as far as building for a device is concerned.

A Jetson names its module in the device tree (``/proc/device-tree/model``); anything else is
a host that can prepare bundles but only builds engines for the GPU it has.
"""

from __future__ import annotations

from pathlib import Path

from edgesr.devices import Device, get

DEVICE_TREE_MODEL = Path("/proc/device-tree/model")

# Substrings of the device-tree model string, most specific first.
_MODULES: tuple[tuple[str, str], ...] = (
    ("agx orin", "orin-agx"),
    ("orin nx", "orin-nx"),
    ("orin nano", "orin-nano"),
    ("agx xavier", "xavier-agx"),
    ("jetson-agx", "xavier-agx"),  # AGX Xavier on older L4T reports just "Jetson-AGX"
    ("xavier nx", "xavier-nx"),
    ("thor", "thor"),
    ("tx2", "tx2"),
    ("quill", "tx2"),  # TX2 carrier boards report the module's code name
    ("nano", "nano"),
)


def device_from_model_string(text: str) -> Device | None:
    """``"NVIDIA Jetson AGX Orin Developer Kit"`` -> the orin-agx row; None for anything else."""
    low = text.replace("\x00", "").strip().lower()
    # JetPack 5.1 names the Orin Nano kit "NVIDIA Orin Nano Developer Kit", without "Jetson".
    if not any(word in low for word in ("jetson", "nvidia", "quill")):
        return None
    for needle, device_id in _MODULES:
        if needle in low:
            return get(device_id)
    return None


def jetson(model_file: Path = DEVICE_TREE_MODEL) -> Device | None:
    """The Jetson module this code runs on, or None when it is not a Jetson."""
    try:
        return device_from_model_string(model_file.read_text(errors="replace"))
    except OSError:
        return None
