"""Numeric parity of a transformed graph against its original, on real images.

Both graphs run on ONNX Runtime through Polygraphy's ``OnnxrtRunner``; its ``Comparator``
decides pass/fail at the tolerance, and edgesr adds the numbers an SR user reads: max abs
error and output PSNR on the model's value range.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesr.errors import ParityError
from edgesr.io import images
from edgesr.lazy import require
from edgesr.onnx import sessions
from edgesr.onnx.loading import ImageInput

# Sizes used for models whose H and W are dynamic: one even, one odd, so size handling is tested.
DYNAMIC_SIZES = ((120, 160), (99, 131))
# Parity runs whole inputs: a declared input over this many pixels is proven at BOUNDED_HW instead,
# so a model declaring 100000x100000 costs seconds and megabytes, not the machine.
MAX_PIXELS = 1024 * 1024
BOUNDED_HW = (256, 256)


@dataclass
class ParityResult:
    images: int
    shapes: list[str]
    max_abs_error: float
    mean_abs_error: float
    psnr_db: float | None  # None when the outputs are identical
    atol: float
    passed: bool
    image_names: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "images": self.images,
            "image_names": self.image_names,
            "input_shapes": self.shapes,
            "max_abs_error": self.max_abs_error,
            "mean_abs_error": self.mean_abs_error,
            "output_psnr_db": self.psnr_db,
            "identical": self.psnr_db is None,
            "atol": self.atol,
            "passed": self.passed,
        }


def needs_bound(inp: ImageInput) -> bool:
    return not inp.dynamic_hw and int(inp.dims[2]) * int(inp.dims[3]) > MAX_PIXELS


def at_size(model, hw: tuple[int, int]):
    """A copy of ``model`` whose image input is fixed at ``hw`` (height, width), shapes left to inference."""
    onnx = require("onnx")
    from edgesr.onnx.loading import image_input

    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    name = image_input(copy).name
    graph_input = next(i for i in copy.graph.input if i.name == name)
    for d, value in zip(graph_input.type.tensor_type.shape.dim[2:], hw):
        d.ClearField("dim_param")
        d.dim_value = value
    for out in copy.graph.output:
        for d in out.type.tensor_type.shape.dim[2:]:
            d.ClearField("dim_value")
            d.dim_param = "bounded"
    del copy.graph.value_info[:]
    return copy, image_input(copy)


def feeds(
    inp: ImageInput, *, value_range: float, size_multiple: int = 1, sources: list[Path] | None = None
) -> tuple[list[dict[str, np.ndarray]], list[str]]:
    """One feed per real image, at the model's fixed shape or at ``DYNAMIC_SIZES`` in turn."""
    paths = sources if sources is not None else images.sample_images()
    batch = inp.dims[0] if isinstance(inp.dims[0], int) else 1
    dtype = np.float16 if inp.dtype == "float16" else np.float32
    out, names = [], []
    for k, path in enumerate(paths):
        if inp.dynamic_hw:
            h, w = DYNAMIC_SIZES[k % len(DYNAMIC_SIZES)]
            h, w = h - h % size_multiple, w - w % size_multiple
            h = h if isinstance(inp.dims[2], str) or inp.dims[2] is None else inp.dims[2]
            w = w if isinstance(inp.dims[3], str) or inp.dims[3] is None else inp.dims[3]
        else:
            h, w = inp.dims[2], inp.dims[3]
        rgb = images.fit(images.read_rgb(path), int(h), int(w))
        x = images.to_nchw(rgb, channels=inp.channels, value_range=value_range)
        out.append({inp.name: np.repeat(x, batch, axis=0).astype(dtype)})
        names.append(Path(path).name)
    return out, names


def compare(
    original,
    converted,
    data: list[dict[str, np.ndarray]],
    *,
    value_range: float,
    atol: float,
    image_names: list[str] | None = None,
) -> ParityResult:
    """Run both models on ``data`` and compare every output; raise ParityError when they differ."""
    from polygraphy.backend.onnxrt import OnnxrtRunner
    from polygraphy.comparator import Comparator, SimpleCompareFunc
    from polygraphy.logger import G_LOGGER

    G_LOGGER.module_severity = G_LOGGER.ERROR
    # One thread per CPU this process may use, within and between operators, as Polygraphy's own
    # session loader sets them (ONNX Runtime's default binds threads to CPUs that may be unavailable).
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    runners = [
        OnnxrtRunner(sessions.session(m, threads=cpus, inter_op_threads=cpus), name=name)
        for m, name in ((original, "original"), (converted, "converted"))
    ]
    results = Comparator.run(runners, data_loader=data)
    accuracy = Comparator.compare_accuracy(results, compare_func=SimpleCompareFunc(atol=atol, rtol=0.0))
    ref, got = results[0][1], results[1][1]
    max_err, abs_sum, sq_sum, count = 0.0, 0.0, 0.0, 0
    for ref_it, got_it in zip(ref, got):
        for name, a in ref_it.items():
            diff = np.abs(a.astype(np.float64) - got_it[name].astype(np.float64))
            max_err = max(max_err, float(diff.max()))
            abs_sum += float(diff.sum())
            sq_sum += float((diff * diff).sum())
            count += diff.size
    mse = sq_sum / max(count, 1)
    psnr = None if mse == 0 else 10.0 * math.log10(value_range**2 / mse)
    shapes = sorted({"x".join(map(str, next(iter(d.values())).shape)) for d in data})
    result = ParityResult(
        len(data), shapes, max_err, abs_sum / max(count, 1), psnr, atol, bool(accuracy), image_names or []
    )
    if not result.passed:
        raise ParityError(
            f"converted model differs from the original: max abs error {max_err:.3g} > tolerance {atol:.3g} "
            f"(output PSNR {psnr:.1f} dB); report the graph, or pass --no-rewrite / a larger --atol if intended"
        )
    return result
