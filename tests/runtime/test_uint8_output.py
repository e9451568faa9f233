"""A Q/DQ model whose output is one DequantizeLinear runs with uint8 output and a lookup table,
and gives exactly the float path's pixels."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr import shipped
from edgesr.io import images
from edgesr.runtime import onnxruntime_runner
from edgesr.runtime.runners import open_runner
from edgesr.runtime.tiling import Tiler

pytest.importorskip("cv2")
X86 = shipped.find(None).int8("x86")


def _pixels(tile=None) -> tuple[np.ndarray, object]:
    frame = images.fit(images.read_rgb(images.sample_images()[1]), 90, 160)
    with open_runner(X86) as runner:
        tiler = Tiler(runner.spec, tile)
        batch, plan = tiler.split(frame)
        return tiler.stitch(runner.infer(batch), plan), runner.spec


@pytest.mark.parametrize("tile", [None, (48, 64)])
def test_uint8_output_gives_the_float_paths_pixels(tile, monkeypatch):
    fast, spec = _pixels(tile)
    assert spec.output_table is not None and any("lookup table" in n for n in spec.as_dict()["notes"])
    monkeypatch.setattr(onnxruntime_runner, "_uint8_output", lambda model, value_range: None)
    slow, float_spec = _pixels(tile)
    assert float_spec.output_table is None
    assert np.array_equal(fast, slow)  # max abs pixel difference 0


def test_a_float_model_keeps_the_float_path():
    with open_runner(shipped.find(None).onnx) as runner:
        assert runner.spec.output_table is None


@pytest.mark.parametrize("lookup", [True, False], ids=["uint8 lookup", "float path"])
def test_bgr_output_is_the_rgb_pixels_reversed(lookup, monkeypatch):
    if not lookup:
        monkeypatch.setattr(onnxruntime_runner, "_uint8_output", lambda model, value_range: None)
    frame = images.fit(images.read_rgb(images.sample_images()[1]), 90, 160)
    with open_runner(X86) as runner:
        tiler = Tiler(runner.spec)
        batch, plan = tiler.split(frame)
        out = runner.infer(batch)
        rgb, bgr = tiler.stitch(out, plan), tiler.stitch(out, plan, bgr=True)
    assert np.array_equal(bgr, rgb[..., ::-1]) and bgr.flags.c_contiguous
