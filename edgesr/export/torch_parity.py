"""Does the exported ONNX compute what the PyTorch module computes? Checked on real photos.

Random noise hides resize and border mistakes that natural images expose, so the inputs are
the photographs shipped with edgesr, centre-cropped to each size checked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from edgesr.errors import ModelError, ParityError
from edgesr.io.images import fit, read_rgb, sample_images, to_nchw
from edgesr.lazy import require
from edgesr.onnx import sessions

# Max abs error allowed, as a fraction of the value range (1e-4 of [0, 1] = 0.0255 of [0, 255]).
TOLERANCE = 1e-4

_ORT_RUN_ERRORS = ("Fail", "InvalidArgument", "RuntimeException", "NotImplemented")


class ExportParityError(ParityError, ModelError):
    """The exported graph does not compute what the module computes, or refuses a size."""


@dataclass
class Parity:
    height: int
    width: int
    image: str
    max_abs_err: float
    limit: float

    @property
    def ok(self) -> bool:
        return self.max_abs_err <= self.limit

    def __str__(self) -> str:
        return f"{self.height}x{self.width} ({self.image}): max abs err {self.max_abs_err:.2e}"


def sample_input(height: int, width: int, value_range: float, index: int = 0) -> tuple[np.ndarray, str]:
    """A 1x3xHxW float32 crop of shipped photo number ``index`` and the photo's name."""
    paths = sample_images()
    path = paths[index % len(paths)]
    return to_nchw(fit(read_rgb(path), height, width), value_range=value_range), path.name


def check_parity(module, onnx_path: str | os.PathLike, sizes: list[tuple[int, int]]) -> list[Parity]:
    """Run ``module`` (torch, eval mode) and the ONNX file on ONNX Runtime CPU at each size.

    Raises :class:`ExportParityError` when the graph refuses a size or differs by more than
    ``TOLERANCE * value_range``; returns the measurements otherwise.
    """
    torch = require("torch")
    ort = require("onnxruntime")
    session = sessions.session(onnx_path)
    input_name = session.get_inputs()[0].name
    failures = sessions.errors(ort, _ORT_RUN_ERRORS)
    limit = TOLERANCE * float(module.value_range)
    results = []
    for k, (h, w) in enumerate(sizes):
        x, image = sample_input(h, w, module.value_range, k)
        with torch.no_grad():
            want = module(torch.from_numpy(x)).numpy()
        try:
            got = session.run(None, {input_name: x})[0]
        except failures as exc:
            reason = str(exc).strip().splitlines()[0]
            raise ExportParityError(
                f"the exported {module.arch} graph fails on a {h}x{w} input ({reason}); "
                "an op froze the sample size, export with --static HxW"
            ) from None
        if got.shape != want.shape:
            raise ExportParityError(
                f"the exported {module.arch} graph returns {list(got.shape)} for a "
                f"{h}x{w} input; PyTorch returns {list(want.shape)}"
            )
        result = Parity(h, w, image, float(np.abs(got - want).max()), limit)
        if not result.ok:
            raise ExportParityError(
                f"the exported {module.arch} graph differs from PyTorch at {result} "
                f"> {limit:.2e} (1e-4 of the value range); the export is not usable"
            )
        results.append(result)
    return results
