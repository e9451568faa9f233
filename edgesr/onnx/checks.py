"""The full ONNX checker and strict shape inference on a converted model."""

from __future__ import annotations

from edgesr.errors import ModelError
from edgesr.lazy import require


def check(model):
    """Run ``onnx.checker`` (full) and strict shape inference; return the model with inferred shapes."""
    onnx = require("onnx")
    try:
        onnx.checker.check_model(model, full_check=True)
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True, data_prop=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"the model fails ONNX checking ({first}); fix the exporter or the graph") from None


def image_tensors(model) -> dict[str, tuple[int, int]]:
    """Tensor name -> (static channel count, ONNX element type) for every 4-D tensor whose channels are known."""
    onnx = require("onnx")
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    found: dict[str, tuple[int, int]] = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        tensor = vi.type.tensor_type
        if len(tensor.shape.dim) == 4 and tensor.shape.dim[1].HasField("dim_value"):
            found[vi.name] = (tensor.shape.dim[1].dim_value, tensor.elem_type)
    return found


def op_counts(model) -> dict[str, int]:
    counts: dict[str, int] = {}
    for node in model.graph.node:
        counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return dict(sorted(counts.items()))


def node_attr(node, name: str, default):
    """The value of attribute ``name`` of ``node`` (strings decoded), or ``default``."""
    helper = require("onnx").helper
    for a in node.attribute:
        if a.name == name:
            value = helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def constant_arrays(graph) -> dict:
    """Initializers and ``Constant``-node values (tensor form), as numpy arrays by tensor name."""
    numpy_helper = require("onnx.numpy_helper")
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    consts[n.output[0]] = numpy_helper.to_array(a.t)
    return consts


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3`` ... whichever is not in ``taken``; it is added to ``taken``."""
    candidate, k = name, 1
    while candidate in taken:
        k += 1
        candidate = f"{name}_{k}"
    taken.add(candidate)
    return candidate
