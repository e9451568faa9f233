"""Rewrite ``Add(DepthToSpace(a), DepthToSpace(b))`` into ``DepthToSpace(Add(a, b))``.

Why: an SR model that adds a bicubic copy of its input (rewritten into a convolution and a
DepthToSpace, see :mod:`edgesr.onnx.rewrite_bicubic`) to its pixel-shuffled residual ends in
two DepthToSpace ops and an add at the output resolution. DepthToSpace is a pure permutation
and the same one for both operands, so one DepthToSpace after the add gives the identical
result. ONNX Runtime's DepthToSpace is a strided copy over the whole output frame; the rewrite
saves one of them and moves the add to the low-resolution side, where a quantized model can run
it in INT8 (docs/decisions.md, Pixel-shuffled adds are merged into one DepthToSpace).
"""

from __future__ import annotations

from edgesr.log import logger
from edgesr.onnx.checks import image_tensors, node_attr
from edgesr.onnx.graph_index import GraphIndex


def merge_shuffled_adds(model) -> list[str]:
    """Merge every such Add in ``model`` (in place); returns the names of the Adds merged."""
    from onnx import checker, helper

    graph = model.graph
    channels = {name: c for name, (c, _) in image_tensors(model).items()}
    idx = GraphIndex.links(graph)
    outputs = set(idx.graph_outputs)

    def shuffle_of(t: str):
        n = idx.producer.get(t)
        if n is None or n.op_type != "DepthToSpace" or len(idx.consumers.get(t, [])) != 1 or t in outputs:
            return None
        return n

    merged: list[str] = []
    dropped: set[int] = set()
    replace: dict[int, list] = {}
    for node in graph.node:
        if node.op_type != "Add" or len(node.input) != 2:
            continue
        a, b = (shuffle_of(t) for t in node.input)
        if a is None or b is None or a is b or _attrs(a) != _attrs(b):
            continue
        ca, cb = channels.get(a.input[0]), channels.get(b.input[0])
        if ca is None or ca != cb:
            continue  # equal static channels: the operands then have equal shapes before the shuffle
        tag = (node.name or node.output[0]).replace("/", "_").strip("_")
        summed = f"{tag}_before_shuffle"
        blocksize, mode = _attrs(a)
        replace[id(node)] = [
            helper.make_node("Add", [a.input[0], b.input[0]], [summed], name=f"{tag}_lowres"),
            helper.make_node(
                "DepthToSpace", [summed], list(node.output), name=f"{tag}_d2s", blocksize=blocksize, mode=mode
            ),
        ]
        dropped |= {id(a), id(b)}
        merged.append(node.name or node.output[0])
    if merged:
        nodes = []
        for n in graph.node:
            if id(n) in dropped:
                continue
            nodes += replace.get(id(n), [n])
        del graph.node[:]
        graph.node.extend(nodes)
        produced = {o for n in nodes for o in n.output}
        stale = [vi for vi in graph.value_info if vi.name not in produced]  # the two shuffles' outputs
        for vi in stale:
            graph.value_info.remove(vi)
        checker.check_model(model)
        logger.debug("moved %d add(s) before a shared DepthToSpace", len(merged))
    return merged


def _attrs(node) -> tuple[int, str]:
    return node_attr(node, "blocksize", 0), node_attr(node, "mode", "DCR")
