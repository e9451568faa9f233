"""Fuse erf-form GELUs that read dequantized data into ONNX Runtime's ``Gelu``, for CPU.

Why: ONNX Runtime fuses ``x * 0.5 * (1 + erf(x / sqrt 2))`` into one ``Gelu`` kernel in a float
model, but in a Q/DQ model it first gives every reader of a ``DequantizeLinear`` its own copy, so
the ``Div`` and the ``Mul`` that both read ``x`` no longer share it and the fusion never matches:
SAFMN's INT8 x86 file ran 7 of its 8 fusable GELUs as five separate full-size passes. This writes
the fusion ONNX Runtime makes in the float model, and only that pattern (a GELU whose factor 0.5
was folded elsewhere is left alone, as the runtime leaves it in the float model), so INT8 and
FP32 run the same kernels there. SAFMN's fine-tuned x86 file: 229-274 ms instead of 242-290 ms
(three side-by-side runs, 180x320, 2 threads); Set5 / Set14 drop 0.0473 / 0.0443 dB fused,
0.0479 / 0.0443 dB not (the fused kernel rounds differently in the last bits).
"""

from __future__ import annotations

import numpy as np

MS_DOMAIN = "com.microsoft"
SQRT2 = float(np.sqrt(2.0))


def fuse_gelu(model) -> list[str]:
    """Replace, in ``model`` (in place), each ``Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5``
    whose ``x`` comes from a DequantizeLinear by ``com.microsoft.Gelu(x)``; returns the names of
    the ``Erf`` nodes replaced."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    readers: dict[str, list] = {}
    for n in graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    outputs = {o.name for o in graph.output}

    def const(t: str, value: float) -> bool:
        v = inits.get(t)
        return v is not None and v.size == 1 and np.isclose(float(v.ravel()[0]), value, rtol=1e-6)

    def only_reader(t: str, op: str):
        r = readers.get(t, [])
        return r[0] if len(r) == 1 and r[0].op_type == op and t not in outputs else None

    def other(node, t: str) -> str | None:
        rest = [i for i in node.input if i != t]
        return rest[0] if len(node.input) == 2 and len(rest) == 1 else None

    fused, drop, replace = [], set(), {}
    for erf in graph.node:
        if erf.op_type != "Erf":
            continue
        div = producer.get(erf.input[0])
        if div is None or div.op_type != "Div" or not const(div.input[1], SQRT2) or erf.input[0] in outputs:
            continue
        x = div.input[0]
        src = producer.get(x)
        if src is None or src.op_type != "DequantizeLinear" or len(readers.get(erf.input[0], [])) != 1:
            continue
        add = only_reader(erf.output[0], "Add")
        if add is None or not const(other(add, erf.output[0]) or "", 1.0):
            continue
        mul = only_reader(add.output[0], "Mul")
        if mul is None or other(mul, add.output[0]) != x:
            continue
        half = only_reader(mul.output[0], "Mul")
        if half is None or not const(other(half, mul.output[0]) or "", 0.5):
            continue
        name = f"{erf.name or erf.output[0]}/gelu"
        replace[id(half)] = helper.make_node("Gelu", [x], [half.output[0]], name=name, domain=MS_DOMAIN)
        drop.update(id(n) for n in (div, erf, add, mul))
        fused.append(erf.name)
    if not fused:
        return fused
    nodes = [replace.get(id(n), n) for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(nodes)
    if not any(o.domain == MS_DOMAIN for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    return fused
