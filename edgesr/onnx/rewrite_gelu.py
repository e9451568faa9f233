"""Give back the 0.5 of erf-form GELUs whose factor a simplifier folded into the next convolution.

Why: ``GELU(x) = x * 0.5 * (1 + erf(x / sqrt 2))``. When a GELU feeds only convolutions, as in
SAFMN's channel mixer, the simplifier multiplies their weights by 0.5 and drops the last ``Mul``.
The graph computes the same, but neither ONNX Runtime nor TensorRT recognises the rest as a GELU
any more, so it runs as four full-size elementwise passes instead of one fused kernel, in the
FP32 model and in every INT8 model made from it. This puts the ``Mul 0.5`` back after the GELU
and doubles those weights: multiplying by powers of two is exact in floating point, so the
model computes exactly what it did, and the runtimes fuse it again.
"""

from __future__ import annotations

import numpy as np

from edgesr.log import logger
from edgesr.onnx.checks import constant_arrays, unique_name
from edgesr.onnx.gelu_pattern import erf_gelus

HALF_NAME = "edgesr_gelu_half"


def restore_gelu_halves(model) -> list[str]:
    """Rewrite (in place) each ``Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x`` read only by
    convolutions (as their data input, with weights in the graph) into the standard GELU with
    its ``Mul 0.5``, doubling those convolutions' weights; returns the names of the Erf nodes."""
    from onnx import helper, numpy_helper

    graph = model.graph
    consts = constant_arrays(graph)
    gelus, idx = erf_gelus(graph)
    outputs = set(idx.graph_outputs)

    def folded_into(t: str) -> list | None:
        """The convolutions that took the 0.5, when they are all that reads ``t``."""
        convs = idx.consumers.get(t, [])
        if not convs or t in outputs:
            return None
        for conv in convs:
            if conv.op_type != "Conv" or list(conv.input).count(t) != 1 or conv.input[0] != t:
                return None
            weight = consts.get(conv.input[1])
            if weight is None or weight.dtype != np.float32:
                return None
        return convs

    pending = [(g, convs) for g in gelus if g.half is None and (convs := folded_into(g.mul.output[0]))]
    rewritten: list[str] = []
    if not pending:
        return rewritten
    taken = {o for n in graph.node for o in n.output} | {t.name for t in graph.initializer}
    half = unique_name(HALF_NAME, taken)
    graph.initializer.append(numpy_helper.from_array(np.array(0.5, np.float32), half))
    after: dict[int, object] = {}
    replaced = set()
    for g, convs in pending:
        mul = g.mul
        gelu = unique_name(f"{mul.output[0]}/gelu", taken)
        after[id(mul)] = helper.make_node("Mul", [mul.output[0], half], [gelu], name=f"{mul.name or gelu}/half")
        for conv in convs:
            doubled = unique_name(f"{conv.input[1]}/x2", taken)
            graph.initializer.append(numpy_helper.from_array(consts[conv.input[1]] * np.float32(2.0), doubled))
            replaced.add(conv.input[1])
            conv.input[0], conv.input[1] = gelu, doubled
        rewritten.append(g.erf.name)
    unused = replaced - {i for n in graph.node for i in n.input} - outputs
    nodes = []
    for n in graph.node:
        if n.op_type == "Constant" and n.output[0] in unused:
            continue
        nodes.append(n)
        if id(n) in after:
            nodes.append(after[id(n)])
    del graph.node[:]
    graph.node.extend(nodes)
    for field in (graph.initializer, graph.value_info):
        kept = [t for t in field if t.name not in unused]
        del field[:]
        field.extend(kept)
    logger.debug("GELU factor 0.5 restored after %s", ", ".join(rewritten))
    return rewritten
