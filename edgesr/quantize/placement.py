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

from edgesr.quantize.graph import GraphIndex

# op type -> (kind, float cost per output element, int8 cost per output element)
WEIGHTED = {"Conv"}
UNARY = {"LeakyRelu": (0.3, 0.25), "Sigmoid": (2.0, 0.25), "AveragePool": (2.0, 1.0),
         "GlobalAveragePool": (1.0, 0.5)}
BINARY = {"Add": (1.0, 0.6), "Mul": (1.0, 0.6)}
VARIADIC = {"Concat": (1.0, 0.5)}
# Integer data movement: same scale in and out (ORT drops the Q/DQ around them).
PASS = {"MaxPool": (2.0, 0.6), "Resize": (2.0, 1.0), "Reshape": (0.1, 0.1), "Transpose": (1.0, 0.3),
        "Slice": (0.5, 0.2), "Gather": (0.5, 0.2), "Squeeze": (0.1, 0.1), "Unsqueeze": (0.1, 0.1),
        "Flatten": (0.1, 0.1), "Split": (0.5, 0.2)}
CONVERT = 1.0  # one Q or DQ pass per element
MAC_FLOAT = 1 / 16
MAC_INT8 = 1 / 56


def op_costs(op: str) -> tuple[float, float] | None:
    for table in (UNARY, BINARY, VARIADIC, PASS):
        if op in table:
            return table[op]
    return None


def is_pass(op: str) -> bool:
    return op in PASS


@dataclass
class Placement:
    int8: set[str]  # node names that are INT8 units
    eligible: set[str]  # nodes that could be
    float_cost: float  # cost-model units of the all-float graph
    cost: float  # of this placement

    @property
    def predicted_speedup(self) -> float:
        return self.float_cost / self.cost if self.cost else 1.0


def eligible(idx: GraphIndex, node, sizes: dict[str, int]) -> bool:
    """Whether ``node`` can be an INT8 unit at all (whatever the cost)."""
    outs = [o for o in node.output if o]
    if not outs or not all(idx.is_float(o) or o in sizes for o in outs):
        return False
    acts = idx.activation_inputs(node)
    if not acts or not all(a in sizes for a in acts):
        return False
    if node.op_type in WEIGHTED:
        return len(node.input) >= 2 and idx.is_const(node.input[1]) and idx.inits.get(node.input[1]) is not None \
            and (len(node.input) < 3 or not node.input[2] or node.input[2] in idx.inits) and len(acts) == 1
    if op_costs(node.op_type) is None:
        return False
    if node.op_type in BINARY or node.op_type in VARIADIC:
        # every data input must be an activation (constants would need their own quantization)
        return all(i in acts for i in node.input if i)
    if node.op_type in UNARY:
        return len(acts) == 1
    # data movement: the data input is input 0; shape/index inputs must be non-float
    return node.input[0] in acts and len(acts) == 1


def _macs(idx: GraphIndex, node, sizes: dict[str, int]) -> float:
    w = idx.inits[node.input[1]].dims
    per_out = 1
    for d in w[1:]:
        per_out *= d
    return sizes.get(node.output[0], 0) * per_out


def node_cost(idx: GraphIndex, node, sizes: dict[str, int], int8: bool) -> float:
    out = sum(sizes.get(o, 0) for o in node.output if o)
    if node.op_type in WEIGHTED:
        return _macs(idx, node, sizes) * (MAC_INT8 if int8 else MAC_FLOAT)
    costs = op_costs(node.op_type)
    if costs is None:
        return out * 1.0
    return out * costs[1 if int8 else 0]


def total_cost(idx: GraphIndex, int8: set[str], sizes: dict[str, int]) -> float:
    """Cost-model units of the graph with ``int8`` units and the conversions they imply."""
    cost = 0.0
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
                readers = [c for c in idx.consumers.get(o, []) if c.name not in int8] + \
                    ([None] if o in idx.graph_outputs else [])
                cost += CONVERT * sizes.get(o, 0) * len(readers)
    return cost


def place(idx: GraphIndex, sizes: dict[str, int], *, keep: set[str] | frozenset = frozenset(),
          include: set[str] | None = None) -> Placement:
    """Choose the INT8 units: every eligible convolution not in ``keep``, plus the cheap ops
    whose INT8 form lowers the cost model. ``include`` restricts the candidates further."""
    cands = {n.name for n in idx.nodes if eligible(idx, n, sizes)}
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
    return Placement(int8=int8, eligible=cands | (set(keep) & {n.name for n in idx.nodes if eligible(idx, n, sizes)}),
                     float_cost=total_cost(idx, set(), sizes), cost=best)
