"""Where Q/DQ pairs go: which nodes run as INT8 units, so that INT8 is actually faster.

A node is an INT8 *unit* when every activation input arrives through a DequantizeLinear and
its output leaves through one QuantizeLinear. Runtimes fuse such units into integer kernels:
ONNX Runtime CPU turns them into ``QLinearConv``, ``QLinearAdd``/``Mul``, ``QLinearConcat``,
``QLinearSigmoid``/``LeakyRelu`` and integer ``MaxPool``/``Resize``/data movement; TensorRT fuses
the same patterns (Q/DQ on convolution inputs and weights, residual adds, pointwise chains).

Q/DQ around ops without integer kernels (GELU, normalisation, DepthToSpace, Max ...) only
add work, so those ops stay float, and a cheap op becomes INT8 only where that saves more
conversions than it adds. The choice is made by a small cost model (element passes, MACs)
minimised greedily; it is a guide, and the measured latency is what gets reported.

ONNX Runtime on x86 has no fast signed x signed INT8 kernels: it runs INT8 activations as
UINT8 with zero point 128 (the same grid), and converts a symmetric INT8 pair itself only when
the Q feeds a single DQ. :func:`edgesr.quantize.qdq.build` can therefore write the same
placement in either encoding (see there).
"""

from __future__ import annotations

from dataclasses import dataclass

from edgesr.onnx.checks import node_attr
from edgesr.onnx.graph_index import GraphIndex

# op type -> (kind, float cost per output element, int8 cost per output element)
WEIGHTED = {"Conv"}
UNARY = {"LeakyRelu": (0.3, 0.25), "Sigmoid": (2.0, 0.25), "AveragePool": (3.0, 100.0), "GlobalAveragePool": (1.0, 0.5)}
BINARY = {"Add": (1.0, 0.6), "Mul": (1.0, 0.6)}
VARIADIC = {"Concat": (1.0, 0.5)}
# Integer data movement: same scale in and out (ORT drops the Q/DQ around them). ORT's UINT8
# pooling kernels are generic loops, far slower than its float MaxPool (docs/decisions.md, Pooling
# stays float on ONNX Runtime).
PASS = {
    "MaxPool": (3.0, 100.0),
    "Resize": (2.0, 1.0),
    "Reshape": (0.1, 0.1),
    "Transpose": (1.0, 0.3),
    "Slice": (0.5, 0.2),
    "Gather": (0.5, 0.2),
    "Squeeze": (0.1, 0.1),
    "Unsqueeze": (0.1, 0.1),
    "Flatten": (0.1, 0.1),
    "Split": (0.5, 0.2),
    "DepthToSpace": (1.0, 0.5),
}
CONVERT = 1.0  # one Q or DQ pass per element
MAC_FLOAT = 1 / 16
MAC_INT8 = 1 / 56
# ONNX Runtime's INT8 convolutions are fast only as dense GEMMs: a grouped convolution that is
# not depthwise (the bicubic rewrite's 3 -> 48 channels, 5x5) and a convolution to fewer than 8
# channels (an edge map) run slower than in float (docs/decisions.md, Grouped and narrow INT8
# convolutions are costed as slow).
MAC_INT8_GROUPED = 8 / 16
MAC_INT8_NARROW = 2.5 / 16
NARROW = 8


# Activations a quantized convolution absorbs: with Q/DQ after the activation instead of between,
# TensorRT fuses conv + activation + Q, and ONNX Runtime removes a ReLU whose Q has zero point
# at the bottom of its range (the x86 encoding, see qdq.reencode) and fuses the rest into QLinearConv.
ABSORBED = {"Relu": 0.3}  # op type -> float cost per output element when it stays a separate op


def absorbed(idx: GraphIndex, int8: set[str]) -> dict[str, str]:
    """Conv output tensor -> the activation node that takes over its Q/DQ, for every INT8
    convolution whose output feeds exactly one absorbable activation and nothing else."""
    out: dict[str, str] = {}
    for n in idx.nodes:
        if n.name not in int8 or n.op_type not in WEIGHTED:
            continue
        t = n.output[0]
        readers = idx.consumers.get(t, [])
        if (
            len(readers) == 1
            and t not in idx.graph_outputs
            and readers[0].op_type in ABSORBED
            and readers[0].name not in int8
        ):
            out[t] = readers[0].name
    return out


# Data movement that is made an INT8 unit itself (to pin its scale). The others need not be:
# ONNX Runtime's QDQ propagation already runs them on INT8 data between INT8 units, and as
# explicit units they would drag slow UINT8 pooling along (see PROPAGATE).
PASS_UNITS = {"Resize", "DepthToSpace"}


def op_costs(op: str) -> tuple[float, float] | None:
    for table in (UNARY, BINARY, VARIADIC, PASS):
        if op in table:
            return table[op]
    return None


def is_pass(op: str) -> bool:
    return op in PASS


def is_candidate(op: str) -> bool:
    """Op types that may become INT8 units."""
    return op in WEIGHTED or op in UNARY or op in BINARY or op in VARIADIC or op in PASS_UNITS


@dataclass
class Placement:
    int8: set[str]  # node names that are INT8 units
    eligible: set[str]  # nodes that could be
    float_cost: float  # cost-model units of the all-float graph
    cost: float  # of this placement

    @property
    def predicted_speedup(self) -> float:
        return self.float_cost / self.cost if self.cost else 1.0


def float_groups(idx: GraphIndex) -> dict[str, str]:
    """Nodes that stay float by design, with the reason: GELU (no INT8 kernel anywhere; runtimes
    fuse the erf pattern, which Q/DQ inside would break)."""
    out: dict[str, str] = {}
    for n in idx.nodes:
        if n.op_type != "Erf":
            continue
        group = [n]
        p = idx.producer.get(n.input[0])
        if p is not None and p.op_type in ("Div", "Mul"):
            group.append(p)
            x = p.input[0]
            for c in idx.consumers.get(x, []):  # the x * 0.5 branch
                if c.op_type == "Mul" and c is not p:
                    group.append(c)
        frontier = [n]
        for _ in range(2):  # Erf -> Add(1) -> Mul(x or 0.5x)
            nxt = []
            for f in frontier:
                for c in idx.consumers.get(f.output[0], []):
                    if c.op_type in ("Add", "Mul"):
                        group.append(c)
                        nxt.append(c)
            frontier = nxt
        for f in frontier:  # [-> Mul(0.5)], PyTorch's order
            group += [
                c
                for c in idx.consumers.get(f.output[0], [])
                if c.op_type == "Mul" and any(idx.is_const(i) for i in c.input)
            ]
        for g in group:
            out[g.name] = "GELU: no INT8 kernel; kept whole so runtimes fuse it"
    return out


def eligible(idx: GraphIndex, node, sizes: dict[str, int], fixed_float: dict[str, str] | None = None) -> bool:
    """Whether ``node`` can be an INT8 unit at all (whatever the cost)."""
    if fixed_float and node.name in fixed_float:
        return False
    outs = [o for o in node.output if o]
    if not outs or not all(idx.is_float(o) or o in sizes for o in outs):
        return False
    acts = idx.activation_inputs(node)
    if not acts or not all(a in sizes for a in acts):
        return False
    if node.op_type in WEIGHTED:
        return (
            len(node.input) >= 2
            and idx.is_const(node.input[1])
            and idx.inits.get(node.input[1]) is not None
            and (len(node.input) < 3 or not node.input[2] or node.input[2] in idx.inits)
            and len(acts) == 1
        )
    if not is_candidate(node.op_type):
        return False
    if node.op_type in BINARY or node.op_type in VARIADIC:
        # every data input must be an activation (constants would need their own quantization),
        # and none a broadcast statistic (a normalisation or attention scale per channel/image:
        # one per-tensor INT8 scale for it would be lossy for no speed)
        if not all(i in acts for i in node.input if i):
            return False
        out = sum(sizes.get(o, 0) for o in outs)
        return node.op_type in VARIADIC or all(sizes.get(i, 0) * 8 >= out for i in acts)
    if node.op_type in UNARY:
        return len(acts) == 1
    # data movement: the data input is input 0; shape/index inputs must be non-float
    return node.input[0] in acts and len(acts) == 1


def _macs(idx: GraphIndex, node, sizes: dict[str, int]) -> float:
    if node.input[1] not in idx.inits:
        return 0.0  # a computed weight: not an INT8 candidate, cost unknown
    w = idx.inits[node.input[1]].dims
    per_out = 1
    for d in w[1:]:
        per_out *= d
    return sizes.get(node.output[0], 0) * per_out


def node_cost(idx: GraphIndex, node, sizes: dict[str, int], int8: bool) -> float:
    out = sum(sizes.get(o, 0) for o in node.output if o)
    if node.op_type in ABSORBED:
        return 0.0 if int8 else out * ABSORBED[node.op_type]
    if node.op_type in WEIGHTED:
        return _macs(idx, node, sizes) * (_int8_mac_cost(idx, node) if int8 else MAC_FLOAT)
    costs = op_costs(node.op_type)
    if costs is None:
        return out * 1.0
    return out * costs[1 if int8 else 0]


def _int8_mac_cost(idx: GraphIndex, node) -> float:
    w = idx.inits[node.input[1]].dims
    group = node_attr(node, "group", 1)
    if group > 1 and not (w[1] == 1 and w[0] == group):
        return MAC_INT8_GROUPED
    return MAC_INT8_NARROW if w[0] < NARROW else MAC_INT8


# ONNX Runtime's QDQ propagation moves a DequantizeLinear forward through these ops, so a
# float chain of them that starts at an INT8 unit's output runs on UINT8 data anyway.
PROPAGATE = {"MaxPool", "Slice", "Gather", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Flatten", "Split"}


def propagated(idx: GraphIndex, int8: set[str]) -> set[str]:
    """Float nodes ONNX Runtime will run on INT8 data through QDQ propagation."""
    out: set[str] = set()
    frontier = [o for n in idx.nodes if n.name in int8 for o in n.output if o]
    while frontier:
        t = frontier.pop()
        for c in idx.consumers.get(t, []):
            if c.name in int8 or c.name in out or c.op_type not in PROPAGATE or c.input[0] != t:
                continue
            out.add(c.name)
            frontier.extend(o for o in c.output if o)
    return out


def total_cost(idx: GraphIndex, int8: set[str], sizes: dict[str, int]) -> float:
    """Cost-model units of the graph with ``int8`` units and the conversions they imply."""
    int8 = int8 | set(absorbed(idx, int8).values())  # an absorbed activation is part of its unit
    cost = 0.0
    for name in propagated(idx, int8):  # slow UINT8 pooling reached through QDQ propagation
        n = idx.node(name)
        costs = op_costs(n.op_type)
        if costs and costs[1] > costs[0]:
            cost += (costs[1] - costs[0]) * sum(sizes.get(o, 0) for o in n.output if o)
    for n in idx.nodes:
        if n.op_type in ("Shape", "Constant"):
            continue
        cost += node_cost(idx, n, sizes, n.name in int8)
    # conversions: one Q for a float tensor read by INT8 units; one DQ for each float reader
    # (or graph output) of an INT8 unit's output (a DQ fuses into an INT8 reader for free).
    quantized_inputs: set[str] = set()
    for n in idx.nodes:
        if n.name in int8:
            for t in idx.activation_inputs(n):
                p = idx.producer.get(t)
                if (p is None or p.name not in int8) and t not in quantized_inputs:
                    quantized_inputs.add(t)
                    cost += CONVERT * sizes.get(t, 0)
            for o in n.output:
                if not o:
                    continue
                readers = [c for c in idx.consumers.get(o, []) if c.name not in int8] + (
                    [None] if o in idx.graph_outputs else []
                )
                cost += CONVERT * sizes.get(o, 0) * len(readers)
    return cost


def place(
    idx: GraphIndex, sizes: dict[str, int], *, keep: set[str] | frozenset = frozenset(), include: set[str] | None = None
) -> Placement:
    """Choose the INT8 units: every eligible convolution not in ``keep``, plus the cheap ops
    whose INT8 form lowers the cost model. ``include`` restricts the candidates further."""
    fixed = float_groups(idx)
    cands = {n.name for n in idx.nodes if eligible(idx, n, sizes, fixed)}
    if include is not None:
        cands &= include
    cands -= set(keep)
    int8 = set(cands)
    best = total_cost(idx, int8, sizes)
    others = [n.name for n in idx.nodes if n.name in cands]
    for _ in range(6):  # greedy single flips until nothing improves
        changed = False
        for name in others:
            trial = int8 ^ {name}
            c = total_cost(idx, trial, sizes)
            if c < best - 1e-9:
                int8, best, changed = trial, c, True
        if not changed:
            break
    return Placement(
        int8=int8,
        eligible=cands | (set(keep) & {n.name for n in idx.nodes if eligible(idx, n, sizes, fixed)}),
        float_cost=total_cost(idx, set(), sizes),
        cost=best,
    )
