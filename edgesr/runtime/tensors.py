"""Pixels to model tensors and back: uint8 RGB <-> N x 3 x H x W in the model's range, dtype and
channel order."""

from __future__ import annotations

import numpy as np

from edgesr.lazy import available, require
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
    return float_pixels(chw, spec.value_range)


def code_pixels(values: np.ndarray, value_range: float) -> np.ndarray:
    """The pixel of each of the 256 codes of a uint8 output, given the float ``values`` its
    DequantizeLinear gives them: the float path's own arithmetic, so the table is exact."""
    return float_pixels(values.astype(np.float32).reshape(1, 256, 1), value_range).reshape(256)


def float_pixels(chw: np.ndarray, value_range: float) -> np.ndarray:
    """C x H x W float in [0, value_range] -> H x W x C uint8 (H x W for one channel), clipped and
    rounded half to even, as the quality protocol rounds.

    OpenCV scales each plane straight to uint8 with saturation and interleaves the planes: 0.4 ms
    for a 720p frame where numpy's scale, round, clip and cast through a strided float copy took
    4.5 ms (docs/decisions.md, Float outputs become pixels in OpenCV). Without OpenCV, numpy.
    """
    scale = 255.0 / value_range
    if available("cv2"):
        cv2 = require("cv2")
        return cv2.merge([cv2.multiply(np.asarray(p, np.float32), scale, dtype=cv2.CV_8U) for p in chw])
    out = np.empty(chw.shape[1:] + chw.shape[:1], np.float32)  # C order whatever the strides of the view
    np.multiply(chw.transpose(1, 2, 0), np.float32(scale), out=out)
    np.rint(out, out=out)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8).squeeze(-1) if chw.shape[0] == 1 else out.astype(np.uint8)
