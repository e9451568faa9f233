"""imresize against MATLAB's documented behaviour and a loop-per-pixel reference of its formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgesr.errors import InputError
from edgesr.quality import imresize


def _keys(t: float) -> float:
    t = abs(t)
    if t <= 1:
        return 1.5 * t**3 - 2.5 * t**2 + 1
    if t <= 2:
        return -0.5 * t**3 + 2.5 * t**2 - 4 * t + 2
    return 0.0


def _mirror(i: int, n: int) -> int:
    """1-based index i folded into 1..n the way MATLAB's aux = [1:n, n:-1:1] does."""
    period = 2 * n
    j = (i - 1) % period
    return j + 1 if j < n else period - j


def _reference_1d(line: np.ndarray, out_len: int, scale: float) -> np.ndarray:
    """One output pixel at a time, straight from MATLAB's contributions(): no vectorisation."""
    n = len(line)
    width = 4.0 / scale if scale < 1 else 4.0
    out = np.zeros(out_len)
    for x in range(1, out_len + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        taps = [left + k for k in range(math.ceil(width) + 2)]
        w = [scale * _keys(scale * (u - j)) if scale < 1 else _keys(u - j) for j in taps]
        total = sum(w)
        out[x - 1] = sum(wk / total * float(line[_mirror(j, n) - 1]) for wk, j in zip(w, taps))
    return out


def _reference(img: np.ndarray, out_shape: tuple[int, int], scales: tuple[float, float]) -> np.ndarray:
    out = img
    for axis in sorted((0, 1), key=lambda d: scales[d]):
        moved = np.moveaxis(out, axis, 0)
        res = np.zeros((out_shape[axis],) + moved.shape[1:])
        for idx in np.ndindex(moved.shape[1:]):
            res[(slice(None),) + idx] = _reference_1d(moved[(slice(None),) + idx], out_shape[axis], scales[axis])
        if img.dtype == np.uint8:
            res = np.floor(np.clip(res, 0, 255) + 0.5).astype(np.uint8)
        out = np.moveaxis(res, 0, axis)
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_scale_one_is_identity(dtype):
    img = np.random.default_rng(0).integers(0, 256, (9, 7, 3)).astype(dtype)
    assert np.array_equal(imresize(img, 1), img)
    assert np.array_equal(imresize(img, output_shape=(9, 7)), img)


@pytest.mark.parametrize("scale", [0.25, 1 / 3, 0.5, 2, 3, 4])
def test_constant_image_stays_constant(scale):
    img = np.full((24, 20, 3), 77, np.uint8)
    assert np.all(imresize(img, scale) == 77)
    assert np.allclose(imresize(img.astype(np.float32) / 255, scale), 77 / 255, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "scale", "expected"),
    [
        ((10, 7), 0.5, (5, 4)),
        ((10, 7), 1 / 3, (4, 3)),
        ((10, 7), 2.5, (25, 18)),
        ((256, 256), 0.25, (64, 64)),
    ],
)
def test_output_size_is_ceil_of_scaled_size(shape, scale, expected):
    assert imresize(np.zeros(shape, np.uint8), scale).shape == expected


def test_values_by_hand():
    # x2 upscale, output pixel 1: u = 0.75, taps at 1-based -1..2 (mirrored to 2,1,1,2) with
    # weights cubic(1.75), cubic(0.75), cubic(0.25), cubic(1.25) = -0.0234375, 0.2265625,
    # 0.8671875, -0.0703125, so 20*-0.0234375 + 10*0.2265625 + 10*0.8671875 + 20*-0.0703125.
    # Output pixel 2: u = 1.25, taps 0..3 -> 1,1,2,3 with weights -0.0703125, 0.8671875,
    # 0.2265625, -0.0234375.
    row = np.array([[10.0, 20.0, 30.0, 40.0]])
    out = imresize(row, 2)
    assert out.shape == (2, 8)
    assert np.array_equal(out[0], out[1])
    assert out[0, 0] == pytest.approx(9.0625, abs=1e-12)
    assert out[0, 1] == pytest.approx(11.796875, abs=1e-12)
    assert out[0, 7] == pytest.approx(40.9375, abs=1e-12)  # mirror image of pixel 1
    as_uint8 = imresize(row.astype(np.uint8), 2)
    assert as_uint8.dtype == np.uint8
    assert list(as_uint8[0, :2]) == [9, 12]


def test_uint8_output_is_saturated():
    row = np.array([[0, 255, 0, 255, 0, 255]], np.uint8)
    floats = imresize(row.astype(np.float64), 3)
    assert floats.min() < 0 and floats.max() > 255
    out = imresize(row, 3)
    assert np.array_equal(out, np.floor(np.clip(floats, 0, 255) + 0.5).astype(np.uint8))


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((13, 11, 3), dict(scale=0.5)),
        ((13, 11, 3), dict(scale=1 / 3)),
        ((16, 12, 2), dict(scale=0.25)),
        ((5, 6, 3), dict(scale=2)),
        ((5, 4), dict(scale=3)),
        ((7, 9, 3), dict(output_shape=(3, 13))),  # one axis shrinks, the other grows: order matters
        ((9, 7, 3), dict(output_shape=(20, 3))),
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_matches_loop_reference(shape, kwargs, dtype):
    img = np.random.default_rng(1).integers(0, 256, shape).astype(dtype)
    if "scale" in kwargs:
        out_shape = tuple(math.ceil(kwargs["scale"] * n) for n in shape[:2])
        scales = (kwargs["scale"], kwargs["scale"])
    else:
        out_shape = kwargs["output_shape"]
        scales = (out_shape[0] / shape[0], out_shape[1] / shape[1])
    got = imresize(img, **kwargs)
    want = _reference(img, out_shape, scales)
    assert got.dtype == img.dtype and got.shape == want.shape
    if dtype == np.uint8:
        assert np.array_equal(got, want)
    else:
        assert np.allclose(got, want, atol=1e-9)


def test_float32_in_gives_float32_out():
    img = np.random.default_rng(2).random((8, 8, 3), dtype=np.float32)
    assert imresize(img, 0.5).dtype == np.float32


@pytest.mark.parametrize(
    ("img", "kwargs"),
    [
        (np.zeros((4, 4, 3), np.int16), dict(scale=2)),
        (np.zeros((1, 4, 4, 3), np.uint8), dict(scale=2)),
        (np.zeros((4, 4), np.uint8), dict()),
        (np.zeros((4, 4), np.uint8), dict(scale=2, output_shape=(8, 8))),
        (np.zeros((4, 4), np.uint8), dict(scale=0)),
        (np.zeros((4, 4), np.uint8), dict(output_shape=(0, 8))),
    ],
)
def test_bad_arguments(img, kwargs):
    with pytest.raises(InputError):
        imresize(img, **kwargs)
