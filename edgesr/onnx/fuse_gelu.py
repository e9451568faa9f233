"""Fuse erf-form GELUs that read dequantized data into ONNX Runtime's ``Gelu``, for CPU.

Why: ONNX Runtime fuses ``x * 0.5 * (1 + erf(x / sqrt 2))`` into one ``Gelu`` kernel in a float
model, but in a Q/DQ model it first gives every reader of a ``DequantizeLinear`` its own copy, so
the ``Div`` and the ``Mul`` that both read ``x`` no longer share it and the fusion never matches:
such a GELU runs as five separate full-size passes. This writes the fusion ONNX Runtime makes in
the float model, and only that pattern (a GELU whose factor 0.5 was folded elsewhere is left
alone, as the runtime leaves it in the float model), so INT8 and FP32 run the same kernels there.
The fused kernel rounds differently in the last bits, which moves the drop only slightly
(docs/decisions.md, Q/DQ GELUs are fused into ONNX Runtime's Gelu).
"""

from __future__ import annotations

from edgesr.onnx.gelu_pattern import erf_gelus

MS_DOMAIN = "com.microsoft"


def fuse_gelu(model) -> list[str]:
    """Replace, in ``model`` (in place), each ``Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5``
    whose ``x`` comes from a DequantizeLinear by ``com.microsoft.Gelu(x)``; returns the names of
    the ``Erf`` nodes replaced."""
    from onnx import helper

    graph = model.graph
    gelus, idx = erf_gelus(graph)
    fused, drop, replace = [], set(), {}
    for g in gelus:
        src = idx.producer.get(g.x)
        if g.half is None or src is None or src.op_type != "DequantizeLinear":
            continue
        name = f"{g.erf.name or g.erf.output[0]}/gelu"
        replace[id(g.half)] = helper.make_node("Gelu", [g.x], [g.output], name=name, domain=MS_DOMAIN)
        drop.update(id(n) for n in (g.div, g.erf, g.add, g.mul))
        fused.append(g.erf.name)
    if not fused:
        return fused
    nodes = [replace.get(id(n), n) for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return fused
