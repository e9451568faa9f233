"""Rewrite an integer-factor bicubic ``Resize`` into edge padding, a fixed depthwise convolution
and ``DepthToSpace``.

Why: ONNX Runtime's CPU cubic Resize dominates the run time of small SR models that add a
bicubic copy of the input (docs/background.md, Deployment rewrites), and DLA cannot run cubic Resize at all.

The rewrite is exact: for an integer factor ``s`` each output pixel ``(s*i + r)`` reads the
four input pixels around source coordinate ``i + d_r``, where ``d_r`` depends only on the
phase ``r``. So one 5x5 depthwise kernel per (row phase, column phase) pair, applied to the
input padded by 2 with edge replication (the border clamping of ONNX Resize and PyTorch), yields
all ``s*s`` phases as channels, and ``DepthToSpace`` (CRD order) interleaves them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgesr.log import logger
from edgesr.onnx.checks import constant_arrays, image_tensors, node_attr

_TAPS = 5  # offsets -2..2 cover the four taps of every phase for the supported transforms
_PAD = _TAPS // 2
_TRANSFORMS = ("half_pixel", "pytorch_half_pixel", "asymmetric")
_FLOAT16 = 10  # onnx.TensorProto.FLOAT16


def cubic_weight(x: np.ndarray, a: float) -> np.ndarray:
    """Keys' cubic convolution kernel with coefficient ``a`` (-0.75 in PyTorch and ONNX)."""
    x = np.abs(x)
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.where(x <= 1, near, np.where(x < 2, far, 0.0))


def phase_weights(scale: int, a: float, transform: str) -> np.ndarray:
    """``scale`` x 5 weights: row ``r`` holds the taps at offsets -2..2 for output phase ``r``."""
    w = np.zeros((scale, _TAPS), dtype=np.float64)
    for r in range(scale):
        d = (r + 0.5) / scale - 0.5 if transform != "asymmetric" else r / scale
        base = int(np.floor(d))
        t = d - base
        for k, dist in zip(range(-1, 3), (t + 1, t, 1 - t, 2 - t)):
            w[r, base + k + _PAD] += cubic_weight(np.array(dist), a)
    return w


def depthwise_kernel(channels: int, scale: int, a: float, transform: str) -> np.ndarray:
    """Conv weight of shape (channels * s * s, 1, 5, 5) in DepthToSpace CRD channel order."""
    w = phase_weights(scale, a, transform)
    per_phase = np.einsum("yi,xj->yxij", w, w).reshape(scale * scale, _TAPS, _TAPS)
    return np.tile(per_phase, (channels, 1, 1))[:, None].astype(np.float32)


@dataclass(frozen=True)
class BicubicRewrite:
    """What one rewrite did, for the conversion report."""

    node: str
    scale: int
    channels: int
    coordinate_transformation_mode: str
    cubic_coeff_a: float


def rewrite_bicubic_resizes(model) -> tuple[list[BicubicRewrite], list[str]]:
    """Replace every rewritable cubic Resize in ``model`` (in place).

    Returns what was rewritten and, for cubic Resizes left alone, why. The kernel takes the
    element type of the resized tensor, so FP16 graphs stay FP16.
    """
    from onnx import checker, helper, numpy_helper

    graph = model.graph
    tensors = image_tensors(model)
    channels_of = {name: c for name, (c, _) in tensors.items()}
    consts = constant_arrays(graph)
    done: list[BicubicRewrite] = []
    skipped: list[str] = []
    new_nodes = []
    for node in graph.node:
        if node.op_type != "Resize" or node_attr(node, "mode", "nearest") != "cubic":
            new_nodes.append(node)
            continue
        reason, scale = _rewritable(node, consts, channels_of)
        if reason:
            skipped.append(f"{node.name or node.output[0]}: {reason}")
            new_nodes.append(node)
            continue
        channels = channels_of[node.input[0]]
        transform = node_attr(node, "coordinate_transformation_mode", "half_pixel")
        a = float(node_attr(node, "cubic_coeff_a", -0.75))
        tag = (node.name or node.output[0]).replace("/", "_").strip("_") + "_bicubic"
        pads = numpy_helper.from_array(np.array([0, 0, _PAD, _PAD, 0, 0, _PAD, _PAD], np.int64), f"{tag}_pads")
        dtype = np.float16 if tensors[node.input[0]][1] == _FLOAT16 else np.float32
        weight = numpy_helper.from_array(depthwise_kernel(channels, scale, a, transform).astype(dtype), f"{tag}_weight")
        graph.initializer.extend([pads, weight])
        new_nodes += [
            helper.make_node("Pad", [node.input[0], pads.name], [f"{tag}_padded"], name=f"{tag}_pad", mode="edge"),
            helper.make_node(
                "Conv",
                [f"{tag}_padded", weight.name],
                [f"{tag}_phases"],
                name=f"{tag}_conv",
                group=channels,
                kernel_shape=[_TAPS, _TAPS],
                pads=[0, 0, 0, 0],
            ),
            helper.make_node(
                "DepthToSpace", [f"{tag}_phases"], [node.output[0]], name=f"{tag}_d2s", blocksize=scale, mode="CRD"
            ),
        ]
        done.append(BicubicRewrite(node.name or node.output[0], scale, channels, transform, a))
        logger.debug("rewrote cubic Resize %s (x%d, %d channels)", node.name, scale, channels)
    if done:
        del graph.node[:]
        graph.node.extend(new_nodes)
        _drop_unused_initializers(graph)
        checker.check_model(model)
    return done, skipped


def _rewritable(node, consts: dict[str, np.ndarray], channels_of: dict[str, int]) -> tuple[str, int]:
    """Why ``node`` cannot be rewritten ('' when it can), and its integer scale."""
    transform = node_attr(node, "coordinate_transformation_mode", "half_pixel")
    if transform not in _TRANSFORMS:
        return f"coordinate_transformation_mode {transform} has no fixed per-phase kernel", 0
    if node_attr(node, "exclude_outside", 0):
        return "exclude_outside=1 renormalises border weights", 0
    if node_attr(node, "antialias", 0):
        return "antialias=1", 0
    if node_attr(node, "axes", None) is not None:
        return "explicit axes", 0
    if node.input[0] not in channels_of:
        return "the channel count of its input is not static", 0
    scales = consts.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
    if scales is None or scales.size != 4:
        return "scales are not a constant 4-vector (sizes-based Resize)", 0
    if not (scales[0] == 1 and scales[1] == 1 and scales[2] == scales[3]):
        return f"scales {scales.tolist()} are not [1, 1, s, s]", 0
    s = float(scales[2])
    if s != int(s) or s < 2:
        return f"scale {s} is not an integer upscale", 0
    return "", int(s)


def _drop_unused_initializers(graph) -> None:
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    keep = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
