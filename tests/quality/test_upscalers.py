"""ONNX, torch and bicubic upscalers: value range, channel order, metadata and bad models."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from edgesr.errors import InputError, ModelError
from edgesr.quality import evaluate
from edgesr.quality.upscalers import Bicubic, OnnxUpscaler, TorchUpscaler, load_upscaler
from tests.quality.tiny_upscalers import nearest_onnx

LR = np.random.default_rng(0).integers(0, 256, (6, 5, 3)).astype(np.uint8)
NEAREST_X2 = LR.repeat(2, axis=0).repeat(2, axis=1)


def test_onnx_without_metadata_assumes_unit_range(tmp_path, caplog):
    path = nearest_onnx(tmp_path / "plain.onnx", offset=0.2)
    with caplog.at_level(logging.INFO, logger="edgesr"):
        up = OnnxUpscaler(path)
    assert "assuming RGB in [0, 1]" in caplog.text
    assert up.scale is None
    # 0.2 in a [0, 1] model is 51 levels; values pushed past 255 are clipped.
    assert np.array_equal(up(LR), np.minimum(NEAREST_X2.astype(int) + 51, 255))


def test_onnx_value_range_255(tmp_path):
    meta = {"edgesr.scale": 2, "edgesr.value_range": 255.0}
    up = OnnxUpscaler(nearest_onnx(tmp_path / "m.onnx", offset=0.2, metadata=meta))
    assert up.scale == 2
    assert np.array_equal(up(LR), NEAREST_X2)  # 0.2 of 255 levels rounds away


@pytest.mark.parametrize(("order", "kept"), [("RGB", 0), ("BGR", 2)])
def test_onnx_channel_order(tmp_path, order, kept):
    meta = {"edgesr.scale": 2, "edgesr.channel_order": order}
    up = OnnxUpscaler(nearest_onnx(tmp_path / "m.onnx", gains=(1, 0, 0), metadata=meta))
    out = up(LR)
    assert np.array_equal(out[..., kept], NEAREST_X2[..., kept])
    assert not out[..., [c for c in range(3) if c != kept]].any()


def test_onnx_on_a_folder(tmp_path, photos):
    up = OnnxUpscaler(nearest_onnx(tmp_path / "m.onnx", metadata={"edgesr.scale": 2}))
    result = evaluate(up, photos, 2)
    assert len(result.images) == 3 and result.mean_psnr < evaluate(Bicubic(2), photos, 2).mean_psnr


def test_not_an_onnx_file(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="broken.onnx"):
        OnnxUpscaler(bad)
    with pytest.raises(InputError, match="does not exist"):
        OnnxUpscaler(tmp_path / "missing.onnx")


def test_load_upscaler_scale_rules(tmp_path):
    path = nearest_onnx(tmp_path / "x2.onnx", metadata={"edgesr.scale": 2})
    assert load_upscaler(str(path)).scale == 2
    with pytest.raises(InputError, match="x2 model but x4"):
        load_upscaler(str(path), 4)
    plain = nearest_onnx(tmp_path / "plain.onnx")
    with pytest.raises(InputError, match="--scale"):
        load_upscaler(str(plain))
    assert load_upscaler(str(plain), 2).scale == 2
    with pytest.raises(InputError, match="--scale"):
        load_upscaler("bicubic")
    assert isinstance(load_upscaler("bicubic", 3), Bicubic)


def test_torch_module(tmp_path):
    torch = pytest.importorskip("torch")

    class Nearest(torch.nn.Module):
        scale = 2
        value_range = 255.0

        def forward(self, x):
            return torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest") + 0.2

    up = TorchUpscaler(Nearest())
    assert up.scale == 2 and up.name == "Nearest"
    assert np.array_equal(up(LR), NEAREST_X2)
