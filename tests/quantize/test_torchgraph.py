"""The fine-tuning interpreter: every op of its table against ONNX Runtime, its errors, its hooks."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgesr.errors import ModelError
from edgesr.onnx.sessions import session
from tests.tiny_models import Builder

torch = pytest.importorskip("torch")


def _model(b: Builder, out: str, opset: int):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 3, "h", "w"])
    y = helper.make_tensor_value_info(out, TensorProto.FLOAT, None)
    graph = helper.make_graph(b.nodes, "ops", [x], [y], b.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=9)


def _split(b: Builder, inputs: list[str], n: int, **attrs) -> list[str]:
    outs = [b.name("split") for _ in range(n)]
    b.nodes.append(helper.make_node("Split", inputs, outs, name=outs[0] + "_node", **attrs))
    return outs


def _i64(b: Builder, v) -> str:
    return b.const(np.array(v, np.int64), "i")


def _f32(b: Builder, v) -> str:
    return b.const(np.array(v, np.float32), "f")


def elementwise():
    b = Builder(1)
    x, y = b.conv("input", 3, 4), b.conv("input", 3, 4)
    p = b.op("Add", [b.op("Abs", [x]), _f32(b, 0.5)])
    parts = [b.op(t, [x]) for t in ("Relu", "Sigmoid", "Tanh", "Erf", "Neg", "Identity", "Floor", "Ceil")]
    parts += [
        b.op("Exp", [b.op("Neg", [p])]),
        b.op("Sqrt", [p]),
        b.op("Reciprocal", [p]),
        b.op("LeakyRelu", [x], alpha=0.2),
        b.op("Gelu", [x]),
        b.op("Gelu", [x], approximate="tanh"),
    ]
    parts += [b.op(t, [x, y]) for t in ("Add", "Sub", "Mul")]
    parts += [
        b.op("Div", [x, p]),
        b.op("Pow", [p, _f32(b, 1.7)]),
        b.op("Max", [x, y, p]),
        b.op("Min", [x, y]),
        b.op("Clip", [x, _f32(b, -0.3), _f32(b, 0.4)]),
        b.op("Clip", [x, "", _f32(b, 0.1)]),
    ]
    lt, gt = b.op("Less", [x, y]), b.op("Greater", [y, p])
    eq = b.op("Equal", [b.op("Floor", [x]), _f32(b, 0.0)])
    parts.append(b.op("Where", [b.op("Or", [b.op("And", [lt, b.op("Not", [gt])]), eq]), x, _f32(b, 0.25)]))
    return _model(b, b.op("Concat", parts, axis=1), opset=20)


def shape_arithmetic():
    """Dynamic-shape code as exporters write it, feeding a broadcast ramp over the width."""
    b = Builder(2)
    x = b.conv("input", 3, 4)
    s = b.op("Shape", [x])
    w = b.op("Gather", [s, _i64(b, 3)])
    hw = b.op("Shape", [x], start=2)
    third = b.op("Cast", [b.op("Div", [b.op("Neg", [w]), _i64(b, 3)])], to=TensorProto.FLOAT)  # truncates
    ramp = b.op("Cast", [b.op("Range", [_i64(b, 0), w, _i64(b, 1)])], to=TensorProto.FLOAT)
    ramp = b.op("Expand", [b.op("Unsqueeze", [ramp, _i64(b, [0, 1, 2])]), s])
    half = b.op("ConstantOfShape", [hw], value=numpy_helper.from_array(np.array([0.5], np.float32)))
    k = b.op("Constant", [], value=numpy_helper.from_array(np.linspace(-1, 1, 4, dtype=np.float32).reshape(4, 1, 1)))
    y = b.op("Add", [b.op("Mul", [b.op("Mul", [x, ramp]), k]), b.op("Add", [half, third])])
    t = b.op("Transpose", [y], perm=[0, 2, 3, 1])
    t = b.op("Squeeze", [b.op("Unsqueeze", [t, _i64(b, [1])]), _i64(b, [1])])
    flat = b.op("Tile", [b.op("Flatten", [t], axis=2), _i64(b, [1, 2])])
    n = b.op("Gather", [s, _i64(b, [0])])
    return _model(b, b.op("Reshape", [flat, b.op("Concat", [n, _i64(b, [0, -1])], axis=0)]), opset=17)


def split_slice_gather():
    b = Builder(3)
    x = b.conv("input", 3, 6)
    a = _split(b, [x, _i64(b, [2, 4])], 2, axis=1)
    c = _split(b, [x], 3, axis=1, num_outputs=3)
    s1 = b.op("Slice", [x, _i64(b, [1, -4]), _i64(b, [-1, 1000]), _i64(b, [2, 3]), _i64(b, [2, 1])])
    s2 = b.op("Slice", [x, _i64(b, [-100]), _i64(b, [3]), _i64(b, [1])])
    g1 = b.op("Gather", [x, _i64(b, [-1, 0, 2])], axis=1)
    parts = [a[0], a[1], c[0], c[2], s1, s2, g1]
    return _model(b, b.op("Concat", [b.op("ReduceMean", [p, _i64(b, [2, 3])]) for p in parts], axis=1), opset=18)


def pool_reduce():
    b = Builder(4)
    x = b.conv("input", 3, 4)
    pooled = [
        b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        b.op("MaxPool", [x], kernel_shape=[2, 3], strides=[2, 2], pads=[0, 1, 1, 0], ceil_mode=1),
        b.op("AveragePool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        b.op("AveragePool", [x], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
    ]
    out = [b.op("GlobalAveragePool", [p]) for p in pooled]
    axes = _i64(b, [2, 3])
    out += [b.op(t, [x, axes]) for t in ("ReduceMax", "ReduceL2", "ReduceSum", "ReduceMean")]
    return _model(b, b.op("Mul", [b.op("Concat", out, axis=1), b.op("ReduceMean", [x, _i64(b, [1])])]), opset=18)


def resize_pad_shuffle():
    b = Builder(5)
    x = b.conv("input", 3, 12)
    x = b.op(
        "Conv",
        [x, b.const(b.rng.standard_normal((12, 4, 3, 3)).astype(np.float32) * 0.1)],
        kernel_shape=[3, 3],
        pads=[0, 1, 2, 1],
        group=3,
    )
    y = b.op("Add", [b.op("DepthToSpace", [x], blocksize=2), b.op("DepthToSpace", [x], blocksize=2, mode="CRD")])
    scales = _f32(b, [1, 1, 2, 2])
    size = b.op("Concat", [b.op("Slice", [b.op("Shape", [y]), _i64(b, [0]), _i64(b, [2])]), _i64(b, [30, 34])], axis=0)
    ups = [
        b.op(
            "Resize", [y, "", scales], mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor"
        ),
        b.op("Resize", [y, "", scales], mode="linear"),
        b.op("Resize", [y, "", "", size], mode="linear", coordinate_transformation_mode="align_corners"),
        b.op("Resize", [y, "", scales], mode="cubic", cubic_coeff_a=-0.75),
    ]
    pads = _i64(b, [0, 0, 1, 2, 0, 0, 3, 1])
    ups += [
        b.op("Pad", [y, pads, _f32(b, 0.5)]),
        b.op("Pad", [y, pads], mode="reflect"),
        b.op("Pad", [y, pads], mode="edge"),
    ]
    crop = [_i64(b, [0, 0]), _i64(b, [24, 28]), _i64(b, [2, 3])]
    return _model(b, b.op("Concat", [b.op("Slice", [u, *crop]) for u in ups], axis=1), opset=17)


def dense():
    """Fully connected layers on pooled features scaling the feature map (as degradation attention does)."""
    b = Builder(6)
    x = b.conv("input", 3, 4)
    f = b.op("Flatten", [b.op("GlobalAveragePool", [x])])

    def weights(*shape):
        return b.const(b.rng.standard_normal(shape).astype(np.float32) * 0.3)

    y1 = b.op("Gemm", [f, weights(6, 4), weights(6)], transB=1, alpha=0.7, beta=0.3)
    y2 = b.op("Gemm", [b.op("Transpose", [f], perm=[1, 0]), weights(4, 6)], transA=1)
    gain = b.op("MatMul", [b.op("Concat", [y1, y2], axis=1), weights(12, 4)])
    return _model(b, b.op("Mul", [x, b.op("Unsqueeze", [gain, _i64(b, [2, 3])])]), opset=17)


CASES = [elementwise, shape_arithmetic, split_slice_gather, pool_reduce, resize_pad_shuffle, dense]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_ops_match_onnxruntime(case):
    from edgesr.quantize.qat.torchgraph import build_module

    model = case()
    x = np.random.default_rng(0).standard_normal((2, 3, 11, 13)).astype(np.float32)
    s = session(model)
    ref = s.run(None, {"input": x})[0]
    with torch.no_grad():
        y = build_module(model)(torch.from_numpy(x)).numpy()
    assert y.shape == ref.shape
    assert np.abs(y - ref).max() < 1e-5 * max(1.0, float(np.abs(ref).max()))


def test_every_op_of_the_table_is_checked():
    from edgesr.quantize.qat.torchgraph_ops import OPS

    covered = {n.op_type for case in CASES for n in case().graph.node}
    assert set(OPS) - covered == set()


def _relu_then(op_type: str, consts=(), **attrs):
    """conv -> relu -> ``op_type`` (node ``odd``) with extra inputs: arrays, or "" for an omitted one."""
    b = Builder(6)
    extra = [b.const(np.asarray(c)) if isinstance(c, np.ndarray) else c for c in consts]
    y = b.op(op_type, [b.op("Relu", [b.conv("input", 3, 3)]), *extra], **attrs)
    b.nodes[-1].name = "odd"
    return _model(b, y, opset=17)


@pytest.mark.parametrize(
    "model, message",
    [
        (_relu_then("Softmax", axis=1), "op Softmax (node 'odd') is not supported by the fine-tuning interpreter"),
        (
            _relu_then("Resize", ("", np.array([1, 1, 2, 2], np.float32))),
            "Resize 'odd': nearest with half_pixel/round_prefer_floor is not supported for fine-tuning",
        ),
        (
            _relu_then("Slice", [np.array([v], np.int64) for v in (-1, -100, 3, -1)]),
            "Slice 'odd' with a negative step is not supported for fine-tuning",
        ),
    ],
    ids=["unknown op", "unsupported Resize", "unsupported Slice"],
)
def test_unsupported_graphs_fail_at_the_node_when_run(model, message):
    from edgesr.quantize.qat.torchgraph import build_module

    module = build_module(model)  # building succeeds: only running the node fails
    with pytest.raises(ModelError) as err:
        module(torch.zeros(1, 3, 4, 4))
    assert str(err.value) == message


def _two_readers():
    """conv ``a`` -> ``t``, read by convs ``b`` and ``c``; output ``b + c``."""
    b = Builder(7)
    t = b.conv("input", 3, 4)
    u, v = b.conv(t, 4, 3), b.conv(t, 4, 3)
    for node, name in zip(b.nodes, "abc"):
        node.name = name
    return _model(b, b.op("Add", [u, v]), opset=17), t


def test_convolution_weights_and_biases_are_the_parameters():
    from edgesr.quantize.qat.torchgraph import build_module

    model, _ = _two_readers()
    convs = [k for n in model.graph.node if n.op_type == "Conv" for k in n.input[1:]]
    m = build_module(model)
    assert list(m.weights()) == convs and all(p.requires_grad for p in m.params.values())
    m(torch.ones(1, 3, 5, 5)).sum().backward()
    assert all(p.grad is not None for p in m.params.values())
    assert not any(p.requires_grad for p in build_module(model, trainable_convs=False).params.values())


def test_hooks_quantize_exactly_where_asked():
    from edgesr.quantize.qat.torchgraph import build_module

    model, t = _two_readers()
    x = torch.from_numpy(np.random.default_rng(0).random((1, 3, 6, 5), dtype=np.float32))
    calls = []

    def zero(name, v):
        calls.append(name)
        return torch.zeros_like(v)

    m = build_module(model)
    m.quantizer = zero
    with torch.no_grad():
        m.act_hooks = {t}
        both = m(x)  # b and c read zeros
        assert calls == [t]
        m.act_hooks, m.edge_hooks = set(), {t: {"b", "c"}}
        assert torch.equal(m(x), both) and calls == [t, t]  # quantized once for both readers
        m.edge_hooks = {t: {"b"}}
        one = m(x)  # only b reads zeros
        assert not torch.equal(one, both) and calls == [t, t, t]
        m.edge_hooks, m.weight_hooks, m.weight_quantizer = {}, {"b"}, zero
        assert torch.equal(m(x), one) and calls[3:] == ["b"]  # b's weight zeroed: b gives its bias, as on zeros
