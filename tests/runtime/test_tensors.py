"""Float model outputs to pixels: OpenCV's path and numpy's give the same uint8 image, rounded as
the quality protocol rounds."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr.runtime import tensors

cv2 = pytest.importorskip("cv2")


def _both(chw: np.ndarray, value_range: float, monkeypatch) -> tuple[np.ndarray, np.ndarray]:
    fast = tensors.float_pixels(chw, value_range)
    monkeypatch.setattr(tensors, "available", lambda name: False)
    slow = tensors.float_pixels(chw, value_range)
    monkeypatch.undo()
    return fast, slow


@pytest.mark.parametrize("value_range", [1.0, 255.0])
def test_opencv_and_numpy_give_the_protocols_pixels(value_range, monkeypatch):
    chw = (np.random.default_rng(0).random((3, 45, 61), dtype=np.float32) * 1.2 - 0.1) * np.float32(value_range)
    fast, slow = _both(chw, value_range, monkeypatch)
    protocol = np.round(np.clip(chw.transpose(1, 2, 0) * np.float32(255 / value_range), 0, 255)).astype(np.uint8)
    assert fast.shape == slow.shape == (45, 61, 3) and fast.dtype == np.uint8
    assert np.array_equal(fast, slow) and np.array_equal(fast, protocol)


def test_halves_round_to_even_and_the_range_is_clipped(monkeypatch):
    values = np.array([-3.0, -0.5, 0.5, 1.5, 2.5, 127.5, 254.5, 255.5, 300.0], np.float32)
    chw = np.broadcast_to(values, (3, 1, values.size))
    for pixels in _both(chw, 255.0, monkeypatch):
        assert pixels[0, :, 0].tolist() == [0, 0, 0, 2, 2, 128, 254, 255, 255]


def test_a_strided_tile_and_float16_give_the_same_pixels(monkeypatch):
    frame = np.random.default_rng(1).random((3, 40, 50), dtype=np.float32)
    whole = tensors.float_pixels(frame, 1.0)
    for part in _both(frame[::-1, 5:31, 7:40], 1.0, monkeypatch):
        assert np.array_equal(part, whole[5:31, 7:40, ::-1])
    half = frame.astype(np.float16)
    assert np.array_equal(*_both(half, 1.0, monkeypatch))


def test_a_table_of_256_codes_is_one_channel(monkeypatch):
    values = np.linspace(-0.1, 1.1, 256).astype(np.float32)
    table = tensors.code_pixels(values, 1.0)
    monkeypatch.setattr(tensors, "available", lambda name: False)
    assert table.shape == (256,) and np.array_equal(table, tensors.code_pixels(values, 1.0))
