"""What the default path costs around the model, each change measured side by side in one run.

    python benchmarks/default_int8.py [--frames 60] [--repeats 3] [--upscale-frames 150]

The model is the one ``edgesr upscale`` runs when given none (the default's INT8 ONNX Runtime
artifact). A clip of real photographs panning at 320x180 is upscaled x4 to 1280x720. Measured,
interleaved so that load from other processes hits every variant alike, best run of each:

- model alone, with the uint8 output (final DequantizeLinear as a lookup table) and with the
  float output the file declares;
- the pipeline (read -> pre -> infer -> post -> write, model loaded) into mp4v, with each output
  form, with one ONNX Runtime thread, with OpenCV's writer instead of PyAV's (the fallback without
  PyAV), and into ``null://`` (no encoding);
- ``edgesr upscale CLIP -o OUT.mp4`` with no model, wall-clock from process start, and the same
  with ``--precision fp32``.

Printed: frames per second, CPU ms per frame, each pipeline's ratio to the model alone, the
stage means, the largest pixel difference between the two output forms, and the load average.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from runtime_throughput import LR, decode, make_clip, model_alone  # noqa: E402

from edgesr.artifacts import resolve  # noqa: E402
from edgesr.io import sinks  # noqa: E402
from edgesr.io.sinks import SinkOptions, open_sink  # noqa: E402
from edgesr.io.sources import VideoFileSource  # noqa: E402
from edgesr.runtime import onnxruntime_runner  # noqa: E402
from edgesr.runtime.runners import RunnerOptions, open_runner  # noqa: E402
from edgesr.runtime.streaming import Pipeline  # noqa: E402
from edgesr.runtime.tiling import Tiler  # noqa: E402


def float_output_runner(path: Path, options: RunnerOptions):
    """The same file run with the float output it declares (the uint8 cut switched off)."""
    cut = onnxruntime_runner._uint8_output
    onnxruntime_runner._uint8_output = lambda model, value_range: None
    try:
        runner = open_runner(path, options)
        runner.activate()
    finally:
        onnxruntime_runner._uint8_output = cut
    return runner


def run_pipeline(runner, clip: Path, sink_uri: str) -> tuple[float, float, dict]:
    """Frames per second, CPU ms per frame, statistics."""
    with VideoFileSource(clip) as source, open_sink(sink_uri, SinkOptions(fps=25.0)) as sink:
        start, cpu = time.perf_counter(), time.process_time()
        result = Pipeline(source, runner, sink)()
        n = result.stats["frames_written"]
        return n / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / n, result.stats


def opencv_writer_pipeline(runner, clip: Path, sink_uri: str) -> tuple[float, float, dict]:
    """The same pipeline with mp4v written by OpenCV's own writer (as where PyAV is not installed)."""
    found = sinks.available
    sinks.available = lambda name: name != "av" and found(name)
    try:
        return run_pipeline(runner, clip, sink_uri)
    finally:
        sinks.available = found


def upscale_wall(clip: Path, out: Path, extra: list[str]) -> float:
    """Frames per second of the whole ``edgesr upscale`` command, start-up included."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "edgesr", "-q", "upscale", str(clip), "-o", str(out), "--no-progress", *extra],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return len(decode(clip)) / (time.perf_counter() - start)


def pixel_difference(fast, slow, frames: list[np.ndarray]) -> int:
    worst = 0
    for f in frames[:5]:
        a, b = (Tiler(r.spec) for r in (fast, slow))
        ba, pa = a.split(f)
        bb, pb = b.split(f)
        diff = a.stitch(fast.infer(ba), pa).astype(int) - b.stitch(slow.infer(bb), pb).astype(int)
        worst = max(worst, int(np.abs(diff).max()))
    return worst


@dataclass
class Best:
    """Per variant: the best frames per second (with its stage means) and the lowest CPU per frame."""

    fps: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    stages: dict[str, dict] = field(default_factory=dict)

    def keep(self, name: str, fps: float, cpu_ms: float | None = None, stats: dict | None = None) -> None:
        if cpu_ms is not None:
            self.cpu[name] = min(self.cpu.get(name, float("inf")), cpu_ms)
        if fps > self.fps.get(name, 0.0):
            self.fps[name] = fps
            if stats is not None:
                self.stages[name] = {k: v["mean_ms"] for k, v in stats["stages"].items()}


def one_round(best: Best, runners: dict, frames: list[np.ndarray], clip: Path, long_clip: Path, work: Path) -> None:
    """Every variant once, in the same order each round."""
    out = str(work / "out.mp4")
    for form in ("uint8 out", "float out"):
        best.keep(f"model alone, {form}", *model_alone(runners[form], frames))
        best.keep(f"pipeline, {form} -> mp4v", *run_pipeline(runners[form], clip, out))
    best.keep("pipeline, 1 thread -> mp4v", *run_pipeline(runners["1 thread"], clip, out))
    best.keep("pipeline, uint8 out -> mp4v (OpenCV)", *opencv_writer_pipeline(runners["uint8 out"], clip, out))
    best.keep("model alone, 1 thread", *model_alone(runners["1 thread"], frames))
    best.keep("pipeline, uint8 out -> null", *run_pipeline(runners["uint8 out"], clip, "null://"))
    for label, extra in (
        ("edgesr upscale (default)", []),
        ("edgesr upscale --precision fp32", ["--precision", "fp32"]),
    ):
        best.keep(label, upscale_wall(long_clip, work / "upscale.mp4", extra))


def report(best: Best, worst: int) -> None:
    for name, fps in best.fps.items():
        used = f", CPU {best.cpu[name]:6.1f} ms/frame" if name in best.cpu else ", wall-clock incl. start-up"
        print(f"  {name:34s} {fps:7.2f} fps ({1000 / fps:6.1f} ms/frame{used})")
    for name in best.stages:
        model = (
            "model alone, 1 thread"
            if "1 thread" in name
            else f"model alone, {'float out' if 'float' in name else 'uint8 out'}"
        )
        print(
            f"  {name} / {model}: {best.fps[name] / best.fps[model]:.3f}  (goal >= 0.9); stage means ms: "
            + ", ".join(f"{k} {v:.1f}" for k, v in best.stages[name].items())
        )
    fps = best.fps
    print(
        f"  uint8 / float output: model {fps['model alone, uint8 out'] / fps['model alone, float out']:.3f}x, "
        f"pipeline {fps['pipeline, uint8 out -> mp4v'] / fps['pipeline, float out -> mp4v']:.3f}x; "
        f"max abs pixel difference {worst}"
    )
    print(
        f"  edgesr upscale default / --precision fp32: "
        f"{fps['edgesr upscale (default)'] / fps['edgesr upscale --precision fp32']:.2f}x; "
        f"default {fps['edgesr upscale (default)']:.1f} fps (goal >= 25)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--upscale-frames", type=int, default=150, help="clip length for the edgesr upscale runs")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="edgesr-default-bench-"))
    clip = make_clip(work / "clip.mp4", args.frames, LR)
    long_clip = make_clip(work / "long.mp4", args.upscale_frames, LR)
    frames = decode(clip)
    artifact = resolve(None)
    runners = {
        "uint8 out": open_runner(artifact.path, RunnerOptions()),
        "1 thread": open_runner(artifact.path, RunnerOptions(threads=1)),
    }
    for r in runners.values():
        r.activate()
    runners["float out"] = float_output_runner(artifact.path, RunnerOptions())
    loads = [os.getloadavg()[0]]
    best = Best()
    for _ in range(args.repeats):
        one_round(best, runners, frames, clip, long_clip, work)
        loads.append(os.getloadavg()[0])
    worst = pixel_difference(runners["uint8 out"], runners["float out"], frames)
    for r in runners.values():
        r.deactivate()
    print(
        f"{artifact.what}: {artifact.path.name}, x4 {LR[0]}x{LR[1]} -> {LR[0] * 4}x{LR[1] * 4}, {len(frames)} frames "
        f"(upscale runs: {args.upscale_frames}), {os.cpu_count()} CPUs, best of {args.repeats}, load average "
        f"(1 min) {min(loads):.1f}-{max(loads):.1f}"
    )
    report(best, worst)


if __name__ == "__main__":
    main()
