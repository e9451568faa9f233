"""FP16: a half-precision ONNX (what TensorRT 11's strongly typed builds take) and its accuracy.

:func:`to_fp16` converts weights and activations to float16. Tensors that ONNX requires in
float32 (Resize ``scales``/``roi`` and whatever computes them) stay float32. With
``keep_io_float32`` (the default) the model still takes and returns float32, through Casts
at its boundary, so the runtime's pre- and post-processing do not change.

ONNX Runtime's CPU provider lacks FP16 kernels for most ops and silently computes them in
float32 around inserted Casts, which would hide FP16's rounding. :func:`emulate_fp16`
therefore builds a float32 graph that rounds every weight and every float activation to
float16 (a Cast pair after each op): what an FP16 engine stores, computed anywhere.
"""

from __future__ import annotations

import numpy as np

from edgesr.lazy import require
from edgesr.onnx.graph_index import GraphIndex

FLOAT, FLOAT16 = 1, 10
# (op type, input index) that must stay float32 whatever the model's precision
_FLOAT32_INPUTS = {("Resize", 1), ("Resize", 2), ("Upsample", 1)}
FP16_MAX = 65504.0


def _float32_only(idx: GraphIndex) -> set[str]:
    """Tensors that must stay float32: Resize scales/roi and the subgraphs computing them."""
    keep: set[str] = set()
    stack = [
        n.input[k]
        for n in idx.nodes
        for (op, k) in _FLOAT32_INPUTS
        if n.op_type == op and len(n.input) > k and n.input[k]
    ]
    while stack:
        t = stack.pop()
        if t in keep:
            continue
        keep.add(t)
        p = idx.producer.get(t)
        if p is not None:
            stack.extend(i for i in p.input if i)
    return keep


def _copy_with_initializers(model, keep32: set[str], convert):
    """A copy of ``model`` whose float32 initializers (except ``keep32``) are ``convert``-ed."""
    onnx = require("onnx")
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    for t in out.graph.initializer:
        if t.data_type == FLOAT and t.name not in keep32:
            t.CopyFrom(numpy_helper.from_array(convert(numpy_helper.to_array(t)), t.name))
    return out


def to_fp16(model, *, keep_io_float32: bool = True):
    """A float16 copy of ``model`` (see the module docstring)."""
    onnx = require("onnx")

    idx = GraphIndex.of(model)
    keep32 = _float32_only(idx)
    out = _copy_with_initializers(model, keep32, lambda arr: np.clip(arr, -FP16_MAX, FP16_MAX).astype(np.float16))
    g = out.graph
    for n in g.node:
        if n.output[0] not in keep32:
            _half_attributes(n)
    del g.value_info[:]
    inputs = [i for i in g.input if i.name not in {t.name for t in g.initializer}]
    if keep_io_float32:
        _cast_at_the_boundary(g, inputs)
    else:
        for v in list(inputs) + list(g.output):
            if v.type.tensor_type.elem_type == FLOAT:
                v.type.tensor_type.elem_type = FLOAT16
    onnx.checker.check_model(out)
    return out


def _half_attributes(n) -> None:
    """A node's float constants (Constant, ConstantOfShape) and Cast targets made float16."""
    from onnx import numpy_helper

    for a in n.attribute:
        if n.op_type in ("Constant", "ConstantOfShape") and a.name == "value" and a.t.data_type == FLOAT:
            a.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(a.t).astype(np.float16), a.t.name))
        elif n.op_type == "Cast" and a.name == "to" and a.i == FLOAT:
            a.i = FLOAT16


def _cast_at_the_boundary(g, inputs) -> None:
    """Keep float32 graph inputs and outputs: a Cast after each input and before each output."""
    from onnx import helper

    casts_in = []
    for i in inputs:
        if i.type.tensor_type.elem_type == FLOAT:
            new = f"{i.name}/fp16"
            _rename(g, i.name, new, outputs=False)
            casts_in.append(helper.make_node("Cast", [i.name], [new], name=f"{i.name}/to_fp16", to=FLOAT16))
    for o in g.output:
        if o.type.tensor_type.elem_type == FLOAT:
            src = f"{o.name}/fp16"
            _rename(g, o.name, src, outputs=True)
            g.node.append(helper.make_node("Cast", [src], [o.name], name=f"{o.name}/to_fp32", to=FLOAT))
    nodes = casts_in + list(g.node)
    del g.node[:]
    g.node.extend(nodes)


def _rename(g, old: str, new: str, *, outputs: bool) -> None:
    for n in g.node:
        if outputs:
            for k, name in enumerate(n.output):
                if name == old:
                    n.output[k] = new
        for k, name in enumerate(n.input):
            if name == old:
                n.input[k] = new


def emulate_fp16(model):
    """A float32 copy of ``model`` that rounds weights and every float activation to float16."""
    require("onnx")
    from onnx import helper

    idx = GraphIndex.of(model)
    keep32 = _float32_only(idx)
    out = _copy_with_initializers(model, keep32, lambda arr: arr.astype(np.float16).astype(np.float32))
    g = out.graph
    graph_inputs = {i.name for i in g.input}
    # round: rename each float output, then Cast->Cast back to the original name
    rounded = []
    for n in list(g.node):
        outs = [
            o
            for o in n.output
            if o
            and idx.is_float(o)
            and o not in keep32
            and o not in graph_inputs
            and n.op_type not in ("Shape", "Constant")
        ]
        for k, o in enumerate(n.output):
            if o in outs:
                n.output[k] = f"{o}/fp32"
        rounded.append(n)
        for o in outs:
            rounded.append(helper.make_node("Cast", [f"{o}/fp32"], [f"{o}/half"], name=f"{o}/to_half", to=FLOAT16))
            rounded.append(helper.make_node("Cast", [f"{o}/half"], [o], name=f"{o}/from_half", to=FLOAT))
    head = []
    for i in g.input:
        if (
            i.name in graph_inputs
            and i.type.tensor_type.elem_type == FLOAT
            and i.name not in {t.name for t in g.initializer}
        ):
            head += [
                helper.make_node("Cast", [i.name], [f"{i.name}/half"], name=f"{i.name}/to_half", to=FLOAT16),
                helper.make_node(
                    "Cast", [f"{i.name}/half"], [f"{i.name}/rounded"], name=f"{i.name}/from_half", to=FLOAT
                ),
            ]
            for n in rounded:
                for k, name in enumerate(n.input):
                    if name == i.name:
                        n.input[k] = f"{i.name}/rounded"
    del g.node[:]
    g.node.extend(head + rounded)
    del g.value_info[:]
    return out
