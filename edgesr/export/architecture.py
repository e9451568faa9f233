"""An architecture by name, with a checkpoint's weights or random ones, to a verified ONNX file: the work of
``edgesr export`` without a model card."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgesr import models
from edgesr.export.to_onnx import MIN_OPSET, ExportOnnx, export_onnx
from edgesr.log import logger


@dataclass(frozen=True)
class Exported:
    path: Path
    arch: str
    scale: int
    params: int  # of the deployed (folded) network
    value_range: float
    input_shape: str  # "1x3xHxW" with the static size, or "Nx3xHxW"


def export_architecture(
    name: str,
    output: str | os.PathLike,
    *,
    weights: str | os.PathLike | None = None,
    scale: int | None = None,
    opset: int = MIN_OPSET,
    static_hw: tuple[int, int] | None = None,
) -> Exported:
    """Export architecture ``name`` to ``output``; without ``weights`` its weights are random (for pipeline
    tests), at ``scale`` or :data:`edgesr.models.DEFAULT_SCALE`. ``static_hw`` fixes the input to 1x3xHxW
    instead of a dynamic batch, height and width."""
    if weights is not None:
        net = models.load(name, weights, scale=scale)
    else:
        net = models.create(name, scale=scale or models.DEFAULT_SCALE)
        logger.warning(
            "no --weights: %s has random weights and its output is noise; use this file for pipeline tests only",
            net.arch,
        )
    static = static_hw is not None
    path = export_onnx(
        net, output, opset=opset, dynamic=not static, sample_hw=static_hw if static else ExportOnnx.sample_hw
    )
    shape = f"1x3x{static_hw[0]}x{static_hw[1]}" if static else "Nx3xHxW"
    return Exported(path, net.arch, net.scale, models.count_params(models.deployed(net)), net.value_range, shape)
