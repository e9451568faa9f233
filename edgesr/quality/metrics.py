"""PSNR and SSIM on the BT.601 Y channel, the way SR papers compute them.

Both take HxWx3 uint8 RGB, convert to Y in [16, 235] units (not rounded), shave ``shave``
pixels off every border (the upscaler has no context there) and compare. SSIM is Wang et
al.'s: an 11x11 Gaussian window with sigma 1.5, statistics over the 'valid' region only.
"""

from __future__ import annotations

import math

import numpy as np

from edgesr.errors import InputError
from edgesr.io.images import luma

_PEAK = 255.0
_C1 = (0.01 * _PEAK) ** 2
_C2 = (0.03 * _PEAK) ** 2
SSIM_WINDOW = 11
_SIGMA = 1.5


def _y_pair(sr: np.ndarray, hr: np.ndarray, shave: int) -> tuple[np.ndarray, np.ndarray]:
    for name, img in (("sr", sr), ("hr", hr)):
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise InputError(f"{name} must be an HxWx3 uint8 RGB array, got {img.dtype} {img.shape}")
    if sr.shape != hr.shape:
        raise InputError(f"sr has shape {sr.shape} but hr has {hr.shape}; compare images of the same size")
    if shave < 0 or min(hr.shape[:2]) <= 2 * shave:
        raise InputError(f"cannot shave {shave} px from each border of a {hr.shape[0]}x{hr.shape[1]} (HxW) image")
    inner = (slice(shave, hr.shape[0] - shave), slice(shave, hr.shape[1] - shave))
    return luma(sr)[inner], luma(hr)[inner]


def psnr_y(sr: np.ndarray, hr: np.ndarray, shave: int) -> float:
    """Y-channel PSNR in dB with peak 255; ``inf`` for identical images."""
    a, b = _y_pair(sr, hr, shave)
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(_PEAK**2 / mse)


def _gaussian() -> np.ndarray:
    t = np.arange(SSIM_WINDOW, dtype=np.float64) - (SSIM_WINDOW - 1) / 2
    g = np.exp(-(t * t) / (2 * _SIGMA**2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' correlation with the outer product of ``g`` with itself."""
    view = np.lib.stride_tricks.sliding_window_view
    rows = view(x, g.size, axis=0) @ g
    return view(rows, g.size, axis=1) @ g


def ssim_y(sr: np.ndarray, hr: np.ndarray, shave: int) -> float:
    """Mean Y-channel SSIM over the valid (fully windowed) region; 1.0 for identical images."""
    a, b = _y_pair(sr, hr, shave)
    if min(a.shape) < SSIM_WINDOW:
        raise InputError(
            f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} px after shaving {shave} px, "
            f"got {a.shape[0]}x{a.shape[1]} (HxW)"
        )
    g = _gaussian()
    mu_a, mu_b = _filter_valid(a, g), _filter_valid(b, g)
    var_a = _filter_valid(a * a, g) - mu_a**2
    var_b = _filter_valid(b * b, g) - mu_b**2
    cov = _filter_valid(a * b, g) - mu_a * mu_b
    ssim_map = ((2 * mu_a * mu_b + _C1) * (2 * cov + _C2)) / ((mu_a**2 + mu_b**2 + _C1) * (var_a + var_b + _C2))
    return float(ssim_map.mean())
