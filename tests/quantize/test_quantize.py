"""Quantize tiny models end to end and check the Q/DQ structure: symmetric, per-channel, runnable."""

import json

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from edgesr.errors import InputError, ModelError
from edgesr.onnx.graph_index import GraphIndex
from edgesr.onnx.sessions import session
from edgesr.quantize import qdq, quantize
from tests.quantize.conftest import FAST
from tests.tiny_models import save, sr_model


def _run(model, x):
    s = session(model)
    return s.run(None, {s.get_inputs()[0].name: x})[0]


def _photo(h, w):
    from edgesr.io.images import read_rgb, sample_images, to_nchw

    return to_nchw(read_rgb(sample_images()[0])[100 : 100 + h, 100 : 100 + w])


def _inits(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}


def test_quantize_writes_symmetric_per_channel_qdq(tmp_path, chain_path):
    out = tmp_path / "q" / "chain.int8.onnx"
    out.parent.mkdir()
    result = quantize(chain_path, out, max_drop=None, **FAST)
    assert out.is_file() and (tmp_path / "q" / "chain.int8.x86.onnx").is_file()
    record = json.loads((tmp_path / "q" / "chain.int8.quant.json").read_text())
    assert record["int8_convolutions"] == record["convolutions"] == 3
    m = onnx.load(str(out))
    inits = _inits(m)
    qs = [n for n in m.graph.node if n.op_type == "QuantizeLinear"]
    dqs = [n for n in m.graph.node if n.op_type == "DequantizeLinear"]
    assert qs and dqs
    for n in qs + dqs:  # every zero point is 0, and activation ones are INT8 (TensorRT's requirement)
        zp = inits[n.input[2]]
        assert not zp.any()
        assert zp.dtype in (np.int8, np.int32)
    for n in qs:
        assert inits[n.input[2]].dtype == np.int8 and inits[n.input[1]].size == 1  # per-tensor activations
    convs = [n for n in m.graph.node if n.op_type == "Conv"]
    producers = {o: n for n in m.graph.node for o in n.output}
    for c in convs:
        wdq = producers[c.input[1]]
        assert wdq.op_type == "DequantizeLinear"
        w, s = inits[wdq.input[0]], inits[wdq.input[1]]
        assert w.dtype == np.int8 and s.shape == (w.shape[0],)  # per output channel
        assert {a.name: a.i for a in wdq.attribute}.get("axis", 1) == 0
        assert np.abs(w).max() <= 127
        bdq = producers[c.input[2]]
        assert inits[bdq.input[0]].dtype == np.int32
        assert producers[c.input[0]].op_type == "DequantizeLinear"
    meta = {p.key: p.value for p in m.metadata_props}
    assert meta["edgesr.scale"] == "2" and meta["edgesr.quant.precision"] == "int8-qdq"
    recipe = json.loads(meta["edgesr.quant.recipe"])
    assert recipe["method"] == "mse" and recipe["kept"] == []
    # it runs on ONNX Runtime CPU, close to the float model, and the x86 encoding computes the same
    x = _photo(24, 20)
    ref = _run(onnx.load(str(chain_path)), x)
    y8 = _run(m, x)
    yu = _run(onnx.load(str(tmp_path / "q" / "chain.int8.x86.onnx")), x)
    assert y8.shape == ref.shape == (1, 3, 48, 40)
    assert np.abs(y8 - ref).mean() < 0.01 and np.abs(y8 - ref).max() < 0.1
    assert np.abs(yu - y8).max() < 1e-3
    assert result.record["validation"]["met"] and result.kept == []


def test_x86_encoding_is_fused_by_onnxruntime(tmp_path, chain_path):
    out = tmp_path / "c.onnx"
    quantize(chain_path, out, max_drop=None, **FAST)
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    ort.InferenceSession(str(tmp_path / "c.x86.onnx"), so, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(str(tmp_path / "opt.onnx")).graph.node]
    assert ops.count("QLinearConv") == 3 and "Conv" not in ops


def test_x86_file_pads_odd_channel_counts_and_stays_fused(tmp_path):
    """10-channel INT8 convolutions run on 12 in the x86 file; the INT8 file keeps its 10."""
    import onnxruntime as ort

    from edgesr.onnx.pad_channels import int8_convolutions
    from tests.quantize.models import conv_chain

    path = save(conv_chain(channels=10), tmp_path / "ten.onnx")
    quantize(path, tmp_path / "t.onnx", max_drop=None, **FAST)
    m, x86 = onnx.load(str(tmp_path / "t.onnx")), onnx.load(str(tmp_path / "t.x86.onnx"))
    assert sorted(int8_convolutions(m).values()) == [(10, 3), (10, 10), (12, 10)]
    assert sorted(int8_convolutions(x86).values()) == [(12, 3), (12, 12), (12, 12)]
    so = ort.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    ort.InferenceSession(str(tmp_path / "t.x86.onnx"), so, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(str(tmp_path / "opt.onnx")).graph.node]
    assert ops.count("QLinearConv") == 3 and "Conv" not in ops
    x = _photo(24, 20)
    assert np.abs(_run(x86, x) - _run(m, x)).max() < 1e-3


def test_for_tensorrt_folds_int32_biases(tmp_path, chain_path):
    result = quantize(chain_path, None, max_drop=None, **FAST)
    trt = qdq.for_tensorrt(result.model)
    inits = _inits(trt)
    dq_consts = [n for n in trt.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in inits]
    assert dq_consts and all(inits[n.input[0]].dtype == np.int8 for n in dq_consts)
    x = _photo(16, 16)
    assert np.abs(_run(trt, x) - _run(result.model, x)).max() < 1e-2


def test_attention_model_quantizes_and_records_what_stayed_float(attention_path):
    result = quantize(attention_path, None, max_drop=None, **FAST)
    r = result.record
    assert r["int8_convolutions"] == r["convolutions"] == 4
    assert r["float_by_placement"] == {}  # sigmoid, gate and shuffle all run in INT8 here
    assert r["recipe"]["placement"]


def test_gelus_stay_whole_in_float_and_are_recorded(tmp_path):
    """No Q/DQ inside a GELU, its 0.5 included: runtimes fuse the pattern only when it is whole."""
    from tests.quantize.models import conv_chain

    out = tmp_path / "gelu.int8.onnx"
    result = quantize(save(conv_chain(act="gelu"), tmp_path / "gelu.onnx"), out, max_drop=None, **FAST)
    gelu = {k.split(":")[0]: v for k, v in result.record["float_by_placement"].items() if "GELU" in k}
    assert gelu == {"Div": 2, "Erf": 2, "Add": 2, "Mul": 4}
    m = onnx.load(str(out))
    readers = {}
    for n in m.graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    producers = {o: n for n in m.graph.node for o in n.output}
    for erf in (n for n in m.graph.node if n.op_type == "Erf"):
        assert producers[erf.input[0]].op_type == "Div"
        chain, node = [], erf
        while len(readers.get(node.output[0], [])) == 1 and len(chain) < 3:
            node = readers[node.output[0]][0]
            chain.append(node.op_type)
        assert chain == ["Add", "Mul", "Mul"]
    x86 = tmp_path / "gelu.int8.x86.onnx"
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(x86), options, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node]
    assert ops.count("Gelu") == 2 and "Erf" not in ops  # both fused, by the x86 file or the runtime


def test_wide_gelu_channels_are_smoothed_and_their_tensors_quantized(tmp_path):
    from tests.quantize.models import wide_gelu_chain

    model = wide_gelu_chain()
    convs = [n.name for n in model.graph.node if n.op_type == "Conv"]
    src = save(model, tmp_path / "gelu.onnx")
    out = tmp_path / "gelu.int8.onnx"
    on = quantize(src, out, max_drop=None, **FAST).record
    smoothed = on["recipe"]["smoothed_gelus"]
    assert (smoothed[0]["first"], smoothed[0]["second"]) == (convs[0], convs[1])
    assert len(smoothed[0]["smoothed"]) == 2 and smoothed[0]["spread_before"][0] > 10
    int8 = onnx.load(str(out))
    readers = {i: n for n in int8.graph.node for i in n.input}
    for t in smoothed[0]["smoothed"]:
        assert readers[t].op_type == "QuantizeLinear"  # the smoothed tensors are the ones quantized
    muls = sum(n.name.endswith(("/smooth_in", "/smooth_out")) for n in int8.graph.node)
    assert muls == sum(len(s["smoothed"]) for s in smoothed)
    off = quantize(src, None, max_drop=None, smooth=False, **FAST).record
    assert off["recipe"]["smoothed_gelus"] == []


def test_already_quantized_model_is_refused(tmp_path, chain_path):
    q = tmp_path / "q.onnx"
    quantize(chain_path, q, max_drop=None, **FAST)
    with pytest.raises(ModelError, match="already quantized"):
        quantize(q, tmp_path / "again.onnx", **FAST)


def test_model_without_scale_needs_one(tmp_path):
    m = sr_model(scale=2)
    del m.metadata_props[:]
    p = save(m, tmp_path / "bare.onnx")
    with pytest.raises(InputError, match="--scale"):
        quantize(p, None, **FAST)
    assert quantize(p, None, scale=2, max_drop=None, **FAST).record["int8_convolutions"] >= 1


def test_bad_options_fail_before_work(tmp_path, chain_path):
    with pytest.raises(InputError, match="unknown range method"):
        quantize(chain_path, None, method="kl", **FAST)
    with pytest.raises(InputError, match="did you mean 'count'"):
        quantize(chain_path, None, cont=3)
    with pytest.raises(InputError, match="overwrite"):
        quantize(chain_path, chain_path, **FAST)
    with pytest.raises(InputError, match=".onnx"):
        quantize(chain_path, tmp_path / "x.bin", **FAST)


@pytest.mark.parametrize("method", ["entropy", "minmax", "percentile", "mse"])
def test_every_range_method_works(chain_path, method):
    result = quantize(chain_path, None, method=method, max_drop=None, **FAST)
    assert result.record["recipe"]["method"] == method
    assert result.record["validation"]["output_psnr_vs_fp32_db"] > 25


def test_equalisation_keeps_the_function(chain_path):
    from edgesr.quantize.graph import unique_names
    from edgesr.quantize.observe import collect_stats
    from edgesr.quantize.passes.equalize import equalize

    m = onnx.load(str(chain_path))
    unique_names(m)
    idx = GraphIndex.of(m)
    x = _photo(24, 24)
    tensors = [t for t in idx.elem_type if idx.is_float(t) and not idx.is_const(t)]
    stats = collect_stats(m, "input", [x], tensors, progress=None)
    # make one channel of the middle activation much wider so equalisation has work to do
    for t in m.graph.initializer:
        if t.name == m.graph.node[3].input[1]:
            w = numpy_helper.to_array(t).copy()
            w[0] *= 40
            t.CopyFrom(numpy_helper.from_array(w, t.name))
    stats = collect_stats(m, "input", [x], tensors, progress=None)
    eq, pairs = equalize(m, stats)
    assert pairs and all(p.spread_after < p.spread_before for p in pairs)
    assert np.abs(_run(eq, x) - _run(m, x)).max() < 1e-4
    result = quantize(chain_path, None, max_drop=None, equalize=True, **FAST)
    assert isinstance(result.record["recipe"]["equalized_pairs"], list)


def test_output_image_range_is_clipped(tmp_path):
    from tests.tiny_models import Builder

    b = Builder(seed=5)
    f = b.op("LeakyRelu", [b.conv("input", 3, 8)], alpha=0.05)
    y = b.conv(f, 8, 12)
    b.inits[-1].CopyFrom(numpy_helper.from_array(np.full(12, 1.2, np.float32), b.inits[-1].name))  # overshoot
    out = b.op("DepthToSpace", [y], blocksize=2, mode="CRD")
    m = b.model(out, metadata={"edgesr.scale": 2, "edgesr.value_range": 1.0})
    p = save(m, tmp_path / "plain.onnx")
    for recentre, amax in ((False, 1.0), (True, 0.5)):  # [0, 1], or [-0.5, 0.5] around the recentring offset
        result = quantize(p, None, max_drop=None, recentre_output=recentre, **FAST)
        assert y in result.record["recipe"]["clipped_outputs"]
        scales = {
            n.input[0]: _inits(result.model)[n.input[1]]
            for n in result.model.graph.node
            if n.op_type == "QuantizeLinear"
        }
        assert scales[y] == pytest.approx(amax / 127)


def test_relu_joins_its_convolution_and_fuses_on_x86(tmp_path):
    import onnxruntime as ort

    from tests.quantize.models import conv_chain

    path = save(conv_chain(act="Relu"), tmp_path / "relu.onnx")
    quantize(path, tmp_path / "r.onnx", max_drop=None, **FAST)
    m, x86 = onnx.load(str(tmp_path / "r.onnx")), onnx.load(str(tmp_path / "r.x86.onnx"))
    for model, zp_type in ((m, np.int8), (x86, np.uint8)):
        inits = _inits(model)
        producers = {o: n for n in model.graph.node for o in n.output}
        readers = {i: n for n in model.graph.node for i in n.input}
        relus = [n for n in model.graph.node if n.op_type == "Relu"]
        assert len(relus) == 2
        for r in relus:  # no Q/DQ between the conv and its ReLU; the pair follows the ReLU, zero point 0
            assert producers[r.input[0]].op_type == "Conv"
            q = readers[r.output[0]]
            assert q.op_type == "QuantizeLinear"
            zp = inits[q.input[2]]
            assert zp.dtype == zp_type and not zp.any()
    so = ort.SessionOptions()
    so.optimized_model_filepath = str(tmp_path / "opt.onnx")
    ort.InferenceSession(str(tmp_path / "r.x86.onnx"), so, providers=["CPUExecutionProvider"])
    ops = [n.op_type for n in onnx.load(str(tmp_path / "opt.onnx")).graph.node]
    assert ops.count("QLinearConv") == 3 and "Relu" not in ops and "Conv" not in ops
    x = _photo(24, 20)
    ref = _run(onnx.load(str(path)), x)
    assert np.abs(_run(x86, x) - ref).mean() < 0.01 and np.abs(_run(m, x) - ref).mean() < 0.01


def test_grouped_and_narrow_convolutions_stay_float_where_int8_is_slower():
    from edgesr.quantize import placement
    from tests.tiny_models import Builder

    b = Builder(seed=0)
    phases = b.conv("input", 3, 48, k=5, groups=3)  # like the bicubic rewrite's 3 -> 48 grouped conv
    b.nodes[-1].name = "grouped"
    edge = b.conv("input", 3, 2)
    b.nodes[-1].name = "narrow"
    f = b.op("Relu", [b.conv(b.op("Concat", ["input", edge], axis=1), 5, 16)])
    b.nodes[-2].name = "dense"
    g = b.conv(f, 16, 48)
    b.nodes[-1].name = "recon"
    y = b.op("DepthToSpace", [b.op("Add", [phases, g])], blocksize=4, mode="CRD")
    model = onnx.shape_inference.infer_shapes(b.model(y, dims=(1, 3, 90, 160)))
    idx = GraphIndex.of(model)
    sizes = {
        vi.name: int(np.prod([d.dim_value for d in vi.type.tensor_type.shape.dim]))
        for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output)
    }
    pl = placement.place(idx, sizes)
    assert {"dense", "recon"} <= pl.int8
    assert "grouped" not in pl.int8 and "narrow" not in pl.int8


def test_value_info_of_a_removed_tensor_is_not_observed(tmp_path, chain_path):
    """Rewrites and simplifiers can leave shapes of tensors nothing produces any more."""
    model = onnx.load(str(chain_path))
    model.graph.value_info.append(onnx.helper.make_tensor_value_info("gone", onnx.TensorProto.FLOAT, [1, 8, 4, 4]))
    result = quantize(save(model, tmp_path / "stale.onnx"), tmp_path / "stale.int8.onnx", max_drop=None, **FAST)
    assert result.record["int8_convolutions"] == 3
