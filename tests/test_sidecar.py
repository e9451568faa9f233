"""The foundation's sidecar reader and host check, as the runtime uses them (without the build stage)."""

import json

import pytest

from edgesr import sidecar
from edgesr.errors import DeviceError, ModelError

IDENTITY = dict(
    model="rfdn",
    scale=4,
    onnx_sha256="ab" * 32,
    precision="int8",
    kept_layers=[],
    input="1x3x180x320",
    device="orin-agx",
    compute_capability="8.7",
    tensorrt="10.3.0.30",
    dla_core=None,
    workspace_mb=None,
    opt_level=None,
)


def write(tmp_path, **data):
    art = tmp_path / "m.engine"
    art.write_bytes(b"engine")
    sidecar.path_for(art).write_text(json.dumps({"schema": sidecar.SCHEMA, "identity": IDENTITY, **data}))
    return art


def test_read_keeps_the_identity_a_plain_dict(tmp_path):
    data = sidecar.read(write(tmp_path, precision_used="int8"))
    assert data["identity"] == IDENTITY and data["precision_used"] == "int8"


def test_incomplete_or_foreign_sidecars_are_model_errors(tmp_path):
    art = write(tmp_path)
    sidecar.path_for(art).write_text(json.dumps({"schema": 99, "identity": IDENTITY}))
    with pytest.raises(ModelError, match="unknown format"):
        sidecar.read(art)
    sidecar.path_for(art).write_text(json.dumps({"schema": sidecar.SCHEMA, "identity": {"model": "x"}}))
    with pytest.raises(ModelError, match="lacks scale, precision"):
        sidecar.read(art)
    sidecar.path_for(art).write_text("[]")
    with pytest.raises(ModelError, match="unknown format"):
        sidecar.read(art)


def test_the_rebuild_hint_names_the_device_to_build_for(tmp_path):
    art = write(tmp_path)
    assert sidecar.check_host(art, tensorrt="10.3.0.30", device="orin-agx", compute_capability="8.7")
    with pytest.raises(DeviceError, match="rebuild it on this machine: edgesr build --device orin-nx"):
        sidecar.check_host(art, tensorrt="10.3.0.30", device="orin-nx", compute_capability="8.7")
    with pytest.raises(DeviceError, match="GPU is 8.9; rebuild it on the orin-agx: edgesr build --device orin-agx"):
        sidecar.check_host(art, tensorrt=None, device=None, compute_capability="8.9")
