import math

import numpy as np
import onnx
import pytest

from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize import ranges
from edgesr.quantize.observe import TensorStats
from edgesr.quantize.prepare import consumer_functions
from tests.quantize.models import conv_chain


def test_gelu_is_the_erf_form():
    v = np.linspace(-8, 8, 3201)
    exact = np.array([0.5 * x * (1 + math.erf(x / math.sqrt(2))) for x in v])
    assert np.abs(ranges.gelu(v) - exact).max() < 1e-6


def _stats(x: np.ndarray) -> TensorStats:
    s = TensorStats("t")
    s.add(x.reshape(1, 1, 1, -1).astype(np.float32))
    return s


def _error_after(fn, x: np.ndarray, amax: float) -> float:
    step = amax / ranges.QMAX
    q = np.clip(np.round(x / step), -ranges.QMAX, ranges.QMAX) * step
    return float(np.mean((fn(q) - fn(x)) ** 2))


def test_a_gelu_reader_lets_the_range_clip_the_negative_tail():
    # a pre-GELU tensor like SAFMN's channel mixers: most values within +-1.5, a tail down to -20
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 0.5, 200_000), rng.uniform(-20, -4, 2_000)])
    plain = ranges.amax(_stats(x), "mse")
    aware = ranges.amax(_stats(x), "mse", ranges.consumer_function("Gelu", {}))
    assert aware < plain / 3
    assert _error_after(ranges.gelu, x, aware) < _error_after(ranges.gelu, x, plain) / 4


def test_gelus_and_activations_are_found_as_consumers():
    gelu = GraphIndex.of(conv_chain(act="gelu"))
    found = consumer_functions(gelu)
    conv_outputs = [n.output[0] for n in gelu.nodes if n.op_type == "Conv"]
    # the first two convolutions feed an erf GELU (read by its Div and its Mul), the last does not
    assert [found.get(t) for t in conv_outputs] == [ranges.gelu, ranges.gelu, None]

    leaky = GraphIndex.of(conv_chain())
    found = consumer_functions(leaky)
    conv_outputs = [n.output[0] for n in leaky.nodes if n.op_type == "Conv"]
    fn = found[conv_outputs[0]]
    assert fn(np.array([-1.0, 2.0])) == pytest.approx([-0.05, 2.0])
    assert conv_outputs[2] not in found


def test_a_tensor_with_other_readers_besides_a_gelu_gets_no_consumer():
    model = conv_chain(act="gelu")
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    model.graph.output.append(onnx.helper.make_tensor_value_info(conv.output[0], onnx.TensorProto.FLOAT, None))
    assert conv.output[0] not in consumer_functions(GraphIndex.of(model))


def test_only_the_exact_gelu_op_is_a_consumer():
    assert ranges.consumer_function("Gelu", {}) is ranges.gelu
    assert ranges.consumer_function("Gelu", {"approximate": b"none"}) is ranges.gelu
    assert ranges.consumer_function("Gelu", {"approximate": b"tanh"}) is None
