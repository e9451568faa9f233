"""The budget's per-tensor noise model: which units to keep in float, decided tensor by tensor.

Quantization noise adds up over the points where a model is quantized: the output noise powers of
the activation tensors quantized one at a time (the others float) sum to about the all-INT8
model's (docs/decisions.md, The budget predicts noise as a sum over quantized tensors). So the
noise of a placement is predicted well by the sum over the tensors it quantizes, plus each INT8
convolution's weights.

Keeping one unit in float removes noise only from the tensors nothing else quantizes: a
tensor shared by a convolution and its INT8 readers stays quantized until all of them are
float. A unit's damage "quantized alone" counts its inputs and outputs as if they were its
own, so ordering units by it keeps neighbours one by one that only help together. Here each
*move* is a quantized tensor made float, with the units that must be kept for that; moves
are chosen greedily by predicted noise removed per cost-model time added, and the units in
the order their moves first need them are the fallback order (:func:`edgesr.quantize.budget.sensitivity.fit`
then measures prefixes of it, as for any order).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgesr.lazy import require
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize import placement
from edgesr.quantize.budget.sensitivity import UnitDamage
from edgesr.quantize.qdq import QMAX, QdqPlan, QuantWeight


@dataclass
class NoiseModel:
    tensors: dict[str, float]  # activation tensor -> output noise power (model range 1) quantized alone
    weights: dict[str, float]  # conv node -> output noise power of its INT8 weights alone

    def predict(self, idx: GraphIndex, int8: set[str]) -> float:
        return sum(self.tensors.get(t, 0.0) for t in quantized_tensors(idx, int8)) + sum(
            self.weights.get(n, 0.0) for n in int8
        )


def quantized_tensors(idx: GraphIndex, int8: set[str]) -> set[str]:
    """Activation tensors a placement quantizes: the fake-quant points of the fine-tune, which
    are where :func:`edgesr.quantize.qdq.build` puts its pairs."""
    from edgesr.quantize.qat.finetune import hooks

    act, edges, _ = hooks(idx, QdqPlan(int8=set(int8), amax={}))
    return act | set(edges)


def with_pair(model, tensor: str, amax: float):
    """A copy of float ``model`` with one symmetric INT8 Q/DQ pair on ``tensor``: its producer
    writes a new name and the DequantizeLinear writes ``tensor``, so every reader (and a graph
    output) sees the quantized value."""
    onnx = require("onnx")
    from onnx import helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    s, z, q, raw = f"{tensor}/noise/scale", f"{tensor}/noise/zp", f"{tensor}/noise/q", f"{tensor}/noise/raw"
    g.initializer.extend(
        [
            numpy_helper.from_array(np.array(max(amax, 1e-12) / QMAX, np.float32), s),
            numpy_helper.from_array(np.array(0, np.int8), z),
        ]
    )
    nodes = list(g.node)
    at = next((k for k, n in enumerate(nodes) if tensor in n.output), None)
    src = raw
    if at is None:  # a graph input: its readers move to the DequantizeLinear instead
        src, dq = tensor, f"{tensor}/noise/dq"
        for n in nodes:
            for k, i in enumerate(n.input):
                if i == tensor:
                    n.input[k] = dq
    else:
        producer = nodes[at]
        producer.output[list(producer.output).index(tensor)] = raw
        dq = tensor
    pair = [
        helper.make_node("QuantizeLinear", [src, s, z], [q], name=f"{tensor}/noise/Q"),
        helper.make_node("DequantizeLinear", [q, s, z], [dq], name=f"{tensor}/noise/DQ"),
    ]
    at = 0 if at is None else at + 1
    del g.node[:]
    g.node.extend(nodes[:at] + pair + nodes[at:])
    return out


def with_weight(model, idx: GraphIndex, conv: str, qw: QuantWeight):
    """A copy of float ``model`` whose convolution ``conv`` uses its INT8 weights (dequantized)."""
    onnx = require("onnx")
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    w = idx.node(conv).input[1]
    for t in out.graph.initializer:
        if t.name == w:
            deq = qw.q.astype(np.float32) * qw.scale.reshape(-1, *[1] * (qw.q.ndim - 1))
            t.CopyFrom(numpy_helper.from_array(deq.astype(np.float32), w))
    return out


def measure(
    idx: GraphIndex,
    model,
    full_int8: set[str],
    amax: dict[str, float],
    weights: dict[str, QuantWeight],
    noise_of: Callable[[object], float],
    progress: bool = True,
) -> NoiseModel:
    """Output noise power of each tensor the all-INT8 placement quantizes, and of each INT8
    convolution's weights, each alone; ``noise_of(model)`` runs a candidate on the probe images."""
    tqdm = require("tqdm").tqdm
    points = sorted(t for t in quantized_tensors(idx, full_int8) if t in amax)
    convs = sorted(n for n in full_int8 if n in weights)
    tensors, wnoise = {}, {}
    jobs = [("t", t) for t in points] + [("w", c) for c in convs]
    for kind, name in tqdm(
        jobs, desc="per-tensor noise", unit="point", leave=False, disable=None if progress else True
    ):
        if kind == "t":
            tensors[name] = noise_of(with_pair(model, name, amax[name]))
        else:
            wnoise[name] = noise_of(with_weight(model, idx, name, weights[name]))
    return NoiseModel(tensors, wnoise)


def order(idx: GraphIndex, sizes: dict[str, int], full: placement.Placement, nm: NoiseModel) -> list[UnitDamage]:
    """Units in the order the greedy tensor moves keep them (see the module docstring); each
    carries the output PSNR of the noise its move removed."""
    int8 = set(full.int8)
    noise = nm.predict(idx, int8)
    cost = placement.total_cost(idx, int8, sizes)
    out: list[UnitDamage] = []
    position = {n.name: k for k, n in enumerate(idx.nodes)}
    while int8:
        best = None
        for t in quantized_tensors(idx, int8):
            move = _units_for(idx, int8, t)
            if not move:
                continue
            rest = int8 - move
            gain = noise - nm.predict(idx, rest)
            if gain <= 0:
                continue
            added = max(placement.total_cost(idx, rest, sizes) - cost, 1e-9 * full.float_cost)
            if best is None or gain / added > best[0]:
                best = (gain / added, move, gain, rest)
        if best is None:
            break
        _, move, gain, rest = best
        psnr = 10 * math.log10(1 / gain)
        for name in sorted(move, key=position.__getitem__):
            out.append(UnitDamage(name, idx.node(name).op_type, psnr, kind="move"))
        int8 = rest
        noise = nm.predict(idx, int8)
        cost = placement.total_cost(idx, int8, sizes)
    return out


def _units_for(idx: GraphIndex, int8: set[str], tensor: str) -> set[str]:
    """INT8 units that quantize ``tensor``: its producer (or the conv an activation absorbed) and readers."""
    units = {c.name for c in idx.consumers.get(tensor, []) if c.name in int8}
    p = idx.producer.get(tensor)
    if p is not None:
        if p.name in int8:
            units.add(p.name)
        elif (
            p.op_type in placement.ABSORBED
            and p.input
            and idx.producer.get(p.input[0]) is not None
            and idx.producer[p.input[0]].name in int8
        ):
            units.add(idx.producer[p.input[0]].name)
    return units
