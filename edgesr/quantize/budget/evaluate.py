"""Measure what quantization cost: Y-PSNR drop under the standard protocol, and speed.

Accuracy: each candidate and the FP32 reference upscale the same LR images; both outputs are
clipped and rounded to uint8 and scored against the HR image (Y channel, ``scale`` px shaved),
so the drop is exactly what a benchmark table would show.

Speed: the reference and the candidates run in one process, interleaved round by round, and
the result is a ratio of medians; absolute times on a shared machine mean little.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from edgesr.onnx import sessions
from edgesr.quality.metrics import psnr_y
from edgesr.quality.upscalers import to_model_input, to_uint8
from edgesr.quantize.calibration import ValidationSet
from edgesr.timing import Latency, interleaved

LATENCY_SHAPE = (180, 320)


class Runner:
    """An in-memory ONNX model on ONNX Runtime CPU: ``runner(lr uint8) -> sr float array``."""

    def __init__(self, model, *, value_range: float, threads: int | None = None, spinning: bool = True):
        self.session = sessions.session(
            model, threads=threads, inter_op_threads=1 if threads else None, spinning=spinning, quiet=True
        )
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self.dtype = np.float16 if inp.type == "tensor(float16)" else np.float32
        self.value_range = value_range

    def raw(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: x.astype(self.dtype, copy=False)})[0]

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        y = self.raw(to_model_input(lr, self.value_range))
        return y[0].transpose(1, 2, 0).astype(np.float32)


@dataclass
class Outputs:
    """A model's SR outputs on a validation set (float, model units) and their PSNRs."""

    sr: list[np.ndarray]
    psnr: list[float]

    @property
    def mean_psnr(self) -> float:
        return float(np.mean(self.psnr))


def run_validation(runner: Runner, val: ValidationSet) -> Outputs:
    srs, ps = [], []
    for lr, hr in val.pairs:
        sr = runner(lr)
        srs.append(sr)
        ps.append(psnr_y(to_uint8(sr, runner.value_range), hr, val.scale))
    return Outputs(srs, ps)


@dataclass
class Drop:
    """Candidate vs reference on one validation set.

    ``measured`` is the plain difference of mean Y-PSNRs against the HR images. On a handful of
    images it can understate the damage by chance (noise that happens to move some pixels
    towards the HR image), so ``expected`` is also computed: the drop that the candidate's
    deviation from the reference output would cause if it were independent of the
    reference's own error, ``mean_i 10 log10(1 + noise_i / error_i)`` on Y.

    The same noise costs more dB where the reference error is small, so a validation set of
    textured photos understates the drop on cleaner content such as Set5 (docs/decisions.md,
    The budget also counts the expected drop on the cleaner half). ``clean`` is
    the expected drop over the cleaner half of the images (highest reference PSNR).

    The mean hides the images INT8 hurts most (screen content, hard saturated edges, smooth
    areas beside sharp ones: up to several times the mean on benchmark sets), so images the
    quantizer never saw can lose more than the validation mean. ``hard`` is the expected drop
    over the harder third of the images (the largest per-image drops, at least one image). The
    budget uses the largest of the four (``drop``); ``margin`` is what that adds to the
    expected mean.
    """

    reference_psnr: float
    candidate_psnr: float
    output_psnr: float  # candidate output vs reference output (float, model range), dB
    expected: float = 0.0
    clean: float = 0.0
    per_image: list[float] = field(default_factory=list)
    hard: float = 0.0

    @property
    def measured(self) -> float:
        """Positive dB lost on the validation images (negative when the candidate scores higher)."""
        return self.reference_psnr - self.candidate_psnr

    @property
    def drop(self) -> float:
        return max(self.measured, self.expected, self.clean, self.hard)

    @property
    def margin(self) -> float:
        return self.drop - self.expected

    def as_dict(self) -> dict:
        return {
            "reference_psnr": round(self.reference_psnr, 4),
            "candidate_psnr": round(self.candidate_psnr, 4),
            "drop_db": round(self.drop, 4),
            "measured_drop_db": round(self.measured, 4),
            "expected_drop_db": round(self.expected, 4),
            "clean_half_drop_db": round(self.clean, 4),
            "hard_third_drop_db": round(self.hard, 4),
            "margin_db": round(self.margin, 4),
            "output_psnr_vs_fp32_db": round(self.output_psnr, 2),
        }


def compare(reference: Outputs, candidate: Outputs, value_range: float, scale: int | None = None) -> Drop:
    mse = float(np.mean([np.mean((a - b) ** 2) for a, b in zip(reference.sr, candidate.sr)]))
    out_psnr = math.inf if mse == 0 else 10 * math.log10(value_range**2 / mse)
    expected = clean = hard = 0.0
    if scale:
        drops = []
        for a, b, p_ref in zip(reference.sr, candidate.sr, reference.psnr):
            noise_psnr = psnr_y(to_uint8(b, value_range), to_uint8(a, value_range), scale)
            if math.isfinite(noise_psnr) and math.isfinite(p_ref):
                drops.append(10 * math.log10(1 + 10 ** ((p_ref - noise_psnr) / 10)))
            else:
                drops.append(0.0)
        expected = float(np.mean(drops))
        cleaner = np.argsort(reference.psnr, kind="stable")[len(drops) // 2 :]
        clean = float(np.mean(np.asarray(drops)[cleaner]))
        hard = float(np.mean(sorted(drops)[-max(1, len(drops) // 3) :]))
    return Drop(
        reference.mean_psnr,
        candidate.mean_psnr,
        out_psnr,
        expected,
        clean,
        [r - c for r, c in zip(reference.psnr, candidate.psnr)],
        hard,
    )


def output_mse(reference: Outputs, candidate: Outputs) -> float:
    return float(np.mean([np.mean((a - b) ** 2) for a, b in zip(reference.sr, candidate.sr)]))


@dataclass
class Speed:
    """The quantize record's latency entry: each model's median milliseconds, interleaved in one process."""

    shape: tuple[int, int]
    threads: int
    rounds: int
    latency: dict[str, Latency]

    @property
    def median_ms(self) -> dict[str, float]:
        return {k: v.median_ms for k, v in self.latency.items()}

    def ratio(self, reference: str, candidate: str) -> float:
        """How many times faster ``candidate`` is than ``reference`` (ratio of medians)."""
        return self.latency[reference].median_ms / self.latency[candidate].median_ms

    def as_dict(self) -> dict:
        return {
            "shape": list(self.shape),
            "threads": self.threads,
            "rounds": self.rounds,
            "median_ms": {k: round(v, 2) for k, v in self.median_ms.items()},
        }


def latency(
    models: dict[str, object],
    *,
    shape: Sequence[int] = LATENCY_SHAPE,
    threads: int = 2,
    rounds: int = 10,
    warmup: int = 2,
    value_range: float = 1.0,
    channels: int = 3,
) -> Speed:
    """Median latency of each in-memory model, interleaved round by round in this process."""
    # Timed sessions do not spin: with several sessions interleaved, the idle threads of the one that
    # just ran spun on the cores the next one needed, slowing every run and the shorter INT8 run most
    # (docs/decisions.md, Timed sessions do not spin). The runtime's own sessions do the same.
    runners = {k: Runner(m, value_range=value_range, threads=threads, spinning=False) for k, m in models.items()}
    rng = np.random.default_rng(0)
    x = (rng.random((1, channels, *shape), dtype=np.float32) * value_range).astype(np.float32)
    samples = interleaved({k: partial(r.raw, x) for k, r in runners.items()}, rounds=rounds, warmup=warmup)
    return Speed(tuple(shape), threads, rounds, {k: Latency.from_samples(v) for k, v in samples.items()})
