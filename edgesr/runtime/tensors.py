"""Pixels to model tensors and back: uint8 RGB <-> N x 3 x H x W in the model's range, dtype and
channel order."""

from __future__ import annotations

import numpy as np

from edgesr.runtime.spec import ModelSpec


def to_model(tiles: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """N x H x W x 3 uint8 RGB -> N x 3 x H x W in [0, value_range], contiguous.

    Dividing by ``255 / value_range`` keeps a [0, 255] model's input exact integers, as the
    quality protocol feeds them.
    """
    nchw = tiles.transpose(0, 3, 1, 2)
    if spec.channel_order == "BGR":
        nchw = nchw[:, ::-1]
    x = np.ascontiguousarray(nchw, dtype=np.float32)
    np.divide(x, np.float32(255.0 / spec.value_range), out=x)
    return x.astype(spec.dtype, copy=False)


def to_pixels(chw: np.ndarray, spec: ModelSpec) -> np.ndarray:
    """3 x H x W model output -> H x W x 3 uint8 RGB, clipped and rounded.

    Transposing first lets numpy write the float intermediate in HWC order in one pass; adding
    0.5 before the truncating cast rounds (half up) without a separate rounding pass.
    """
    if spec.channel_order == "BGR":
        chw = chw[::-1]
    hwc = chw.transpose(1, 2, 0) * np.float32(255.0 / spec.value_range)
    hwc += np.float32(0.5)
    np.clip(hwc, 0, 255, out=hwc)
    return hwc.astype(np.uint8)
