"""The quality grid: models x degradations on one folder, reproducible, bicubic always a row."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgesr.cli import main
from edgesr.degrade import expand, parse
from edgesr.quality import evaluate
from edgesr.quality.grid import run_grid
from edgesr.quality.upscalers import Bicubic
from tests.quality.tiny_upscalers import nearest_onnx

CELLS = ["clean", "noise=10", "jpeg=50", "blur=iso:1.2,noise=5"]


def test_each_cell_is_the_protocol_on_that_degradation(photos):
    grid = run_grid([("bicubic", Bicubic(2))], str(photos), 2, expand(CELLS))
    assert grid.psnr("bicubic", parse("clean")) == evaluate(Bicubic(2), photos, 2).mean_psnr
    noisy = grid.psnr("bicubic", parse("noise=10"))
    assert noisy == evaluate(Bicubic(2), photos, 2, degradation=parse("noise=10")).mean_psnr
    assert noisy < grid.psnr("bicubic", parse("clean"))


def test_the_same_seed_gives_the_same_grid_and_another_seed_other_noise(photos):
    def scores(seed: int) -> list[float]:
        g = run_grid([("bicubic", Bicubic(2))], str(photos), 2, expand(["noise=10"]), seed)
        return [s.psnr for s in g.cells[("bicubic", "noise=10")].images]

    assert scores(0) == scores(0) != scores(1)


def test_eval_grid_prints_bicubic_first_with_gains_and_writes_json(photos, tmp_path, capsys):
    model = nearest_onnx(tmp_path / "x2.onnx", metadata={"edgesr.scale": 2})
    out = tmp_path / "grid.json"
    argv = ["eval", str(model), "--data", str(photos), *sum((["--degrade", c] for c in CELLS), []), "--json", str(out)]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:5] == ["model", "clean", "noise10", "jpeg50", "blur=iso:1.2,noise=5"]
    assert lines[3].startswith("bicubic") and lines[4].startswith("x2.onnx") and "(" in lines[4]
    report = json.loads(out.read_text())
    cells = report["grids"][0]["cells"]
    assert len(cells) == 2 * len(CELLS) and report["grids"][0]["models"] == ["bicubic", "x2.onnx"]
    by = {(c["model"], c["degradation"]): c for c in cells}
    for spec in ("clean", "noise=10", "jpeg=50", "blur=iso:1.2,noise=5"):
        gain = by[("x2.onnx", spec)]["psnr"] - by[("bicubic", spec)]["psnr"]
        assert by[("x2.onnx", spec)]["gain_db"] == pytest.approx(gain, abs=2e-4)
    assert main(argv) == 0 and json.loads(out.read_text()) == report  # reproducible, bit for bit


def test_eval_grid_expands_the_named_grid(photos, capsys):
    assert main(["eval", "bicubic", "--scale", "2", "--data", str(photos), "--degrade", "grid"]) == 0
    header = capsys.readouterr().out.splitlines()[1].split()
    assert header == [
        "model",
        "clean",
        "blur1.2",
        "blur2.4",
        "blur3.6",
        "blur1.2+noise10",
        "noise10",
        "jpeg50",
        "aniso+noise5+jpeg70",
    ]


@pytest.mark.parametrize(
    "spec, words", [("nosie10", "did you mean 'noise10'"), ("jpeg=0", "from 1 to 100"), ("blur=iso:-2", "blur sigma")]
)
def test_eval_bad_degradations_are_one_line(photos, capsys, spec, words):
    assert main(["-q", "eval", "bicubic", "--scale", "2", "--data", str(photos), "--degrade", spec]) == 1
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


def test_an_image_smaller_than_the_kernel_is_named(tmp_path, capsys):
    (tmp_path / "small").mkdir()
    from edgesr.io.images import write_rgb

    write_rgb(tmp_path / "small" / "a.png", np.full((20, 20, 3), 90, np.uint8))
    assert (
        main(["-q", "eval", "bicubic", "--scale", "2", "--data", str(tmp_path / "small"), "--degrade", "blur1.2"]) == 1
    )
    assert "smaller than the 21x21 kernel" in capsys.readouterr().err
