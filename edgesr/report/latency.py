"""Latency of several upscalers on one input, interleaved (:func:`edgesr.timing.interleaved`) so
that their ratio to the reference is trustworthy: the report compares variants, paired round by
round."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

import numpy as np

from edgesr.timing import Latency, interleaved


def measure(
    upscalers: Mapping[str, Callable[[np.ndarray], np.ndarray]], lr: np.ndarray, *, warmup: int = 2, repeats: int = 10
) -> dict[str, Latency]:
    """Time each ``upscaler(lr)`` call (uint8 in, uint8 out: what an application pays)."""
    calls = {name: partial(upscaler, lr) for name, upscaler in upscalers.items()}
    samples = interleaved(calls, rounds=repeats, warmup=warmup, progress="latency")
    return {name: Latency.from_samples(s) for name, s in samples.items()}
