"""Cross-layer equalisation: rescale channels between two convolutions so per-tensor INT8 fits.

For ``Conv A -> [LeakyRelu | Relu] -> Conv B`` (A's output feeding only that chain, B not
grouped), scaling A's output channel ``i`` by ``1/s_i`` and B's input channel ``i`` by ``s_i``
leaves the function unchanged (the activations are positively homogeneous). Activations are
quantized per tensor, so a few wide channels set the step for all; weights are per channel,
so B's columns can absorb the scale. ``s_i = sqrt(r_i / w_i)`` (normalised) balances the
activation range ``r_i`` of channel ``i`` against the largest weight ``w_i`` reading it
(Nagel et al. 2019, data-free quantization; with activation ranges as in SmoothQuant).

The result is a float model computing the same function (to float rounding), to be
calibrated again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesr.lazy import require
from edgesr.onnx.checks import node_attr
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize.observe import TensorStats

HOMOGENEOUS = {"LeakyRelu", "Relu"}


@dataclass
class Pair:
    first: str
    second: str
    tensor: str  # B's input (whose channels were balanced)
    spread_before: float  # max / median of per-channel ranges
    spread_after: float


def pairs(idx: GraphIndex) -> list[tuple[object, list, object]]:
    """(conv A, [activation nodes], conv B) chains that can be equalised."""
    out = []
    for b in idx.nodes:
        if b.op_type != "Conv" or node_attr(b, "group", 1) != 1 or b.input[1] not in idx.inits:
            continue
        chain, t = [], b.input[0]
        while True:
            p = idx.producer.get(t)
            if p is None or idx.fanout(t) != 1:
                break
            if p.op_type in HOMOGENEOUS:
                chain.append(p)
                t = p.input[0]
                continue
            if idx.constant_conv(p) and node_attr(p, "group", 1) == 1:
                out.append((p, chain[::-1], b))
            break
    return out


def equalize(model, stats: dict[str, TensorStats], *, strength: float = 0.5) -> tuple[object, list[Pair]]:
    """A copy of ``model`` with every equalisable pair balanced; ``stats`` gives channel ranges."""
    onnx = require("onnx")
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    idx = GraphIndex.of(out)
    inits = {t.name: t for t in out.graph.initializer}
    shared = {name for name, users in idx.consumers.items() if name in inits and len(users) > 1}
    done: list[Pair] = []
    for a, _, b in pairs(idx):
        st = stats.get(b.input[0])
        wa_name, wb_name = a.input[1], b.input[1]
        if st is None or st.chmax is None or wa_name in shared or wb_name in shared:
            continue
        wa = numpy_helper.to_array(inits[wa_name]).astype(np.float64)
        wb = numpy_helper.to_array(inits[wb_name]).astype(np.float64)
        r = st.chmax.astype(np.float64)
        if r.shape[0] != wa.shape[0] or wb.shape[1] != wa.shape[0]:
            continue
        w = np.abs(wb).max(axis=(0, 2, 3))
        ok = (r > 0) & (w > 0)
        if ok.sum() < 2:
            continue
        s = np.ones_like(r)
        s[ok] = (r[ok] ** strength) / (w[ok] ** (1 - strength))
        s[ok] /= np.exp(np.mean(np.log(s[ok])))  # keep the overall magnitude
        s = np.clip(s, 1e-3, 1e3)
        before = float(r[ok].max() / np.median(r[ok]))
        after_r = r / s
        after = float(after_r[ok].max() / np.median(after_r[ok]))
        if after >= before:
            continue
        inits[wa_name].CopyFrom(numpy_helper.from_array((wa / s[:, None, None, None]).astype(np.float32), wa_name))
        if len(a.input) > 2 and a.input[2]:
            ba = numpy_helper.to_array(inits[a.input[2]]).astype(np.float64)
            inits[a.input[2]].CopyFrom(numpy_helper.from_array((ba / s).astype(np.float32), a.input[2]))
        inits[wb_name].CopyFrom(numpy_helper.from_array((wb * s[None, :, None, None]).astype(np.float32), wb_name))
        done.append(Pair(a.name, b.name, b.input[0], before, after))
    return out, done
