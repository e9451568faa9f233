"""The benchmark protocol: cropping, LR generation, scoring, bad folders, and the published anchors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from edgesr.errors import InputError, ModelError
from edgesr.quality import evaluate, imresize, prepare
from edgesr.quality.upscalers import Bicubic


def test_prepare_crops_to_a_multiple_of_the_scale():
    hr = np.random.default_rng(0).integers(0, 256, (103, 58, 3)).astype(np.uint8)
    lr, cropped = prepare(hr, 4)
    assert cropped.shape == (100, 56, 3) and lr.shape == (25, 14, 3)
    assert np.array_equal(cropped, hr[:100, :56])
    assert np.array_equal(lr, imresize(hr[:100, :56], 0.25))


def test_prepare_refuses_an_image_smaller_than_the_scale():
    with pytest.raises(InputError, match="smaller"):
        prepare(np.zeros((3, 10, 3), np.uint8), 4)


def test_evaluate_reports_every_image(photos):
    result = evaluate(Bicubic(2), photos, 2)
    assert [s.name for s in result.images] == sorted(p.stem for p in photos.iterdir())
    assert [(s.height, s.width) for s in result.images] == [(64, 48), (60, 60), (50, 70)]
    assert all(15 < s.psnr < 60 and 0 < s.ssim < 1 for s in result.images)
    assert result.mean_psnr == pytest.approx(np.mean([s.psnr for s in result.images]))
    assert result.shave == 2 and "mean (3)" in result.table()


def test_float_output_is_rounded_and_clipped(photos):
    def as_float(lr):
        return imresize(lr, 2).astype(np.float64) + 0.3  # rounds back to the bicubic result

    def overshoot(lr):
        return imresize(lr, 2).astype(np.float64) * 3 - 200  # pushed far outside [0, 255]

    base = evaluate(Bicubic(2), photos, 2)
    assert evaluate(as_float, photos, 2).images == base.images
    clipped = evaluate(lambda lr: np.clip(overshoot(lr), 0, 255).astype(np.uint8), photos, 2)
    assert evaluate(overshoot, photos, 2).images == clipped.images


def test_grayscale_hr_is_scored_as_rgb(tmp_path):
    gray = np.random.default_rng(0).integers(0, 256, (40, 40)).astype(np.uint8)
    Image.fromarray(gray, mode="L").save(tmp_path / "gray.png")
    result = evaluate(Bicubic(4), tmp_path, 4)
    assert result.images[0].name == "gray" and np.isfinite(result.images[0].psnr)


def test_empty_folder(tmp_path):
    with pytest.raises(InputError, match="no images"):
        evaluate(Bicubic(4), tmp_path, 4)


def test_too_small_image_is_named(tmp_path):
    Image.fromarray(np.zeros((16, 40, 3), np.uint8)).save(tmp_path / "tiny.png")
    with pytest.raises(InputError, match=r"tiny.png is 16x40 \(HxW\).*at least 20x20"):
        evaluate(Bicubic(4), tmp_path, 4)


def test_wrong_output_size_is_a_model_error(photos):
    with pytest.raises(ModelError, match="x3"):
        evaluate(Bicubic(2), photos, 3)


@pytest.mark.parametrize(("dataset", "psnr", "ssim"), [("set5", 28.43, 0.8111), ("set14", 26.09, 0.7048)])
def test_bicubic_x4_matches_the_measured_anchors(dataset, psnr, ssim, request):
    result = evaluate(Bicubic(4), request.getfixturevalue(dataset), 4)
    assert abs(result.mean_psnr - psnr) <= 0.01
    assert abs(result.mean_ssim - ssim) <= 0.0005


@pytest.mark.slow
@pytest.mark.parametrize(
    ("checkpoint", "set5_psnr", "set14_psnr"),
    [
        ("rfdn_aim2020_x4.pth", 32.16, 28.65),
        ("rlfn_ntire2024_x4.pth", 32.10, 28.60),
        ("safmn_ntire2023_x4.pth", 32.16, 28.63),
    ],
)
def test_shared_checkpoints_match_the_authors_numbers(checkpoint, set5_psnr, set14_psnr, weights, set5, set14):
    pytest.importorskip("torch")
    from edgesr.quality.upscalers import load_upscaler

    up = load_upscaler(str(weights / checkpoint), 4)
    assert abs(evaluate(up, set5, 4).mean_psnr - set5_psnr) <= 0.01
    assert abs(evaluate(up, set14, 4).mean_psnr - set14_psnr) <= 0.01
