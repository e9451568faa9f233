"""MATLAB's ``imresize(A, scale, 'bicubic')`` in numpy.

Benchmark LR images were made with MATLAB, and a model trained on them loses several dB when
fed LR from another resampler (docs/background.md, Quality protocol), so this follows MATLAB step by step:

- output size ``ceil(scale * size)``; with an explicit size, each dimension gets its own
  ``scale = out / in``;
- Keys' cubic kernel with a = -0.5, widened by ``1 / scale`` when shrinking (antialiasing);
- input coordinate ``u = x / scale + 0.5 * (1 - 1 / scale)`` for 1-based output pixel ``x``;
- out-of-range taps mirrored through ``[1..n, n..1]`` (half-sample symmetric), taps whose
  weight is zero for every output pixel dropped;
- one dimension at a time, the one shrunk the most first (a stable sort of the scales);
- uint8 input is rounded (half away from zero) and saturated after *each* dimension, as
  MATLAB's ``imresizemex`` returns the input class; float input stays float throughout.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from edgesr.errors import InputError

_KERNEL_WIDTH = 4.0  # support of the cubic kernel, in input pixels, before antialiasing


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def contributions(in_length: int, out_length: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Weights and 0-based input indices (both ``out_length x taps``) of each output pixel."""
    width = _KERNEL_WIDTH / scale if scale < 1 else _KERNEL_WIDTH
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    taps = math.ceil(width) + 2
    indices = left[:, None] + np.arange(taps)
    distance = u[:, None] - indices
    weights = scale * cubic(scale * distance) if scale < 1 else cubic(distance)
    weights = weights / weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length - 1, -1, -1)])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, mirror.size)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def _resize_axis(data: np.ndarray, axis: int, out_length: int, scale: float, to_uint8: bool) -> np.ndarray:
    weights, indices = contributions(data.shape[axis], out_length, scale)
    # One gather per tap (a handful) instead of one per output pixel, summed in MATLAB's
    # order. The resized axis is moved to the front so each gather copies whole rows, and
    # the arithmetic is in place: fresh large temporaries cost more than the sums.
    src = np.ascontiguousarray(np.moveaxis(data, axis, 0), dtype=np.float64)
    shape = (out_length,) + src.shape[1:]
    column = (out_length,) + (1,) * (src.ndim - 1)
    out, tap = np.zeros(shape), np.empty(shape)
    for k in range(weights.shape[1]):
        np.take(src, indices[:, k], axis=0, out=tap)
        tap *= weights[:, k].reshape(column)
        out += tap
    if to_uint8:
        np.clip(out, 0, 255, out=out)
        out += 0.5
        out = np.floor(out, out=out).astype(np.uint8)
    return np.moveaxis(out, 0, axis)


def imresize(
    image: np.ndarray,
    scale: float | None = None,
    output_shape: Sequence[int] | None = None,
) -> np.ndarray:
    """Resize an HxW or HxWxC array by ``scale`` or to ``output_shape`` (H, W), bicubic.

    uint8 in gives uint8 out; float in gives the same float dtype out, unclipped.
    """
    if image.ndim not in (2, 3):
        raise InputError(f"imresize takes an HxW or HxWxC array, got shape {image.shape}")
    if image.dtype != np.uint8 and not np.issubdtype(image.dtype, np.floating):
        raise InputError(f"imresize takes uint8 or float arrays, got {image.dtype}")
    if (scale is None) == (output_shape is None):
        raise InputError("imresize needs exactly one of scale and output_shape")
    in_shape = image.shape[:2]
    if scale is not None:
        if not scale > 0:
            raise InputError(f"imresize scale must be positive, got {scale}")
        scales = (float(scale), float(scale))
        out_shape = tuple(math.ceil(scale * n) for n in in_shape)
    else:
        out_shape = tuple(int(n) for n in output_shape)
        if len(out_shape) != 2 or min(out_shape) < 1:
            raise InputError(f"imresize output_shape must be two positive sizes, got {output_shape}")
        scales = (out_shape[0] / in_shape[0], out_shape[1] / in_shape[1])
    to_uint8 = image.dtype == np.uint8
    out = image
    for axis in sorted(range(2), key=lambda d: scales[d]):
        out = _resize_axis(out, axis, out_shape[axis], scales[axis], to_uint8)
    return np.ascontiguousarray(out if to_uint8 else out.astype(image.dtype, copy=False))
