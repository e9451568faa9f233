"""Reading the JSON sidecar beside every built artifact, and the host check made before an
engine is deserialised (docs/background.md, Engine identity).

This is foundation code: the build stage writes sidecars (``edgesr.engine.sidecar_writer``) and the
runtime reads them, and the runtime must not import the build stage. The identity stays a
plain dict here; the build stage turns it into its ``Identity``.

Keys a reader uses: ``schema``, ``identity`` (the engine identity: model, scale, precision, input
shape or profile, device, compute capability, TensorRT version, DLA core, ...),
``precision_used`` (what the build actually produced) and ``meta`` (the model's edgesr metadata as
``ModelMeta.to_props()`` gives it: value range, channel order, size multiple), when recorded.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from edgesr.errors import DeviceError, InputError, ModelError

SUFFIX = ".json"
SCHEMA = 1
# The identity fields a reader of the sidecar relies on, whoever wrote it.
_REQUIRED = ("model", "scale", "precision", "input", "device", "compute_capability", "tensorrt")
# What those fields must hold: an edited or foreign sidecar is refused here, not deep inside the runner.
_TYPES = {
    "scale": (lambda v: type(v) is int and v > 0, "a whole number >= 1"),
    "input": (
        lambda v: isinstance(v, str) and re.fullmatch(r"\d+(x\d+){3}(:\d+(x\d+){3}){0,2}", v) is not None,
        "NxCxHxW or MIN:OPT:MAX shapes",
    ),
    "device": (lambda v: isinstance(v, str) and v != "", "a device id"),
    "compute_capability": (lambda v: v is None or isinstance(v, str), "a version such as '8.7' or null"),
    "tensorrt": (lambda v: v is None or isinstance(v, str), "a TensorRT version or null"),
    "dla_core": (lambda v: v is None or (type(v) is int and v >= 0), "a core number or null"),
}


def path_for(artifact: str | os.PathLike) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    p = Path(artifact)
    return p.with_name(p.name + SUFFIX)


def read(artifact: str | os.PathLike) -> dict:
    """The sidecar of ``artifact`` as stored, its ``identity`` a dict."""
    p = path_for(artifact)
    if not p.is_file():
        raise InputError(
            f"{Path(artifact).name} has no sidecar {p.name}; copy the sidecar beside it or rebuild it "
            "with 'edgesr build'"
        )
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"sidecar {p} is unreadable ({exc}); rebuild the artifact with 'edgesr build'") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("identity"), dict):
        raise ModelError(f"sidecar {p} has an unknown format; rebuild the artifact with 'edgesr build'")
    missing = [k for k in _REQUIRED if k not in data["identity"]]
    if missing:
        raise ModelError(f"sidecar identity lacks {', '.join(missing)}; rebuild the artifact with 'edgesr build'")
    for key, (ok, wanted) in _TYPES.items():
        value = data["identity"].get(key)
        if not ok(value):
            raise ModelError(
                f"sidecar {p} records {key} {value!r}, not {wanted}; rebuild the artifact with 'edgesr build'"
            )
    return data


def check_host(
    artifact: str | os.PathLike, *, tensorrt: str | None, device: str | None, compute_capability: str | None
) -> dict:
    """Refuse an engine built for another TensorRT version, GPU or device, before it is deserialised.

    ``device`` is this machine's device id (None off a Jetson), ``compute_capability`` its GPU's
    (``"8.7"``); a None fact is not checked. Returns the sidecar.
    """
    data = read(artifact)
    ident = data["identity"]
    name = Path(artifact).name
    if device is not None:
        rebuild = f"rebuild it on this machine: edgesr build --device {device} (or run the bundle's build.sh)"
    else:
        rebuild = (
            f"rebuild it on the {ident['device']}: edgesr build --device {ident['device']} "
            "(or run the bundle's build.sh there)"
        )
    if ident["tensorrt"] is None:
        raise DeviceError(f"{name} was never built by TensorRT (a bundle); {rebuild}")
    if tensorrt is not None and ident["tensorrt"] != tensorrt:
        raise DeviceError(
            f"{name} was built with TensorRT {ident['tensorrt']}, this machine has {tensorrt}; "
            f"engines only load on the version that built them: {rebuild}"
        )
    if compute_capability is not None and ident["compute_capability"] != compute_capability:
        raise DeviceError(
            f"{name} was built for compute capability {ident['compute_capability']} "
            f"({ident['device']}), this GPU is {compute_capability}; {rebuild}"
        )
    if device is not None and ident["device"] != device:
        raise DeviceError(f"{name} was built for {ident['device']}, this machine is {device}; {rebuild}")
    return data
