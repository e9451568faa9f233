"""Run a float model on calibration data and record what its tensors hold.

Intermediate tensors are exposed as extra graph outputs of an ONNX Runtime session; each is
summarised by its min/max and a histogram of absolute values (symmetric quantization only
needs magnitudes). The histogram grows by merging bins when a later batch exceeds its range,
so one pass over the data is enough.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from edgesr.lazy import require
from edgesr.onnx import sessions

HIST_BINS = 4096


@dataclass
class TensorStats:
    """Magnitude statistics of one tensor over the calibration data."""

    name: str
    bins: int = HIST_BINS
    lo: float = np.inf
    hi: float = -np.inf
    hist_range: float = 0.0  # upper edge of the |x| histogram
    counts: np.ndarray | None = None  # |x| histogram, all values
    neg_counts: np.ndarray | None = None  # |x| histogram of the negative values
    numel: int = 0  # elements per sample (for the speed cost model)
    channels: int = 0
    chmax: np.ndarray | None = None  # per-channel max |x| (axis 1), for equalisation

    @property
    def absmax(self) -> float:
        return float(max(abs(self.lo), abs(self.hi)))

    def add(self, x: np.ndarray) -> None:
        self.numel = int(x[0].size)
        self.channels = int(x.shape[1]) if x.ndim > 1 else 1
        if x.ndim == 4:
            cm = np.abs(x).max(axis=(0, 2, 3))
            self.chmax = cm if self.chmax is None or self.chmax.shape != cm.shape else np.maximum(self.chmax, cm)
        self.lo = min(self.lo, float(x.min()))
        self.hi = max(self.hi, float(x.max()))
        a = np.abs(x, dtype=np.float32).ravel()
        amax = float(a.max()) if a.size else 0.0
        if self.counts is None:
            self.hist_range = amax if amax > 0 else 1.0
            self.counts = np.zeros(self.bins, np.int64)
            self.neg_counts = np.zeros(self.bins, np.int64)
        elif amax > self.hist_range:
            factor = 2 ** int(np.ceil(np.log2(amax / self.hist_range)))
            self.counts = self._merge(self.counts, factor)
            self.neg_counts = self._merge(self.neg_counts, factor)
            self.hist_range *= factor
        idx = np.minimum((a * (self.bins / self.hist_range)).astype(np.int64), self.bins - 1)
        self.counts += np.bincount(idx, minlength=self.bins)
        neg = x.ravel() < 0
        if neg.any():
            self.neg_counts += np.bincount(idx[neg], minlength=self.bins)

    def _merge(self, counts: np.ndarray, factor: int) -> np.ndarray:
        merged = np.zeros(self.bins, np.int64)
        if factor >= self.bins:
            merged[0] = counts.sum()
        else:
            merged[: self.bins // factor] = counts.reshape(-1, factor).sum(axis=1)
        return merged

    def centers(self) -> np.ndarray:
        w = self.hist_range / self.bins
        return (np.arange(self.bins) + 0.5) * w


def with_outputs(model, tensors: Iterable[str]):
    """A copy of ``model`` whose graph also outputs ``tensors`` (their types need not be known)."""
    onnx = require("onnx")
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    for t in tensors:
        if t not in have:
            m.graph.output.append(onnx.helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
            have.add(t)
    return m


def run_collect(
    model,
    input_name: str,
    data: Iterable[np.ndarray],
    tensors: list[str],
    visit: Callable[[dict[str, np.ndarray]], None],
    *,
    threads: int | None = None,
    progress: str | None = None,
    total: int | None = None,
) -> None:
    """Run ``model`` on each array of ``data``, calling ``visit({tensor: value})`` for ``tensors``."""
    tqdm = require("tqdm").tqdm
    sess = sessions.session(
        with_outputs(model, tensors), threads=threads, inter_op_threads=1 if threads else None, quiet=True
    )
    for x in tqdm(data, desc=progress, total=total, unit="batch", leave=False, disable=progress is None or None):
        values = sess.run(tensors, {input_name: x})
        visit(dict(zip(tensors, values)))


def collect_stats(
    model,
    input_name: str,
    data: list[np.ndarray],
    tensors: list[str],
    *,
    threads: int | None = None,
    progress: str | None = "calibration statistics",
) -> dict[str, TensorStats]:
    """Magnitude histograms of ``tensors`` over ``data``."""
    stats = {t: TensorStats(t) for t in tensors}

    def visit(values: dict[str, np.ndarray]) -> None:
        for t, v in values.items():
            if v.dtype == np.float32 and v.size:
                stats[t].add(v)

    run_collect(model, input_name, data, tensors, visit, threads=threads, progress=progress, total=len(data))
    return {t: s for t, s in stats.items() if s.counts is not None}


def default_threads() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
