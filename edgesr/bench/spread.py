"""Median and spread of repeated timings.

The median resists the odd slow run (a page fault, a neighbour's burst); p10-p90 and the
interquartile range say how steady the runs were, which decides whether two medians differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Spread:
    """Milliseconds over the timed runs."""

    median: float
    p10: float
    p90: float
    q1: float
    q3: float
    mean: float
    min: float
    max: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Spread:
        x = np.asarray(samples_ms, dtype=np.float64)
        p10, q1, median, q3, p90 = np.percentile(x, (10, 25, 50, 75, 90))
        return cls(float(median), float(p10), float(p90), float(q1), float(q3), float(x.mean()), float(x.min()),
                   float(x.max()))

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def to_dict(self, digits: int = 3) -> dict[str, float]:
        data = {**asdict(self), "iqr": self.iqr}
        return {k: round(v, digits) for k, v in data.items()}
