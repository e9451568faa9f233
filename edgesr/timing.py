"""Timing of repeated calls, and the statistics of the samples.

Two ways to time: :func:`repeated` runs one call again and again (``edgesr bench``: each
artifact alone, so the telemetry taken meanwhile belongs to it); :func:`interleaved` runs
several calls round by round, in an order rotated each round, so that a neighbour's job
slowing the machine down for a while hits every call alike and their ratio is trustworthy
(the quantize stage's FP32 / INT8 speed-up, the validation report). Absolute milliseconds on a
shared host mean little; a ratio measured this way does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from edgesr.lazy import require


def repeated(call: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    """Seconds taken by each of ``repeat`` calls of ``call``, and what the last call returned."""
    samples, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = call()
        samples.append(time.perf_counter() - start)
    return samples, result


def interleaved(
    calls: Mapping[str, Callable[[], object]], *, rounds: int, warmup: int = 0, progress: str | None = None
) -> dict[str, list[float]]:
    """Seconds taken by each call in each round, after ``warmup`` untimed calls of each.

    Round ``r`` runs every call once, starting at the ``r``-th: every call takes every position
    equally often and none runs twice in a row (a reversed order every other round gave the two
    end calls back-to-back runs, which timed faster than the same call in the middle).
    ``progress`` names a progress bar; None shows none.
    """
    names = list(calls)
    for name in names:
        for _ in range(warmup):
            calls[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    steps = range(rounds)
    if progress is not None:
        steps = require("tqdm").tqdm(steps, desc=progress, unit="round", leave=False, disable=None)
    for r in steps:
        for i in range(len(names)):
            name = names[(i + r) % len(names)]
            start = time.perf_counter()
            calls[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


@dataclass(frozen=True)
class Latency:
    """Milliseconds per call of one variant: every round's sample, their median, quartiles and best."""

    samples_ms: tuple[float, ...]  # one per round, in round order

    @classmethod
    def from_samples(cls, seconds: Sequence[float]) -> Latency:
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


@dataclass(frozen=True)
class Spread:
    """Median and spread of timed runs, in milliseconds.

    The median resists the odd slow run (a page fault, a neighbour's burst); p10-p90 and the
    interquartile range say how steady the runs were, which decides whether two medians differ.
    """

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
        return cls(
            float(median), float(p10), float(p90), float(q1), float(q3), float(x.mean()), float(x.min()), float(x.max())
        )

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def to_dict(self, digits: int = 3) -> dict[str, float]:
        data = {**asdict(self), "iqr": self.iqr}
        return {k: round(v, digits) for k, v in data.items()}
