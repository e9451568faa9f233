"""What the build needs to know about an ONNX file without TensorRT: its nodes and its float types.

The weights are not loaded (``load_external_data=False``); only the graph is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgesr.errors import ModelError
from edgesr.lazy import require


@dataclass(frozen=True)
class NodeRef:
    index: int
    name: str
    op_type: str

    def describe(self) -> str:
        return f"node {self.index} '{self.name or '(unnamed)'}' ({self.op_type})"


def _graph(path: Path):
    onnx = require("onnx")
    from google.protobuf.message import DecodeError

    try:
        return onnx.load(str(path), load_external_data=False).graph
    except DecodeError:
        raise ModelError(f"{path} is not an ONNX model or is truncated; re-export it") from None
    except OSError as exc:
        raise ModelError(f"cannot read {path} ({exc.strerror or exc}); check the path and its permissions") from None


def node_at(path: Path, index: int) -> NodeRef | None:
    """The ``index``-th node of the main graph (the index TensorRT 8's parser errors report), if any."""
    nodes = _graph(path).node
    if not 0 <= index < len(nodes):
        return None
    n = nodes[index]
    return NodeRef(index, n.name, n.op_type)


def float_types(path: Path) -> set[str]:
    """Names of the floating-point element types the graph's tensors use: {"FLOAT", "FLOAT16", ...}.

    Looks at initializers, graph inputs/outputs, value_info, ``Constant`` values and ``Cast`` targets,
    which is where an FP16 model (ModelOpt AutoCast, onnxconverter-common) keeps its types.
    """
    onnx = require("onnx")
    tp = onnx.TensorProto
    floats = {tp.FLOAT: "FLOAT", tp.FLOAT16: "FLOAT16", tp.BFLOAT16: "BFLOAT16", tp.DOUBLE: "DOUBLE"}
    g = _graph(path)
    found: set[int] = {t.data_type for t in g.initializer}
    for v in [*g.input, *g.output, *g.value_info]:
        found.add(v.type.tensor_type.elem_type)
    for n in g.node:
        for a in n.attribute:
            if n.op_type == "Cast" and a.name == "to":
                found.add(a.i)
            elif n.op_type == "Constant" and a.name == "value":
                found.add(a.t.data_type)
    return {floats[t] for t in found if t in floats}
