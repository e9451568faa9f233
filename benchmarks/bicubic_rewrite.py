"""Speed of the bicubic-Resize rewrite on ONNX Runtime CPU, measured side by side in one run.

    python benchmarks/bicubic_rewrite.py [--onnx MODEL.onnx] [--input 1x3x180x320] [--runs 10]

Converts the model twice (with and without the rewrite), then times both sessions on the same
real frame, interleaving runs so machine noise hits both alike, and prints the ratio; the bicubic
upscale alone (one Resize node vs its rewrite) is timed in the same loop. Without
--onnx it exports edgesr's aidn-tiny architecture (freshly initialised: only timing is measured,
and timing does not depend on weight values), which adds a bicubic copy of its input.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from functools import partial
from pathlib import Path

import numpy as np

from edgesr.io import images
from edgesr.onnx.convert import convert
from edgesr.onnx.loading import parse_shape
from edgesr.onnx.rewrite_bicubic import rewrite_bicubic_resizes
from edgesr.onnx.sessions import session
from edgesr.timing import interleaved


def resize_only(shape: tuple[int, int, int, int], scale: int) -> tuple[bytes, bytes]:
    """A graph holding just the bicubic upscale of the input, and its rewrite."""
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, list(shape))
    y = helper.make_tensor_value_info("output", TensorProto.FLOAT, [shape[0], shape[1], None, None])
    scales = numpy_helper.from_array(np.array([1, 1, scale, scale], np.float32), "scales")
    node = helper.make_node(
        "Resize",
        ["input", "", "scales"],
        ["output"],
        mode="cubic",
        coordinate_transformation_mode="half_pixel",
        cubic_coeff_a=-0.75,
    )
    model = helper.make_model(
        helper.make_graph([node], "bicubic", [x], [y], [scales]),
        opset_imports=[helper.make_opsetid("", 17)],
        ir_version=9,
    )
    plain = model.SerializeToString()
    rewrite_bicubic_resizes(model)
    return plain, model.SerializeToString()


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
    sessions = {
        "cubic Resize": session(plain, threads=args.threads, quiet=True),
        "rewritten": session(fast, threads=args.threads, quiet=True),
    }
    name = sessions["rewritten"].get_inputs()[0].name
    scale = sessions["rewritten"].run(None, {name: x})[0].shape[2] // shape[2]
    alone = resize_only(shape, scale)
    sessions["Resize alone"] = session(alone[0], threads=args.threads, quiet=True)
    sessions["its rewrite"] = session(alone[1], threads=args.threads, quiet=True)
    feeds = {k: {s.get_inputs()[0].name: x} for k, s in sessions.items()}
    outputs = {k: s.run(None, feeds[k])[0] for k, s in sessions.items()}  # warm-up
    times = interleaved({k: partial(s.run, None, feeds[k]) for k, s in sessions.items()}, rounds=args.runs)
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    err = float(np.abs(outputs["cubic Resize"] - outputs["rewritten"]).max())
    print(f"model {src.name}, input {args.input}, {args.threads} threads, {args.runs} interleaved runs")
    for k, v in med.items():
        print(f"  {k:13s} median {v:8.1f} ms  (min {min(times[k]) * 1000:.1f}, max {max(times[k]) * 1000:.1f})")
    err_alone = float(np.abs(outputs["Resize alone"] - outputs["its rewrite"]).max())
    print(f"  whole model speed-up {med['cubic Resize'] / med['rewritten']:.2f}x, outputs differ by at most {err:.2e}")
    print(
        f"  bicubic upscale alone speed-up {med['Resize alone'] / med['its rewrite']:.2f}x, "
        f"outputs differ by at most {err_alone:.2e}"
    )


if __name__ == "__main__":
    main()
