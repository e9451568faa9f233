"""The JSON sidecar beside every artifact: identity, build facts, accuracy; checked before loading.

Reading and the host check live in the foundation (:mod:`edgesr.sidecar`) so the runtime can
use them without importing the build stage; this module writes sidecars and speaks ``Identity``.
"""

from __future__ import annotations

import os
from pathlib import Path

from edgesr import fileio
from edgesr import sidecar as _sidecar
from edgesr.engine.identity import Identity
from edgesr.errors import InputError, ModelError
from edgesr.sidecar import SUFFIX, path_for

__all__ = ["SUFFIX", "path_for", "write", "read", "matches", "check_host"]


def write(artifact: str | os.PathLike, identity: Identity, **facts) -> Path:
    data = {"schema": _sidecar.SCHEMA, "key": identity.key, "identity": identity.to_dict(), **facts}
    return fileio.write_json(path_for(artifact), data)


def read(artifact: str | os.PathLike) -> dict:
    data = _sidecar.read(artifact)
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


def check_host(
    artifact: str | os.PathLike, *, tensorrt: str | None, device: str | None, compute_capability: str | None
) -> Identity:
    """Refuse an engine built for another TensorRT version or GPU, before it is deserialised."""
    data = _sidecar.check_host(artifact, tensorrt=tensorrt, device=device, compute_capability=compute_capability)
    return Identity.from_dict(data["identity"])
