"""Latency of several upscalers on one input, measured so that their ratio is trustworthy.

The variants run interleaved (round r runs every variant once, in an order rotated by r), so a
neighbour's job slowing the machine down for a while hits every variant alike; absolute
milliseconds on a shared host mean little, the ratio to the reference does. The ratio is the
median of per-round ratios: each compares two calls made moments apart.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from edgesr.lazy import require


@dataclass(frozen=True)
class Latency:
    """Milliseconds per call of one variant: every round's sample, their median, quartiles and best."""

    samples_ms: tuple[float, ...]  # one per round, in round order

    @classmethod
    def from_samples(cls, seconds: list[float]) -> Latency:
        return cls(tuple(float(s) * 1e3 for s in seconds))

    @property
    def repeats(self) -> int:
        return len(self.samples_ms)

    @property
    def median_ms(self) -> float:
        return float(np.median(self.samples_ms))

    @property
    def p25_ms(self) -> float:
        return float(np.percentile(self.samples_ms, 25))

    @property
    def p75_ms(self) -> float:
        return float(np.percentile(self.samples_ms, 75))

    @property
    def min_ms(self) -> float:
        return min(self.samples_ms)

    def ratio_to(self, reference: Latency) -> float:
        """Median over rounds of this call's time divided by the reference's in the same round."""
        return float(np.median(np.divide(self.samples_ms, reference.samples_ms)))


def measure(upscalers: Mapping[str, Callable[[np.ndarray], np.ndarray]], lr: np.ndarray, *,
            warmup: int = 2, repeats: int = 10) -> dict[str, Latency]:
    """Time each ``upscaler(lr)`` call (uint8 in, uint8 out: what an application pays)."""
    names = list(upscalers)
    for name in names:
        for _ in range(warmup):
            upscalers[name](lr)
    samples: dict[str, list[float]] = {name: [] for name in names}
    tqdm = require("tqdm").tqdm
    for r in tqdm(range(repeats), desc="latency", unit="round", leave=False, disable=None):
        for i in range(len(names)):
            name = names[(i + r) % len(names)]
            start = time.perf_counter()
            upscalers[name](lr)
            samples[name].append(time.perf_counter() - start)
    return {name: Latency.from_samples(s) for name, s in samples.items()}
