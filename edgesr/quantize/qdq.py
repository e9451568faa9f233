"""Build the Q/DQ model: symmetric INT8 (zero point 0), per-channel weights, INT32 biases.

Input: the float model, the set of INT8 units (:mod:`edgesr.quantize.placement`), an ``amax``
per quantized activation tensor and, optionally, pre-rounded weights (adaptive rounding).
Data-movement units share their input's scale on their output, as the runtimes require to
run them in INT8.

Biases are INT32 with scale ``s_input * s_weight[c]``: ONNX Runtime fuses a Conv into
``QLinearConv`` only then. TensorRT does not parse INT32 DequantizeLinear; :func:`for_tensorrt`
folds those biases back to float (exactly the values the DQ computes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgesr.lazy import require
from edgesr.onnx.graph_index import GraphIndex
from edgesr.quantize import placement

QMAX = 127
INT32_MAX = 2**31 - 1


@dataclass
class QuantWeight:
    """A convolution's INT8 weight (per output channel) as it will be stored."""

    q: np.ndarray  # int8, same shape as the float weight
    scale: np.ndarray  # float32 [cout]


def quantize_weight(w: np.ndarray, amax: np.ndarray | None = None) -> QuantWeight:
    """Round-to-nearest per-output-channel symmetric INT8 of ``w`` (clipping at ``amax``)."""
    flat = w.reshape(w.shape[0], -1)
    a = np.abs(flat).max(axis=1) if amax is None else np.asarray(amax, np.float64)
    scale = np.where(a > 0, a / QMAX, 1.0).astype(np.float32)
    q = np.clip(np.round(flat / scale[:, None]), -QMAX, QMAX).astype(np.int8).reshape(w.shape)
    return QuantWeight(q=q, scale=scale)


@dataclass
class QdqPlan:
    int8: set[str]
    amax: dict[str, float]  # activation tensor -> clipping magnitude
    weights: dict[str, QuantWeight] = field(default_factory=dict)  # conv node name -> weight
    bias_delta: dict[str, np.ndarray] = field(default_factory=dict)  # conv node -> float bias correction
    # units whose output stays float (TensorRT-style: Q/DQ on inputs only; ORT cannot fuse these)
    float_outputs: set[str] = field(default_factory=set)


def effective_amax(idx: GraphIndex, plan: QdqPlan) -> dict[str, float]:
    """``plan.amax`` with the outputs of INT8 data-movement units tied to their input."""
    amax = dict(plan.amax)
    for n in idx.nodes:
        if n.name in plan.int8 and placement.is_pass(n.op_type):
            a = amax.get(n.input[0])
            if a is not None:
                for o in n.output:
                    if o:
                        amax[o] = a
    return amax


ENCODINGS = ("int8", "uint8")


def build(model, plan: QdqPlan, *, encoding: str = "int8"):
    """The Q/DQ ``onnx.ModelProto`` for ``plan`` (``model`` is not modified).

    Each quantized tensor gets one QuantizeLinear and one DequantizeLinear that all its INT8
    readers share. A tensor is quantized when an INT8 unit produces it (every reader then sees
    the quantized value: the unit's output leaves only through its Q) or reads it (float
    readers of a float producer keep the exact value).

    ``encoding`` "int8" writes symmetric INT8 activations (zero point 0): what TensorRT needs
    and what ONNX Runtime runs natively on ARM. "uint8" writes the *same grid* as UINT8 with
    zero point 128 (``q_u8 = q_s8 + 128``, clamping included), which is how ONNX Runtime runs
    INT8 activations on x86; it converts symmetric INT8 pairs itself only where a Q feeds a
    single DQ, so an x86 deployment wants this encoding. Weights are INT8 in both.
    """
    onnx = require("onnx")
    from onnx import helper, numpy_helper

    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
    idx = GraphIndex.of(model)
    amax = effective_amax(idx, plan)
    read_quantized, produced_quantized, nonneg = _quantized_tensors(idx, plan)
    pairs = _Pairs(amax, encoding, nonneg)
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    del g.node[:]
    graph_outputs = set(idx.graph_outputs)
    renamed = {o: f"{o}/float" for o in produced_quantized if o in graph_outputs}
    removed_inits: set[str] = set()
    for t in idx.graph_inputs:
        if t in read_quantized:
            g.node.extend(pairs.pair(t, t, f"{t}/dq"))
    for n in idx.nodes:
        node = helper.make_node(
            n.op_type, list(n.input), [renamed.get(o, o) for o in n.output], name=n.name, domain=n.domain or None
        )
        node.attribute.extend(n.attribute)
        before: list = []
        if n.name in plan.int8:
            acts = set(idx.activation_inputs(n))
            for k, t in enumerate(node.input):
                if t in acts:
                    node.input[k] = f"{t}/dq"
            if n.op_type in placement.WEIGHTED:
                before += _quantize_conv_params(
                    n, node, idx, plan, amax, pairs.inits, removed_inits, numpy_helper, helper
                )
        else:
            for k, t in enumerate(node.input):
                if t in produced_quantized:
                    node.input[k] = f"{t}/dq"  # a float reader of an INT8 unit's output
        g.node.extend(before)
        g.node.append(node)
        for o in n.output:
            if o in produced_quantized:
                g.node.extend(pairs.pair(renamed.get(o, o), o, o if o in renamed else f"{o}/dq"))
            elif o in read_quantized:
                g.node.extend(pairs.pair(o, o, f"{o}/dq"))
    keep_inits = [t for t in g.initializer if t.name not in removed_inits]
    del g.initializer[:]
    g.initializer.extend(keep_inits + pairs.inits)
    return out


def _quantized_tensors(idx: GraphIndex, plan: QdqPlan) -> tuple[set[str], set[str], set[str]]:
    """Where :func:`build` puts pairs: the tensors INT8 units read quantized although a float node
    (or the graph input) made them, the tensors INT8 units make, and which of those are non-negative."""
    out_quantized = {n.name for n in idx.nodes if n.name in plan.int8 and n.name not in plan.float_outputs}
    read_quantized: set[str] = set()
    for n in idx.nodes:
        if n.name in plan.int8:
            for t in idx.activation_inputs(n):
                p = idx.producer.get(t)
                if p is None or p.name not in out_quantized:
                    read_quantized.add(t)
    produced_quantized = {o for n in idx.nodes if n.name in out_quantized for o in n.output if o}
    # conv -> ReLU: the Q/DQ pair moves from the conv's output to the ReLU's (see placement.ABSORBED)
    absorb = placement.absorbed(idx, out_quantized)
    nonneg = {idx.node(r).output[0] for r in absorb.values()}
    return read_quantized, (produced_quantized - set(absorb)) | nonneg, nonneg


class _Pairs:
    """The shared Q/DQ pairs of the quantized activations and the initializers they read, in the
    order they are made (one scale per tensor; one zero point per encoding, and one for
    non-negative tensors)."""

    ZERO_POINT, NONNEG_ZERO_POINT = "qdq/zero_point", "qdq/zero_point/nonneg"

    def __init__(self, amax: dict[str, float], encoding: str, nonneg: set[str]):
        self.numpy_helper, self.helper = require("onnx.numpy_helper"), require("onnx.helper")
        self.amax, self.nonneg = amax, nonneg
        zero = np.array(0, np.int8) if encoding == "int8" else np.array(128, np.uint8)
        self.inits = [self.numpy_helper.from_array(zero, self.ZERO_POINT)]
        if nonneg:
            self.inits.append(self.numpy_helper.from_array(_nonneg_zero_point(encoding), self.NONNEG_ZERO_POINT))
        self.scales: dict[str, str] = {}

    def scale(self, t: str) -> str:
        if t not in self.scales:
            name = f"{t}/scale"
            s = np.float32(max(self.amax[t], 1e-12) / QMAX)
            self.inits.append(self.numpy_helper.from_array(np.array(s, np.float32), name))
            self.scales[t] = name
        return self.scales[t]

    def pair(self, src: str, key: str, dq_out: str) -> list:
        s, z = self.scale(key), self.NONNEG_ZERO_POINT if key in self.nonneg else self.ZERO_POINT
        return [
            self.helper.make_node("QuantizeLinear", [src, s, z], [f"{key}/q"], name=f"{key}/Q"),
            self.helper.make_node("DequantizeLinear", [f"{key}/q", s, z], [dq_out], name=f"{key}/DQ"),
        ]


def _nonneg_zero_point(encoding: str) -> np.ndarray:
    """Zero point of a non-negative (ReLU output) tensor: 0 in both encodings. In UINT8 that puts
    zero at the bottom of the range, where ONNX Runtime drops the ReLU into the Q before it."""
    return np.array(0, np.int8 if encoding == "int8" else np.uint8)


def reencode(model, encoding: str):
    """The same Q/DQ ``model`` with its *activation* zero points in ``encoding`` ("int8" or "uint8").

    An INT8 code q and the UINT8 code q + 128 are the same grid point, with the same clamping, so
    this is exact for every tensor but the outputs of ReLUs: those keep zero point 0 (UINT8 codes
    0..255 on the same scale), which ONNX Runtime needs to fuse the ReLU. Their grid is the same up
    to the INT8 clamp at 127 steps, so the UINT8 form never rounds a value further from it.
    Weight and bias DequantizeLinear nodes (constant inputs) are left as they are. Works on any
    Q/DQ model (ONNX Runtime's ``quantize_static`` output too).
    """
    onnx = require("onnx")
    from onnx import numpy_helper

    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, not {encoding!r}")
    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    inits = {t.name: t for t in g.initializer}
    producer = GraphIndex.links(g).producer
    relu_codes = {
        n.output[0]
        for n in g.node
        if n.op_type == "QuantizeLinear" and n.input[0] in producer and producer[n.input[0]].op_type == "Relu"
    }
    converted: dict[tuple[str, bool], str] = {}
    for n in g.node:
        if n.op_type not in ("QuantizeLinear", "DequantizeLinear") or len(n.input) < 3 or n.input[2] not in inits:
            continue
        if n.op_type == "DequantizeLinear" and n.input[0] in inits:
            continue  # a constant (weight or bias)
        zp = inits[n.input[2]]
        if (encoding == "uint8" and zp.data_type != 3) or (encoding == "int8" and zp.data_type != 2):
            continue  # already in the target encoding (INT8 = 3, UINT8 = 2)
        code = n.output[0] if n.op_type == "QuantizeLinear" else n.input[0]
        key = (n.input[2], code in relu_codes)
        if key not in converted:
            v = numpy_helper.to_array(zp).astype(np.int32)
            if key[1] and not v.any():
                v, name = _nonneg_zero_point(encoding), f"{n.input[2]}/{encoding}/nonneg"
            else:
                v = (v + 128).astype(np.uint8) if encoding == "uint8" else (v - 128).astype(np.int8)
                name = f"{n.input[2]}/{encoding}"
            g.initializer.append(numpy_helper.from_array(v, name))
            converted[key] = name
        n.input[2] = converted[key]
    used = {i for n in g.node for i in n.input}
    kept = [t for t in g.initializer if t.name in used or t.name in {i.name for i in g.input}]
    del g.initializer[:]
    g.initializer.extend(kept)
    return out


def _quantize_conv_params(n, node, idx: GraphIndex, plan: QdqPlan, amax, new_inits, removed, numpy_helper, helper):
    w_name = n.input[1]
    w = numpy_helper.to_array(idx.inits[w_name]).astype(np.float32)
    qw = plan.weights.get(n.name) or quantize_weight(w)
    tag = n.name
    wq, ws, wz = f"{tag}/W/int8", f"{tag}/W/scale", f"{tag}/W/zero_point"
    new_inits += [
        numpy_helper.from_array(qw.q.astype(np.int8), wq),
        numpy_helper.from_array(qw.scale.astype(np.float32), ws),
        numpy_helper.from_array(np.zeros(w.shape[0], np.int8), wz),
    ]
    nodes = [helper.make_node("DequantizeLinear", [wq, ws, wz], [f"{tag}/W/dq"], name=f"{tag}/W/DQ", axis=0)]
    node.input[1] = f"{tag}/W/dq"
    if len(idx.consumers.get(w_name, [])) <= 1:
        removed.add(w_name)
    cout = w.shape[0]
    b = np.zeros(cout, np.float32)
    if len(n.input) > 2 and n.input[2]:
        b = numpy_helper.to_array(idx.inits[n.input[2]]).astype(np.float32)
        if len(idx.consumers.get(n.input[2], [])) <= 1:
            removed.add(n.input[2])
    if n.name in plan.bias_delta:
        b = b + plan.bias_delta[n.name].astype(np.float32)
    s_in = np.float32(max(amax[n.input[0]], 1e-12) / QMAX)
    bs = (s_in * qw.scale).astype(np.float32)
    bq = np.clip(np.round(b.astype(np.float64) / bs), -INT32_MAX, INT32_MAX).astype(np.int32)
    bqn, bsn, bzn = f"{tag}/B/int32", f"{tag}/B/scale", f"{tag}/B/zero_point"
    new_inits += [
        numpy_helper.from_array(bq, bqn),
        numpy_helper.from_array(bs, bsn),
        numpy_helper.from_array(np.zeros(cout, np.int32), bzn),
    ]
    nodes.append(helper.make_node("DequantizeLinear", [bqn, bsn, bzn], [f"{tag}/B/dq"], name=f"{tag}/B/DQ", axis=0))
    if len(node.input) > 2:
        node.input[2] = f"{tag}/B/dq"
    else:
        node.input.append(f"{tag}/B/dq")
    return nodes


def for_tensorrt(model):
    """A copy of the Q/DQ ``model`` whose INT32 bias DequantizeLinear nodes are folded into float
    initializers (TensorRT's ONNX parser accepts only INT8/FP8 DequantizeLinear inputs)."""
    onnx = require("onnx")
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    g = out.graph
    inits = {t.name: t for t in g.initializer}
    folded: dict[str, np.ndarray] = {}
    keep_nodes = []
    for n in g.node:
        if n.op_type == "DequantizeLinear" and n.input[0] in inits and inits[n.input[0]].data_type == 6:  # INT32
            q = numpy_helper.to_array(inits[n.input[0]]).astype(np.float64)
            s = numpy_helper.to_array(inits[n.input[1]]).astype(np.float64)
            folded[n.output[0]] = (q * s).astype(np.float32)
        else:
            keep_nodes.append(n)
    del g.node[:]
    g.node.extend(keep_nodes)
    used = {i for n in keep_nodes for i in n.input}
    kept_inits = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(kept_inits + [numpy_helper.from_array(v, k) for k, v in folded.items()])
    return out
