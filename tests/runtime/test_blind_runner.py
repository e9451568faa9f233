"""A blind-SR model in the runtime: the degradation estimated on the whole frame, reused across a scene."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from edgesr import models
from edgesr.errors import InputError, ModelError
from edgesr.export import export_onnx
from edgesr.onnx.sessions import session
from edgesr.onnx.split_encoder import split
from edgesr.runtime.jobs import upscale
from edgesr.runtime.onnxruntime_runner import OnnxRuntimeRunner
from edgesr.runtime.runners import RunnerOptions
from edgesr.runtime.scene import ReestimatePolicy
from edgesr.runtime.tensorrt_runner import TensorRTRunner
from tests.runtime.media import make_video


def _blind(path, seed: int):
    torch.manual_seed(seed)
    net = models.create("aidn-da", channels=8, convs=3, rep=8, encoder_channels=4, modulated=2)
    for p in net.attention.parameters():  # trained-looking attention: the representation matters
        torch.nn.init.normal_(p, std=0.3)
    export_onnx(models.deployed(net.eval()), path)
    return path


@pytest.fixture(scope="module")
def blind(tmp_path_factory):
    return _blind(tmp_path_factory.mktemp("blind") / "da.onnx", 0)


@pytest.fixture(scope="module")
def other(tmp_path_factory):
    """Another model of the same architecture (other weights)."""
    return _blind(tmp_path_factory.mktemp("other") / "other.onnx", 1)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A model without a degradation encoder."""
    path = tmp_path_factory.mktemp("plain") / "rt.onnx"
    export_onnx(models.create("aidn-rt", channels=8, convs=2).eval(), path)
    return path


@pytest.fixture(scope="module")
def parts(blind, tmp_path_factory):
    return split(blind, tmp_path_factory.mktemp("parts"))


def _frame(seed: int = 0, h: int = 24, w: int = 40) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _as_input(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255)


def test_the_frame_representation_gives_the_one_graph_output(blind):
    image = _frame()
    whole = session(str(blind)).run(None, {"input": _as_input(image)})[0]
    with OnnxRuntimeRunner(blind) as runner:
        assert runner.scene is not None and "split in memory" in runner.spec.notes[-1]
        condition = runner.estimate(image)
        assert np.abs(runner.infer(_as_input(image), condition) - whole).max() <= 1e-5
        # without a condition each image of a batch gets its own estimate, as the one graph does
        assert np.abs(runner.infer(_as_input(image)) - whole).max() <= 1e-5


def test_split_files_run_with_the_encoder_beside_them_or_named(parts, blind):
    image = _frame(1)
    whole = session(str(blind)).run(None, {"input": _as_input(image)})[0]
    for options in (RunnerOptions(), RunnerOptions(encoder=str(parts.encoder))):
        with OnnxRuntimeRunner(parts.conditional, options) as runner:
            out = runner.infer(_as_input(image), runner.estimate(image))
            assert np.abs(out - whole).max() <= 1e-5


def test_a_scene_reuses_its_representation_and_a_new_scene_gets_its_own(blind):
    with OnnxRuntimeRunner(blind, RunnerOptions(reestimate=ReestimatePolicy(every=4, scene_threshold=0.2))) as runner:
        first = runner.estimate(_frame(0))
        again = [runner.estimate(_frame(0)) for _ in range(3)]
        assert all(r is first for r in again) and runner.scene.estimates == 1
        assert runner.estimate(_frame(0)) is not first  # the fifth frame: every 4
        dark = np.zeros_like(_frame(0))
        runner.estimate(dark)  # a cut to another scene
        assert runner.scene.estimates == 3 and runner.scene.scene_changes == 1


def test_a_video_through_the_pipeline_counts_its_estimates(blind, tmp_path):
    video = make_video(tmp_path / "in.mp4", frames=12)
    result = upscale(
        video,
        tmp_path / "out.mp4",
        blind,
        progress=False,
        runner=RunnerOptions(reestimate=ReestimatePolicy(every=5, scene_threshold=1.0)),
    )
    assert result.stats["frames_written"] == 12
    assert result.stats["degradation"] == {
        "estimates": 3,
        "scene_changes": 0,
        "reestimate_every": 5,
        "scene_threshold": 1.0,
    }


def test_tiles_of_one_frame_share_the_frame_representation(blind, tmp_path):
    """Tiled, every tile is upscaled with the whole frame's estimate, so the tiled frames equal the
    untiled ones (the overlap covers the receptive field); a per-tile estimate would differ."""
    from edgesr.io.images import read_rgb

    video = make_video(tmp_path / "in.mp4", frames=3, size=(64, 48))
    once = RunnerOptions(reestimate=ReestimatePolicy(every=30, scene_threshold=1.0))
    runs = {
        name: upscale(video, tmp_path / name, blind, progress=False, runner=once, tile=tile)
        for name, tile in (("whole", None), ("tiled", (32, 40)))
    }
    assert [r.stats["degradation"]["estimates"] for r in runs.values()] == [1, 1]
    for path in sorted((tmp_path / "whole").iterdir()):
        whole, tiled = read_rgb(path).astype(int), read_rgb(tmp_path / "tiled" / path.name).astype(int)
        assert np.abs(whole - tiled).max() <= 1


def test_bad_blind_options_are_refused_in_one_line(blind, parts, other, plain, tmp_path):
    for every in (0, -3):
        with pytest.raises(InputError, match="--reestimate-every"):
            ReestimatePolicy(every=every)
    for threshold in (0.0, -0.5, 1.5):
        with pytest.raises(InputError, match="--scene-threshold"):
            ReestimatePolicy(scene_threshold=threshold)
    with pytest.raises(InputError, match="no degradation encoder"):
        OnnxRuntimeRunner(plain, RunnerOptions(reestimate=ReestimatePolicy())).activate()
    with pytest.raises(InputError, match="drop --encoder"):
        OnnxRuntimeRunner(blind, RunnerOptions(encoder=str(parts.encoder))).activate()
    theirs = split(other, tmp_path / "other")
    with pytest.raises(ModelError, match="belongs to another model"):
        OnnxRuntimeRunner(parts.conditional, RunnerOptions(encoder=str(theirs.encoder))).activate()
    with pytest.raises(ModelError, match="encoder graph of a blind-SR model"):
        OnnxRuntimeRunner(parts.encoder).activate()
    with pytest.raises(InputError, match="runs on ONNX Runtime"):
        TensorRTRunner(tmp_path / "m.engine", RunnerOptions(reestimate=ReestimatePolicy())).activate()


def test_a_representation_from_another_model_is_refused(blind, other):
    with OnnxRuntimeRunner(other) as theirs, OnnxRuntimeRunner(blind) as mine:
        foreign = theirs.estimate(_frame())
        with pytest.raises(ModelError, match="another model's encoder"):
            mine.infer(_as_input(_frame()), foreign)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--reestimate-every", "0"], "--reestimate-every 0: give a whole number"),
        (["--reestimate-every", "-2"], "--reestimate-every -2: give a whole number"),
        (["--scene-threshold", "0"], "--scene-threshold 0.0: give a share"),
        (["--scene-threshold", "2"], "--scene-threshold 2.0: give a share"),
        (["-m", "{plain}", "--reestimate-every", "5"], "has no degradation encoder"),
        (["-m", "{encoder}"], "is the encoder graph of a blind-SR model"),
        (["-m", "{conditional}", "--encoder", "{foreign}"], "belongs to another model"),
    ],
)
def test_bad_blind_input_through_the_cli_is_one_line(blind, parts, other, plain, tmp_path, capsys, extra, message):
    from edgesr.cli import main
    from tests.runtime.test_cli import one_error_line

    foreign = split(other, tmp_path / "other").encoder
    names = {"plain": plain, "encoder": parts.encoder, "conditional": parts.conditional, "foreign": foreign}
    video = make_video(tmp_path / "in.mp4", frames=2)
    argv = ["upscale", str(video), "-o", str(tmp_path / "o.mp4"), "--no-progress", "-m", str(blind)]
    assert main(argv + [a.format(**names) for a in extra]) == 1
    assert message in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o.mp4").exists()


def test_a_stream_reports_its_estimates(blind, tmp_path, capsys):
    import json

    from edgesr.cli import main

    video = make_video(tmp_path / "in.mp4", frames=10)  # a file never drops a frame
    argv = ["stream", "--source", str(video), "--sink", "null://", "-m", str(blind)]
    assert main(argv + ["--max-frames", "10", "--reestimate-every", "4", "--scene-threshold", "1"]) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{") :])
    assert report["frames_written"] == 10 and report["degradation"]["estimates"] == 3


def test_each_image_of_a_folder_gets_its_own_estimate(blind, tmp_path):
    from edgesr.io.images import write_rgb

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):  # alike enough to pass for one scene, yet separate pictures
        write_rgb(folder / f"{i}.png", _frame(0) // 2 + i)
    result = upscale(folder, tmp_path / "out", blind, progress=False)
    assert result.stats["degradation"]["estimates"] == 3
