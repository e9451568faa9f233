"""``edgesr eval`` in-process: tables, JSON, and one-line errors."""

from __future__ import annotations

import json

from edgesr.cli import main
from tests.quality.tiny_upscalers import nearest_onnx


def test_eval_bicubic_prints_tables_and_writes_json(photos, tmp_path, capsys):
    out = tmp_path / "scores.json"
    assert (
        main(["eval", "bicubic", "--data", str(photos), "--data", str(photos), "--scale", "2", "--json", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert text.count("mean (3)") == 2 and "PSNR-Y" in text
    report = json.loads(out.read_text())
    assert report["model"] == "bicubic" and report["scale"] == 2
    assert [d["name"] for d in report["datasets"]] == [photos.name] * 2
    first = report["datasets"][0]
    assert len(first["images"]) == 3 and set(first["images"][0]) == {"name", "psnr", "ssim", "height", "width"}


def test_eval_onnx_takes_scale_from_metadata(photos, tmp_path, capsys):
    model = nearest_onnx(tmp_path / "x2.onnx", metadata={"edgesr.scale": 2})
    assert main(["eval", str(model), "--data", str(photos)]) == 0
    assert "x2.onnx, x2" in capsys.readouterr().out


def test_eval_errors_are_one_line(photos, tmp_path, capsys):
    cases = [
        (["eval", "bicubic", "--data", str(tmp_path), "--scale", "4"], "no images"),
        (
            ["eval", "bicubic", "--data", str(photos), "--scale", "4", "--json", str(tmp_path / "no" / "x.json")],
            "does not exist",
        ),
        (["eval", str(tmp_path / "missing.onnx"), "--data", str(photos), "--scale", "4"], "does not exist"),
        (["eval", "rfdn", "--data", str(photos), "--scale", "4"], "pass --weights"),
        (["eval", "rfnd", "--weights", str(tmp_path / "w.pth"), "--data", str(photos)], "unknown architecture 'rfnd'"),
    ]
    for argv, message in cases:
        assert main(["-q", *argv]) == 1
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1 and err.startswith("edgesr: error:")
