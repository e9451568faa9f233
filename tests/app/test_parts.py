"""The app's parts without a page: uploads, the catalog, the worker pool, the server's settings."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edgesr.app import server
from edgesr.app.choices import data_folders, discover
from edgesr.app.config import AppConfig
from edgesr.app.uploads import Clip, Picture, UploadError, read_upload
from edgesr.app.workers import CANCELLED, DONE, FAILED, Jobs, key
from edgesr.cli import main
from edgesr.errors import InputError
from edgesr.io.images import read_rgb, sample_images
from tests.app.conftest import png_bytes


def test_upload_type_is_found_by_decoding_not_by_name(tmp_path):
    rgb = read_rgb(sample_images()[0])[:20, :30]
    picture = read_upload("photo.mp4", png_bytes(rgb), tmp_path, 10**6, 10)
    assert isinstance(picture, Picture) and np.array_equal(picture.rgb, rgb)


def test_video_upload_and_a_truncated_one(tmp_path):
    pytest.importorskip("cv2", reason="video needs OpenCV (the video extra)")
    from tests.runtime.media import make_video

    data = make_video(tmp_path / "v.mp4", frames=6).read_bytes()
    (tmp_path / "in").mkdir()
    clip = read_upload("clip.mp4", data, tmp_path / "in", 10**6, 10)
    assert isinstance(clip, Clip) and clip.first_frame.shape == (48, 64, 3) and clip.frames == 6
    with pytest.raises(UploadError, match="neither an image nor a video"):
        read_upload("cut.mp4", data[: len(data) // 3], tmp_path / "in", 10**6, 10)
    with pytest.raises(UploadError, match="up to 5 frames"):
        read_upload("long.mp4", data, tmp_path / "in", 10**6, 5)


def test_missing_models_folder_offers_the_shipped_models(tmp_path):
    cat = discover(tmp_path / "nowhere")
    assert "does not exist" in cat.note and cat.usable and all(e.source == "shipped" for e in cat.usable)


def test_the_default_router_comes_first_as_upscale_runs_it(tmp_path):
    first = discover(tmp_path).usable[0]
    assert first.family == "auto" and first.precision == "int8" and first.path.name.endswith(".router.json")
    assert "one of aidn-rt, aidn-rt-real, aidn-da per picture" in first.label


def test_catalog_families_and_precisions(models_dir):
    cat = discover(models_dir)
    assert [e.precision for e in cat.in_family("tiny")] == ["fp32", "int8"]
    assert [e.path.name for e in cat.unusable] == ["broken.onnx"]


def test_json_files_beside_models_are_not_models_but_a_router_is(tmp_path):
    import shutil

    from edgesr import artifacts

    (tmp_path / "build").mkdir()
    for name in ("model.json", "accuracy-report.json", "bundle.json"):  # sidecars and reports of a build
        (tmp_path / "build" / name).write_text("{}")
    shutil.copyfile(artifacts.resolve("auto").path, tmp_path / "auto.router.json")
    listed = [e.path.name for e in discover(tmp_path).artifacts if e.source == "models folder"]
    assert listed == ["auto.router.json"]


def test_data_folders_are_the_samples_and_configured_ones(hr_folder):
    found = data_folders((hr_folder.parent, Path("/nonexistent")))
    assert found["shipped samples"] == sample_images()[0].parent and found[hr_folder.name] == hr_folder


def test_jobs_keep_results_by_key_and_cancel():
    pool = Jobs(workers=2, keep=2)
    gate = threading.Event()
    calls = []

    def work(job):
        calls.append(1)
        gate.wait(5)
        job.report(0.5, "half")
        return 42

    first = pool.submit(key("a", b"x"), "a", work)
    assert pool.submit(key("a", b"x"), "a", work) is first  # same inputs while running: the same job
    other = pool.submit(key("b"), "b", work)
    other.cancel()
    gate.set()
    _wait(first), _wait(other)
    assert (first.state, first.result, other.state) == (DONE, 42, CANCELLED)
    assert pool.submit(key("a", b"x"), "a", work) is first and len(calls) == 2  # cached by input hash


def test_a_failing_job_reports_one_line():
    pool = Jobs(workers=1)

    def work(job):
        raise InputError("bad input; fix it")

    job = _wait(pool.submit("k", "j", work))
    assert (job.state, job.error) == (FAILED, "bad input; fix it")


def _wait(job):
    deadline = time.monotonic() + 10
    while not job.finished:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return job


def test_server_is_local_with_xsrf_by_default():
    cfg = AppConfig()
    flags = server.flag_options(cfg)
    assert flags["server.address"] == "127.0.0.1" and flags["server.enableXsrfProtection"] is True
    assert flags["server.maxUploadSize"] == 200
    assert "only this machine" in server.banner(cfg)
    assert "every machine" in server.banner(AppConfig(host="0.0.0.0"))


def test_cli_refuses_a_missing_models_folder(tmp_path, capsys):
    assert main(["app", "--models-dir", str(tmp_path / "missing")]) == 1
    assert "models folder" in capsys.readouterr().err


def test_two_users_upscale_at_once_on_one_runner(models_dir):
    from edgesr.app.upscaling import RunnerPool, upscale_picture

    pool, runners = Jobs(workers=2), RunnerPool()
    runner = runners.get(models_dir / "tiny" / "tiny.onnx")
    assert runners.get(models_dir / "tiny" / "tiny.onnx") is runner  # one activated session, shared
    images = [np.ascontiguousarray(read_rgb(p)[:60, :90]) for p in sample_images()[:2]]
    jobs = [
        pool.submit(key(i), f"user {i}", lambda job, im=im: upscale_picture(job, runner, im, (32, 32)))
        for i, im in enumerate(images)
    ]
    for job in jobs:
        assert _wait(job).state == DONE, job.error
        assert job.result.sr.shape == (120, 180, 3) and job.result.tiles > 1
