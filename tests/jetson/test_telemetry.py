"""The background tegrastats reader, fed recorded lines by a stand-in process."""

import time

from edgesr.jetson import telemetry as telemetry_mod
from edgesr.jetson.telemetry import Telemetry
from tests.jetson.fakes import emitter


def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert condition()


def test_summary_of_recorded_orin_agx_lines():
    # 4 file lines: 2 provenance comments, 2 samples.
    with Telemetry(500, command=emitter("orin-agx", count=4)) as t:
        wait_until(lambda: not t.running)
    s = t.summary()
    assert s["available"] and s["samples"] == 2
    assert s["ram_used_mb"]["max"] == 18207 and s["ram_total_mb"] == 62841
    assert s["gpu_load_pct"] == {"mean": 0.0, "min": 0.0, "max": 0.0}
    assert s["power_rail"] == "sum of rails"
    assert s["power_w"]["max"] == round((2412 + 1607 + 4707) / 1000, 2)
    assert s["rails_mw"]["VIN_SYS_5V0"]["max"] == 4707
    assert s["temps_c"]["tj"]["max"] == 52.6
    assert "NC" not in s["rails_mw"]


def test_thor_without_gpu_load_still_reports_power_and_temperature():
    with Telemetry(500, command=emitter("thor", count=3)) as t:
        wait_until(lambda: not t.running)
    s = t.summary()
    assert s["samples"] == 1 and s["gpu_load_pct"] is None
    assert s["power_rail"] == "VIN" and s["power_w"]["mean"] == 87.43
    assert s["temps_c"]["gpu"]["max"] == 62.9
    assert "87.4 W (VIN)" in t.brief()


def test_a_window_holds_only_its_own_samples():
    with Telemetry(50, command=emitter("orin-nx", period=0.02)) as t:
        wait_until(lambda: t.summary()["samples"] >= 2)
        with t.window() as window:
            wait_until(lambda: window.samples >= 3)
        inside = t.summary(window)
        wait_until(lambda: t.summary()["samples"] > inside["samples"] + 2)
    assert inside["samples"] >= 3 and inside["gpu_load_pct"]["mean"] == 84.0
    assert t.summary()["samples"] > inside["samples"]
    assert "GPU 84% @ 713 MHz" in t.brief()


def test_absent_tegrastats_is_said_not_failed(monkeypatch):
    monkeypatch.setattr(telemetry_mod.shutil, "which", lambda name: None)
    with Telemetry() as t:
        pass
    s = t.summary()
    assert s == {
        "available": False,
        "source": "tegrastats",
        "interval_ms": 1000,
        "reason": "tegrastats is not on PATH (not a Jetson)",
    }
    assert t.brief() == "telemetry: tegrastats is not on PATH (not a Jetson)"


def test_interval_zero_turns_it_off():
    with Telemetry(0, command=emitter("nano")) as t:
        assert not t.running
    assert t.summary()["reason"] == "telemetry off (interval 0)"


def test_a_tegrastats_that_stops_before_its_first_sample_is_explained():
    # The xavier-nx file starts with a provenance comment: one unparsed line, then exit 3.
    with Telemetry(500, command=emitter("xavier-nx", count=1, status=3)) as t:
        wait_until(lambda: not t.running)
    s = t.summary()
    assert not s["available"]
    assert "exited with code 3 before its first sample: # source: waggle-sensor" in s["reason"]


def test_a_command_that_cannot_start(tmp_path):
    with Telemetry(500, command=[str(tmp_path / "tegrastats")]) as t:
        pass
    assert t.summary()["reason"].startswith("cannot start")


def test_a_quiet_window_says_so():
    with Telemetry(500, command=emitter("nano", count=4)) as t:
        wait_until(lambda: not t.running)
        with t.window() as window:
            pass
        assert t.summary(window)["samples"] == 0 and "no tegrastats sample" in t.summary(window)["note"]
