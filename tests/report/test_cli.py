"""``edgesr validate`` in-process: exit 0 within budget, 1 over it, one-line errors."""

from __future__ import annotations

import json

import pytest

from edgesr.cli import main

QUICK = ["--repeats", "1", "--latency-size", "16x24"]


def test_within_budget_exits_0(models, photos, tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(
            [
                "-q",
                "validate",
                str(models["fp32"]),
                str(models["fp16"]),
                "--data",
                str(photos),
                "--max-drop",
                "0.1",
                "-o",
                str(out),
                *QUICK,
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "PASS: every candidate is within the 0.10 dB budget" in text
    assert "tiny_fp16.onnx" in text and f"report: {out / 'report.html'}" in text
    assert json.loads((out / "report.json").read_text())["passed"] is True


def test_over_budget_exits_1_and_names_the_candidate(models, photos, tmp_path, capsys):
    out = tmp_path / "r"
    assert (
        main(
            [
                "-q",
                "validate",
                str(models["fp32"]),
                str(models["fp16"]),
                str(models["noise"]),
                "--data",
                str(photos),
                "-o",
                str(out),
                "--no-crops",
                *QUICK,
            ]
        )
        == 1
    )
    text = capsys.readouterr().out
    assert "FAIL: noise.onnx exceeds the 0.10 dB budget" in text
    assert "noise.onnx: mean Y-PSNR drop" in text and "tiny_fp16.onnx: mean" not in text
    assert "<img" not in (out / "report.html").read_text()


def test_reference_flag(models, photos, tmp_path, capsys):
    assert (
        main(
            [
                "-q",
                "validate",
                str(models["noise"]),
                "--reference",
                str(models["fp32"]),
                "--data",
                str(photos),
                "-o",
                str(tmp_path),
                "--repeats",
                "0",
            ]
        )
        == 1
    )
    assert "tiny.onnx (reference)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["{fp32}", "{x4}", "--data", "{photos}"], "different scales"),
        (["{fp32}", "{tmp}/missing.onnx", "--data", "{photos}"], "does not exist"),
        (["{fp32}", "{fp16}", "--data", "{tmp}"], "no images"),
        (["{fp32}", "--data", "{photos}"], "nothing to compare"),
    ],
)
def test_errors_are_one_line(models, photos, tmp_path, capsys, argv, message):
    fill = {**{k: str(v) for k, v in models.items()}, "photos": str(photos), "tmp": str(tmp_path)}
    argv = [a.format(**fill) for a in argv]
    assert main(["-q", "validate", *argv, "-o", str(tmp_path / "out"), "--repeats", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("edgesr: error:") and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv", [["--data", "x"], ["m.onnx"], ["a.onnx", "--data", "x", "--latency-size", "big"]])
def test_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["validate", *argv])
    assert exc.value.code == 2
