"""Erf-form GELUs of dequantized data become ONNX Runtime's fused Gelu; other forms stay."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from edgesr.onnx.fuse_gelu import fuse_gelu  # noqa: E402
from tests.tiny_models import gelu_model  # noqa: E402


def run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"input": x})[0]


def test_gelu_of_dequantized_data_is_fused_and_computes_the_same():
    model = gelu_model()
    ref = onnx.ModelProto()
    ref.CopyFrom(model)
    assert len(fuse_gelu(model)) == 1
    ops = [(n.domain, n.op_type) for n in model.graph.node]
    assert ("com.microsoft", "Gelu") in ops and not {"Erf", "Div"} & {op for _, op in ops}
    assert any(o.domain == "com.microsoft" for o in model.opset_import)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 9, 11)).astype(np.float32)
    np.testing.assert_allclose(run(model, x), run(ref, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["float input", "factor 0.5 folded away"])
def test_forms_the_runtime_does_not_fuse_in_float_are_left(case):
    model = gelu_model(quantized=False) if case == "float input" else gelu_model(half=False)
    before = model.SerializeToString()
    assert fuse_gelu(model) == []
    assert model.SerializeToString() == before
