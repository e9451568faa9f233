"""Upscaling for the app: activated runners shared by every session, one image tile by tile
(so progress shows and cancel takes effect between tiles), and short videos through the
runtime's pipeline.

ONNX Runtime sessions are safe to call from several threads, so two users of one model share
one activated runner; at most ``MAX_RUNNERS`` are kept, the least recently used closed first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.app.workers import Job
from edgesr.runtime.runners import Runner, open_runner
from edgesr.runtime.tiling import DEFAULT_OVERLAP, Tiler

MAX_RUNNERS = 4


class RunnerPool:
    def __init__(self, size: int = MAX_RUNNERS):
        self.size = size
        self._lock = threading.Lock()
        self._runners: OrderedDict[tuple[Path, int], Runner] = OrderedDict()

    def get(self, path: Path) -> Runner:
        k = (path.resolve(), path.stat().st_mtime_ns)
        with self._lock:
            runner = self._runners.get(k)
            if runner is None:
                runner = open_runner(path)
                runner.activate()
                self._runners[k] = runner
                while len(self._runners) > self.size:
                    # a run still using an evicted runner keeps its session alive until it ends
                    self._runners.popitem(last=False)
            self._runners.move_to_end(k)
            return runner


@dataclass(frozen=True)
class Upscaled:
    lr: np.ndarray  # what the model saw (after the simulated degradation, if any)
    sr: np.ndarray
    bicubic: np.ndarray
    model_ms: float  # time in the model's infer calls
    total_ms: float  # tiling, inference, stitching and the bicubic baseline
    tiles: int
    backend: str
    precision: str


def upscale_picture(job: Job, runner: Runner, lr: np.ndarray, tile: tuple[int, int] | None) -> Upscaled:
    """``lr`` through ``runner``, one tile per call, reporting progress to ``job``."""
    from edgesr.quality.upscalers import Bicubic

    start = time.perf_counter()
    spec = runner.spec
    tiler = Tiler(spec, tile, DEFAULT_OVERLAP)
    batch, plan = tiler.split(lr)
    outputs, model_s = [], 0.0
    t = time.perf_counter()
    condition = runner.picture_condition(lr)  # one degradation estimate for the whole picture, every tile
    model_s += time.perf_counter() - t
    for i in range(plan.count):
        job.report(i / (plan.count + 1), f"tile {i + 1} of {plan.count}" if plan.count > 1 else "running the model")
        t = time.perf_counter()
        outputs.append(
            runner.infer(batch[i : i + 1]) if condition is None else runner.infer(batch[i : i + 1], condition)
        )
        model_s += time.perf_counter() - t
    job.report(plan.count / (plan.count + 1), "bicubic baseline")
    sr = tiler.stitch(np.concatenate(outputs), plan)
    bicubic = Bicubic(spec.scale)(lr)
    return Upscaled(
        lr, sr, bicubic, model_s * 1000, (time.perf_counter() - start) * 1000, plan.count, spec.backend, spec.precision
    )


@dataclass(frozen=True)
class UpscaledClip:
    path: Path
    frames: int
    fps: float
    first: Upscaled  # the first frame, for the before/after view


def upscale_clip(
    job: Job,
    runner: Runner,
    source_path: Path,
    target: Path,
    frames: int | None,
    tile: tuple[int, int] | None,
    first: Upscaled,
) -> UpscaledClip:
    """Every frame of a video through the runtime's pipeline into ``target``; cancel stops it."""
    from edgesr.io import sinks, sources
    from edgesr.lazy import available
    from edgesr.runtime.streaming import Pipeline, PipelineOptions

    source = sources.VideoFileSource(source_path)
    with source:
        # H.264 plays in browsers; OpenCV's MPEG-4 part 2 only downloads
        codec = "h264" if available("av") else "mp4v"
        with sinks.open_sink(target, sinks.SinkOptions(fps=source.fps, codec=codec)) as sink:

            def progress(done: int) -> None:
                if job.cancel_requested:
                    pipeline.stop("cancelled")
                job.fraction = done / frames if frames else 0.0
                job.message = f"frame {done}" + (f" of {frames}" if frames else "")

            pipeline = Pipeline(source, runner, sink, PipelineOptions(tile=tile), on_progress=progress)
            result = pipeline()
    job.check()
    return UpscaledClip(target, result.stats["frames_written"], source.fps or 25.0, first)
