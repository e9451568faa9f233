"""The output image recentred on the symmetric INT8 grid: same float function, 255 output codes,
the offset folded into the zero point on x86, undone where the image stays float."""

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from edgesr.onnx.graph_index import GraphIndex
from edgesr.onnx.sessions import session
from edgesr.quantize import quantize
from edgesr.quantize.passes import recentre
from tests.quantize.conftest import FAST
from tests.tiny_models import Builder, save


def _run(model, x):
    s = session(model)
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def _sr(value_range=1.0, bias=True):
    b = Builder(seed=3)
    f = b.op("LeakyRelu", [b.conv("input", 3, 8)], alpha=0.05)
    y = b.conv(f, 8, 12)
    if not bias:
        conv = b.nodes[-1]
        del conv.input[2]
    out = b.op("DepthToSpace", [y], blocksize=2, mode="CRD")
    m = b.model(out, metadata={"edgesr.scale": 2, "edgesr.value_range": value_range})
    m.graph.node.remove(m.graph.node[-1])  # as 'edgesr convert' leaves it: no output Identity
    m.graph.node[-1].output[0] = "output"
    return m, y


@pytest.mark.parametrize("bias", [True, False])
def test_recentring_keeps_the_function_and_undo_restores_the_graph(bias):
    m, y = _sr(255.0, bias=bias)
    r, done = recentre.recentre_output(m, 255.0)
    assert [d.offset for d in done] == [127.5] and done[0].conv == GraphIndex.of(m).producer[y].name
    x = np.random.default_rng(0).random((1, 3, 9, 11), dtype=np.float32) * 255
    np.testing.assert_allclose(_run(r, x), _run(m, x), atol=1e-3)
    idx = GraphIndex.of(r)
    assert idx.producer[r.graph.output[0].name].op_type == "Add"
    assert [idx.node(n).op_type for n in recentre.chain(idx, done[0])] == ["DepthToSpace", "Conv"]
    u = recentre.undo(r, done)
    assert [n.op_type for n in u.graph.node] == [n.op_type for n in m.graph.node]
    assert len(u.graph.initializer) == len(m.graph.initializer) + (0 if bias else 1)
    np.testing.assert_allclose(_run(u, x), _run(m, x), atol=1e-3)
    spans = recentre.output_interval(idx, 255.0)
    assert spans[y] == (-127.5, 127.5) and spans[r.graph.output[0].name] == (0.0, 255.0)


def test_an_output_not_computed_by_a_convolution_is_left_alone():
    b = Builder(seed=1)
    a = b.conv("input", 3, 3)
    out = b.op("Add", [a, "input"])  # a global skip: the image is a sum, no single bias to shift
    m = b.model(out, metadata={"edgesr.scale": 1, "edgesr.value_range": 1.0})
    r, done = recentre.recentre_output(m, 1.0)
    assert done == [] and len(r.graph.node) == len(m.graph.node)


def _dq_add(offset, zp=128, scale=0.5 / 127):
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "zp"], ["d"]),
        helper.make_node("Add", ["d", "c"], ["y"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(scale, np.float32), "s"),
        numpy_helper.from_array(np.array(zp, np.uint8), "zp"),
        numpy_helper.from_array(np.array(offset, np.float32), "c"),
    ]
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", 1, [5])], [helper.make_tensor_value_info("y", 1, [5])], inits
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def test_fold_offsets_is_exact_and_only_where_exact():
    m = _dq_add(0.5)
    x = np.array([-0.5, -0.1, 0.0, 0.2, 0.5], np.float32)
    before = _run(m, x)
    assert recentre.fold_offsets(m) == 1
    assert [n.op_type for n in m.graph.node] == ["QuantizeLinear", "DequantizeLinear"]
    assert "c" not in {t.name for t in m.graph.initializer}  # the folded offset does not linger
    np.testing.assert_allclose(_run(m, x), before, atol=1e-6)
    np.testing.assert_allclose(before, np.round(x / (0.5 / 127)) * (0.5 / 127) + 0.5, atol=1e-6)
    assert recentre.fold_offsets(_dq_add(0.3)) == 0  # not a whole number of steps
    assert recentre.fold_offsets(_dq_add(0.5, zp=100)) == 0  # the zero point would leave UINT8


def test_quantized_output_uses_all_codes_and_folds_on_x86(tmp_path):
    m, y = _sr()
    p = save(m, tmp_path / "sr.onnx")
    result = quantize(p, tmp_path / "q.onnx", max_drop=None, **FAST)
    rec = result.record["recipe"]["recentred_outputs"]
    assert len(rec) == 1 and rec[0]["offset"] == 0.5
    q = onnx.load(str(tmp_path / "q.onnx"))
    inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
    scales = {n.input[0]: inits[n.input[1]] for n in q.graph.node if n.op_type == "QuantizeLinear"}
    assert scales[y] == pytest.approx(0.5 / 127)  # [0, 1] over 255 codes
    assert q.graph.node[-1].op_type == "Add"  # symmetric INT8 file: zero points stay 0 (TensorRT)
    assert all(not inits[n.input[2]].any() for n in q.graph.node if n.op_type in ("QuantizeLinear", "DequantizeLinear"))
    x86 = onnx.load(str(tmp_path / "q.x86.onnx"))
    assert x86.graph.node[-1].op_type == "DequantizeLinear"
    x = np.random.default_rng(0).random((1, 3, 10, 12), dtype=np.float32)
    a, b = _run(q, x), _run(x86, x)
    np.testing.assert_allclose(a, b, atol=1e-5)
    steps = a / (0.5 / 127)  # the output grid is 0.5 + k / 254: twice as fine as k / 127
    np.testing.assert_allclose(steps, np.round(steps), atol=1e-3)
    assert np.any(np.round(steps) % 2 == 1)
    off = quantize(p, None, max_drop=None, recentre_output=False, **FAST)
    assert off.record["recipe"]["recentred_outputs"] == []


def test_recentring_is_undone_where_the_image_stays_float(tmp_path, monkeypatch):
    import edgesr.quantize.budget.sensitivity as budget

    m, y = _sr()
    p = save(m, tmp_path / "sr.onnx")
    image = [GraphIndex.of(m).producer[y].name] + [n.name for n in m.graph.node if n.op_type == "DepthToSpace"]

    def keep_image(damages, max_drop, trial, **kw):  # a budget that keeps the image layers float
        t = trial(tuple(image))
        return budget.BudgetResult(image, t.drop, True, damages, [t])

    monkeypatch.setattr(budget, "fit", keep_image)
    result = quantize(p, None, max_drop=-1.0, **FAST)
    assert result.record["recipe"]["recentred_outputs"] == []
    assert "Add" not in {n.op_type for n in result.model.graph.node}
