"""Run a pixel shuffle of INT8 data (``DequantizeLinear -> DepthToSpace``, CRD) as two
single-axis transposes, for ONNX Runtime on CPU.

Why: ONNX Runtime's CPU DepthToSpace is a generic six-dimensional strided copy, no cheaper on
UINT8 than on float, and at the output resolution it is a sizeable share of an INT8 model's time.
The same permutation written as reshapes around two transposes that each move one axis
(``[n c i, j, h, w] -> [n c i, h, w, j]``, then ``[n c, i, h, w j] -> [n c, h, i, w j]``) hits
the runtime's fast paths for single-axis moves on one-byte data and gives identical results. On
float data the split is no faster, so a shuffle of float data is left alone, as is DCR mode
(channel index ``(i, j, c)``), which has no such split (docs/decisions.md, A pixel shuffle of INT8
data runs as two single-axis transposes).

Shapes are read at run time (``Shape`` of the quantized tensor, so that ONNX Runtime still moves
the DequantizeLinear past the data movement), so the rewrite keeps dynamic input sizes.
"""

from __future__ import annotations

from edgesr.onnx.checks import node_attr
from edgesr.onnx.graph_index import GraphIndex


def split_depth_to_space(model) -> list[str]:
    """Rewrite every CRD ``DepthToSpace`` of dequantized data in ``model`` (in place); returns
    the names rewritten."""
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    producer = GraphIndex.links(graph).producer
    have = {i.name for i in graph.initializer}
    consts = {"d2s/axis0": [0], "d2s/axis2": [2], "d2s/axis3": [3], "d2s/minus1": [-1]}
    done: list[str] = []
    nodes = []
    for node in graph.node:
        src = producer.get(node.input[0]) if node.op_type == "DepthToSpace" else None
        if src is None or src.op_type != "DequantizeLinear" or node_attr(node, "mode", "DCR") != "CRD":
            nodes.append(node)
            continue
        bs = int(node_attr(node, "blocksize", 0))
        x, y = node.input[0], node.output[0]
        shaped = src.input[0]
        p = f"{node.name or y}/split"
        block = f"d2s/block{bs}"
        consts[block] = [bs]
        nodes += [
            helper.make_node("Shape", [shaped], [f"{p}/shape"], name=f"{p}/shape"),
            helper.make_node("Gather", [f"{p}/shape", "d2s/axis0"], [f"{p}/n"], name=f"{p}/n", axis=0),
            helper.make_node("Gather", [f"{p}/shape", "d2s/axis2"], [f"{p}/h"], name=f"{p}/h", axis=0),
            helper.make_node("Gather", [f"{p}/shape", "d2s/axis3"], [f"{p}/w"], name=f"{p}/w", axis=0),
            helper.make_node("Mul", [f"{p}/h", block], [f"{p}/hb"], name=f"{p}/hb"),
            helper.make_node("Mul", [f"{p}/w", block], [f"{p}/wb"], name=f"{p}/wb"),
            helper.make_node("Concat", ["d2s/minus1", block, f"{p}/h", f"{p}/w"], [f"{p}/s1"], name=f"{p}/s1", axis=0),
            helper.make_node("Concat", ["d2s/minus1", block, f"{p}/h", f"{p}/wb"], [f"{p}/s2"], name=f"{p}/s2", axis=0),
            helper.make_node(
                "Concat", [f"{p}/n", "d2s/minus1", f"{p}/hb", f"{p}/wb"], [f"{p}/s3"], name=f"{p}/s3", axis=0
            ),
            # [n c i, j, h, w] -> [n c i, h, w, j]: j moves innermost
            helper.make_node("Reshape", [x, f"{p}/s1"], [f"{p}/r1"], name=f"{p}/r1"),
            helper.make_node("Transpose", [f"{p}/r1"], [f"{p}/t1"], name=f"{p}/t1", perm=[0, 2, 3, 1]),
            # [n c, i, h, w j] -> [n c, h, i, w j]: i moves past h, whole rows at a time
            helper.make_node("Reshape", [f"{p}/t1", f"{p}/s2"], [f"{p}/r2"], name=f"{p}/r2"),
            helper.make_node("Transpose", [f"{p}/r2"], [f"{p}/t2"], name=f"{p}/t2", perm=[0, 2, 1, 3]),
            helper.make_node("Reshape", [f"{p}/t2", f"{p}/s3"], [y], name=f"{p}/r3"),
        ]
        done.append(node.name)
    if not done:
        return done
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(
        numpy_helper.from_array(np.array(v, np.int64), k) for k, v in consts.items() if k not in have
    )
    return done
