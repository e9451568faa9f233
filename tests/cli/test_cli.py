"""The CLI contract: in-process ``main(argv)``, one-line errors, tracebacks only with --debug."""

import json
import subprocess
import sys

import pytest

from edgesr.cli import COMMANDS, build_parser, main
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


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        (b"", "is empty"),
        (b"not onnx at all", "not an ONNX model"),
    ],
)
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


def test_a_light_command_builds_only_its_own_parser():
    """Each command reads its defaults from the library's options (which import numpy): only the command
    run may load them, so 'edgesr devices' and 'edgesr --help' stay quick."""
    script = (
        "import json, sys\n"
        "from edgesr.cli import main\n"
        "main(['devices', '--json'])\n"
        "print(json.dumps('numpy' in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False


def test_the_command_is_the_first_word_that_is_not_an_option(capsys):
    assert main(["-q", "--debug", "devices"]) == 0
    assert "orin-agx" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert all(name in listing for name in COMMANDS) and "--max-drop" not in listing


def _parsed(argv: list[str]):
    return build_parser(argv[0]).parse_args(argv)


def test_defaults_and_choices_are_the_librarys(capsys):
    from edgesr.app.config import AppConfig
    from edgesr.bench.run import BenchOptions
    from edgesr.deploy import BuildOptions
    from edgesr.engine.policy import PRECISIONS
    from edgesr.io.sources import ReconnectPolicy
    from edgesr.quality.protocol import DEFAULT_MAX_DROP_DB
    from edgesr.report.validate import ValidateOptions
    from edgesr.runtime.jobs import StreamOptions, UpscaleOptions

    build = _parsed(["build"])
    assert build.max_drop == BuildOptions.max_drop == DEFAULT_MAX_DROP_DB
    assert (build.precision, build.out) == (BuildOptions.precision, BuildOptions.out)
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    assert "--precision {" + ",".join(PRECISIONS) + "}" in capsys.readouterr().out
    validate = _parsed(["validate", "m.onnx", "--data", "d"])
    assert (validate.max_drop, validate.repeats, validate.latency_size) == (
        ValidateOptions.max_drop,
        ValidateOptions.repeats,
        ValidateOptions.latency_size,
    )
    up = _parsed(["upscale", "in.mp4", "-o", "out.mp4"])
    assert (up.tile_overlap, up.codec, up.crf, up.audio, up.image_format) == (
        UpscaleOptions.tile_overlap,
        UpscaleOptions.codec,
        UpscaleOptions.crf,
        UpscaleOptions.audio,
        UpscaleOptions.image_format,
    )
    stream = _parsed(["stream", "--source", "0", "--sink", "null://"])
    assert stream.stats_every == StreamOptions().pipeline.report_every and stream.drop == StreamOptions().pipeline.drop
    assert (stream.reconnect_retries, stream.reconnect_delay, stream.stall_timeout) == (
        ReconnectPolicy.retries,
        ReconnectPolicy.delay,
        ReconnectPolicy.stall_timeout,
    )
    bench = _parsed(["bench", "m.onnx"])
    assert (bench.warmup, bench.repeat, bench.telemetry_interval) == (
        BenchOptions.warmup,
        BenchOptions.repeat,
        BenchOptions.telemetry_interval_ms,
    )
    app = _parsed(["app"])
    assert (app.host, app.port, app.max_upload_mb) == (AppConfig.host, AppConfig.port, AppConfig.max_upload_mb)
