"""Y-channel PSNR/SSIM: exact values where they can be derived, agreement with scikit-image otherwise."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgesr.errors import InputError
from edgesr.io.images import luma
from edgesr.quality import psnr_y, ssim_y


def _noisy_pair(shape=(40, 36, 3), seed=0):
    rng = np.random.default_rng(seed)
    hr = rng.integers(0, 256, shape).astype(np.uint8)
    sr = np.clip(hr.astype(int) + rng.integers(-25, 26, shape), 0, 255).astype(np.uint8)
    return sr, hr


def test_identical_images():
    _, hr = _noisy_pair()
    assert psnr_y(hr, hr, 4) == math.inf
    assert ssim_y(hr, hr, 4) == 1.0


def test_known_mse():
    # +10 on R, G and B moves Y by 10 * (65.481 + 128.553 + 24.966) / 255 = 10 * 219 / 255.
    hr = np.full((20, 20, 3), 100, np.uint8)
    sr = hr + np.uint8(10)
    diff = 10 * 219 / 255
    assert psnr_y(sr, hr, 0) == pytest.approx(10 * math.log10(255**2 / diff**2), abs=1e-9)


def test_shaved_border_does_not_count():
    hr = np.full((20, 20, 3), 100, np.uint8)
    sr = hr.copy()
    sr[:2] = 0
    sr[:, -2:] = 255
    assert psnr_y(sr, hr, 2) == math.inf
    assert psnr_y(sr, hr, 1) < 20
    assert ssim_y(sr, hr, 2) == 1.0


def test_ssim_matches_scikit_image():
    metrics = pytest.importorskip("skimage.metrics")
    sr, hr = _noisy_pair()
    want = metrics.structural_similarity(
        luma(sr)[3:-3, 3:-3],
        luma(hr)[3:-3, 3:-3],
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=255,
    )
    assert ssim_y(sr, hr, 3) == pytest.approx(want, abs=1e-12)
    assert 0 < ssim_y(sr, hr, 3) < 1
    assert ssim_y(sr, hr, 3) == pytest.approx(ssim_y(hr, sr, 3), abs=1e-15)


@pytest.mark.parametrize("metric", [psnr_y, ssim_y])
def test_bad_inputs(metric):
    sr, hr = _noisy_pair()
    with pytest.raises(InputError, match="same size"):
        metric(sr[:-1], hr, 4)
    with pytest.raises(InputError, match="uint8"):
        metric(sr.astype(np.float32), hr, 4)
    with pytest.raises(InputError, match="shave"):
        metric(sr, hr, 20)


def test_ssim_needs_a_full_window():
    sr, hr = _noisy_pair((20, 20, 3))
    with pytest.raises(InputError, match="11x11"):
        ssim_y(sr, hr, 5)
