"""Tiny ONNX models and generated videos for the runtime tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import numpy_helper

from tests.runtime.media import make_video
from tests.tiny_models import save, sr_model


def vivid(model, gain: float = 5.0):
    """Scale every conv weight by ``gain``: the tiny models' residual is otherwise below one grey
    level, and tests comparing uint8 frames would compare near-constant images."""
    for init in model.graph.initializer:
        if init.name.startswith("w_"):
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) * np.float32(gain), init.name))
    return model


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, Path]:
    """x4 models sharing one set of weights (dynamic, fixed 64x64, without metadata), one with a
    bicubic skip, one x2."""
    root = tmp_path_factory.mktemp("models")
    dynamic = ("n", 3, "h", "w")
    bare = vivid(sr_model(scale=4, dims=dynamic))
    del bare.metadata_props[:]
    return {
        "dynamic": save(vivid(sr_model(scale=4, dims=dynamic)), root / "dynamic.onnx"),
        "static": save(vivid(sr_model(scale=4, dims=(1, 3, 64, 64))), root / "static.onnx"),
        "bicubic": save(vivid(sr_model(scale=4, bicubic_skip=True, dims=dynamic)), root / "bicubic.onnx"),
        "x2": save(vivid(sr_model(scale=2, dims=dynamic)), root / "x2.onnx"),
        "bare": save(bare, root / "bare.onnx"),
    }


@pytest.fixture
def video(tmp_path) -> Path:
    return make_video(tmp_path / "clip.mp4")
