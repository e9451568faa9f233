"""FP16 variant: float16 weights and activations, float32 I/O, accuracy measured like INT8."""

import numpy as np
import onnx

from edgesr.onnx.sessions import session
from edgesr.quantize import emulate_fp16, to_fp16
from edgesr.quantize.variants import fp16_variant
from tests.tiny_models import save, sr_model


def _run(model, x):
    s = session(model)
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def test_fp16_model_runs_and_stays_close(tmp_path):
    m = sr_model(scale=2, attention=True, bicubic_skip=True)
    half = to_fp16(m)
    inits = [t for t in half.graph.initializer if t.data_type == onnx.TensorProto.FLOAT]
    assert [t.name for t in inits] == [t.name for t in half.graph.initializer if "scales" in t.name]  # Resize scales
    assert half.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    x = np.random.default_rng(0).random((1, 3, 20, 24), dtype=np.float32)
    ref = _run(m, x)
    for variant in (half, emulate_fp16(m)):
        y = _run(variant, x)
        assert y.dtype == np.float32 and y.shape == ref.shape
        assert np.abs(y - ref).max() < 5e-3
    pure = to_fp16(m, keep_io_float32=False)
    assert pure.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16


def test_fp16_variant_is_measured(tmp_path):
    p = save(sr_model(scale=2, bicubic_skip=True), tmp_path / "m.onnx")
    r = fp16_variant(p, tmp_path / "m.fp16.onnx", validation_count=2)
    assert (tmp_path / "m.fp16.onnx").is_file()
    assert abs(r.emulated.drop) < 0.01 and r.onnxruntime is not None and abs(r.onnxruntime.drop) < 0.01
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "m.fp16.onnx")).metadata_props}
    assert meta["edgesr.quant.precision"] == "fp16" and meta["edgesr.scale"] == "2"
