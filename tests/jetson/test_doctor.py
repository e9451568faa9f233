"""``edgesr doctor`` on fake Jetsons built from recorded output, on a bare host, and on this machine."""

import json
from pathlib import Path

import pytest

from edgesr.cli import main
from edgesr.jetson import doctor
from edgesr.jetson.probes import Python, video_io
from tests.jetson.fakes import FakeRoot, fixture

GOOD_PYTHON = Python(
    version="3.10.12",
    executable="/opt/edgesr/venv/bin/python",
    venv=True,
    system_site_packages=True,
    tensorrt="10.3.0.30",
    tensorrt_error=None,
    onnxruntime="1.20.0",
    providers=("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"),
    opencv="4.8.0",
    video_io={"GStreamer": "YES (1.20.3)", "FFMPEG": "YES", "v4l/v4l2": "YES (linux/videodev2.h)"},
)

# A venv made without --system-site-packages on a JetPack 5 Xavier: the usual first attempt.
BAD_PYTHON = Python(
    version="3.11.4",
    executable="/home/me/.venv/bin/python",
    venv=True,
    system_site_packages=False,
    tensorrt=None,
    tensorrt_error="No module named 'tensorrt'",
    onnxruntime="1.20.0",
    providers=("CPUExecutionProvider",),
    opencv="4.10.0",
    video_io={"GStreamer": "NO", "FFMPEG": "YES", "v4l/v4l2": "YES (linux/videodev2.h)"},
)

CUDA_JSON = '{"cuda": {"name": "CUDA SDK", "version": "12.6.68"}}'
CUDNN_HEADER = "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 3\n#define CUDNN_PATCHLEVEL 0\n"


def verdicts(report):
    return {c.name: c.verdict for c in report.checks}


def check(report, name):
    return next(c for c in report.checks if c.name == name)


@pytest.fixture
def orin_nano(tmp_path):
    return (
        FakeRoot(tmp_path / "root")
        .jetson("NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super", "r36.4.3-orin-nano")
        .dpkg({"nvidia-jetpack": "6.2+b77"})
        .command("nvpmodel", fixture("nvpmodel/orin-nano-maxn-super.txt"))
        .command("tegrastats", "")
        .clocks(cpu=(1728000, 1728000), gpu=(1020000000, 1020000000))
        .file("/usr/local/cuda/version.json", CUDA_JSON)
        .file("/usr/include/aarch64-linux-gnu/cudnn_version_v9.h", CUDNN_HEADER)
        .file("/etc/os-release", 'PRETTY_NAME="Ubuntu 22.04.5 LTS"\n')
    )


def test_a_well_set_up_orin_nano(orin_nano, tmp_path):
    report = doctor.run(orin_nano.system, engines=tmp_path / "engines", python=lambda: GOOD_PYTHON)
    assert not report.failed
    assert {v for v in verdicts(report).values()} <= {"ok", "info"}
    assert "Jetson Orin Nano (orin-nano)" in check(report, "Jetson module").detail
    assert check(report, "L4T / JetPack").detail.startswith("L4T R36.4.3 (JetPack 6.2), from /etc/nv_tegra_release")
    assert check(report, "CUDA").detail == "12.6.68 (/usr/local/cuda/version.json)"
    assert check(report, "cuDNN").detail == "9.3.0"
    assert check(report, "GPU").detail.startswith("Ampere integrated GPU, compute capability 8.7")
    assert check(report, "DLA").verdict == "info"  # the Orin Nano has none
    assert check(report, "power mode").detail.startswith("MAXN_SUPER (mode 2)")
    assert check(report, "clocks").verdict == "ok"
    assert any("TensorRT 10.3.0.30 engines for this Jetson Orin Nano" in line for line in report.capabilities)
    assert any("csi://" in line for line in report.capabilities)
    text = report.render()
    assert text.startswith("edgesr doctor:") and "a Jetson Orin Nano (orin-nano)" in text
    assert json.loads(report.json())["jetson"] == "orin-nano"


def test_dla_cores_are_counted_on_an_agx_orin(tmp_path):
    root = (
        FakeRoot(tmp_path / "root")
        .jetson("NVIDIA Jetson AGX Orin Developer Kit", "r39.2.0-orin-agx")
        .file("/sys/devices/platform/13e40000.host1x/15880000.nvdla0/uevent", "")
        .file("/sys/devices/platform/13e40000.host1x/158c0000.nvdla1/uevent", "")
    )
    report = doctor.run(root.system, engines=tmp_path, python=lambda: GOOD_PYTHON)
    assert check(report, "DLA").verdict == "ok"
    assert "2 core(s) (15880000.nvdla0, 158c0000.nvdla1)" in check(report, "DLA").detail
    # JetPack 7.2 expects Python 3.12 and TensorRT 10.16 or 11.4: this 3.10 / 10.3 venv is flagged.
    assert check(report, "Python").verdict == "warn" and "3.12" in check(report, "Python").detail
    assert check(report, "TensorRT").verdict == "warn" and "10.16 / 11.4.1" in check(report, "TensorRT").detail


def test_what_is_missing_comes_with_its_fix(tmp_path):
    root = FakeRoot(tmp_path / "root").jetson("NVIDIA Jetson Xavier NX Developer Kit", "r35.4.1-xavier-nx")
    report = doctor.run(root.system, engines=tmp_path, python=lambda: BAD_PYTHON)
    v = verdicts(report)
    assert report.failed and v["TensorRT"] == "fail"
    assert "python3-libnvinfer" in check(report, "TensorRT").fix
    assert v["L4T / JetPack"] == "warn" and "build.sh" in check(report, "L4T / JetPack").fix
    assert "edgesr build --device xavier-nx" in check(report, "L4T / JetPack").fix
    assert v["Python"] == "warn" and "Python 3.8" in check(report, "Python").detail
    assert v["ONNX Runtime"] == "warn" and "jetson/setup.sh --ort gpu" in check(report, "ONNX Runtime").fix
    assert v["OpenCV video"] == "warn" and "GStreamer" in check(report, "OpenCV video").detail
    assert v["power mode"] == "warn" and v["telemetry"] == "warn" and v["CUDA"] == "warn"
    assert v["DLA"] == "warn"  # the Xavier NX has two, and no device node was found
    assert all(c.fix for c in report.checks if c.verdict in ("warn", "fail"))
    assert "fix: sudo apt install python3-libnvinfer" in report.render()


def test_an_isolated_venv_on_the_right_python_is_flagged(orin_nano, tmp_path):
    isolated = Python(**{**GOOD_PYTHON.__dict__, "system_site_packages": False})
    report = doctor.run(orin_nano.system, engines=tmp_path, python=lambda: isolated)
    assert check(report, "Python").verdict == "warn" and "--system-site-packages" in check(report, "Python").fix


def test_an_unknown_jetson_is_named(tmp_path):
    root = FakeRoot(tmp_path / "root").jetson("NVIDIA Jetson TX1", "r32.7.1-nano")
    report = doctor.run(root.system, engines=tmp_path, python=lambda: GOOD_PYTHON)
    assert check(report, "Jetson module").verdict == "warn" and report.jetson is None


def test_a_host_gets_what_applies(tmp_path):
    report = doctor.run(FakeRoot(tmp_path / "root").system, engines=tmp_path, python=lambda: BAD_PYTHON)
    v = verdicts(report)
    assert not report.failed and report.jetson is None
    assert [name for name, verdict in v.items() if verdict == "n/a"] == [
        "L4T / JetPack",
        "DLA",
        "power mode",
        "clocks",
        "telemetry",
    ]
    assert v["TensorRT"] == "info" and "bundles" in check(report, "TensorRT").detail
    assert v["GPU"] == "info" and v["OpenCV video"] == "ok"
    assert any(line.startswith("build: bundles for every Jetson") for line in report.capabilities)
    assert "not a Jetson" in report.render()


@pytest.mark.parametrize("free, verdict", [(100 << 30, "ok"), (1 << 30, "warn"), (100 << 20, "fail")])
def test_free_disk_in_the_engines_folder(monkeypatch, tmp_path, free, verdict):
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda path: type("Usage", (), {"free": free})())
    report = doctor.run(
        FakeRoot(tmp_path / "root").system, engines=tmp_path / "engines" / "orin", python=lambda: GOOD_PYTHON
    )
    got = check(report, "engines folder")
    assert got.verdict == verdict and "not created yet" in got.detail


def test_opencv_build_information_is_read():
    info = (
        "  Video I/O:\n    DC1394:                      NO\n    FFMPEG:                      YES\n"
        "      avcodec:                   YES (58.54.100)\n    GStreamer:                   YES (1.20.3)\n"
        "    v4l/v4l2:                    YES (linux/videodev2.h)\n\n  Parallel framework:            pthreads\n"
    )
    found = video_io(info)
    assert found["GStreamer"] == "YES (1.20.3)" and found["FFMPEG"] == "YES" and "Parallel framework" not in found


@pytest.mark.skipif(Path("/etc/nv_tegra_release").exists(), reason="this machine is a Jetson")
def test_doctor_on_this_machine(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "not a Jetson" in out and "What edgesr can do here:" in out
    assert main(["doctor", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["jetson"] is None and not data["failed"]
    assert {c["name"] for c in data["checks"]} >= {"TensorRT", "CUDA", "cuDNN", "ONNX Runtime", "power mode"}
