"""Shipping a trained model: ONNX, weights and a card whose numbers are measured on the written file."""

from __future__ import annotations

import json

import pytest

from edgesr import models, shipped
from edgesr.cli import main
from edgesr.errors import InputError
from edgesr.fileio import sha256
from edgesr.quality import evaluate
from edgesr.quality.upscalers import Bicubic, OnnxUpscaler
from edgesr.train import train


def test_card_describes_the_run_and_the_shipped_file(config, train_dir, val_dir, tmp_path, capsys):
    result = train(config())
    onnx = tmp_path / "models" / "tiny-x2.onnx"
    assert (
        main(
            [
                "export",
                "espcn",
                "--weights",
                str(result.weights),
                "-o",
                str(onnx),
                "--card",
                "--eval",
                str(val_dir),
                "--default",
            ]
        )
        == 0
    )
    card = json.loads(onnx.with_suffix(".json").read_text())

    assert card["arch"] == "espcn" and card["scale"] == 2 and card["default"] is True
    net = models.load("espcn", onnx.with_suffix(".pth"))
    assert card["params"] == models.count_params(net) == result.summary["params"]
    assert card["macs_720p"] == models.count_macs(net, (720, 1280))
    recipe = card["training"]
    assert [s["patch"] for s in recipe["stages"]] == [8, 12] and recipe["recipe"].startswith("multiscale hot start")
    assert recipe["data"]["folders"] == ["crops"] and str(train_dir) not in json.dumps(card)
    for name in (onnx.name, onnx.with_suffix(".pth").name):
        assert card["files"][name]["sha256"] == sha256(onnx.parent / name)

    got = card["evaluation"]["datasets"][val_dir.name]
    assert got["psnr"] == pytest.approx(evaluate(OnnxUpscaler(onnx), val_dir, 2).mean_psnr, abs=1e-4)
    assert got["bicubic_psnr"] == pytest.approx(evaluate(Bicubic(2), val_dir, 2).mean_psnr, abs=1e-4)

    found = shipped.find(None, onnx.parent)
    assert found.name == "tiny-x2" and found.onnx == onnx and found.weights.is_file()

    # a second model shipped as the default takes over: one default per folder
    other = onnx.with_name("other-x2.onnx")
    assert (
        main(
            [
                "export",
                "espcn",
                "--weights",
                str(result.weights),
                "-o",
                str(other),
                "--card",
                "--eval",
                str(val_dir),
                "--default",
            ]
        )
        == 0
    )
    assert shipped.find(None, onnx.parent).name == "other-x2"
    assert json.loads(onnx.with_suffix(".json").read_text())["default"] is False


def test_card_options_need_card_and_weights(config, val_dir, tmp_path, capsys):
    out = str(tmp_path / "m.onnx")
    assert main(["export", "espcn", "-o", out, "--eval", str(val_dir)]) != 0
    assert "add --card" in capsys.readouterr().err
    assert main(["export", "espcn", "-o", out, "--card", "--eval", str(val_dir)]) != 0
    assert "give --weights" in capsys.readouterr().err


def test_card_needs_the_run_summary(config, val_dir, tmp_path, capsys):
    result = train(config())
    result.weights.with_name("summary.json").unlink()
    assert (
        main(
            [
                "export",
                "espcn",
                "--weights",
                str(result.weights),
                "-o",
                str(tmp_path / "m.onnx"),
                "--card",
                "--eval",
                str(val_dir),
            ]
        )
        != 0
    )
    assert "no training summary" in capsys.readouterr().err


def test_no_default_model_is_a_one_line_error(tmp_path):
    with pytest.raises(InputError, match="ships no default model"):
        shipped.find(None, tmp_path)


def test_card_carries_the_quality_grid_beside_bicubic_and_other_models(config, val_dir, tmp_path):
    from edgesr.degrade import GRID, parse

    result = train(config())
    first, second = tmp_path / "m" / "first.onnx", tmp_path / "m" / "second.onnx"
    assert (
        main(["export", "espcn", "--weights", str(result.weights), "-o", str(first), "--card", "--eval", str(val_dir)])
        == 0
    )
    assert (
        main(
            [
                "export",
                "espcn",
                "--weights",
                str(result.weights),
                "-o",
                str(second),
                "--card",
                "--eval",
                str(val_dir),
                "--grid",
                "--grid-against",
                str(first),
            ]
        )
        == 0
    )
    grid = json.loads(second.with_suffix(".json").read_text())["degradation_grid"]["datasets"][val_dir.name]
    assert grid["models"] == ["bicubic", str(first), "second"]
    assert [d["label"] for d in grid["degradations"]] == list(GRID)
    cells = {(c["model"], c["degradation"]): c for c in grid["cells"]}
    noisy = parse("noise10")
    expected = evaluate(OnnxUpscaler(second), val_dir, 2, degradation=noisy).mean_psnr
    assert cells[("second", noisy.text())]["psnr"] == pytest.approx(expected, abs=1e-4)
    assert cells[(str(first), noisy.text())]["psnr"] == cells[("second", noisy.text())]["psnr"]  # same weights
    assert "degradation_grid" not in json.loads(first.with_suffix(".json").read_text())
