"""Convolution channel counts padded to a multiple of four through the graph: the same function,
INT8 convolutions on four-multiples, the original channels given back wherever a reader mixes
channels or the graph ends."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from edgesr.onnx.pad_channels import pad_channels  # noqa: E402
from tests.tiny_models import IR_VERSION, Builder  # noqa: E402


def awkward_model():
    """Odd channel counts through every kind of reader the padding handles: INT8 and float
    convolutions, a concatenation, per-channel constants, sigmoid gating, pooling, a Resize sized
    from its own input's shape, a depthwise convolution, a channel mean, a division, a pixel
    shuffle, and a second graph output taken straight from a padded tensor."""
    b = Builder(seed=5)
    a = b.op("Relu", [b.qconv(b.qdq("input"), 3, 10, name="/a")])
    a = b.qdq(a, zero=0)
    c = b.op("Concat", [a, b.op("LeakyRelu", [b.qconv(a, 10, 6, k=1, name="/b")], alpha=0.1)], axis=1)
    d = b.qconv(b.qdq(c), 16, 10, name="/d")
    d = b.op("Add", [d, b.const(b.rng.standard_normal((1, 10, 1, 1)).astype(np.float32), "bias")])
    f = b.op("Mul", [d, b.op("Sigmoid", [b.conv(d, 10, 10, k=1)])])
    g = b.op("MaxPool", [f], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    head = b.op("Slice", [b.op("Shape", [g]), b.const(np.array([0]), "i"), b.const(np.array([2]), "i")])
    tail = b.op("Slice", [b.op("Shape", [f]), b.const(np.array([2]), "i"), b.const(np.array([4]), "i")])
    h = b.op("Resize", [g, "", "", b.op("Concat", [head, tail], axis=0)], mode="linear")
    h = b.op("Add", [h, f])
    h = b.conv(h, 10, 10, groups=10)
    m = b.op("Mul", [h, b.op("ReduceMean", [h], axes=[1], keepdims=1)])
    m = b.op("Div", [m, b.op("Add", [b.op("Abs", [d]), b.const(np.array(1.0, np.float32), "one")])])
    y = b.op("DepthToSpace", [b.qconv(b.qdq(m), 10, 12, name="/up")], blocksize=2, mode="CRD")
    b.nodes.append(helper.make_node("Identity", [h], ["features"], name="features"))
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, "h", "w"])
    outs = [
        helper.make_tensor_value_info(y, TensorProto.FLOAT, None),
        helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 10, "h", "w"]),
    ]
    graph = helper.make_graph(b.nodes, "awkward", [x], outs, b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=IR_VERSION)
    return onnx.shape_inference.infer_shapes(model)


def run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {model.graph.input[0].name: x})


def copy(model):
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def weight_shape(model, conv_name: str) -> tuple[int, ...]:
    inits = {i.name: i for i in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    w = next(n for n in model.graph.node if n.name == conv_name).input[1]
    w = producer[w].input[0] if w in producer else w
    return tuple(inits[w].dims)


def test_padded_model_is_the_same_function():
    model = awkward_model()
    ref = copy(model)
    padded = pad_channels(model)
    assert {"/a", "/b", "/d"} <= set(padded) and len(padded) == 4  # and the float gate's convolution
    onnx.checker.check_model(model, full_check=True)
    assert [o.name for o in model.graph.output] == [o.name for o in ref.graph.output]
    rng = np.random.default_rng(0)
    for shape in [(1, 3, 12, 16), (2, 3, 9, 13)]:  # sizes, odd sizes, batch
        x = rng.uniform(0, 1, shape).astype(np.float32)
        for got, want in zip(run(model, x), run(ref, x)):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_int8_convolutions_run_on_four_multiples():
    model = awkward_model()
    pad_channels(model)
    assert weight_shape(model, "/a")[:2] == (12, 3)  # the image input itself is not padded
    assert weight_shape(model, "/b")[:2] == (8, 12)
    assert weight_shape(model, "/d")[:2] == (12, 20)  # reads the concatenation with both gaps
    assert weight_shape(model, "/up")[:2] == (12, 10)  # its input was given back its 10 channels


def test_channel_mixing_readers_and_outputs_get_the_original_channels():
    model = awkward_model()
    pad_channels(model)
    producer = {o: n for n in model.graph.node for o in n.output}
    for op in ("ReduceMean", "Div"):
        node = next(n for n in model.graph.node if n.op_type == op)
        restored = [producer[i].op_type for i in node.input if i in producer and i.endswith("/unpadded")]
        assert restored and set(restored) <= {"Slice", "Gather"}, op
    assert producer["features"].op_type in ("Slice", "Gather")


def test_constant_sized_resize_gets_the_original_channels():
    b = Builder(seed=1)
    f = b.qconv(b.qconv("input", 3, 8), 8, 6, name="/f")
    sizes = b.const(np.array([1, 6, 4, 4], np.int64), "sizes")
    r = b.op("Resize", [f, "", "", sizes], mode="nearest")
    out = b.op("Add", [b.qconv(f, 6, 12, name="/h"), b.qconv(r, 6, 12, name="/g")])
    model = b.model(b.op("DepthToSpace", [out], blocksize=2, mode="CRD"), dims=(1, 3, 4, 4))
    ref = copy(model)
    assert pad_channels(model) == ["/f"]
    resize = next(n for n in model.graph.node if n.op_type == "Resize")
    assert resize.input[0].endswith("/unpadded")
    x = np.random.default_rng(1).uniform(0, 1, (1, 3, 4, 4)).astype(np.float32)
    np.testing.assert_allclose(run(model, x)[0], run(ref, x)[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case", ["float model", "four-multiple channels"])
def test_left_alone(case):
    b = Builder(seed=2)
    if case == "float model":
        f = b.conv(b.conv("input", 3, 10), 10, 3)
    else:
        f = b.op("DepthToSpace", [b.qconv(b.qconv("input", 3, 8), 8, 12)], blocksize=2, mode="CRD")
    model = b.model(f)
    before = model.SerializeToString()
    assert pad_channels(model) == []
    assert model.SerializeToString() == before


def test_shared_weights_are_not_changed_for_other_readers():
    """Two convolutions reading one weight tensor, one padded input: each gets its own copy."""
    b = Builder(seed=3)
    a = b.qconv(b.qconv("input", 3, 8), 8, 6, name="/a")
    w = b.const((b.rng.standard_normal((3, 6, 1, 1)) * 0.1).astype(np.float32), "w")
    p = b.op("Conv", [a, w], kernel_shape=[1, 1])
    other = b.op("Conv", [b.op("Concat", ["input", "input"], axis=1), w], kernel_shape=[1, 1])
    model = b.model(b.op("Add", [p, other]))
    ref = copy(model)
    assert "/a" in pad_channels(model)
    x = np.random.default_rng(2).uniform(0, 1, (1, 3, 5, 5)).astype(np.float32)
    np.testing.assert_allclose(run(model, x)[0], run(ref, x)[0], rtol=1e-5, atol=1e-5)
    shapes = {tuple(numpy_helper.to_array(i).shape) for i in model.graph.initializer if i.name.startswith(w)}
    assert shapes == {(4, 6, 1, 1), (4, 8, 1, 1)}  # both also padded to four outputs
