"""Put the output image on all 255 codes of symmetric INT8.

An SR model's output is an image in ``[0, value_range]``. Symmetric INT8 (zero point 0, what
TensorRT needs) spends half its codes on values the image never takes, so an INT8 output layer
has 128 levels, and that rounding alone costs a measurable part of the drop budget
(docs/decisions.md, The output image is recentred on the INT8 grid). Subtracting ``value_range / 2`` in
the bias of the convolution that computes the image, and adding it back after the output's
DequantizeLinear, centres the image on the grid: 255 levels, a quarter of the noise power. The
float model computes the same function.

The addition costs one pass over the output in the symmetric INT8 file (TensorRT fuses it);
in the UINT8 encoding ONNX Runtime runs on x86 it folds exactly into the zero point of that
DequantizeLinear (:func:`fold_offsets`), so it costs nothing there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesr.lazy import require
from edgesr.onnx.graph_index import GraphIndex

MOVEMENT = {"DepthToSpace", "Reshape", "Transpose", "Identity", "Squeeze", "Unsqueeze", "Flatten"}
OFFSET_SUFFIX = "/recentre"


@dataclass
class Recentred:
    conv: str  # the convolution whose bias carries -offset
    offset: float  # added back before the graph output
    output: str

    def as_dict(self) -> dict:
        return {"conv": self.conv, "offset": self.offset, "output": self.output}


def _image_conv(idx: GraphIndex, output: str):
    """The convolution whose output reaches ``output`` through single-reader data movement only."""
    t = output
    while True:
        p = idx.producer.get(t)
        if p is None or len(idx.consumers.get(t, [])) > (0 if t == output else 1):
            return None
        if p.op_type == "Conv":
            return p
        if p.op_type not in MOVEMENT or not p.input:
            return None
        t = p.input[0]


def recentre_output(model, value_range: float) -> tuple[object, list[Recentred]]:
    """A copy of ``model`` whose image outputs are computed minus ``value_range / 2`` and added
    back by a final ``Add``; outputs not computed by a convolution (through data movement) are
    left as they are. Returns the model and what was changed."""
    onnx = require("onnx")
    from onnx import helper, numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    idx = GraphIndex.of(out)
    offset = float(value_range) / 2
    done: list[Recentred] = []
    for output in list(idx.graph_outputs):
        conv = _image_conv(idx, output)
        if conv is None or conv.input[1] not in idx.inits or len(idx.consumers[conv.input[1]]) != 1:
            continue
        cout = idx.inits[conv.input[1]].dims[0]
        bias = np.zeros(cout, np.float32)
        if len(conv.input) > 2 and conv.input[2]:
            if conv.input[2] not in idx.inits or len(idx.consumers[conv.input[2]]) != 1:
                continue
            bias = numpy_helper.to_array(idx.inits[conv.input[2]]).astype(np.float32)
            out.graph.initializer.remove(idx.inits[conv.input[2]])
        name = f"{conv.name}/bias{OFFSET_SUFFIX}"
        out.graph.initializer.append(numpy_helper.from_array((bias - offset).astype(np.float32), name))
        if len(conv.input) > 2:
            conv.input[2] = name
        else:
            conv.input.append(name)
        shifted = f"{output}{OFFSET_SUFFIX}"
        idx.producer[output].output[list(idx.producer[output].output).index(output)] = shifted
        c = f"{output}{OFFSET_SUFFIX}/offset"
        out.graph.initializer.append(numpy_helper.from_array(np.array(offset, np.float32), c))
        out.graph.node.append(helper.make_node("Add", [shifted, c], [output], name=f"{output}{OFFSET_SUFFIX}/Add"))
        done.append(Recentred(conv.name, offset, output))
    return out, done


def output_interval(idx: GraphIndex, value_range: float) -> dict[str, tuple[float, float]]:
    """Tensor -> the interval it must lie in for the output image to be in ``[0, value_range]``:
    the graph outputs, and the tensors that reach them through data movement and the constant
    additions of :func:`recentre_output`."""
    spans: dict[str, tuple[float, float]] = {}
    for out in idx.graph_outputs:
        t, lo, hi = out, 0.0, float(value_range)
        while True:
            spans[t] = (lo, hi)
            p = idx.producer.get(t)
            if p is None or not p.input:
                break
            if (
                p.op_type == "Add"
                and len(p.input) == 2
                and idx.is_const(p.input[1])
                and idx.const_value(p.input[1]).size == 1
            ):
                c = float(idx.const_value(p.input[1]).reshape(()))
                t, lo, hi = p.input[0], lo - c, hi - c
            elif p.op_type in MOVEMENT:
                t = p.input[0]
            else:
                break
    return spans


def fold_offsets(model) -> int:
    """Fold ``DequantizeLinear -> Add(scalar constant)`` into the DequantizeLinear's zero point
    where that is exact (UINT8 codes, the constant a whole number of steps, the new zero point
    in range), in place. Returns how many were folded."""
    numpy_helper = require("onnx.numpy_helper")
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    readers: dict[str, list] = {}
    for n in g.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    outputs = {o.name for o in g.output}
    folded, drop, offsets = 0, [], set()
    for dq in g.node:
        if (
            dq.op_type != "DequantizeLinear"
            or len(dq.input) < 3
            or dq.input[2] not in inits
            or dq.input[1] not in inits
            or dq.output[0] in outputs
        ):
            continue
        zp = numpy_helper.to_array(inits[dq.input[2]])
        scale = numpy_helper.to_array(inits[dq.input[1]])
        rd = readers.get(dq.output[0], [])
        if zp.dtype != np.uint8 or zp.size != 1 or scale.size != 1 or len(rd) != 1 or rd[0].op_type != "Add":
            continue
        add = rd[0]
        other = add.input[1] if add.input[0] == dq.output[0] else add.input[0]
        if other not in inits or numpy_helper.to_array(inits[other]).size != 1:
            continue
        steps = float(numpy_helper.to_array(inits[other]).reshape(())) / float(scale.reshape(()))
        new_zp = int(zp.reshape(())) - round(steps)
        if abs(steps - round(steps)) > 1e-3 or not 0 <= new_zp <= 255:
            continue
        name = f"{dq.name}/zero_point/offset"
        g.initializer.append(numpy_helper.from_array(np.array(new_zp, np.uint8), name))
        dq.input[2] = name
        dq.output[0] = add.output[0]
        drop.append(add)
        offsets.add(other)
        folded += 1
    for n in drop:
        g.node.remove(n)
    used = {i for n in g.node for i in n.input}
    for t in [t for t in g.initializer if t.name in offsets and t.name not in used]:
        g.initializer.remove(t)
    return folded


def chain(idx: GraphIndex, r: Recentred) -> list[str]:
    """Names of the nodes from the recentred convolution to its offset addition (exclusive)."""
    add = idx.producer[r.output]
    names, t = [], add.input[0]
    while True:
        p = idx.producer[t]
        names.append(p.name)
        if p.name == r.conv:
            return names
        t = p.input[0]


def undo(model, done: list[Recentred]):
    """A copy of a :func:`recentre_output` model without the recentring (for a placement that
    leaves the image float, where the offset would only cost an addition)."""
    onnx = require("onnx")
    from onnx import numpy_helper

    out = onnx.ModelProto()
    out.CopyFrom(model)
    idx = GraphIndex.of(out)
    for r in done:
        add = idx.producer[r.output]
        conv = idx.node(r.conv)
        bias = idx.inits[conv.input[2]]
        bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias) + np.float32(r.offset), bias.name))
        p = idx.producer[add.input[0]]
        p.output[list(p.output).index(add.input[0])] = r.output
        out.graph.node.remove(add)
        out.graph.initializer.remove(idx.inits[add.input[1]])
    return out
