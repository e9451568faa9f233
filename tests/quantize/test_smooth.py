import numpy as np
import onnx
from onnx import helper

from edgesr.onnx.graph_index import GraphIndex
from edgesr.onnx.sessions import session
from edgesr.quantize import ranges
from edgesr.quantize.budget.noise import with_pair
from edgesr.quantize.observe import TensorStats, with_outputs
from edgesr.quantize.passes.smooth import SPREAD_MIN, chains, channel_ranges, smooth
from tests.quantize.models import Builder, conv_chain, wide_gelu_chain


def _data(n: int = 6, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random((1, 3, 16, 16), dtype=np.float32) for _ in range(n)]


def _run(model, x: np.ndarray, *outputs: str) -> list[np.ndarray]:
    names = list(outputs) or [model.graph.output[0].name]
    return session(with_outputs(model, names)).run(names, {"input": x})


def test_chains_are_conv_gelu_conv_only():
    assert len(chains(GraphIndex.of(conv_chain(act="gelu")))) == 2
    assert chains(GraphIndex.of(conv_chain())) == []  # LeakyRelu: equalisation's business


def test_smoothing_keeps_the_function_and_equalises_every_channel():
    model, data = wide_gelu_chain(), _data()
    smoothed, done = smooth(model, "input", data)
    for x in data[:3]:
        np.testing.assert_allclose(_run(smoothed, x)[0], _run(model, x)[0], rtol=1e-4, atol=1e-5)
    found = chains(GraphIndex.of(model))
    first = channel_ranges(model, "input", data, found)[found[0].gelu_in]
    assert first.max() / np.median(first) > 10  # the two wide channels
    assert done[0].first == found[0].first.name and len(done[0].amax) == 2  # both sides of the GELU
    assert done[0].spread_before[0] > 10 and max(done[0].spread_after) < 1.01
    # the quantized tensors are the first conv's new output and the second conv's new input
    idx = GraphIndex.of(smoothed)
    pre, post = sorted(done[0].amax, key=lambda t: idx.producer[t].op_type)  # Conv, Mul
    assert idx.producer[pre].name == done[0].first and idx.consumers[pre][0].op_type == "Mul"
    assert idx.consumers[post][0].name == done[0].second and idx.producer[post].op_type == "Mul"
    values = np.concatenate([_run(smoothed, x, pre)[0] for x in data])
    widths = np.abs(values).max(axis=(0, 2, 3))
    assert widths.max() / np.median(widths) < first.max() / np.median(first) / 4


def test_narrow_channels_are_left_alone():
    """Channels within SPREAD_MIN of each other: a Mul would cost a full pass for little noise."""
    model, data = conv_chain(act="gelu"), _data()
    found = chains(GraphIndex.of(model))
    spreads = [r.max() / np.median(r) for r in channel_ranges(model, "input", data, found).values()]
    assert max(spreads) < SPREAD_MIN
    out, done = smooth(model, "input", data)
    assert done == [] and [n.op_type for n in out.graph.node] == [n.op_type for n in model.graph.node]


def test_smoothing_cuts_the_output_noise_of_quantizing_those_tensors():
    model, data = wide_gelu_chain(), _data()
    smoothed, done = smooth(model, "input", data)
    found = chains(GraphIndex.of(model))
    ref = [_run(model, x)[0] for x in data]

    def noise(m, tensor: str, amax: float) -> float:
        q = with_pair(m, tensor, amax)
        return float(np.mean([np.mean((_run(q, x)[0] - r) ** 2) for x, r in zip(data, ref)]))

    stats = {
        t: _stats(np.concatenate([_run(model, x, t)[0] for x in data])) for t in (found[0].gelu_in, found[0].gelu_out)
    }
    plain_pre = noise(model, found[0].gelu_in, ranges.amax(stats[found[0].gelu_in], "mse", ranges.gelu))
    plain_post = noise(model, found[0].gelu_out, ranges.amax(stats[found[0].gelu_out], "mse"))
    pre, post = (next(t for t in done[0].amax if t.startswith(x)) for x in (found[0].gelu_in, found[0].gelu_out))
    # the six narrow channels lose most of their noise, the two wide ones keep theirs
    assert noise(smoothed, pre, done[0].amax[pre]) < plain_pre / 2
    assert noise(smoothed, post, done[0].amax[post]) < plain_post / 2


def _stats(x):
    s = TensorStats("t")
    s.add(x)
    return s


def test_gelu_op_form_counts_but_not_its_tanh_approximation():
    for approximate, expected in (("none", 1), ("tanh", 0)):
        b = Builder(seed=2)
        f = b.conv("input", 3, 8)
        g = b.op("Gelu", [f], approximate=approximate)
        out = b.conv(g, 8, 3)
        model = b.model(out, opset=20)
        assert len(chains(GraphIndex.of(model))) == expected


def test_shared_weights_or_extra_readers_are_left_alone():
    model = conv_chain(act="gelu")
    first = next(n for n in model.graph.node if n.op_type == "Conv")
    model.graph.output.append(helper.make_tensor_value_info(first.output[0], onnx.TensorProto.FLOAT, None))
    assert len(chains(GraphIndex.of(model))) == 1  # the first conv's output is also a graph output

    model = conv_chain(act="gelu", channels=12)  # the last two convs are both 12 -> 12
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    convs[2].input[1] = convs[1].input[1]
    out, done = smooth(model, "input", _data(2))
    assert done == [] and out is model
