"""The report's building blocks: interleaved timing, crop choice, chart ticks."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr.report.crops import choose_crop
from edgesr.report.latency import measure
from edgesr.report.plot import _ticks
from edgesr.timing import Latency


def test_latency_runs_are_interleaved_and_rotated():
    calls: list[str] = []

    def runner(name):
        return lambda lr: calls.append(name)

    timings = measure(
        {"a": runner("a"), "b": runner("b"), "c": runner("c")}, np.zeros((4, 4, 3), np.uint8), warmup=1, repeats=3
    )
    assert calls == ["a", "b", "c"] + ["a", "b", "c", "b", "c", "a", "c", "a", "b"]
    assert {n: t.repeats for n, t in timings.items()} == {"a": 3, "b": 3, "c": 3}


def test_latency_statistics():
    t = Latency.from_samples([0.004, 0.001, 0.002, 0.003, 0.100])
    assert (t.median_ms, t.min_ms, t.p25_ms, t.p75_ms, t.repeats) == pytest.approx((3.0, 1.0, 2.0, 4.0, 5))


def test_latency_ratio_pairs_runs_of_the_same_round():
    # The machine slows down 10x between the two calls of round 2: the ratio of medians says the
    # candidate is 5x slower, the per-round ratios say what is true, 2x faster.
    reference = Latency.from_samples([0.010, 0.010, 0.010, 0.100, 0.100])
    candidate = Latency.from_samples([0.005, 0.005, 0.050, 0.050, 0.050])
    assert candidate.median_ms / reference.median_ms == pytest.approx(5.0)
    assert candidate.ratio_to(reference) == pytest.approx(0.5)


def test_crop_lands_on_the_largest_difference():
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)
    reference = hr.copy()
    candidate = hr.copy()
    candidate[40:56, 60:76] //= 2
    crop = choose_crop(reference, [candidate], hr, shave=4, columns=4, size=16)
    assert (crop.top, crop.left, crop.size) == (40, 60, 16) and "difference" in crop.reason
    assert crop.zoom == 192 // 16


def test_crop_shrinks_to_small_images_and_zoom_fits_the_row():
    hr = np.zeros((30, 30, 3), np.uint8)
    crop = choose_crop(hr, [hr], hr, shave=4, columns=10)
    assert crop.size == 22 and "texture" in crop.reason
    assert crop.size * crop.zoom * 10 <= 1300


@pytest.mark.parametrize(
    "lo, hi, expected",
    [
        (0.0, 1.0, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-0.3, 0.125, [-0.3, -0.2, -0.1, 0.0, 0.1, 0.2]),
        (0.0, 12.0, [0.0, 5.0, 10.0, 15.0]),
    ],
)
def test_chart_ticks_are_round_and_cover_the_range(lo, hi, expected):
    assert _ticks(lo, hi) == pytest.approx(expected)
