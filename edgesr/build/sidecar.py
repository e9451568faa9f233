"""The JSON sidecar beside every artifact: identity, build facts, accuracy; checked before loading."""

from __future__ import annotations

import json
import os
from pathlib import Path

from edgesr import fileio
from edgesr.build.identity import SIDECAR_SCHEMA, Identity
from edgesr.errors import DeviceError, InputError, ModelError

SUFFIX = ".json"


def path_for(artifact: str | os.PathLike) -> Path:
    """``model.engine`` -> ``model.engine.json``."""
    p = Path(artifact)
    return p.with_name(p.name + SUFFIX)


def write(artifact: str | os.PathLike, identity: Identity, **facts) -> Path:
    data = {"schema": SIDECAR_SCHEMA, "key": identity.key, "identity": identity.to_dict(), **facts}
    return fileio.write_json(path_for(artifact), data)


def read(artifact: str | os.PathLike) -> dict:
    p = path_for(artifact)
    if not p.is_file():
        raise InputError(f"{Path(artifact).name} has no sidecar {p.name}; rebuild it with 'edgesr build'")
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"sidecar {p} is unreadable ({exc}); rebuild the artifact with 'edgesr build'") from None
    if data.get("schema") != SIDECAR_SCHEMA or "identity" not in data:
        raise ModelError(f"sidecar {p} has an unknown format; rebuild the artifact with 'edgesr build'")
    data["identity"] = Identity.from_dict(data["identity"])
    return data


def matches(artifact: str | os.PathLike, identity: Identity) -> bool:
    """True when ``artifact`` exists and its sidecar records exactly ``identity``."""
    if not Path(artifact).is_file() or not path_for(artifact).is_file():
        return False
    try:
        return read(artifact)["identity"] == identity
    except (InputError, ModelError):
        return False


def check_host(artifact: str | os.PathLike, *, tensorrt: str | None, device: str | None,
               compute_capability: str | None) -> Identity:
    """Refuse an engine built for another TensorRT version or GPU, before it is deserialised."""
    ident = read(artifact)["identity"]
    rebuild = f"rebuild on this machine: edgesr build --device {device or ident.device} (or run the bundle's build.sh)"
    if ident.tensorrt is None:
        raise DeviceError(f"{Path(artifact).name} was never built by TensorRT (a bundle); {rebuild}")
    if tensorrt is not None and ident.tensorrt != tensorrt:
        raise DeviceError(f"{Path(artifact).name} was built with TensorRT {ident.tensorrt}, this machine has "
                          f"{tensorrt}; engines only load on the version that built them: {rebuild}")
    if compute_capability is not None and ident.compute_capability != compute_capability:
        raise DeviceError(f"{Path(artifact).name} was built for compute capability {ident.compute_capability} "
                          f"({ident.device}), this GPU is {compute_capability}; {rebuild}")
    if device is not None and ident.device != device:
        raise DeviceError(f"{Path(artifact).name} was built for {ident.device}, this machine is {device}; {rebuild}")
    return ident
