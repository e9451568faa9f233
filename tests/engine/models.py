"""ONNX files for the build tests: the tiny SR model as FP32 (dynamic or static), FP16, Q/DQ INT8,
and with a node no TensorRT can import."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.tiny_models import IR_VERSION, save, sr_model

SCALE = 2
STATIC = (1, 3, 32, 32)
SHAPES = ((1, 3, 16, 16), (1, 3, 32, 32), (1, 3, 64, 64))
BAD_NODE = "mystery_upsample"


def fp32(path: Path, *, static: bool = False) -> Path:
    return save(sr_model(scale=SCALE, dims=STATIC if static else (1, 3, "h", "w")), path)


def fp16(path: Path) -> Path:
    """Every float tensor in float16, input and output included (what ModelOpt AutoCast writes)."""
    m = sr_model(scale=SCALE)
    g = m.graph
    for i, t in enumerate(g.initializer):
        if t.data_type == TensorProto.FLOAT:
            g.initializer[i].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t).astype(np.float16), t.name))
    for v in [*g.input, *g.output]:
        v.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(m)
    return save(m, path)


def qdq(path: Path) -> Path:
    """Symmetric Q/DQ INT8: the input activation per tensor, the conv weights per channel (opset 13)."""
    rng = np.random.default_rng(0)
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def qdq_weight(tag, w):
        scale = (np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127).astype(np.float32)
        q = np.clip(np.round(w / scale[:, None, None, None]), -127, 127).astype(np.int8)
        nodes.append(
            helper.make_node(
                "DequantizeLinear",
                [const(f"{tag}_q", q), const(f"{tag}_s", scale), const(f"{tag}_z", np.zeros(w.shape[0], np.int8))],
                [f"{tag}_dq"],
                name=f"{tag}_DQ",
                axis=0,
            )
        )
        return f"{tag}_dq"

    def conv(tag, x, cin, cout):
        w = (rng.standard_normal((cout, cin, 3, 3)) * 0.1).astype(np.float32)
        b = const(f"{tag}_b", np.zeros(cout, np.float32))
        nodes.append(
            helper.make_node(
                "QuantizeLinear",
                [x, const(f"{tag}_xs", np.float32(0.02)), const(f"{tag}_xz", np.int8(0))],
                [f"{tag}_xq"],
                name=f"{tag}_in_Q",
            )
        )
        nodes.append(
            helper.make_node(
                "DequantizeLinear", [f"{tag}_xq", f"{tag}_xs", f"{tag}_xz"], [f"{tag}_xdq"], name=f"{tag}_in_DQ"
            )
        )
        nodes.append(
            helper.make_node(
                "Conv",
                [f"{tag}_xdq", qdq_weight(tag + "_w", w), b],
                [f"{tag}_y"],
                name=f"{tag}_Conv",
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
            )
        )
        return f"{tag}_y"

    y = conv("conv1", "input", 3, 8)
    nodes.append(helper.make_node("Relu", [y], ["relu1_y"], name="relu1"))
    y = conv("conv2", "relu1_y", 8, 3 * SCALE * SCALE)
    nodes.append(helper.make_node("DepthToSpace", [y], ["d2s_y"], name="pixel_shuffle", blocksize=SCALE, mode="CRD"))
    nodes.append(helper.make_node("Identity", ["d2s_y"], ["output"], name="output_identity"))
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "h", "w"])
    out = helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, None, None])
    graph = helper.make_graph(nodes, "tiny_sr_qdq", [x], [out], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)
    onnx.checker.check_model(m)
    return save(m, path)


def with_unimportable_node(path: Path) -> Path:
    """The FP32 model with a custom-domain op before the output: no ONNX parser has an importer for it."""
    m = sr_model(scale=SCALE)
    g = m.graph
    out = next(n for n in g.node if n.name == "output_identity")
    src = out.input[0]
    out.input[0] = "mystery_y"
    index = list(g.node).index(out)
    g.node.insert(index, helper.make_node("MysteryUpsample", [src], ["mystery_y"], name=BAD_NODE, domain="com.example"))
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    return save(m, path)


def node_index(path: Path, name: str) -> int:
    return [n.name for n in onnx.load(str(path)).graph.node].index(name)
