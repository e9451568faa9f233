"""Blur kernels sum to 1 and have the widths their specs name."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edgesr.degrade.kernels import covariance, kernel_moments, kernel_size, make_kernel
from edgesr.degrade.spec import Blur


@pytest.mark.parametrize(
    "blur",
    [
        Blur("iso", 0.3),
        Blur("iso", 1.2),
        Blur("iso", 3.6),
        Blur("iso", 8.0),
        Blur("aniso", 2.0, 0.8, 30.0),
        Blur("gen", 1.5, beta=1.0),
        Blur("plateau", 1.5, beta=4.0),
    ],
)
def test_kernels_sum_to_one_are_odd_and_centred(blur):
    k = make_kernel(blur)
    assert k.shape[0] == k.shape[1] == kernel_size(blur) and k.shape[0] % 2 == 1
    assert math.isclose(k.sum(), 1.0, rel_tol=1e-12) and (k >= 0).all()
    assert np.allclose(k, k[::-1, ::-1])  # point-symmetric: correlation and convolution agree


@pytest.mark.parametrize("sigma", [0.8, 1.2, 2.4])
def test_an_isotropic_kernel_has_its_sigma(sigma):
    m = kernel_moments(make_kernel(Blur("iso", sigma)))
    assert np.allclose(np.diag(m), sigma**2, rtol=1e-3) and abs(m[0, 1]) < 1e-9


def test_an_anisotropic_kernel_has_its_covariance():
    m = kernel_moments(make_kernel(Blur("aniso", 2.0, 0.8, 30.0)))
    assert np.allclose(m, covariance(2.0, 0.8, 30.0), atol=2e-3)
    assert np.allclose(np.linalg.eigvalsh(m), [0.8**2, 2.0**2], atol=2e-3)


def test_the_grid_size_is_the_protocols_21_and_grows_for_wide_blurs():
    assert kernel_size(Blur("iso", 4.0)) == 21 and kernel_size(Blur("iso", 0.2)) == 21
    assert kernel_size(Blur("iso", 8.0)) == 41
