"""jetson/: the set-up script (syntax, shellcheck, its refusals on fake devices), the systemd unit
(systemd-analyze verify), the env file and the container file."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.jetson.fakes import fixture

JETSON = Path(__file__).resolve().parents[2] / "jetson"
SETUP = JETSON / "setup.sh"
UNIT = JETSON / "edgesr-stream.service"


def test_setup_script_parses():
    subprocess.run(["bash", "-n", str(SETUP)], check=True)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_setup_script_passes_shellcheck():
    done = subprocess.run(["shellcheck", str(SETUP)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout


def run_setup(tmp_path, release=None, model="NVIDIA Jetson AGX Orin Developer Kit", python="3.11", *args):
    """setup.sh against a fake root, with a python3 on PATH that reports ``python``'s version."""
    root = tmp_path / "root"
    (root / "proc" / "device-tree").mkdir(parents=True)
    (root / "proc" / "device-tree" / "model").write_text(model + "\x00")
    if release is not None:
        (root / "etc").mkdir()
        (root / "etc" / "nv_tegra_release").write_text(release)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").write_text(f"#!/bin/sh\necho {python}\n")
    (bin_dir / "python3").chmod(0o755)
    env = {**os.environ, "EDGESR_SYSROOT": str(root), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(["bash", str(SETUP), "--no-apt", *args], capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize(
    "release, words",
    [
        ("r32.7.1-nano", ["JetPack 4", "L4T R32.7.1", "build.sh", "edgesr build --device"]),
        ("r35.4.1-xavier-nx", ["JetPack 5", "L4T R35.4.1", "build.sh", "Python 3.8"]),
    ],
)
def test_setup_refuses_jetpack_5_and_4_with_what_to_do(tmp_path, release, words):
    done = run_setup(tmp_path, fixture(f"nv_tegra_release/{release}.txt"))
    assert done.returncode == 1
    message = done.stderr.strip()
    assert message.startswith("setup: error:") and all(w in message for w in words), message


def test_setup_says_when_this_is_not_a_jetson(tmp_path):
    done = run_setup(tmp_path)
    assert done.returncode == 1 and "this is not a Jetson" in done.stderr and "pip install -e" in done.stderr


@pytest.mark.parametrize(
    "release, model, wanted",
    [
        ("r36.4.3-orin-nano", "NVIDIA Jetson Orin Nano Engineering Reference Developer Kit Super", "3.10"),
        ("r38.2.0-thor", "NVIDIA Jetson AGX Thor Developer Kit", "3.12"),
    ],
)
def test_setup_accepts_jetpack_6_and_7_and_checks_the_python(tmp_path, release, model, wanted):
    done = run_setup(tmp_path, fixture(f"nv_tegra_release/{release}.txt"), model, "3.11")
    assert done.returncode == 1
    assert f"setup: L4T R{release[1:].split('-')[0]} on {model}" in done.stdout
    assert f"the system python3 is 3.11, but this JetPack's TensorRT bindings are built for {wanted}" in done.stderr


def test_setup_refuses_an_unknown_release(tmp_path):
    done = run_setup(tmp_path, "# R99 (release), REVISION: 1.0, GCID: 1, BOARD: generic, EABI: aarch64\n")
    assert done.returncode == 1 and "not a release this script knows" in done.stderr


def test_setup_never_pip_installs_tensorrt():
    for path in (SETUP, JETSON / "Containerfile"):
        text = path.read_text()
        assert not re.search(r"pip[^\n]*install[^\n]*\btensorrt\b", text), path
        assert "--system-site-packages" in text


def test_unit_restarts_logs_to_the_journal_and_reads_the_env_file():
    unit = UNIT.read_text()
    for line in (
        "Restart=on-failure",
        "StandardOutput=journal",
        "StandardError=journal",
        "EnvironmentFile=/etc/edgesr/stream.env",
        "KillSignal=SIGINT",
        "SuccessExitStatus=130",
    ):
        assert line in unit.splitlines()
    used = set(re.findall(r"\$\{?(EDGESR_\w+)", unit))
    defined = {
        line.split("=", 1)[0]
        for line in (JETSON / "stream.env").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used == defined == {"EDGESR_SOURCE", "EDGESR_SINK", "EDGESR_MODEL", "EDGESR_ARGS"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_passes_systemd_analyze_verify(tmp_path):
    # verify also checks that ExecStart exists; /usr/local/bin/edgesr appears only once setup.sh --service
    # has run, so the copy points at a stand-in executable.
    stand_in = tmp_path / "edgesr"
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/edgesr", str(stand_in)))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_container_file_uses_the_l4t_tensorrt_base():
    text = (JETSON / "Containerfile").read_text()
    assert re.search(r"^ARG BASE=nvcr\.io/nvidia/l4t-tensorrt:r10\.3\.0-devel$", text, re.M)
    assert re.search(r"^FROM \$\{BASE\}$", text, re.M)
    assert "onnxruntime-gpu" in text and 'ENTRYPOINT ["edgesr"]' in text
