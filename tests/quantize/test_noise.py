"""The per-tensor noise model: one Q/DQ pair or one INT8 weight at a time, additivity, and the
tensor-by-tensor fallback order that finds a deliberately INT8-hostile tensor."""

import numpy as np
import pytest

from edgesr.onnx.graph_index import GraphIndex
from edgesr.onnx.sessions import session
from edgesr.quantize import placement, qdq, quantize
from edgesr.quantize.budget import noise
from edgesr.quantize.graph import unique_names
from tests.quantize.conftest import FAST
from tests.quantize.models import conv_chain, sensitive_model
from tests.tiny_models import save


def _run(model, x):
    s = session(model)
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def _chain():
    m = conv_chain()
    unique_names(m)
    return m, GraphIndex.of(m)


def test_with_pair_quantizes_one_tensor_for_every_reader():
    m, idx = _chain()
    x = np.random.default_rng(0).random((1, 3, 12, 10), dtype=np.float32)
    conv = next(n for n in idx.nodes if n.op_type == "Conv")
    t = conv.output[0]
    q = noise.with_pair(m, t, 0.05)  # a tight range: clearly visible rounding and clipping
    assert [n.op_type for n in q.graph.node].count("QuantizeLinear") == 1
    assert not np.allclose(_run(q, x), _run(m, x))
    clipped = np.abs(_run(q, x) - _run(m, x)).max()
    assert np.abs(_run(noise.with_pair(m, t, 2.0), x) - _run(m, x)).max() < clipped  # a range that fits: less damage
    for t in ("input", m.graph.output[0].name):  # a graph input, a graph output
        y = _run(noise.with_pair(m, t, 1.0), x)
        assert y.shape == _run(m, x).shape
    out = _run(noise.with_pair(m, m.graph.output[0].name, 1.0), x)
    np.testing.assert_allclose(out, np.clip(np.round(_run(m, x) * 127), -127, 127) / 127, atol=1e-6)


def test_with_weight_uses_the_dequantized_int8_weight():
    m, idx = _chain()
    conv = next(n for n in idx.nodes if n.op_type == "Conv")
    from onnx import numpy_helper

    w = numpy_helper.to_array(idx.inits[conv.input[1]])
    qw = qdq.quantize_weight(w)
    m2 = noise.with_weight(m, idx, conv.name, qw)
    w2 = numpy_helper.to_array(GraphIndex.of(m2).inits[conv.input[1]])
    np.testing.assert_allclose(w2, qw.q * qw.scale[:, None, None, None], rtol=1e-6)
    assert np.abs(w2 - w).max() <= qw.scale.max() / 2 + 1e-7


def test_quantized_tensors_follow_the_placement():
    m, idx = _chain()
    sizes = {t: 100 for t in idx.elem_type}
    full = placement.place(idx, sizes)
    every = noise.quantized_tensors(idx, full.int8)
    assert "input" in every
    assert noise.quantized_tensors(idx, set()) == set()
    conv = next(n for n in idx.nodes if n.op_type == "Conv" and n.name in full.int8)
    without = noise.quantized_tensors(idx, full.int8 - {conv.name})
    assert without <= every


def test_noise_of_a_placement_is_the_sum_and_the_order_covers_the_units():
    m, idx = _chain()
    sizes = {t: 100 for t in idx.elem_type}
    full = placement.place(idx, sizes)
    ts = sorted(noise.quantized_tensors(idx, full.int8))
    nm = noise.NoiseModel({t: 1e-5 * (k + 1) for k, t in enumerate(ts)}, {n: 1e-7 for n in full.int8})
    assert nm.predict(idx, full.int8) == pytest.approx(
        sum(1e-5 * (k + 1) for k in range(len(ts))) + 1e-7 * len(full.int8)
    )
    order = noise.order(idx, sizes, full, nm)
    names = [d.name for d in order]
    assert len(names) == len(set(names)) and set(names) <= full.int8
    assert nm.predict(idx, full.int8 - set(names)) < nm.predict(idx, full.int8)


def test_tensor_order_finds_the_hostile_tensor(tmp_path):
    p = save(sensitive_model(), tmp_path / "s.onnx")
    result = quantize(p, None, max_drop=0.1, fallback_order="tensor", **FAST)
    r = result.record
    assert r["validation"]["met"] and r["recipe"]["fallback_order"] == "tensor"
    assert set(result.kept) & {"/sens_a", "/sens_b"}  # the tensor between them is the damage
    assert "/calm" not in result.kept
    assert all("tensor" in k["reason"] for k in r["kept"])
