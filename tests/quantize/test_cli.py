"""``edgesr quantize`` in-process: outputs, exit codes, one-line errors."""

import json

import pytest

from edgesr.cli import main
from edgesr.quantize.tensorrt.trtcache import read_trt_cache
from tests.quantize.models import sensitive_model
from tests.tiny_models import save

FAST = ["--count", "6", "--no-latency"]


def test_cli_quantize_with_extras(tmp_path, chain_path, capsys, monkeypatch):
    monkeypatch.setattr("edgesr.quantize.calibration.VALIDATION_COUNT", 2)
    out = tmp_path / "chain.int8.onnx"
    code = main(
        [
            "quantize",
            str(chain_path),
            "-o",
            str(out),
            *FAST,
            "--tensorrt-onnx",
            str(tmp_path / "trt.onnx"),
            "--trt-cache",
            "8.6.2",
            "--cache-dir",
            str(tmp_path / "calibration"),
            "--fp16",
            str(tmp_path / "chain.fp16.onnx"),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert out.is_file() and (tmp_path / "trt.onnx").is_file() and (tmp_path / "chain.fp16.onnx").is_file()
    caches = list((tmp_path / "calibration").glob("chain-*-trt8602.cache"))
    assert len(caches) == 1 and read_trt_cache(caches[0]).version == 8602
    assert "kept in higher precision: 0" in text and "FP16 variant" in text
    assert json.loads((tmp_path / "chain.int8.quant.json").read_text())["validation"]["met"]


def test_cli_budget_not_met_exit_code(tmp_path, capsys, monkeypatch):
    from edgesr.quantize import stage

    real = stage.quantize

    def unmet(*args, **kwargs):  # a budget no placement can meet: every float fallback still over it
        result = real(*args, **kwargs)
        result.record["validation"]["met"] = False
        return result

    monkeypatch.setattr(stage, "quantize", unmet)
    p = save(sensitive_model(), tmp_path / "s.onnx")
    code = main(["quantize", str(p), "-o", str(tmp_path / "s.int8.onnx"), *FAST, "--max-drop", "0.05"])
    assert code == 3 and (tmp_path / "s.int8.onnx").is_file()
    assert "NOT within" in capsys.readouterr().out


def test_cli_negative_budget_is_refused_before_any_work(tmp_path, capsys):
    p = save(sensitive_model(), tmp_path / "s.onnx")
    with pytest.raises(SystemExit) as exit_:
        main(["quantize", str(p), "-o", str(tmp_path / "s.int8.onnx"), "--max-drop", "-1"])
    assert exit_.value.code == 2
    assert "'-1' is not a number >= 0" in capsys.readouterr().err and not (tmp_path / "s.int8.onnx").exists()


def test_cli_errors_are_one_line(tmp_path, chain_path, capsys):
    assert main(["quantize", str(tmp_path / "none.onnx"), "-o", str(tmp_path / "o.onnx")]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("[")]  # log lines
    assert len(err) == 1 and err[0].startswith("edgesr: error:") and "does not exist" in err[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["quantize", str(chain_path), "-o", str(tmp_path / "o.onnx"), "--calib", str(empty)]) == 1
    assert "no images" in capsys.readouterr().err
    assert main(["quantize", str(chain_path), "-o", str(tmp_path / "o.onnx"), "--trt-cache", "ten"]) == 1
    assert "TensorRT version" in capsys.readouterr().err
    assert not (tmp_path / "o.onnx").exists()


def test_cli_no_smooth_leaves_gelu_chains_as_they_are(tmp_path, capsys):
    from tests.quantize.models import wide_gelu_chain

    p = save(wide_gelu_chain(), tmp_path / "g.onnx")
    for flag, smoothed in ((), True), (("--no-smooth",), False):
        out = tmp_path / f"g{len(flag)}.int8.onnx"
        assert main(["quantize", str(p), "-o", str(out), *FAST, "--no-budget", *flag]) == 0
        record = json.loads(out.with_name(out.name.replace(".onnx", ".quant.json")).read_text())
        assert bool(record["recipe"]["smoothed_gelus"]) is smoothed
