"""The TensorRT <= 10 implicit-INT8 path: a Polygraphy ``Calibrator`` over edgesr's calibration data.

TensorRT 11 removed calibrators (docs/background.md, TensorRT and Jetson); there the Q/DQ model is the INT8
path. ``tensorrt`` and ``polygraphy.backend.trt`` are imported inside :func:`make_calibrator`
only, so this module imports on machines without TensorRT (Polygraphy defines the class that
subclasses ``trt.IInt8EntropyCalibrator2`` inside its own factory).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgesr.errors import DeviceError
from edgesr.lazy import require
from edgesr.quantize.calibration import CalibrationData
from edgesr.quantize.tensorrt.trtcache import cache_path, trt_version_int


class CalibrationLoader:
    """Polygraphy data loader: yields ``{input_name: 1xCxHxW float32}`` for each calibration input.

    ``input_metadata`` is set by Polygraphy (CreateConfig) and checked against the data's shape.
    """

    def __init__(self, data: CalibrationData, input_name: str):
        self.data = data
        self.input_name = input_name
        self.input_metadata = None

    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self):
        for x in self.data:
            yield {self.input_name: np.ascontiguousarray(x, dtype=np.float32)}


def make_calibrator(
    model_path: str | os.PathLike,
    data: CalibrationData,
    input_name: str,
    *,
    cache_root: str | os.PathLike = "calibration",
    algorithm: str = "entropy2",
):
    """A Polygraphy ``Calibrator`` for ``model_path`` whose cache lives in ``cache_root``, named by
    the model's hash and the installed TensorRT version. Needs TensorRT <= 10."""
    trt = require("tensorrt")
    major = int(trt.__version__.split(".")[0])
    if major >= 11:
        raise DeviceError(
            f"TensorRT {trt.__version__} has no INT8 calibrators (removed in 11); "
            "build from the Q/DQ model written by 'edgesr quantize' instead"
        )
    trt_backend = require("polygraphy.backend.trt")
    base = {"entropy2": trt.IInt8EntropyCalibrator2, "minmax": trt.IInt8MinMaxCalibrator}[algorithm]
    path = calibration_cache_path(model_path, trt.__version__, cache_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    return trt_backend.Calibrator(CalibrationLoader(data, input_name), cache=str(path), BaseClass=base)


def calibration_cache_path(model_path: str | os.PathLike, trt_version: str, cache_root: str | os.PathLike) -> Path:
    return cache_path(model_path, trt_version_int(trt_version), root=cache_root, stem=Path(model_path).stem)
