"""The engine runner on the real TensorRT and GPU, where they exist (marker ``trt``): engines built
by the build stage give what ONNX Runtime gives for the same ONNX."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from edgesr import host
from edgesr.engine import sidecar_writer
from edgesr.engine.engine_builder import EngineSpec, build_engine
from edgesr.engine.identity import Identity, input_text
from edgesr.engine.tensorrt_api import Target
from edgesr.errors import DependencyError, DeviceError
from edgesr.runtime.cuda import Cuda
from edgesr.runtime.runners import open_runner
from tests.engine.models import SCALE, SHAPES, fp16, fp32

pytestmark = pytest.mark.trt


@pytest.fixture(scope="module")
def compute_capability() -> str:
    try:
        return Cuda().compute_capability()
    except (DependencyError, DeviceError) as exc:
        pytest.skip(f"TensorRT is installed but no CUDA GPU is usable: {exc}")


def built(tmp_path, onnx_path, precision: str, compute_capability: str):
    out = build_engine(EngineSpec(onnx_path, precision, None, "input", SHAPES))
    engine = tmp_path / f"tiny-{precision}.engine"
    engine.write_bytes(out.engine)
    here = host.jetson()
    sidecar_writer.write(
        engine,
        Identity(
            model="tiny",
            scale=SCALE,
            onnx_sha256="0" * 64,
            precision=precision,
            kept_layers=(),
            input=input_text(SHAPES),
            device=here.id if here is not None else "orin-agx",
            compute_capability=compute_capability,
            tensorrt=out.tensorrt_version,
        ),
        precision_used=out.precision,
    )
    return engine


def reference(onnx_path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feed = x.astype(np.float16) if session.get_inputs()[0].type == "tensor(float16)" else x
    return session.run(None, {"input": feed})[0].astype(np.float32)


def test_fp32_engine_matches_onnx_runtime(tmp_path, compute_capability):
    onnx_path = fp32(tmp_path / "tiny.onnx")
    engine = built(tmp_path, onnx_path, "fp32", compute_capability)
    x = np.random.default_rng(0).random((1, 3, 24, 40), dtype=np.float32)
    with open_runner(engine) as runner:
        assert runner.spec.scale == SCALE and runner.spec.dtype == "float32"
        first, again = runner.infer(x), runner.infer(x)
        small = runner.infer(x[:, :, :16, :16])
    np.testing.assert_allclose(first, reference(onnx_path, x), atol=1e-3)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(small, reference(onnx_path, x[:, :, :16, :16]), atol=1e-3)


def test_fp16_engine_matches_onnx_runtime(tmp_path, compute_capability):
    import tensorrt

    strongly_typed = Target.parse(tensorrt.__version__).generation == "trt11"
    onnx_path = fp16(tmp_path / "tiny16.onnx") if strongly_typed else fp32(tmp_path / "tiny.onnx")
    try:
        engine = built(tmp_path, onnx_path, "fp16", compute_capability)
    except DeviceError as exc:
        pytest.skip(f"this GPU has no fast FP16: {exc}")
    x = np.random.default_rng(1).random((1, 3, 32, 32), dtype=np.float32)
    with open_runner(engine) as runner:
        y = runner.infer(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, reference(onnx_path, x), atol=2e-2)
