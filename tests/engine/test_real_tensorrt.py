"""The same builds against the real TensorRT, where it is installed (marker ``trt``)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from edgesr.engine.engine_builder import EngineSpec, build_engine
from edgesr.engine.tensorrt_api import Target, generation, tensorrt_version
from edgesr.engine.trtexec import trtexec_command
from edgesr.errors import DeviceError, ModelError
from tests.engine.models import BAD_NODE, SHAPES

pytestmark = pytest.mark.trt


@pytest.fixture(scope="module")
def trt():
    import tensorrt

    return tensorrt


def deserialize(trt, engine: bytes):
    runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
    e = runtime.deserialize_cuda_engine(engine)
    assert e is not None
    return e


def test_version_and_generation(trt):
    assert tensorrt_version() == trt.__version__
    assert generation(trt.__version__) in ("trt8", "trt10", "trt11")


def test_fp32_dynamic_and_static(trt, onnx_files, tmp_path):
    cache = tmp_path / "timing.cache"
    out = build_engine(EngineSpec(onnx_files["fp32"], "fp32", None, "input", SHAPES, timing_cache=cache))
    assert out.precision == "fp32" and len(out.engine) > 1000 and cache.stat().st_size > 0
    deserialize(trt, out.engine)
    again = build_engine(EngineSpec(onnx_files["fp32"], "fp32", None, "input", SHAPES, timing_cache=cache))
    assert not again.log["notes"]  # the cache was accepted
    static = build_engine(EngineSpec(onnx_files["static"], "fp32", None, "input", None))
    deserialize(trt, static.engine)


def test_fp16(trt, onnx_files):
    target = Target.parse(trt.__version__)
    model = onnx_files["fp16"] if target.generation == "trt11" else onnx_files["fp32"]
    try:
        out = build_engine(EngineSpec(model, "fp16", None, "input", SHAPES))
    except DeviceError as exc:
        pytest.skip(f"this GPU has no fast FP16: {exc}")
    deserialize(trt, out.engine)


def test_qdq_int8(trt, onnx_files):
    try:
        out = build_engine(EngineSpec(onnx_files["qdq"], "int8", "qdq", "input", SHAPES))
    except DeviceError as exc:
        pytest.skip(f"this GPU has no fast INT8: {exc}")
    deserialize(trt, out.engine)


def test_parse_error_names_the_node(trt, onnx_files):
    with pytest.raises(ModelError, match=BAD_NODE):
        build_engine(EngineSpec(onnx_files["bad"], "fp32", None, "input", SHAPES))


@pytest.mark.skipif(shutil.which("trtexec") is None, reason="trtexec is not on PATH")
def test_trtexec_builds_the_same_request(trt, onnx_files, tmp_path):
    engine = tmp_path / "sr.engine"
    args = trtexec_command(
        EngineSpec(onnx_files["fp32"], "fp32", None, "input", SHAPES, workspace_mb=256),
        trt.__version__,
        engine_path=str(engine),
    )
    subprocess.run(args, check=True, capture_output=True, timeout=600)
    deserialize(trt, engine.read_bytes())
