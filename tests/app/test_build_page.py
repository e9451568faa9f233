"""The Build page, and the build worker behind it: stages, cancel without leftovers, one build per target."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from edgesr.app import config as config_mod
from edgesr.app.building import BuildFailed, BuildRequest, expected_stages, run_build
from edgesr.app.workers import Cancelled, Job
from tests.app.conftest import RUN_TIMEOUT, run_until


def page():
    from edgesr.app.pages import build

    build.render()


@pytest.fixture
def out(tmp_path, models_dir, monkeypatch) -> Path:
    """A models folder of its own holding the tiny FP32 model, set as the app's."""
    folder = tmp_path / "engines"
    folder.mkdir()
    shutil.copy(models_dir / "tiny" / "tiny.onnx", folder / "tiny.onnx")
    monkeypatch.setenv(config_mod.ENV, config_mod.AppConfig(models_dir=folder).to_json())
    return folder


def test_widgets_present(out):
    at = AppTest.from_function(page, default_timeout=RUN_TIMEOUT).run()
    assert not at.exception
    assert [s.label for s in at.selectbox][:3] == ["Device", "Model", "Precision"]
    assert at.selectbox[0].value == "cpu"
    assert any("tiny.onnx" in o for o in at.selectbox[1].options)
    assert at.button[0].label == "Build"


@pytest.mark.slow
def test_fp32_build_end_to_end(out):
    at = AppTest.from_function(page, default_timeout=RUN_TIMEOUT).run()
    at.selectbox[1].set_value(next(o for o in at.selectbox[1].options if "tiny.onnx" in o))
    at.selectbox[2].set_value("fp32")
    at.run()
    at.button[0].click()
    at = run_until(at, lambda a: bool(a.success) or bool(a.error), timeout=120)
    assert not at.error, at.error[0].value
    (artifact,) = (out / "cpu").glob("tiny-x2-fp32-*/tiny-x2-fp32-*.onnx")
    assert str(artifact) in at.success[0].value
    assert at.get("download_button")[0].label == f"Download {artifact.parent.name}.zip"


def _request(out: Path, **kw) -> BuildRequest:
    return BuildRequest(device="cpu", out=out, onnx=out / "tiny.onnx", **kw)


def test_stages_follow_the_plan(out):
    assert expected_stages(_request(out, precision="fp32")) == ["convert", "artifact"]
    assert expected_stages(_request(out, precision="int8")) == ["convert", "quantize", "report", "artifact"]


def _start(job: Job, request: BuildRequest) -> tuple[threading.Thread, list]:
    """``run_build`` in a thread; returns when the build process has begun its first stage."""
    outcome: list = []

    def target():
        try:
            outcome.append(run_build(job, request))
        except (Cancelled, BuildFailed) as exc:
            outcome.append(exc)

    worker = threading.Thread(target=target)
    worker.start()
    deadline = time.monotonic() + 60
    while "stages" not in job.detail or job.detail["stages"].state["convert"] == "pending":
        assert time.monotonic() < deadline and worker.is_alive(), outcome
        time.sleep(0.05)
    return worker, outcome


def test_cancel_mid_way_leaves_no_artifact(out):
    job = Job(1, "k", "build")
    worker, outcome = _start(job, _request(out, precision="int8", finetune=0))
    job.cancel()
    worker.join(60)
    assert isinstance(outcome[0], Cancelled)
    device = out / "cpu"
    assert [p for p in device.iterdir() if not p.name.startswith(".")] == []
    assert not list(device.rglob("*.tmp"))


def test_second_build_of_one_target_is_refused(out):
    first = Job(1, "a", "build")
    worker, _ = _start(first, _request(out, precision="int8", finetune=0))
    try:
        with pytest.raises(BuildFailed, match="another edgesr process .* is writing"):
            run_build(Job(2, "b", "build"), _request(out, precision="int8", finetune=0, max_drop=0.2))
    finally:
        first.cancel()
        worker.join(60)
