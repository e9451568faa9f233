"""Tiny ONNX upscalers built in code for the quality tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.tiny_models import Builder, save


def nearest_onnx(
    path: Path, *, scale: int = 2, offset: float = 0.0, gains=(1.0, 1.0, 1.0), metadata: dict | None = None
) -> Path:
    """y = nearest-upscale(x) * gains + offset: makes value range and channel order observable."""
    b = Builder()
    up = b.op("Resize", ["input", "", b.const(np.array([1, 1, scale, scale], np.float32))], mode="nearest")
    y = b.op("Mul", [up, b.const(np.array(gains, np.float32).reshape(1, 3, 1, 1))])
    y = b.op("Add", [y, b.const(np.array(offset, np.float32))])
    return save(b.model(y, metadata=metadata), path)
