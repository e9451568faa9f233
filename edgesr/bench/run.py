"""Time artifacts one after another, each alone, so the telemetry taken while one runs (GPU load,
power) belongs to it; compare medians measured on one machine in one run.

Each artifact is opened with the runner its suffix selects (ONNX Runtime for ``.onnx``; any
registered backend), fed a fixed random frame of the requested size in the model's own dtype
and range, run ``warmup`` times untimed, then ``repeat`` times timed. What is timed is one
``runner.infer`` call: the model, without decoding, tiling or encoding.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np

from edgesr import __version__
from edgesr.errors import InputError
from edgesr.jetson.facts import HostFacts, gather
from edgesr.jetson.telemetry import Telemetry
from edgesr.log import logger, stage
from edgesr.runtime.runners import Runner, RunnerOptions, open_runner
from edgesr.timing import Spread, repeated

DEFAULT_SHAPE = (180, 320)  # LR height x width: a 1280x720 frame at x4
TELEMETRY_INTERVAL_MS = 100  # tegrastats' period during a bench: several samples even in a short run


@dataclass
class BenchOptions:
    """``shape`` is the LR input height x width (default: the model's fixed size, else 180x320)."""

    shape: tuple[int, int] | None = None
    warmup: int = 5
    repeat: int = 50
    runner: RunnerOptions = field(default_factory=RunnerOptions)
    telemetry_interval_ms: int = TELEMETRY_INTERVAL_MS

    def __post_init__(self) -> None:
        if self.warmup < 0:
            raise InputError(f"--warmup must be 0 or more, not {self.warmup}")
        if self.repeat < 1:
            raise InputError(f"--repeat must be at least 1, not {self.repeat}")
        if self.shape is not None and min(self.shape) < 1:
            raise InputError(f"--shape {self.shape[0]}x{self.shape[1]} is empty; pass HEIGHTxWIDTH such as 180x320")


@dataclass
class ArtifactResult:
    artifact: str
    backend: str
    precision: str
    scale: int
    input: tuple[int, int, int, int]
    output: tuple[int, ...]
    latency: Spread
    samples_ms: list[float]
    telemetry: dict
    notes: tuple[str, ...] = ()

    @property
    def fps(self) -> float:
        """Frames per second at the median: a batch of N counts N frames."""
        return self.input[0] * 1000.0 / self.latency.median if self.latency.median > 0 else 0.0

    def to_dict(self) -> dict:
        return {
            "artifact": self.artifact,
            "backend": self.backend,
            "precision": self.precision,
            "scale": self.scale,
            "input": list(self.input),
            "output": list(self.output),
            "latency_ms": self.latency.to_dict(),
            "fps": round(self.fps, 2),
            "samples_ms": [round(s, 4) for s in self.samples_ms],
            "telemetry": self.telemetry,
            "notes": list(self.notes),
        }


@dataclass
class BenchReport:
    created: str
    host: HostFacts
    options: BenchOptions
    results: list[ArtifactResult]
    telemetry: dict

    def to_dict(self) -> dict:
        o = self.options
        return {
            "edgesr_version": __version__,
            "created": self.created,
            "host": self.host.to_dict(),
            "settings": {
                "shape": list(o.shape) if o.shape else None,
                "warmup": o.warmup,
                "repeat": o.repeat,
                "providers": list(o.runner.providers) if o.runner.providers else None,
                "threads": o.runner.threads,
                "telemetry_interval_ms": o.telemetry_interval_ms,
            },
            "results": [r.to_dict() for r in self.results],
            "telemetry": self.telemetry,
        }


class Bench:
    """``Bench(artifacts, options)()`` times every artifact and returns a :class:`BenchReport`."""

    def __init__(self, artifacts: list[str | os.PathLike], options: BenchOptions | None = None):
        if not artifacts:
            raise InputError("pass at least one artifact to benchmark (an .onnx file or an engine)")
        self.artifacts = [Path(a) for a in artifacts]
        self.options = options if options is not None else BenchOptions()

    def __call__(self) -> BenchReport:
        runners = [open_runner(p, self.options.runner) for p in self.artifacts]
        host = gather()
        logger.info("bench on %s", host.headline())
        with contextlib.ExitStack() as stack:
            # Every model is loaded and its input checked before the first timing, so a bad artifact or
            # --shape fails in seconds, not after the others have run.
            inputs = [self._input(stack.enter_context(runner)) for runner in runners]
            with Telemetry(self.options.telemetry_interval_ms) as telemetry:
                # tegrastats' first line comes one interval after it starts; the first artifact's
                # window would otherwise miss it.
                telemetry.wait_for_sample(max(1.0, 3 * self.options.telemetry_interval_ms / 1000))
                results = [self._one(runner, batch, telemetry) for runner, batch in zip(runners, inputs)]
                whole = telemetry.summary()
        return BenchReport(datetime.now(timezone.utc).isoformat(timespec="seconds"), host, self.options, results, whole)

    def _one(self, runner: Runner, batch: np.ndarray, telemetry: Telemetry) -> ArtifactResult:
        o = self.options
        spec = runner.spec
        with stage(f"bench {runner.path.name}") as info:
            for _ in range(o.warmup):
                runner.infer(batch)
            with telemetry.window() as window:
                seconds, out = repeated(partial(runner.infer, batch), o.repeat)
            samples = [s * 1000.0 for s in seconds]
            latency = Spread.of(samples)
            info["outcome"] = f"median {latency.median:.2f} ms (p10 {latency.p10:.2f}, p90 {latency.p90:.2f})"
            return ArtifactResult(
                str(runner.path),
                spec.backend,
                spec.precision,
                spec.scale,
                tuple(batch.shape),
                tuple(out.shape),
                latency,
                samples,
                telemetry.summary(window),
                spec.notes,
            )

    def _input(self, runner: Runner) -> np.ndarray:
        spec = runner.spec
        name = runner.path.name
        shape = self.options.shape
        if spec.input_hw is not None:
            if shape is not None and tuple(shape) != tuple(spec.input_hw):
                raise InputError(
                    f"{name} takes a fixed {spec.input_hw[0]}x{spec.input_hw[1]} input, not "
                    f"{shape[0]}x{shape[1]}; drop --shape or pass --shape "
                    f"{spec.input_hw[0]}x{spec.input_hw[1]}"
                )
            shape = spec.input_hw
        h, w = shape if shape is not None else DEFAULT_SHAPE
        m = spec.size_multiple
        if h % m or w % m:
            raise InputError(
                f"{name} needs input sides divisible by {m}; pass --shape {h - h % m or m}x{w - w % m or m}"
            )
        rng = np.random.default_rng(0)
        frame = rng.uniform(0.0, spec.value_range, size=(spec.batch or 1, 3, h, w))
        return frame.astype(spec.dtype)


def bench(artifacts: list[str | os.PathLike], **options) -> BenchReport:
    """Benchmark ``artifacts``; keywords are :class:`BenchOptions` fields."""
    return Bench(artifacts, BenchOptions(**options))()
