"""Throughput of the threaded runtime pipeline, with its baselines measured in the same run.

    python benchmarks/runtime_throughput.py [--onnx MODEL.onnx [--arch A --weights CKPT]] [--qdq MODEL_QDQ.onnx]
                                            [--frames 40] [--repeats 2] [--rss-frames 2000]

A clip of real photographs panning at 320x180 is upscaled x4 to 1280x720, video file to video
file (mp4v). Measured, each as frames per second over the whole clip:

- pipeline: edgesr's read -> pre -> infer -> post -> write threads (model already loaded);
- model alone: the same runner's inference on the same, already decoded frames, one after another;
- PyTorch eager: the plain loop read -> torch module -> write, the same architecture and weights
  in the form that is deployed (architectures with training-only branches folded, the fastest
  eager form), with torch's default threads and with one thread (the faster of the two is the
  baseline: on a busy machine torch's default OpenMP threads can be far slower);
- with --qdq: model alone and pipeline again for a Q/DQ INT8 ONNX, against FP32; the ratios to
  the model alone and to PyTorch are then the Q/DQ artifact's, the one that is deployed
  (``--qdq auto`` makes one with edgesr's quantize stage, without an accuracy budget).

Each mode runs ``--repeats`` times, interleaved so that load from other processes hits them
alike, and the best run of each counts. Then, with --rss-frames, a long run on small frames
(80x45 -> 320x180) samples the resident memory after warm-up and at the end.

Without --onnx it converts edgesr's shipped default model; the eager baseline loads its weights.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from edgesr.io import images
from edgesr.io.sinks import SinkOptions, VideoFileSink, open_sink
from edgesr.io.sources import VideoFileSource, open_source
from edgesr.runtime.runners import RunnerOptions, open_runner
from edgesr.runtime.streaming import Pipeline
from edgesr.runtime.tiling import Tiler

LR = (320, 180)
REAL_TIME_FPS = 25.0
RSS_WARM_UP = 200


def make_clip(path: Path, frames: int, size: tuple[int, int]) -> Path:
    """Real photographs side by side, panned 3 pixels a frame."""
    w, h = size
    strip = np.concatenate([images.fit(images.read_rgb(p), h, h * 3 // 2) for p in images.sample_images()], axis=1)
    need = w + 3 * frames
    strip = np.concatenate([strip] * (need // strip.shape[1] + 1), axis=1)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
    for i in range(frames):
        writer.write(np.ascontiguousarray(strip[:, 3 * i : 3 * i + w, ::-1]))
    writer.release()
    return path


def decode(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def model_alone(runner, frames: list[np.ndarray]) -> tuple[float, float]:
    """Frames per second, and CPU milliseconds per frame (all threads of this process). A runner that
    estimates the degradation (a blind model, a router) does so per frame as the pipeline does: once
    per scene, the frame's thumbnail on every frame."""
    tiler = Tiler(runner.spec)
    batches = [tiler.split(f)[0] for f in frames]

    def run(frame: np.ndarray, batch: np.ndarray) -> None:
        if runner.scene is None:
            runner.infer(batch)
        else:
            runner.infer(batch, runner.estimate(frame))

    run(frames[0], batches[0])
    start, cpu = time.perf_counter(), time.process_time()
    for f, b in zip(frames, batches):
        run(f, b)
    return len(batches) / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / len(batches)


def pipeline(runner, clip: Path, out: Path) -> tuple[float, float, dict]:
    """Frames per second, CPU milliseconds per frame, and the pipeline's statistics."""
    source = VideoFileSource(clip)
    sink = VideoFileSink(out, SinkOptions(fps=25.0))
    with source, sink:
        start, cpu = time.perf_counter(), time.process_time()
        result = Pipeline(source, runner, sink)()
        n = result.stats["frames_written"]
        fps, cpu_ms = n / (time.perf_counter() - start), (time.process_time() - cpu) * 1000 / n
    return fps, cpu_ms, result.stats


def torch_eager(module, clip: Path, out: Path, threads: int | None) -> float:
    import torch

    default = torch.get_num_threads()
    torch.set_num_threads(threads or default)
    try:
        return _torch_loop(torch, module, clip, out)
    finally:
        torch.set_num_threads(default)


def _torch_loop(torch, module, clip: Path, out: Path) -> float:
    cap = cv2.VideoCapture(str(clip))
    writer = None
    n = 0
    start = time.perf_counter()
    with torch.inference_mode():
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div_(255.0)
            y = module(x)[0].clamp_(0, 1).mul_(255.0).round_().byte().permute(1, 2, 0).contiguous().numpy()
            if writer is None:
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (y.shape[1], y.shape[0]))
            writer.write(cv2.cvtColor(y, cv2.COLOR_RGB2BGR))
            n += 1
    writer.release()
    cap.release()
    return n / (time.perf_counter() - start)


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def rss_run(runner, frames: int, out: Path) -> dict:
    samples: dict[str, float] = {}

    def sample(written: int) -> None:
        if written >= RSS_WARM_UP and "warm" not in samples:
            samples["warm"] = rss_mib()
        samples["peak"] = max(samples.get("peak", 0.0), rss_mib())

    source = open_source(f"test://80x45?frames={frames}")
    sink = open_sink(str(out))
    with source, sink:
        result = Pipeline(source, runner, sink, on_progress=sample)()
    return {
        "frames": result.stats["frames_written"],
        "warm_mib": samples["warm"],
        "end_mib": rss_mib(),
        "peak_mib": samples["peak"],
        "fps": result.stats["fps"],
    }


def quantize_for_timing(onnx_path: Path, work: Path) -> Path | None:
    """A Q/DQ model from edgesr's quantize stage, or None (with the reason) when it cannot make one."""
    from edgesr.quantize import quantize

    try:
        return quantize(
            onnx_path,
            work / "qdq.onnx",
            max_drop=None,
            latency=False,
            rounding="nearest",
            bias_correction=False,
            count=8,
        ).path
    except Exception as exc:  # a benchmark reports any failure of the stage and goes on without it
        print(f"  Q/DQ: not measured, the quantize stage failed: {type(exc).__name__}: {exc}")
        return None


def shipped_default(work: Path):
    from edgesr import shipped
    from edgesr.models import load
    from edgesr.onnx.convert import convert

    model = shipped.find(None)
    return load(model.card["arch"], model.weights), convert(model.onnx, work / "converted").onnx_path


def _arch_of(path: Path) -> str:
    import onnx

    from edgesr import meta

    arch = meta.read(onnx.load(str(path))).arch
    if not arch:
        sys.exit(f"{path} has no edgesr metadata naming its architecture; give --arch")
    return arch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnx", type=Path, help="x4 model to run (default: the shipped default model, converted)")
    ap.add_argument(
        "--arch",
        help="architecture of the eager baseline when --onnx is given (default: the one its edgesr metadata names)",
    )
    ap.add_argument(
        "--weights",
        type=Path,
        help="checkpoint of the eager baseline (default: fresh weights; timing does not depend on their values)",
    )
    ap.add_argument("--qdq", help="a Q/DQ INT8 ONNX of the same model to compare with FP32, or 'auto' to make one")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, help="ONNX Runtime intra-op threads (default: its own)")
    ap.add_argument("--rss-frames", type=int, default=0, help="also run this many small frames and report RSS")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="edgesr-runtime-bench-"))
    onnx_path, module, clip, frames, runners = _setup(args, work)
    try:
        best, cpu, stats = _measure(runners, module, frames, clip, work, args.repeats)
        rss = rss_run(runners["fp32"], args.rss_frames, work / "rss.mp4") if args.rss_frames else None
    finally:
        for r in runners.values():
            r.deactivate()
    _report(onnx_path, runners["fp32"].spec, len(frames), args.repeats, best, cpu, stats, rss)


def _setup(args, work: Path):
    """The model (ONNX and its torch baseline), the clip and its frames, and activated runners."""
    from edgesr.models import create, deployed, load

    if args.onnx is None:
        module, onnx_path = shipped_default(work)
    else:
        arch = args.arch or _arch_of(args.onnx)
        module = load(arch, args.weights) if args.weights else create(arch, scale=4)
        onnx_path = args.onnx
    module = deployed(module).eval()
    clip = make_clip(work / "clip.mp4", args.frames, LR)
    frames = decode(clip)
    options = RunnerOptions(threads=args.threads)
    qdq = quantize_for_timing(onnx_path, work) if args.qdq == "auto" else Path(args.qdq) if args.qdq else None
    models = {"fp32": onnx_path} | ({"qdq": qdq} if qdq else {})
    runners = {name: open_runner(path, options) for name, path in models.items()}
    for r in runners.values():
        r.activate()
    return onnx_path, module, clip, frames, runners


def _measure(runners, module, frames, clip, work: Path, repeats: int):
    """Best fps and least CPU ms per frame of each model alone, in the pipeline and in torch eager."""
    best: dict[str, float] = {}
    cpu: dict[str, float] = {}  # the least CPU time per frame seen: the cost with the least interference
    stats: dict[str, dict] = {}
    for _ in range(repeats):
        for name, runner in runners.items():
            fps, cpu_ms = model_alone(runner, frames)
            best[f"{name} model"] = max(best.get(f"{name} model", 0.0), fps)
            cpu[f"{name} model"] = min(cpu.get(f"{name} model", float("inf")), cpu_ms)
            fps, cpu_ms, run_stats = pipeline(runner, clip, work / f"{name}.mp4")
            cpu[f"{name} pipeline"] = min(cpu.get(f"{name} pipeline", float("inf")), cpu_ms)
            if fps > best.get(f"{name} pipeline", 0.0):
                best[f"{name} pipeline"], stats[name] = fps, run_stats
        for label, threads in (("torch eager", None), ("torch eager 1t", 1)):
            best[label] = max(best.get(label, 0.0), torch_eager(module, clip, work / "torch.mp4", threads))
    return best, cpu, stats


def _report(onnx_path: Path, spec, frames: int, repeats: int, best: dict, cpu: dict, stats: dict, rss) -> None:
    load = os.getloadavg()
    print(
        f"model {onnx_path.name} ({spec.precision}, {spec.backend}), x{spec.scale} "
        f"{LR[0]}x{LR[1]} -> {LR[0] * spec.scale}x{LR[1] * spec.scale}, {frames} frames, mp4v in and out, "
        f"{os.cpu_count()} CPUs, load average {load[0]:.1f}, best of {repeats}"
    )
    for name, fps in best.items():
        used = f", CPU {cpu[name]:6.1f} ms/frame" if name in cpu else ""
        print(f"  {name:16s} {fps:7.2f} fps  ({1000 / fps:7.1f} ms/frame{used})")
    eager = max(best["torch eager"], best["torch eager 1t"])
    # the deployed artifact is the Q/DQ one when given; FP32 is then one of its baselines
    main_name = "qdq" if "qdq pipeline" in best else "fp32"
    p = best[f"{main_name} pipeline"]
    print(f"  {main_name} pipeline / {main_name} model alone  {p / best[f'{main_name} model']:.3f}  (goal >= 0.9)")
    print(f"  {main_name} pipeline / torch eager  {p / eager:.2f}x  (goal >= 3x; against the faster torch setting)")
    if main_name == "qdq":
        print(
            f"  Q/DQ / FP32: model {best['qdq model'] / best['fp32 model']:.2f}x, "
            f"pipeline {p / best['fp32 pipeline']:.2f}x"
        )
    extra = cpu[f"{main_name} pipeline"] - cpu[f"{main_name} model"]
    print(
        f"  CPU the pipeline adds to the model: {extra:.1f} ms/frame ({extra / cpu[f'{main_name} model']:.0%}; "
        "decode, pre/post-processing, encode, thread hand-offs)"
    )
    means = {k: v["mean_ms"] for k, v in stats[main_name]["stages"].items()}
    slowest = max(means, key=means.get)
    print(
        "  stage means ms: "
        + ", ".join(f"{k} {v:.1f}" for k, v in means.items())
        + f"; end-to-end p50 {stats[main_name]['end_to_end']['p50_ms']:.0f} ms"
    )
    print(
        f"  real time (>= {REAL_TIME_FPS:.0f} fps, {main_name}): {'yes' if p >= REAL_TIME_FPS else 'no'}; "
        f"limited by the {slowest} stage ({means[slowest]:.1f} ms/frame)"
    )
    if rss is not None:
        print(
            f"  RSS over {rss['frames']} frames (80x45 -> 320x180, {rss['fps']:.1f} fps): "
            f"{rss['warm_mib']:.1f} MiB after {RSS_WARM_UP} frames, {rss['end_mib']:.1f} MiB at the end "
            f"({rss['end_mib'] - rss['warm_mib']:+.1f} MiB), peak {rss['peak_mib']:.1f} MiB"
        )


if __name__ == "__main__":
    main()
