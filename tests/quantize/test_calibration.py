"""Calibration data: real images only, runtime pre-processing, clear errors for bad folders."""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgesr.errors import InputError
from edgesr.io.images import to_nchw
from edgesr.quantize.calibration import (
    CalibrationSpec,
    default_manifest,
    load_calibration,
    load_validation,
    spec_from,
)

ROOT = Path(__file__).resolve().parents[2]


def _save(path, arr, mode=None):
    Image.fromarray(arr, mode).save(path)
    return path


def test_default_set_works_on_a_fresh_install_and_matches_its_manifest():
    spec = spec_from(None)
    data = load_calibration(spec, scale=4, value_range=255.0)
    assert len(data) == 64 and data.shape == (1, 3, 64, 64)
    assert all(a.dtype == np.float32 and 0 <= a.min() and a.max() <= 255.0 for a in data)
    assert {s.split(":")[1].split("@")[0] for s in data.sources} == {"native", "lr"}
    shipped = json.loads((ROOT / "calibration" / "default.json").read_text())
    assert shipped == default_manifest()


def test_patches_use_the_runtime_preprocessing(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    _save(tmp_path / "a.png", rgb)
    data = load_calibration(
        CalibrationSpec(images=(tmp_path / "a.png",), patch=None, count=1), scale=2, value_range=1.0
    )
    assert np.array_equal(data.arrays[0], to_nchw(rgb, value_range=1.0))


def test_empty_and_unreadable_folders(tmp_path):
    with pytest.raises(InputError, match="no images"):
        spec_from(tmp_path)
    _save(tmp_path / "ok.png", np.zeros((80, 80, 3), np.uint8))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match="broken.png"):
        load_calibration(spec_from(tmp_path), scale=2)
    with pytest.raises(InputError, match="does not exist"):
        spec_from(tmp_path / "missing")


def test_images_smaller_than_the_input_shape(tmp_path, caplog):
    _save(tmp_path / "small.png", np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(InputError, match="64x64"):
        load_calibration(spec_from(tmp_path), scale=2)
    _save(tmp_path / "big.png", np.full((70, 90, 3), 9, np.uint8))
    data = load_calibration(spec_from(tmp_path), scale=2)
    assert len(data) == 64 and all(s.startswith("big.png") for s in data.sources)
    assert "small.png" in caplog.text


def test_grayscale_sixteen_bit_and_rgba(tmp_path, caplog):
    _save(tmp_path / "gray.png", np.full((70, 70), 128, np.uint8), "L")
    Image.fromarray(np.full((70, 70), 65535, np.uint16)).save(tmp_path / "deep.png")
    rgba = np.zeros((70, 70, 4), np.uint8)
    rgba[..., 3] = 255
    _save(tmp_path / "opaque.png", rgba, "RGBA")
    data = load_calibration(spec_from(tmp_path, count=6), scale=2)
    assert data.shape == (1, 3, 64, 64) and len(data) == 6
    assert "16-bit" in caplog.text
    rgba[0, 0, 3] = 0
    _save(tmp_path / "clear.png", rgba, "RGBA")
    with pytest.raises(InputError, match="transparent"):
        load_calibration(spec_from(tmp_path, count=8), scale=2)


def test_whole_frames_need_one_size(tmp_path):
    _save(tmp_path / "a.png", np.zeros((30, 40, 3), np.uint8))
    _save(tmp_path / "b.png", np.zeros((31, 40, 3), np.uint8))
    spec = CalibrationSpec(images=(tmp_path / "a.png", tmp_path / "b.png"), patch=None, count=2)
    with pytest.raises(InputError, match="one frame size"):
        load_calibration(spec, scale=2)


def test_manifest_of_the_users_own(tmp_path):
    _save(tmp_path / "f1.png", np.zeros((70, 70, 3), np.uint8))
    (tmp_path / "m.json").write_text(
        json.dumps({"name": "mine", "images": [{"file": "f1.png"}], "views": ["native"], "patch": [32, 32], "count": 3})
    )
    data = load_calibration(spec_from(tmp_path / "m.json"), scale=2)
    assert len(data) == 3 and data.shape == (1, 3, 32, 32) and data.spec.name == "mine"
    (tmp_path / "bad.json").write_text(json.dumps({"images": [{"file": "f1.png"}], "views": ["sideways"]}))
    with pytest.raises(InputError, match="sideways"):
        spec_from(tmp_path / "bad.json")


def test_validation_set_follows_the_protocol():
    val = load_validation(None, scale=4, max_side=128, count=3)
    assert len(val) == 5 and val.names[-2:] == ["drawn-screen.png", "drawn-shapes.png"]
    for lr, hr in val.pairs:
        assert hr.shape[0] == lr.shape[0] * 4 and hr.shape[1] == lr.shape[1] * 4 and max(hr.shape[:2]) <= 128


def test_degraded_validation_gives_one_pair_per_image_and_degradation_seeded_by_name():
    from edgesr.degrade import degrade, parse
    from edgesr.degrade.apply import image_seed

    clean = load_validation(None, scale=4, max_side=128, count=2)
    val = load_validation(None, scale=4, max_side=128, count=2, degradations=("noise10", "jpeg=50"))
    assert len(val) == 2 * len(clean) and val.names[0].endswith("[noise10]") and val.names[1].endswith("[jpeg50]")
    assert "degraded: noise=10; jpeg=50" in val.source
    name = val.names[0].split(" [")[0]
    lr, hr = val.pairs[0]
    assert np.array_equal(hr, clean.pairs[0][1])
    assert np.array_equal(lr, degrade(hr, parse("noise10"), 4, image_seed(name)))
    again = load_validation(None, scale=4, max_side=128, count=2, degradations=("noise10", "jpeg=50"))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(val.pairs, again.pairs))


@pytest.mark.parametrize("command", ["quantize", "validate"])
def test_a_bad_degradation_is_refused_before_any_work(tmp_path, capsys, command):
    from edgesr.cli import main

    argv = {
        "quantize": ["quantize", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "q.onnx")],
        "validate": ["validate", str(tmp_path / "a.onnx"), str(tmp_path / "b.onnx"), "--data", str(tmp_path)],
    }
    assert main(["-q", *argv[command], "--degrade", "jpeg=500"]) == 1
    err = capsys.readouterr().err.strip()
    assert "JPEG quality" in err and len(err.splitlines()) == 1


def test_the_drawn_validation_images_are_fixed_and_hard_content():
    from edgesr.quantize.budget import hard_content

    for draw in hard_content.IMAGES.values():
        a, b = draw(), draw()
        assert a.shape == (256, 256, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
        # hard content: many strong edges (large neighbour differences) beside flat areas
        step = np.abs(np.diff(a.astype(int), axis=1)).max(axis=2)
        assert (step > 100).mean() > 0.005 and (step == 0).mean() > 0.2
