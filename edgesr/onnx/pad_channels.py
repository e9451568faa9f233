"""Pad convolutions' channel counts to a multiple of four, for ONNX Runtime's INT8 convolution on CPU.

Why: ONNX Runtime's fused UINT8 x INT8 convolution on x86 is fast only when both its input and
output channel counts are multiples of four; otherwise it takes a much slower path
(docs/decisions.md, Convolution channels are padded to multiples of four for INT8). RFDN's
50-channel body hits this in every INT8 convolution.

How: every tensor carries a channel layout, position ``k`` holding original channel ``L[k]`` or a
padding channel (``-1``). Convolutions write padded layouts (zero weight rows and zero bias, so the
padding channels are zero where they are made), read any layout (the weights' input axis
rearranged, zero columns for padding channels), per-channel operations carry layouts (finite
inputs stay finite, and a zero weight ignores whatever they make of the padding), concatenations
join them, and every other reader gets the original channels back (a Slice or Gather on axis 1),
as do the graph outputs. The result is the same function: only the padding channels' work is
added, and the INT8 kernels take their fast path. Float convolutions that read a padded tensor
sum in another order, so their outputs can differ in the last bits and, rarely, a value crosses
an INT8 rounding step: the drop barely moves while the INT8 speed-up grows.
"""

from __future__ import annotations

import numpy as np

from edgesr.onnx.checks import image_tensors, node_attr, unique_name
from edgesr.onnx.graph_index import GraphIndex

MULTIPLE = 4

# Operations that act on each channel separately (with scalar or per-tensor parameters only).
PER_CHANNEL = {
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Clip",
    "HardSigmoid",
    "HardSwish",
    "Erf",
    "Gelu",
    "Identity",
    "Abs",
    "Neg",
    "Softplus",
    "Elu",
    "Selu",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "QuantizeLinear",
    "DequantizeLinear",
}
# Broadcasting binary operations, with the value a per-channel constant gets in padding channels.
BINARY_FILL = {"Add": 0.0, "Sub": 0.0, "Mul": 0.0, "Max": 0.0, "Min": 0.0, "PRelu": 0.0, "Div": 1.0}


def pad_channels(model, multiple: int = MULTIPLE) -> list[str]:
    """Pad, in ``model`` (in place), the output channels of every convolution whose count is not a
    multiple of ``multiple``; returns the names of the convolutions padded. Left unchanged (and
    ``[]`` returned) unless that puts an INT8 convolution (quantized weights) that was not on
    multiples of ``multiple`` onto them."""
    from onnx import AttributeProto, ModelProto

    if any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for n in model.graph.node for a in n.attribute):
        return []  # subgraphs read outer tensors by name; not walked
    work = ModelProto()
    work.CopyFrom(model)
    before = int8_convolutions(work)
    padded = _Padder(work, multiple).run()
    after = int8_convolutions(work)
    if not any(
        any(d % multiple for d in dims) and not any(d % multiple for d in after[name]) for name, dims in before.items()
    ):
        return []
    model.CopyFrom(work)
    return padded


def int8_convolutions(model) -> dict[str, tuple[int, int]]:
    """Convolution name -> (output, input) channels of its weights, for quantized weights."""
    idx = GraphIndex.links(model.graph)
    found = {}
    for n in idx.nodes:
        dq = idx.producer.get(n.input[1]) if n.op_type == "Conv" else None
        if dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] in idx.inits:
            dims = idx.inits[dq.input[0]].dims
            found[n.name] = (int(dims[0]), int(dims[1]) * int(node_attr(n, "group", 1)))
    return found


class _Padder:
    def __init__(self, model, multiple: int):
        from onnx import numpy_helper

        self.model, self.graph, self.multiple = model, model.graph, multiple
        self.to_array, self.from_array = numpy_helper.to_array, numpy_helper.from_array
        idx = GraphIndex.links(self.graph)
        self.inits, self.producer, self.consumers = idx.inits, idx.producer, idx.consumers
        self.channels = {t: c for t, (c, _) in image_tensors(model).items()}
        self.layout: dict[str, np.ndarray] = {}
        self.restored: dict[str, str] = {}
        self.new_inits: dict[str, np.ndarray] = {}
        self.padded: list[str] = []
        self.names = (
            {i.name for i in self.graph.initializer}
            | {o for n in self.graph.node for o in n.output}
            | {i.name for i in self.graph.input}
        )

    # -- which convolutions -----------------------------------------------------------------------

    def weights(self, node):
        """``(weight array, dequantize node or None)`` of a convolution, or None when not constant."""
        w = node.input[1]
        if w in self.inits:
            return self.to_array(self.inits[w]), None
        dq = self.producer.get(w)
        if dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] in self.inits:
            return self.to_array(self.inits[dq.input[0]]), dq
        return None

    # -- the walk ------------------------------------------------------------------------------------

    def run(self) -> list[str]:
        nodes = []
        for node in self.graph.node:
            handler = {"Conv": self.conv, "Concat": self.concat, "Shape": self.shape, "Resize": self.resize}.get(
                node.op_type
            )
            if handler is None:
                if node.op_type in PER_CHANNEL:
                    handler = self.per_channel
                elif node.op_type in BINARY_FILL:
                    handler = self.binary
                else:
                    handler = self.restore_all
            nodes += handler(node)
            nodes.append(node)
        nodes += self.restore_outputs(nodes)
        del self.graph.node[:]
        self.graph.node.extend(_live(nodes, {o.name for o in self.graph.output}))
        self.graph.initializer.extend(self.from_array(v, k) for k, v in self.new_inits.items())
        stale = [v for v in self.graph.value_info if v.name in self.layout]  # their channel counts changed
        for v in stale:
            self.graph.value_info.remove(v)
        used = {i for n in self.graph.node for i in n.input}
        kept = [i for i in self.graph.initializer if i.name in used]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)
        return self.padded

    def restore(self, node, positions: list[int]) -> list:
        """Give ``node`` its inputs at ``positions`` with their original channels; returns nodes to add."""
        added = []
        for k in positions:
            t = node.input[k]
            if t not in self.layout:
                continue
            if t not in self.restored:
                self.restored[t] = self.unique(f"{t}/unpadded")
                added.append(self.unpad_node(t, self.restored[t]))
            node.input[k] = self.restored[t]
        return added

    def unpad_node(self, t: str, out: str):
        from onnx import helper

        lay = self.layout[t]
        pos = np.empty(int((lay >= 0).sum()), np.int64)
        pos[lay[lay >= 0]] = np.nonzero(lay >= 0)[0]
        if np.array_equal(pos, np.arange(len(pos))):
            starts, ends, axes = self.const(np.array([0])), self.const(np.array([len(pos)])), self.const(np.array([1]))
            return helper.make_node("Slice", [t, starts, ends, axes], [out], name=f"{out}/slice")
        return helper.make_node("Gather", [t, self.const(pos)], [out], name=f"{out}/gather", axis=1)

    def restore_all(self, node) -> list:
        return self.restore(node, list(range(len(node.input))))

    def restore_outputs(self, nodes: list) -> list:
        added = []
        for out in self.graph.output:
            t = out.name
            if t not in self.layout:
                continue
            inner = self.unique(f"{t}/padded")
            for n in nodes:
                n.input[:] = [inner if i == t else i for i in n.input]
                n.output[:] = [inner if o == t else o for o in n.output]
            self.layout[inner] = self.layout.pop(t)
            added.append(self.unpad_node(inner, t))
        return added

    # -- handlers --------------------------------------------------------------------------------------

    def conv(self, node) -> list:
        found = self.weights(node)
        if found is None:
            return self.restore_all(node)
        w, dq = found
        group = int(node_attr(node, "group", 1))
        cout, cin_w = w.shape[:2]
        lay_in = self.layout.get(node.input[0])
        if group == 1:
            lay_out = _pad(cout, self.multiple)
            if lay_in is None and lay_out is None:
                return []
            rows = lay_out if lay_out is not None else np.arange(cout)
            cols = lay_in if lay_in is not None else np.arange(cin_w)
        elif group == cout and cin_w == 1:
            if lay_in is None:
                return []
            lay_out, rows, cols = lay_in, lay_in, np.arange(1)  # depthwise: channel for channel
        else:
            return self.restore_all(node)
        if not self.constant_bias(node):
            return self.restore_all(node)
        added = self.set_weights(node, w, dq, rows, cols)
        if added is None:
            return self.restore_all(node)
        added += self.set_bias(node, rows)
        if group != 1:
            for a in node.attribute:
                if a.name == "group":
                    a.i = len(lay_in)
        if lay_out is not None:
            self.layout[node.output[0]] = lay_out
            if group == 1:
                self.padded.append(node.name)
        return added

    def set_weights(self, node, w: np.ndarray, dq, rows: np.ndarray, cols: np.ndarray) -> list | None:
        """Rearranged weights (output channels ``rows``, input channels ``cols``; ``-1`` is zero);
        returns the nodes to add, or None for a quantization this does not handle."""
        zero = np.zeros(w.shape[0], w.dtype)
        if dq is not None:
            params = [self.to_array(self.inits[i]) if i in self.inits else None for i in dq.input[1:3] if i]
            if any(p is None for p in params):
                return None
            if any(p.size > 1 for p in params) and int(node_attr(dq, "axis", 1)) != 0:
                return None
            if len(params) > 1:
                zero = np.broadcast_to(params[1], (w.shape[0],)).astype(w.dtype)
        new = np.zeros((len(rows), len(cols)) + w.shape[2:], w.dtype)
        for k, o in enumerate(rows):
            if o >= 0:
                new[k] = zero[o]  # dequantizes to 0
                new[k][cols >= 0] = w[o][cols[cols >= 0]]
        if dq is None:
            node.input[1] = self.put(f"{node.input[1]}/padded", new)
            return []
        padded = self.requant(dq, [self.put(f"{dq.input[0]}/padded", new)], rows)
        node.input[1] = padded.output[0]
        return [padded]

    def constant_bias(self, node) -> bool:
        if len(node.input) < 3 or not node.input[2] or node.input[2] in self.inits:
            return True
        dq = self.producer.get(node.input[2])
        return dq is not None and dq.op_type == "DequantizeLinear" and all(i in self.inits for i in dq.input if i)

    def set_bias(self, node, rows: np.ndarray) -> list:
        if len(node.input) < 3 or not node.input[2]:
            return []
        b = node.input[2]
        if b in self.inits:
            node.input[2] = self.put(f"{b}/padded", _take(self.to_array(self.inits[b]), rows, 0))
            return []
        dq = self.producer[b]
        padded = self.requant(
            dq, [self.put(f"{dq.input[0]}/padded", _take(self.to_array(self.inits[dq.input[0]]), rows, 0))], rows
        )
        node.input[2] = padded.output[0]
        return [padded]

    def requant(self, dq, data: list[str], rows: np.ndarray):
        """A copy of DequantizeLinear ``dq`` reading ``data``, per-channel parameters rearranged to
        ``rows`` (padding channels get channel 0's scale and a zero point of zero)."""
        from onnx import NodeProto

        ins = list(data)
        for k in (1, 2):
            if len(dq.input) > k and dq.input[k]:
                v = self.to_array(self.inits[dq.input[k]])
                ins.append(
                    self.put(f"{dq.input[k]}/padded", _take(v, rows, v[0] if k == 1 else 0))
                    if v.size > 1
                    else dq.input[k]
                )
        node = NodeProto()
        node.CopyFrom(dq)
        node.input[:] = ins
        name = self.unique(f"{dq.output[0]}/padded")
        node.output[:] = [name]
        node.name = name
        return node

    def per_channel(self, node) -> list:
        x = node.input[0]
        if x not in self.layout:
            return []
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") and any(
            k < len(node.input) and node.input[k] and not self.scalar(node.input[k]) for k in (1, 2)
        ):
            return self.restore_all(node)
        if node.op_type == "MaxPool" and len(node.output) > 1:
            return self.restore_all(node)
        self.layout[node.output[0]] = self.layout[x]
        return []

    def binary(self, node) -> list:
        lays = [self.layout.get(i) for i in node.input]
        present = [lay for lay in lays if lay is not None]
        if not present:
            return []
        lay = present[0]
        ok = all(np.array_equal(p, lay) for p in present)
        fill = BINARY_FILL[node.op_type]
        if node.op_type == "Div" and lays[1] is not None:
            ok = False  # padding channels may be zero: never a divisor
        plan = {}
        for k, i in enumerate(node.input):
            if not ok or lays[k] is not None:
                continue
            c = self.broadcast_channels(i)
            if c is None or (c != 1 and c != int((lay >= 0).sum())):
                ok = False
            elif c != 1:
                if i not in self.inits:
                    ok = False
                else:
                    plan[k] = i
        if not ok:
            return self.restore_all(node)
        for k, i in plan.items():
            v = self.to_array(self.inits[i])
            axis = v.ndim - 3
            moved = np.moveaxis(v, axis, 0)
            node.input[k] = self.put(f"{i}/padded{len(lay)}", np.moveaxis(_take(moved, lay, fill), 0, axis))
        self.layout[node.output[0]] = lay
        return []

    def broadcast_channels(self, t: str) -> int | None:
        """The size ``t`` brings to the channel axis of a 4-D result (1 for broadcasting), or None."""
        if t in self.inits:
            shape = self.to_array(self.inits[t]).shape
            return shape[-3] if len(shape) >= 3 else 1
        return self.channels.get(t)

    def concat(self, node) -> list:
        if not any(i in self.layout for i in node.input):
            return []
        if int(node_attr(node, "axis", 0)) not in (1, -3):
            return self.restore_all(node)
        parts, offset = [], 0
        for i in node.input:
            lay = self.layout.get(i)
            if lay is None:
                c = self.channels.get(i)
                if c is None:
                    return self.restore_all(node)
                lay = np.arange(c)
            parts.append(np.where(lay >= 0, lay + offset, -1))
            offset += int((lay >= 0).sum())
        self.layout[node.output[0]] = np.concatenate(parts)
        return []

    def shape(self, node) -> list:
        x = node.input[0]
        if x not in self.layout or int(node_attr(node, "start", 0)) >= 2:
            return []
        if all(self.channel_free(c, x) for c in self.consumers.get(node.output[0], [])):
            return []
        return self.restore_all(node)

    def channel_free(self, user, x: str) -> bool:
        """Whether ``user`` of ``Shape(x)`` leaves the channel count out, or takes it only to size a
        Resize of ``x`` itself (whose output then carries ``x``'s layout)."""
        if user.op_type == "Gather" and user.input[1] in self.inits:
            return not np.isin(self.to_array(self.inits[user.input[1]]), [1, -3]).any()
        bounds = self.slice_bounds(user)
        if bounds is None:
            return False
        return bounds[0] >= 2 or all(
            c.op_type == "Concat"
            and c.input[0] == user.output[0]
            and all(
                r.op_type == "Resize" and r.input[0] == x and r.input[3:4] == [c.output[0]]
                for r in self.consumers.get(c.output[0], [])
            )
            for c in self.consumers.get(user.output[0], [])
        )

    def slice_bounds(self, node) -> tuple[int, int] | None:
        """``(start, end)`` of a Slice of a shape vector with constant bounds, or None."""
        if node.op_type != "Slice" or any(k >= len(node.input) or node.input[k] not in self.inits for k in (1, 2)):
            return None
        return tuple(int(self.to_array(self.inits[node.input[k]]).ravel()[0]) for k in (1, 2))  # type: ignore

    def resize(self, node) -> list:
        x = node.input[0]
        if x not in self.layout:
            return []
        if len(node.input) > 3 and node.input[3]:
            # sizes = Concat(Slice(Shape(x), 0, >=2), ...): the channel count is x's own
            cat = self.producer.get(node.input[3])
            head = self.producer.get(cat.input[0]) if cat is not None and cat.op_type == "Concat" else None
            bounds = self.slice_bounds(head) if head is not None else None
            shape = self.producer.get(head.input[0]) if bounds is not None else None
            ok = (
                bounds is not None
                and bounds[0] == 0
                and bounds[1] >= 2
                and shape is not None
                and shape.op_type == "Shape"
                and shape.input[0] == x
                and int(node_attr(shape, "start", 0)) == 0
            )
        else:
            scales = node.input[2] if len(node.input) > 2 else ""
            ok = scales in self.inits and float(self.to_array(self.inits[scales]).ravel()[1]) == 1.0
        if not ok:
            return self.restore_all(node)
        self.layout[node.output[0]] = self.layout[x]
        return []

    # -- initializers ------------------------------------------------------------------------------

    def unique(self, name: str) -> str:
        return unique_name(name, self.names)

    def scalar(self, t: str) -> bool:
        """Whether ``t`` is a one-element initializer (a per-tensor quantization parameter)."""
        return t in self.inits and self.to_array(self.inits[t]).size == 1

    def put(self, name: str, value: np.ndarray) -> str:
        name = self.unique(name)
        self.new_inits[name] = np.ascontiguousarray(value)
        return name

    def const(self, value: np.ndarray) -> str:
        return self.put(f"pad_channels/c{len(self.new_inits)}", value.astype(np.int64))


def _pad(count: int, multiple: int) -> np.ndarray | None:
    """The layout of ``count`` channels padded to a multiple of ``multiple``; None when it is one."""
    extra = -count % multiple
    return np.concatenate([np.arange(count), np.full(extra, -1)]) if extra else None


def _take(v: np.ndarray, layout: np.ndarray, fill) -> np.ndarray:
    """``v`` along its first axis arranged as ``layout``, ``fill`` at the padding positions."""
    out = np.full((len(layout),) + v.shape[1:], fill, v.dtype)
    out[layout >= 0] = v[layout[layout >= 0]]
    return out


def _live(nodes: list, outputs: set[str]) -> list:
    """``nodes`` without those whose outputs nothing reads (the replaced weight dequantizations)."""
    while True:
        read = {i for n in nodes for i in n.input} | outputs
        kept = [n for n in nodes if any(o in read for o in n.output)]
        if len(kept) == len(nodes):
            return kept
        nodes = kept
