"""Normalise a float graph before the quantize stage indexes it: every node named, constants as
initializers. The index itself is :class:`edgesr.onnx.graph_index.GraphIndex`.
"""

from __future__ import annotations


def unique_names(model) -> None:
    """Give every node a unique, non-empty name (torch exports may leave some empty)."""
    seen: set[str] = set()
    for k, n in enumerate(model.graph.node):
        name = n.name or f"{n.op_type}_{k}"
        while name in seen:
            name = f"{name}_{k}"
        n.name = name
        seen.add(name)


def constants_to_initializers(model) -> int:
    """Turn ``Constant`` nodes holding a tensor into initializers (simplifiers leave some, e.g. as
    conv weights); returns how many. The computation is unchanged."""
    kept, moved = [], 0
    for n in model.graph.node:
        value = [a for a in n.attribute if a.name == "value" and a.type == 4] if n.op_type == "Constant" else []
        if value and len(n.attribute) == 1:
            t = model.graph.initializer.add()
            t.CopyFrom(value[0].t)
            t.name = n.output[0]
            moved += 1
        else:
            kept.append(n)
    if moved:
        del model.graph.node[:]
        model.graph.node.extend(kept)
    return moved
