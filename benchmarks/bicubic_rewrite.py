"""Speed of the bicubic-Resize rewrite on ONNX Runtime CPU, measured side by side in one run.

    python benchmarks/bicubic_rewrite.py [--onnx MODEL.onnx] [--input 1x3x180x320] [--runs 10]

Converts the model twice (with and without the rewrite), then times both sessions on the same
real frame, alternating runs so machine noise hits both alike, and prints the ratio. Without
--onnx it exports edgesr's aidn-tiny architecture (freshly initialised: only timing is measured,
and timing does not depend on weight values), which adds a bicubic copy of its input.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from edgesr.io import images
from edgesr.onnx.convert import convert
from edgesr.onnx.loading import parse_shape


def session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--onnx", type=Path, help="model with an in-graph bicubic Resize (default: aidn-tiny)")
    ap.add_argument("--input", default="1x3x180x320", help="NxCxHxW (default 1x3x180x320)")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    shape = parse_shape(args.input)
    work = Path(tempfile.mkdtemp(prefix="edgesr-bench-"))
    src = args.onnx
    if src is None:
        from edgesr.export import export_onnx
        from edgesr.models import create

        src = export_onnx(create("aidn-tiny", scale=4), work / "aidn-tiny.onnx")
    plain = convert(src, work / "plain", rewrite=False, input_shape=shape).onnx_path
    fast = convert(src, work / "rewritten", input_shape=shape).onnx_path
    rgb = images.fit(images.read_rgb(images.sample_images()[0]), shape[2], shape[3])
    x = np.repeat(images.to_nchw(rgb), shape[0], axis=0)
    sessions = {"cubic Resize": session(plain, args.threads), "rewritten": session(fast, args.threads)}
    name = sessions["rewritten"].get_inputs()[0].name
    outputs = {k: s.run(None, {name: x})[0] for k, s in sessions.items()}  # warm-up
    times: dict[str, list[float]] = {k: [] for k in sessions}
    for _ in range(args.runs):
        for k, s in sessions.items():
            t0 = time.perf_counter()
            s.run(None, {name: x})
            times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    err = float(np.abs(outputs["cubic Resize"] - outputs["rewritten"]).max())
    print(f"model {src.name}, input {args.input}, {args.threads} threads, {args.runs} alternating runs")
    for k, v in med.items():
        print(f"  {k:13s} median {v:8.1f} ms  (min {min(times[k]) * 1000:.1f}, max {max(times[k]) * 1000:.1f})")
    print(f"  speed-up {med['cubic Resize'] / med['rewritten']:.2f}x, outputs differ by at most {err:.2e}")


if __name__ == "__main__":
    main()
