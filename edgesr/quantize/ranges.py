"""Activation ranges for symmetric INT8: the clipping magnitude ``amax`` of each tensor.

Every method reads the |x| histogram collected by :mod:`edgesr.quantize.observe`:

- ``minmax``: the largest magnitude seen (no clipping);
- ``percentile``: the 99.999th percentile of |x| (clips rare outliers);
- ``entropy``: TensorRT's KL-divergence calibration (``EntropyCalibration2``) on 128 levels;
- ``mse``: the amax minimising the expected squared quantization error (clip + rounding).

The scale written into a Q/DQ pair is ``amax / 127``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgesr.errors import InputError
from edgesr.quantize.observe import TensorStats

QMAX = 127
METHODS = ("entropy", "minmax", "percentile", "mse")
PERCENTILE = 99.999


def check_method(method: str) -> str:
    if method not in METHODS:
        import difflib

        close = difflib.get_close_matches(method, METHODS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise InputError(f"unknown range method '{method}'; {hint}choose one of: {', '.join(METHODS)}")
    return method


def amax(stats: TensorStats, method: str, consumer: Callable[[np.ndarray], np.ndarray] | None = None) -> float:
    """The clipping magnitude of ``stats`` by ``method`` (never zero).

    ``consumer`` is the elementwise function every reader applies to the tensor (LeakyRelu,
    Sigmoid, GELU ...), when there is one: ``mse`` then minimises the error *after* it, so a
    pre-activation's negative tail that LeakyRelu squashes or GELU zeroes does not dictate the
    step size.
    """
    check_method(method)
    if stats.counts is None or stats.counts.sum() == 0 or stats.absmax == 0:
        return max(stats.absmax, 1e-8)
    if method == "minmax":
        value = stats.absmax
    elif method == "percentile":
        value = _percentile(stats, PERCENTILE)
    elif method == "entropy":
        value = _entropy(stats)
    else:
        value = _mse(stats, consumer)
    return float(min(max(value, stats.absmax * 1e-4, 1e-8), stats.absmax))


def _percentile(stats: TensorStats, pct: float) -> float:
    cdf = np.cumsum(stats.counts) / stats.counts.sum()
    i = int(np.searchsorted(cdf, pct / 100.0))
    return (min(i, stats.bins - 1) + 1) * stats.hist_range / stats.bins


def consumer_function(op_type: str, attrs: dict) -> Callable[[np.ndarray], np.ndarray] | None:
    """The elementwise function of a consumer op, for consumer-aware ranges (None: not elementwise)."""
    if op_type == "LeakyRelu":
        alpha = float(attrs.get("alpha", 0.01))
        return lambda v: np.where(v >= 0, v, alpha * v)
    if op_type == "Relu":
        return lambda v: np.maximum(v, 0)
    if op_type == "Sigmoid":
        return lambda v: 1.0 / (1.0 + np.exp(-np.clip(v, -60, 60)))
    if op_type == "Gelu" and attrs.get("approximate", b"none") in (b"none", "none"):
        return gelu
    return None


def gelu(v: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU. Below about -4 it is 0 to 1e-4, so a range may clip the negative tail
    that a convolution followed by GELU produces for free (docs/decisions.md, GELU ranges may clip
    the negative tail)."""
    return 0.5 * v * (1.0 + _erf(v / np.sqrt(2.0)))


def _erf(v: np.ndarray) -> np.ndarray:
    # Abramowitz and Stegun 7.1.26, |error| < 1.5e-7: numpy has no erf and scipy is no dependency
    a = np.abs(v)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return np.sign(v) * (1.0 - poly * np.exp(-a * a))


def quant_mse(x: np.ndarray, weight: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Expected squared error of symmetric INT8 on values ``x`` (>= 0, with weights) per amax candidate."""
    s = candidates[:, None] / QMAX
    q = np.minimum(np.round(x[None, :] / s), QMAX) * s
    return ((q - x[None, :]) ** 2 * weight[None, :]).sum(axis=1)


def _mse(stats: TensorStats, consumer=None) -> float:
    c = stats.centers()
    top = (int(np.nonzero(stats.counts)[0][-1]) + 1) * stats.hist_range / stats.bins
    candidates = top * np.linspace(0.02, 1.0, 400)
    if consumer is None or stats.neg_counts is None:
        nz = stats.counts > 0
        err = quant_mse(c[nz], stats.counts[nz].astype(np.float64), candidates)
        return float(candidates[int(np.argmin(err))])
    neg = stats.neg_counts.astype(np.float64)
    pos = stats.counts.astype(np.float64) - neg
    x = np.concatenate([c[pos > 0], -c[neg > 0]])
    w = np.concatenate([pos[pos > 0], neg[neg > 0]])
    s = candidates[:, None] / QMAX
    codes = np.clip(np.round(x[None, :] / s), -QMAX, QMAX).astype(np.int64) + QMAX
    # the reader on each candidate's 255 grid points, looked up per value: the same numbers as
    # applying it to every quantized value, for a fraction of the (erf) evaluations
    after = np.take_along_axis(consumer(np.arange(-QMAX, QMAX + 1)[None, :] * s), codes, axis=1)
    err = ((after - consumer(x[None, :])) ** 2 * w[None, :]).sum(axis=1)
    return float(candidates[int(np.argmin(err))])


def _entropy(stats: TensorStats, levels: int = 128) -> float:
    """TensorRT's entropy calibration: the threshold whose 128-level quantized histogram has the
    smallest KL divergence from the clipped reference histogram."""
    hist = stats.counts.astype(np.float64)
    nbins = stats.bins
    last = int(np.nonzero(hist)[0][-1]) + 1
    if last <= levels:
        return last * stats.hist_range / nbins
    best, best_i = np.inf, last
    for i in range(levels, last + 1, max(1, (last - levels) // 256)):
        p = hist[:i].copy()
        p[i - 1] += hist[i:].sum()
        nonzero = p > 0
        # merge i bins into `levels` groups, then spread each group's mass over its non-empty bins
        edges = np.linspace(0, i, levels + 1).astype(int)
        ref = hist[:i]
        filled = (ref > 0).astype(np.float64)
        sums = np.add.reduceat(ref, edges[:-1])
        nz = np.add.reduceat(filled, edges[:-1])
        q = np.repeat(sums / np.maximum(nz, 1), np.diff(edges)) * filled
        if q[nonzero].min(initial=1.0) <= 0:
            continue
        pn, qn = p / p.sum(), q / q.sum()
        kl = float(np.sum(pn[nonzero] * np.log(pn[nonzero] / qn[nonzero])))
        if kl < best:
            best, best_i = kl, i
    return (best_i + 0.5) * stats.hist_range / nbins
