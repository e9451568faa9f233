"""``edgesr bench`` on tiny generated models: timings, JSON and Markdown, telemetry, one-line errors."""

import json

import pytest

from edgesr.bench import bench, write_report
from edgesr.bench.files import markdown
from edgesr.cli import main
from edgesr.errors import InputError
from edgesr.jetson.telemetry import Telemetry
from edgesr.timing import Spread
from tests.jetson.fakes import emitter
from tests.tiny_models import save, sr_model


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench-models")
    return {
        "dynamic": save(sr_model(scale=4, dims=("n", 3, "h", "w")), root / "dynamic_x4.onnx"),
        "static": save(sr_model(scale=2, dims=(1, 3, 32, 48), attention=True, seed=1), root / "static_x2.onnx"),
    }


def test_spread():
    s = Spread.of([5.0, 1.0, 2.0, 3.0, 4.0])
    assert (s.median, s.min, s.max, s.mean) == (3.0, 1.0, 5.0, 3.0)
    assert (s.q1, s.q3, s.iqr) == (2.0, 4.0, 2.0)
    assert s.p10 == pytest.approx(1.4) and s.p90 == pytest.approx(4.6)
    assert s.to_dict()["iqr"] == 2.0


def test_bench_writes_json_and_markdown(models, tmp_path):
    report = bench([models["dynamic"], models["static"]], warmup=1, repeat=4, telemetry_interval_ms=0)
    first, second = report.results
    assert first.input == (1, 3, 180, 320) and first.output == (1, 3, 720, 1280)  # the default: a 720p output
    assert second.input == (1, 3, 32, 48) and second.output == (1, 3, 64, 96)  # a fixed model's own size
    assert len(first.samples_ms) == 4 and first.latency.min <= first.latency.median <= first.latency.max
    assert first.fps == pytest.approx(1000.0 / first.latency.median)
    assert "onnxruntime" in first.backend and first.precision == "fp32" and first.scale == 4

    paths = write_report(report, tmp_path / "out")
    data = json.loads(paths["json"].read_text())
    assert data["settings"]["repeat"] == 4 and data["host"]["hostname"]
    assert [r["input"] for r in data["results"]] == [[1, 3, 180, 320], [1, 3, 32, 48]]
    assert set(data["results"][0]["latency_ms"]) >= {"median", "p10", "p90", "q1", "q3", "iqr"}
    assert data["telemetry"] == {
        "available": False,
        "source": "tegrastats",
        "interval_ms": 0,
        "reason": "telemetry off (interval 0)",
    }
    md = paths["markdown"].read_text()
    assert md.startswith("# edgesr benchmark") and "**Power mode:**" in md and "**Jetson:**" in md
    assert "| `dynamic_x4.onnx` |" in md and "| `static_x2.onnx` |" in md
    assert "not recorded: telemetry off (interval 0)" in md
    assert not list((tmp_path / "out").glob(".*.tmp"))


def test_bench_records_telemetry_per_artifact(models, monkeypatch):
    monkeypatch.setattr(Telemetry, "_tegrastats", staticmethod(lambda ms: emitter("orin-nx", period=0.01)))
    report = bench([models["dynamic"]], shape=(24, 40), warmup=0, repeat=30, telemetry_interval_ms=10)
    t = report.results[0].telemetry
    assert t["available"]
    if t["samples"]:  # the window lasts as long as the 30 calls; the run as a whole has samples for sure
        assert t["gpu_load_pct"]["mean"] == 84.0 and t["power_rail"] == "VDD_IN"
    assert report.telemetry["samples"] >= max(1, t["samples"])
    assert "power is VDD_IN" in markdown(report)


def test_a_fixed_model_refuses_another_shape_before_any_timing(models):
    with pytest.raises(InputError, match="fixed 32x48 input, not 24x40; drop --shape or pass --shape 32x48"):
        bench([models["dynamic"], models["static"]], shape=(24, 40), repeat=1, telemetry_interval_ms=0)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"repeat": 0}, "--repeat must be at least 1"),
        ({"warmup": -1}, "--warmup must be 0 or more"),
    ],
)
def test_bad_options(models, options, message):
    with pytest.raises(InputError, match=message):
        bench([models["dynamic"]], **options)


def test_cli_writes_both_files(models, tmp_path, capsys):
    out = tmp_path / "bench"
    assert (
        main(
            [
                "-q",
                "bench",
                str(models["dynamic"]),
                "--shape",
                "24x40",
                "--warmup",
                "1",
                "--repeat",
                "3",
                "--telemetry-interval",
                "0",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "dynamic_x4.onnx: median" in text and "wrote" in text
    assert (out / "bench.json").is_file() and (out / "bench.md").is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.onnx"], "does not exist"),
        (["{dynamic}", "--repeat", "0"], "--repeat must be at least 1"),
        (["{static}", "--shape", "20x20"], "takes a fixed 32x48 input"),
    ],
)
def test_cli_errors_are_one_line(models, tmp_path, capsys, args, message):
    argv = [a.format(**{k: str(v) for k, v in models.items()}) for a in args]
    assert main(["bench", *argv, "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("edgesr: error:")]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out" / "bench.json").exists()
