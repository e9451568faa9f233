"""The CLI contract: in-process ``main(argv)``, one-line errors, tracebacks only with --debug."""

import json

import pytest

from edgesr.cli import main
from tests.tiny_models import save, sr_model


def test_devices_table_and_json(capsys):
    assert main(["devices"]) == 0
    assert "orin-agx" in capsys.readouterr().out
    assert main(["devices", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["id"] for d in data["devices"]} >= {"nano", "thor", "cpu"}


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "convert" in capsys.readouterr().out


def test_convert_happy_path(tmp_path, capsys):
    src = save(sr_model(bicubic_skip=True), tmp_path / "m.onnx")
    assert main(["-q", "convert", str(src), "-o", str(tmp_path / "out"), "--target", "orin-agx"]) == 0
    out = capsys.readouterr().out
    assert "parity on 5 real images" in out and "max abs error" in out
    assert (tmp_path / "out" / "m.onnx").exists()


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    (b"", "is empty"),
    (b"not onnx at all", "not an ONNX model"),
])
def test_bad_input_is_one_line_and_nonzero(tmp_path, capsys, content, message):
    path = tmp_path / "model.onnx"
    if content is not None:
        path.write_bytes(content)
    code = main(["convert", str(path), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("edgesr: error:")]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_debug_shows_traceback(tmp_path, capsys):
    code = main(["--debug", "convert", str(tmp_path / "missing.onnx"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" in err and "does not exist" in err


def test_bad_input_shape(tmp_path, capsys):
    src = save(sr_model(), tmp_path / "m.onnx")
    with pytest.raises(SystemExit) as exc:
        main(["convert", str(src), "-o", str(tmp_path / "o"), "--input-shape", "3x180"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "NxCxHxW" in err and len(err.strip().splitlines()) == 1


def test_not_writable_output(tmp_path, capsys):
    src = save(sr_model(), tmp_path / "m.onnx")
    (tmp_path / "f").write_text("x")
    assert main(["convert", str(src), "-o", str(tmp_path / "f" / "o")]) == 1
    assert "cannot write to output directory" in capsys.readouterr().err


def test_bug_keeps_its_traceback(monkeypatch, tmp_path):
    import edgesr.onnx.convert as mod

    def boom(*a, **k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(mod.loading, "load", boom)
    with pytest.raises(ZeroDivisionError):
        main(["convert", str(tmp_path / "x.onnx"), "-o", str(tmp_path / "o")])
