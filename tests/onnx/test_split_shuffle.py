"""DequantizeLinear -> DepthToSpace (CRD) as two single-axis transposes: identical, dynamic
sizes kept, and only for INT8 data in CRD order."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgesr.onnx.split_shuffle import split_depth_to_space  # noqa: E402


def shuffled(blocksize: int, mode: str = "CRD", quantized: bool = True):
    """x (float, N x C x H x W, all dynamic) [-> Q -> DQ] -> DepthToSpace -> y."""
    nodes = [
        helper.make_node(
            "DepthToSpace", ["d" if quantized else "x"], ["y"], blocksize=blocksize, mode=mode, name="shuffle"
        )
    ]
    inits = []
    if quantized:
        nodes[:0] = [
            helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], name="q"),
            helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["d"], name="dq"),
        ]
        inits = [
            numpy_helper.from_array(np.array(1 / 127, np.float32), "s"),
            numpy_helper.from_array(np.array(128, np.uint8), "zp"),
        ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", "c", "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", "c2", "h2", "w2"])],
        inits,
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


@pytest.mark.parametrize("blocksize", [2, 3, 4])
def test_split_is_identical_at_any_size(blocksize):
    model = shuffled(blocksize)
    ref = onnx.ModelProto()
    ref.CopyFrom(model)
    assert split_depth_to_space(model) == ["shuffle"]
    ops = [n.op_type for n in model.graph.node]
    assert "DepthToSpace" not in ops and ops.count("Transpose") == 2
    onnx.checker.check_model(model, full_check=True)
    rng = np.random.default_rng(blocksize)
    for shape in [(1, 3 * blocksize**2, 5, 7), (2, 2 * blocksize**2, 4, 9)]:  # sizes, batch, channels
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        y = run(model, x)
        np.testing.assert_array_equal(y, run(ref, x))
        assert y.shape == (shape[0], shape[1] // blocksize**2, shape[2] * blocksize, shape[3] * blocksize)


def test_shape_comes_from_the_quantized_tensor():
    """So that ONNX Runtime can still move the DequantizeLinear past the data movement."""
    model = shuffled(4)
    split_depth_to_space(model)
    shape = next(n for n in model.graph.node if n.op_type == "Shape")
    assert list(shape.input) == ["q"]


@pytest.mark.parametrize("case", ["DCR order", "float data"])
def test_left_alone(case):
    model = shuffled(2, mode="DCR") if case == "DCR order" else shuffled(2, quantized=False)
    assert split_depth_to_space(model) == []
    assert [n.op_type for n in model.graph.node][-1] == "DepthToSpace"
