"""``edgesr stream`` statistics carry the host and tegrastats telemetry next to fps and latency."""

import json
import logging

import pytest

from edgesr.cli import main
from edgesr.jetson.telemetry import Telemetry
from tests.jetson.fakes import emitter
from tests.tiny_models import save, sr_model


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return save(sr_model(scale=2, dims=("n", 3, "h", "w")), tmp_path_factory.mktemp("stream") / "x2.onnx")


def test_without_tegrastats_the_statistics_say_so(model, tmp_path, capsys):
    stats = tmp_path / "stats.json"
    assert (
        main(
            [
                "-q",
                "stream",
                "--source",
                "test://48x32?frames=4",
                "--sink",
                "null://",
                "-m",
                str(model),
                "--stats-every",
                "0",
                "--telemetry-interval",
                "0",
                "--json",
                str(stats),
            ]
        )
        == 0
    )
    data = json.loads(stats.read_text())
    assert data["frames_written"] == 4 and "fps" in data and "end_to_end" in data
    assert data["telemetry"]["available"] is False and data["telemetry"]["reason"]
    assert set(data["host"]) >= {"jetson", "power_mode", "clocks", "l4t"}
    assert json.loads(capsys.readouterr().out)["telemetry"] == data["telemetry"]


def test_tegrastats_lines_join_the_periodic_report_and_the_summary(model, tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setattr(Telemetry, "_tegrastats", staticmethod(lambda ms: emitter("orin-nano", period=0.02)))
    with caplog.at_level(logging.INFO, logger="edgesr"):
        assert (
            main(
                [
                    "stream",
                    "--source",
                    "test://48x32?fps=30",
                    "--sink",
                    "null://",
                    "-m",
                    str(model),
                    "--duration",
                    "1.5",
                    "--stats-every",
                    "0.5",
                    "--telemetry-interval",
                    "20",
                ]
            )
            == 0
        )
    data = json.loads(capsys.readouterr().out)
    t = data["telemetry"]
    assert t["available"] and t["samples"] >= 1 and t["power_rail"] == "VDD_IN"
    assert t["ram_total_mb"] == 7620 and t["temps_c"]["gpu"]["max"] == 48.6
    reports = [r.getMessage() for r in caplog.records if "fps | e2e" in r.getMessage()]
    assert reports and any("4.6 W (VDD_IN)" in line for line in reports)
