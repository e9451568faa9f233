"""Degrading one image: the protocol's LR when clean, reproducible draws, noise and JPEG as specified."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr.degrade import degrade, parse
from edgesr.degrade.apply import image_seed
from edgesr.errors import InputError
from edgesr.io.images import read_rgb, sample_images
from edgesr.quality.protocol import prepare


@pytest.fixture(scope="module")
def hr() -> np.ndarray:
    rgb = read_rgb(sample_images()[0])
    return np.ascontiguousarray(rgb[:192, :256])


def test_clean_is_the_benchmark_lr_bit_for_bit(hr):
    assert np.array_equal(degrade(hr, "clean", 4), prepare(hr, 4)[0])


def test_same_seed_same_lr_other_seed_other_noise(hr):
    a, b, c = (degrade(hr, "blur=iso:1.2,noise=10,jpeg=70", 4, s) for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_image_seeds_are_fixed_by_name():
    assert image_seed("baby.png") == image_seed("baby.png") != image_seed("bird.png")
    assert image_seed("baby.png", 1) != image_seed("baby.png", 0)


def test_gaussian_noise_has_its_sigma_and_no_bias():
    flat = np.full((128, 128, 3), 128, np.uint8)
    noisy = degrade(flat, "noise=10", 1, 0).astype(float) - 128
    assert abs(noisy.mean()) < 0.1 and 9.7 < noisy.std() < 10.3
    grey = degrade(flat, "noise=grey:10", 1, 0).astype(float)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and 9.7 < grey.std() < 10.3


def test_shot_noise_grows_with_brightness_and_has_its_sigma_at_mid_grey():
    def std(level: int) -> float:
        return degrade(np.full((128, 128, 3), level, np.uint8), "shot=8", 1, 0).astype(float).std()

    assert 7.6 < std(128) < 8.4 and std(32) < 0.6 * std(128) and std(0) == 0


def test_jpeg_round_trip_loses_more_at_low_quality(hr):
    err = {q: np.abs(degrade(hr, f"jpeg={q}", 1).astype(float) - hr).mean() for q in (95, 50, 10)}
    assert 0 < err[95] < err[50] < err[10]
    assert np.array_equal(degrade(hr, "jpeg=50", 1), degrade(hr, "jpeg=50", 1))


def test_wider_blurs_leave_softer_lr(hr):
    def detail(spec: str) -> float:
        return float(np.abs(np.diff(degrade(hr, spec, 4).astype(float), axis=1)).mean())

    widths = [detail(s) for s in ("clean", "blur=iso:1.2", "blur=iso:2.4", "blur=iso:3.6")]
    assert widths == sorted(widths, reverse=True) and widths[-1] < 0.75 * widths[0]


@pytest.mark.parametrize("method", ["bilinear", "area", "decimate"])
def test_each_downsampling_method_gives_the_lr_size(hr, method):
    assert degrade(hr, f"down={method}", 4).shape == (48, 64, 3)


def test_h264_round_trip_keeps_the_size(hr):
    pytest.importorskip("av")
    out = degrade(hr[:91, :77], "h264=35", 1)
    assert out.shape == (91, 77, 3) and np.abs(out.astype(float) - hr[:91, :77]).mean() > 0


def test_an_image_smaller_than_the_kernel_is_refused():
    with pytest.raises(InputError, match=r"16x16 \(HxW\) image is smaller than the 21x21 kernel of blur=iso:1.2"):
        degrade(np.zeros((16, 16, 3), np.uint8), parse("blur1.2"))


def test_a_size_that_is_not_a_multiple_of_the_scale_is_refused():
    with pytest.raises(InputError, match="not a multiple of the x4 scale"):
        degrade(np.zeros((30, 32, 3), np.uint8), "noise10", 4)
