"""Find erf-form GELUs, ``x * (1 + erf(x / sqrt 2)) [* 0.5]``, as PyTorch exports them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesr.onnx.checks import constant_arrays
from edgesr.onnx.graph_index import GraphIndex

SQRT2 = float(np.sqrt(2.0))


@dataclass(frozen=True)
class ErfGelu:
    """The nodes of one GELU; ``half`` is the trailing ``Mul 0.5`` (None when a simplifier folded
    the factor elsewhere). Every intermediate tensor has exactly one reader and is no graph output."""

    x: str
    div: object
    erf: object
    add: object
    mul: object
    half: object | None

    @property
    def output(self) -> str:
        return (self.half or self.mul).output[0]


def erf_gelus(graph) -> tuple[list[ErfGelu], GraphIndex]:
    """Every GELU in ``graph``, and the graph's index (for the caller's own checks)."""
    consts = constant_arrays(graph)
    idx = GraphIndex.links(graph)
    producer, readers, outputs = idx.producer, idx.consumers, set(idx.graph_outputs)

    def scalar(t: str | None, value: float) -> bool:
        v = consts.get(t) if t else None
        return v is not None and v.size == 1 and np.isclose(float(v.ravel()[0]), value, rtol=1e-6)

    def only_reader(t: str, op: str):
        r = readers.get(t, [])
        return r[0] if len(r) == 1 and r[0].op_type == op and t not in outputs else None

    def other(node, t: str) -> str | None:
        rest = [i for i in node.input if i != t]
        return rest[0] if len(node.input) == 2 and len(rest) == 1 else None

    found = []
    for erf in graph.node:
        if erf.op_type != "Erf" or erf.input[0] in outputs or len(readers.get(erf.input[0], [])) != 1:
            continue
        div = producer.get(erf.input[0])
        if div is None or div.op_type != "Div" or not scalar(div.input[1], SQRT2):
            continue
        add = only_reader(erf.output[0], "Add")
        if add is None or not scalar(other(add, erf.output[0]), 1.0):
            continue
        mul = only_reader(add.output[0], "Mul")
        if mul is None or other(mul, add.output[0]) != div.input[0]:
            continue
        half = only_reader(mul.output[0], "Mul")
        if half is not None and not scalar(other(half, mul.output[0]), 0.5):
            half = None
        found.append(ErfGelu(div.input[0], div, erf, add, mul, half))
    return found, idx
