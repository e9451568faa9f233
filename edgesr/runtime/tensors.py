"""Pixels to model tensors and back: uint8 RGB <-> N x 3 x H x W in the model's range, dtype and
channel order."""

from __future__ import annotations

import numpy as np

from edgesr.lazy import require
from edgesr.runtime.model_spec import ModelSpec


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


def to_pixels(chw: np.ndarray, spec: ModelSpec, bgr: bool = False) -> np.ndarray:
    """3 x H x W model output -> H x W x 3 uint8 RGB (BGR with ``bgr``), clipped and rounded.

    A model that returns the uint8 codes of its output grid (``spec.output_table``) is looked
    up code by code: one pass over a quarter of the bytes, with the float path's pixels. The
    channel order is chosen in the same pass, so BGR output costs nothing extra.
    """
    if (spec.channel_order == "BGR") != bgr:
        chw = chw[::-1]
    if spec.output_table is not None:
        cv2 = require("cv2")
        codes = chw.view(np.uint8)
        return cv2.LUT(cv2.merge([codes[0], codes[1], codes[2]]), spec.output_table)
    return _float_pixels(chw.transpose(1, 2, 0), spec.value_range)


def code_pixels(values: np.ndarray, value_range: float) -> np.ndarray:
    """The pixel of each of the 256 codes of a uint8 output, given the float ``values`` its
    DequantizeLinear gives them: the float path's own arithmetic, so the table is exact."""
    return _float_pixels(values.astype(np.float32).reshape(256, 1), value_range).reshape(256)


def _float_pixels(hwc: np.ndarray, value_range: float) -> np.ndarray:
    """Float in [0, value_range] -> uint8. Multiplying a transposed view writes the float
    intermediate in HWC order in one pass; adding 0.5 before the truncating cast rounds (half
    up) without a separate rounding pass."""
    out = np.empty(hwc.shape, np.float32)  # C order whatever the strides of the view (BGR reverses one)
    np.multiply(hwc, np.float32(255.0 / value_range), out=out)
    out += np.float32(0.5)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)
