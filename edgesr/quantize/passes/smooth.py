"""GELU smoothing: equal per-channel ranges on both sides of a GELU between two convolutions.

``Conv A -> GELU -> Conv B`` (a transformer-style channel mixer, SAFMN's CCM) quantizes A's
output and B's input per tensor, and their channels' ranges differ widely, so the widest channel
sets a step that leaves the typical one a few levels. GELU is not positively homogeneous, so cross-layer equalisation
(:mod:`edgesr.quantize.passes.equalize`) cannot move a scale through it. Here explicit per-channel
multiplies carry it instead (SmoothQuant's idea, with a multiply where nothing can absorb it):

    A' = A / s  ->  Mul(s)  ->  GELU  ->  Mul(1/t)  ->  B' = B * t (input channels)

with ``s`` and ``t`` each channel's own range divided by the median, so every channel of a
smoothed tensor has the same range and one per-tensor step fits all of them. The float function
is unchanged (to float rounding). The Muls stay float, a full-size pass each (folding them into
per-channel Q/DQ scales is exact but ONNX Runtime's per-axis QuantizeLinear is far slower than
the Mul), so only a side whose channels really differ is smoothed (:data:`SPREAD_MIN`). Smoothing
cuts the noise of A's output and of the GELU output by far more than it adds to B's INT8 weights
(docs/decisions.md, GELU smoothing uses float multiplies, only on widely spread sides).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesr.lazy import require
from edgesr.onnx.checks import node_attr, unique_name
from edgesr.onnx.gelu_pattern import erf_gelus
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize import ranges
from edgesr.quantize.observe import TensorStats, run_collect

RATIO_LIMIT = 1e3  # per-channel scales are clipped to [median / limit, median * limit]
# A side is smoothed when its widest channel's range is this many times the median: 2 bits of
# the median channel's resolution.
SPREAD_MIN = 4.0


@dataclass
class Chain:
    first: object  # Conv A
    gelu_in: str  # A's output, read only by the GELU
    gelu_out: str  # the GELU's output, read only by B
    second: object  # Conv B (not grouped)


@dataclass
class Smoothed:
    first: str
    second: str
    amax: dict[str, float]  # each smoothed tensor (A's new output, B's new input) -> its INT8 range
    spread_before: tuple[float, float]  # max / median of the per-channel ranges, before and after the GELU
    spread_after: tuple[float, float]

    def as_dict(self) -> dict:
        return {
            "first": self.first,
            "second": self.second,
            "smoothed": sorted(self.amax),
            "spread_before": [round(v, 2) for v in self.spread_before],
            "spread_after": [round(v, 2) for v in self.spread_after],
        }


def chains(idx: GraphIndex) -> list[Chain]:
    """Every ``Conv -> GELU -> Conv`` with constant weights, single readers and no graph outputs
    in between; the GELU is an erf pattern or a ``Gelu`` op with its exact (erf) form."""
    gelus: list[tuple[str, str, set[str]]] = []  # (input, output, nodes reading the input)
    for g in erf_gelus(idx.model.graph)[0]:
        gelus.append((g.x, g.output, {g.div.name, g.mul.name}))
    for n in idx.nodes:
        if n.op_type == "Gelu" and node_attr(n, "approximate", "none") == "none":
            gelus.append((n.input[0], n.output[0], {n.name}))
    out = []
    for x, y, readers in gelus:
        a = idx.producer.get(x)
        outs = idx.consumers.get(y, [])
        if a is None or len(outs) != 1 or x in idx.graph_outputs or y in idx.graph_outputs:
            continue
        b = outs[0]
        # A's weights and bias are rescaled, B's weights only
        if (
            {n.name for n in idx.consumers.get(x, [])} != readers
            or not idx.constant_conv(a)
            or b.op_type != "Conv"
            or node_attr(b, "group", 1) != 1
            or b.input[1] not in idx.inits
            or b.input[0] != y
        ):
            continue
        out.append(Chain(a, x, y, b))
    return out


def channel_ranges(model, input_name: str, data: list[np.ndarray], found: list[Chain]) -> dict[str, np.ndarray]:
    """Each channel's MSE-optimal INT8 range of every chain's two tensors: GELU-aware before the
    GELU (its negative tail costs nothing after it), plain after."""
    tensors = [t for c in found for t in (c.gelu_in, c.gelu_out)]
    stats: dict[str, list[TensorStats]] = {}

    def visit(values: dict[str, np.ndarray]) -> None:
        for t, v in values.items():
            per = stats.setdefault(t, [TensorStats(f"{t}[{c}]") for c in range(v.shape[1])])
            for c, st in enumerate(per):
                st.add(v[:, c : c + 1])

    run_collect(model, input_name, data, tensors, visit, progress="GELU channel ranges", total=len(data))
    pre = {c.gelu_in for c in found}
    return {
        t: np.array([ranges.amax(st, "mse", ranges.gelu if t in pre else None) for st in per])
        for t, per in stats.items()
    }


def _spread(r: np.ndarray) -> float:
    live = r[r > 0]
    return float(live.max() / np.median(live)) if live.size else 1.0


def _scales(r: np.ndarray) -> np.ndarray | None:
    """Per-channel divisors that bring every range to the median; None when the widest channel is
    less than SPREAD_MIN times the median (the Muls would cost more time than the noise is worth)."""
    live = r > 0
    if live.sum() < 2 or _spread(r) < SPREAD_MIN:
        return None
    med = float(np.median(r[live]))
    s = np.ones_like(r, dtype=np.float64)
    s[live] = np.clip(r[live] / med, 1 / RATIO_LIMIT, RATIO_LIMIT)
    return s


def smooth(model, input_name: str, data: list[np.ndarray]) -> tuple[object, list[Smoothed]]:
    """A copy of float ``model`` with the sides of :func:`chains` entries that need it smoothed; the
    INT8 range of each smoothed tensor is in ``Smoothed.amax`` (to be used as is)."""
    onnx = require("onnx")
    from onnx import helper, numpy_helper

    idx = GraphIndex.of(model)
    found = [c for c in chains(idx) if not _shared_weights(idx, c)]
    if not found:
        return model, []
    rng = channel_ranges(model, input_name, data, found)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    inits = {t.name: t for t in g.initializer}
    nodes = {n.name: n for n in g.node}
    taken = {t for n in g.node for t in (*n.input, *n.output)} | set(inits) | {n.name for n in g.node}
    inserts: dict[str, list] = {}  # node name -> Muls after it; "before:" + node name -> Muls before it
    done = []

    def scale_weights(name: str, factors: np.ndarray) -> None:
        w = numpy_helper.to_array(inits[name]).astype(np.float64)
        inits[name].CopyFrom(numpy_helper.from_array((w * factors).astype(np.float32), name))

    def multiply(x: str, y: str, factors: np.ndarray, node: str):
        k = unique_name(f"{node}_scale", taken)
        g.initializer.append(numpy_helper.from_array(factors.reshape(1, -1, 1, 1).astype(np.float32), k))
        return helper.make_node("Mul", [x, k], [y], name=unique_name(node, taken))

    for c in found:
        rp, rq = rng[c.gelu_in], rng[c.gelu_out]
        sp, sq = _scales(rp), _scales(rq)
        if sp is None and sq is None:
            continue
        a, b = nodes[c.first.name], nodes[c.second.name]
        tensors = {}
        if sp is not None:
            scale_weights(a.input[1], 1 / sp[:, None, None, None])
            if len(a.input) > 2 and a.input[2]:
                scale_weights(a.input[2], 1 / sp)
            pre = a.output[0] = unique_name(f"{c.gelu_in}/smoothed", taken)
            inserts.setdefault(a.name, []).append(multiply(pre, c.gelu_in, sp, f"{a.name}/smooth_out"))
            tensors[pre] = float((rp / sp).max())
        if sq is not None:
            scale_weights(b.input[1], sq[None, :, None, None])
            post = b.input[0] = unique_name(f"{c.gelu_out}/smoothed", taken)
            inserts.setdefault(f"before:{b.name}", []).append(multiply(c.gelu_out, post, 1 / sq, f"{b.name}/smooth_in"))
            tensors[post] = float((rq / sq).max())
        after_p = rp / sp if sp is not None else rp
        after_q = rq / sq if sq is not None else rq
        done.append(Smoothed(a.name, b.name, tensors, (_spread(rp), _spread(rq)), (_spread(after_p), _spread(after_q))))
    ordered = []
    for n in g.node:
        ordered.extend(inserts.get(f"before:{n.name}", []))
        ordered.append(n)
        ordered.extend(inserts.get(n.name, []))
    del g.node[:]
    g.node.extend(ordered)
    return out, done


def _shared_weights(idx: GraphIndex, c: Chain) -> bool:
    """A weight or bias another node also reads cannot be rescaled for this chain alone."""
    names = [i for n in (c.first, c.second) for i in n.input[1:] if i]
    return any(len(idx.consumers.get(t, [])) > 1 for t in names)
