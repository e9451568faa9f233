"""A family of tiny x2 models (reference, FP16, INT8, and a broken candidate) calibrated on ``photos``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from edgesr.io.images import read_rgb
from edgesr.onnx.rewrite_bicubic import rewrite_bicubic_resizes
from edgesr.quality import prepare
from tests.report.candidates import to_fp16, to_int8, with_metadata
from tests.tiny_models import save, sr_model

SCALE = 2


@pytest.fixture(scope="session")
def models(tmp_path_factory, photos) -> dict[str, Path]:
    """x2 ONNX files: fp32 (a bicubic skip plus a small residual, so it upscales sensibly), its
    fp16 and Q/DQ int8 copies, an exact copy, ``noise`` (no skip: far worse) and an x4 model."""
    folder = tmp_path_factory.mktemp("models")
    # Converted first, as the pipeline does before quantizing: the bicubic skip as conv + pixel shuffle.
    reference = sr_model(scale=SCALE, bicubic_skip=True)
    rewrite_bicubic_resizes(reference)
    paths = {
        "fp32": save(reference, folder / "tiny.onnx"),
        "fp16": save(to_fp16(reference), folder / "tiny_fp16.onnx"),
        "copy": save(reference, folder / "tiny_copy.onnx"),
        "noise": save(sr_model(scale=SCALE, seed=1), folder / "noise.onnx"),
        "x4": save(sr_model(scale=4), folder / "tiny_x4.onnx"),
    }
    calibration = [
        np.ascontiguousarray(prepare(read_rgb(p), SCALE)[0].transpose(2, 0, 1)[None] / np.float32(255))
        for p in sorted(photos.iterdir())
    ]
    raw = to_int8(paths["fp32"], folder / "raw_int8.onnx", calibration)
    paths["int8"] = with_metadata(
        onnx.load(str(raw)),
        folder / "tiny_int8.onnx",
        **{"edgesr.quant.calibration": "3 photos", "other.key": "hidden"},
    )
    return paths
