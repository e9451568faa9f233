"""A read-only index of an ONNX graph: producers, consumers, initializers, float tensors, order.

The conversion rewrites and every pass of the quantize stage ask the same questions of a graph
(which node makes this tensor, who reads it, is it a constant); this answers them once.
``links`` indexes the structure alone; ``of`` adds element types, which need shape inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgesr.lazy import require

FLOAT = 1  # onnx.TensorProto.FLOAT


@dataclass
class GraphIndex:
    model: object | None  # onnx.ModelProto (None when only a graph was indexed)
    nodes: list = field(default_factory=list)  # NodeProto, topologically ordered
    producer: dict = field(default_factory=dict)  # tensor -> NodeProto
    consumers: dict = field(default_factory=dict)  # tensor -> [NodeProto], once per input slot
    inits: dict = field(default_factory=dict)  # name -> TensorProto
    graph_inputs: list = field(default_factory=list)
    graph_outputs: list = field(default_factory=list)
    elem_type: dict = field(default_factory=dict)  # tensor -> onnx elem type (when known; ``of`` only)

    @classmethod
    def links(cls, graph, model=None) -> GraphIndex:
        """Producers, consumers, initializers and graph inputs/outputs of ``graph`` (an ``onnx.GraphProto``).

        The nodes are the graph's own, so a pass that edits them in place sees its edits here."""
        idx = cls(model=model)
        idx.inits = {t.name: t for t in graph.initializer}
        idx.graph_inputs = [i.name for i in graph.input if i.name not in idx.inits]
        idx.graph_outputs = [o.name for o in graph.output]
        idx.nodes = list(graph.node)
        for n in idx.nodes:
            for o in n.output:
                if o:
                    idx.producer[o] = n
            for i in n.input:
                if i:
                    idx.consumers.setdefault(i, []).append(n)
        return idx

    @classmethod
    def of(cls, model) -> GraphIndex:
        """:meth:`links` of ``model``'s graph, plus the element type of every tensor inference can tell."""
        onnx = require("onnx")
        g = model.graph
        idx = cls.links(g, model)
        try:
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False)
            infos = list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)
        except Exception:  # inference is a help here, not a requirement  # noqa: BLE001
            infos = list(g.value_info) + list(g.input) + list(g.output)
        for vi in infos:
            if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
                idx.elem_type[vi.name] = vi.type.tensor_type.elem_type
        for name, t in idx.inits.items():
            idx.elem_type[name] = t.data_type
        for n in idx.nodes:  # Constant nodes
            if n.op_type == "Constant" and n.attribute and n.attribute[0].type == 4:  # TENSOR
                idx.elem_type[n.output[0]] = n.attribute[0].t.data_type
        return idx

    def node(self, name: str):
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def is_float(self, tensor: str) -> bool:
        return self.elem_type.get(tensor) == FLOAT

    def is_const(self, tensor: str) -> bool:
        if tensor in self.inits:
            return True
        p = self.producer.get(tensor)
        return p is not None and p.op_type == "Constant"

    def const_value(self, tensor: str) -> np.ndarray:
        numpy_helper = require("onnx.numpy_helper")
        if tensor in self.inits:
            return numpy_helper.to_array(self.inits[tensor])
        return numpy_helper.to_array(self.producer[tensor].attribute[0].t)

    def activation_inputs(self, node) -> list[str]:
        """Non-constant float inputs of ``node`` (the ones a Q/DQ pair can sit on)."""
        return [i for i in node.input if i and not self.is_const(i) and self.is_float(i)]

    def constant_conv(self, node) -> bool:
        """A ``Conv`` whose weights (and bias, if any) are initializers, so a pass can rescale them."""
        return (
            node.op_type == "Conv"
            and len(node.input) > 1
            and node.input[1] in self.inits
            and (len(node.input) < 3 or not node.input[2] or node.input[2] in self.inits)
        )

    def fanout(self, tensor: str) -> int:
        return len(self.consumers.get(tensor, [])) + (tensor in self.graph_outputs)
