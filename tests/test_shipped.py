"""The models shipped inside the package: their files are the ones the cards describe, and they
still measure what their cards say."""

from __future__ import annotations

import onnx
import pytest

from edgesr import meta, models, shipped
from edgesr.fileio import sha256
from edgesr.quality import evaluate
from edgesr.quality.upscalers import OnnxUpscaler

MODELS = shipped.shipped()
MAX_TOTAL_BYTES = 6_000_000  # ONNX + weights of every shipped model: a few MB in all


def test_one_default_model_and_small_files():
    assert [m.name for m in MODELS if m.card.get("default")], "no shipped model is marked default"
    assert len([m for m in MODELS if m.card.get("default")]) == 1
    total = sum(p.stat().st_size for m in MODELS for p in (m.onnx, m.weights))
    assert total < MAX_TOTAL_BYTES


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_files_match_the_card(model):
    for path in (model.onnx, model.weights):
        assert model.card["files"][path.name]["sha256"] == sha256(path)
    mm = meta.read(onnx.load(str(model.onnx)))
    assert (mm.arch, mm.scale) == (model.card["arch"], model.card["scale"])
    net = models.load(model.card["arch"], model.weights)
    assert models.count_params(net) == model.card["params"]


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_set5_psnr_matches_the_card(model, set5):
    card = model.card["evaluation"]["datasets"]["Set5"]
    got = evaluate(OnnxUpscaler(model.onnx), set5, model.card["scale"])
    assert got.mean_psnr == pytest.approx(card["psnr"], abs=0.01)
    assert card["psnr"] - card["bicubic_psnr"] > 0


def test_upscale_runs_the_default_model_with_no_model_given(tmp_path):
    from edgesr.cli import main
    from edgesr.io.images import read_rgb, sample_images, write_rgb

    lr = read_rgb(sample_images()[0])[:45, :60]
    write_rgb(tmp_path / "lr.png", lr)
    default = shipped.find(None)
    assert main(["upscale", str(tmp_path / "lr.png"), "-o", str(tmp_path / "sr.png"), "--no-progress"]) == 0
    scale = default.card["scale"]
    assert read_rgb(tmp_path / "sr.png").shape == (45 * scale, 60 * scale, 3)


def test_the_default_ships_its_int8_files_made_from_its_fp32_file():
    default = shipped.find(None)
    entry = default.card["int8"]
    assert entry["source"]["sha256"] == sha256(default.onnx), (
        f"{default.name}'s INT8 files were made from another FP32 file: run {entry['made_by']}"
    )
    for encoding in ("int8", "x86"):
        path = default.int8(encoding)
        assert entry["files"][path.name]["sha256"] == sha256(path), f"{path.name} differs from the card"
    assert entry["validation"]["drop_db"] <= entry["validation"]["budget_db"]
    total = sum(default.int8(e).stat().st_size for e in ("int8", "x86"))
    assert total < 500_000


GRIDDED = [m for m in MODELS if "degradation_grid" in m.card]


@pytest.mark.parametrize("model", GRIDDED, ids=[m.name for m in GRIDDED])
def test_a_cards_quality_grid_is_measured_on_its_file(model, set5):
    from edgesr.degrade import parse

    grid = model.card["degradation_grid"]["datasets"]["Set5"]
    cell = next(c for c in grid["cells"] if c["model"] == model.name and c["degradation"] == "noise=10")
    got = evaluate(OnnxUpscaler(model.onnx), set5, model.card["scale"], degradation=parse("noise10"))
    assert got.mean_psnr == pytest.approx(cell["psnr"], abs=0.01)


@pytest.mark.parametrize(
    "model",
    [m for m in GRIDDED if m.card["training"]["degrade"]],
    ids=[m.name for m in GRIDDED if m.card["training"]["degrade"]],
)
def test_a_model_trained_on_degraded_input_gains_on_every_degraded_cell_or_says_where_not(model):
    """A degraded cell where the model barely beats bicubic is named in its card's notes, with what to use."""
    notes = " ".join(model.card["notes"])
    for name, grid in model.card["degradation_grid"]["datasets"].items():
        mine = {c["degradation"]: c["gain_db"] for c in grid["cells"] if c["model"] == model.name}
        weak = [spec for spec, gain in mine.items() if spec != "clean" and gain <= 0.2]
        assert all(spec in notes for spec in weak), (name, weak)


@pytest.mark.parametrize(
    "model", [m for m in MODELS if "int8" in m.card], ids=[m.name for m in MODELS if "int8" in m.card]
)
def test_shipped_int8_files_come_from_the_shipped_fp32_file(model):
    entry = model.card["int8"]
    assert entry["source"]["sha256"] == sha256(model.onnx), f"run {entry['made_by']}"
    for name, info in entry["files"].items():
        assert sha256(model.onnx.parent / name) == info["sha256"]
    assert entry["validation"]["drop_db"] <= entry["validation"]["budget_db"]
