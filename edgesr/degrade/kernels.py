"""Blur kernels on an odd square grid, normalised to sum 1.

The grid is 21 taps, the size the blind-SR protocols use for widths up to 4, and grows for
wider blurs so that it always reaches 2.5 sigma from the centre.
"""

from __future__ import annotations

import math

import numpy as np

from edgesr.degrade.spec import Blur

MIN_SIZE = 21


def kernel_size(blur: Blur) -> int:
    return max(MIN_SIZE, 2 * math.ceil(2.5 * blur.widest) + 1)


def covariance(sigma_x: float, sigma_y: float, angle_deg: float) -> np.ndarray:
    """The 2x2 covariance of a Gaussian with those principal sigmas, its x axis turned by the angle."""
    t = math.radians(angle_deg)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return rot @ np.diag([sigma_x**2, sigma_y**2]) @ rot.T


def make_kernel(blur: Blur, size: int | None = None) -> np.ndarray:
    """``size`` x ``size`` float64 kernel (default :func:`kernel_size`), summing to 1."""
    size = kernel_size(blur) if size is None else size
    ax = np.arange(size, dtype=np.float64) - size // 2
    xx, yy = np.meshgrid(ax, ax)
    if blur.kind == "aniso":
        inv = np.linalg.inv(covariance(blur.sigma, blur.sigma_y, blur.angle))
        d2 = inv[0, 0] * xx * xx + (inv[0, 1] + inv[1, 0]) * xx * yy + inv[1, 1] * yy * yy
        k = np.exp(-0.5 * d2)
    else:
        r2 = (xx * xx + yy * yy) / (blur.sigma * blur.sigma)
        if blur.kind == "iso":
            k = np.exp(-0.5 * r2)
        elif blur.kind == "gen":
            k = np.exp(-np.power(r2, blur.beta / 2))
        else:  # plateau
            k = 1.0 / (1.0 + np.power(r2, blur.beta / 2))
    return k / k.sum()


def kernel_moments(k: np.ndarray) -> np.ndarray:
    """The 2x2 second-moment matrix (x, y) of a kernel about its centre: its covariance."""
    size = k.shape[0]
    ax = np.arange(size, dtype=np.float64) - size // 2
    xx, yy = np.meshgrid(ax, ax)
    m = np.array([[(k * xx * xx).sum(), (k * xx * yy).sum()], [(k * xx * yy).sum(), (k * yy * yy).sum()]])
    return m / k.sum()
