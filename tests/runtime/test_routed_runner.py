"""A router artifact in the runtime: the frame's degradation picks one of the shipped models, every
tile of the frame goes to it, and the run says how many frames each model took."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgesr import artifacts, routing, shipped
from edgesr.errors import InputError, ModelError
from edgesr.io import images
from edgesr.runtime.onnxruntime_runner import OnnxRuntimeRunner
from edgesr.runtime.routed_runner import RoutedRunner
from edgesr.runtime.runners import RunnerOptions, open_runner
from edgesr.runtime.scene import ReestimatePolicy
from edgesr.runtime.tensors import to_model
from tests.runtime.media import make_video

pytest.importorskip("cv2")
EXPERTS = ("aidn-rt", "aidn-rt-real", "aidn-da")
ENCODING = artifacts.ort_encoding()
FP32_DA = str(shipped.find("aidn-da").onnx)  # the encoder the shipped router routes by


def _file(name: str) -> str:
    return str(shipped.find(name).int8(ENCODING))


def _artifact(tmp_path, bias, *, encoder="aidn-da", files=None, experts=EXPERTS, name="t", encoder_file=FP32_DA):
    """A router that always picks the expert with the largest ``bias`` (its weights are zero)."""
    weights = np.zeros((65, len(experts)))
    weights[-1] = bias
    router = {"experts": list(experts), "encoder": encoder, "mean": [0.0] * 64, "std": [1.0] * 64}
    record = {
        "format": routing.FORMAT,
        "router": {**router, "weights": weights.tolist()},
        "files": files or {e: _file(e) for e in experts},
        **({"encoder_file": encoder_file} if encoder_file is not None else {}),
    }
    path = tmp_path / f"{name}{routing.SUFFIX}"
    path.write_text(json.dumps(record))
    return path


def _frame() -> np.ndarray:
    return images.fit(images.read_rgb(images.sample_images()[1]), 48, 64)


@pytest.mark.parametrize("chosen", [0, 1, 2], ids=EXPERTS)
def test_the_chosen_expert_runs_the_frame(tmp_path, chosen):
    bias = [0.0, 0.0, 0.0]
    bias[chosen] = 1.0 if chosen else 0.0
    frame = _frame()
    with open_runner(_artifact(tmp_path, bias)) as routed:
        assert isinstance(routed, RoutedRunner) and routed.spec.output_table is None
        route = routed.estimate(frame)
        got = routed.infer(to_model(frame[None], routed.spec), route)
        assert route.expert == chosen and routed.scene.routes[EXPERTS[chosen]] == 1
    alone = OnnxRuntimeRunner(_file(EXPERTS[chosen]), RunnerOptions(lookup_output=False))
    with alone:
        condition = alone.estimate(frame) if alone.scene is not None else None
        want = alone.infer(to_model(frame[None], alone.spec), condition)
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_without_a_route_the_batch_picks_its_own(tmp_path):
    frame = _frame()
    with open_runner(_artifact(tmp_path, [0.0, 1.0, 0.0])) as routed:
        batch = to_model(frame[None], routed.spec)
        np.testing.assert_allclose(routed.infer(batch), routed.infer(batch, routed.estimate(frame)), atol=1e-6)


def test_a_video_run_counts_the_frames_of_each_model(tmp_path, capsys):
    from edgesr.cli import main

    video = make_video(tmp_path / "in.mp4", frames=6)
    argv = ["upscale", str(video), "-o", str(tmp_path / "o.mp4"), "--no-progress"]
    assert main(argv + ["-m", str(_artifact(tmp_path, [0.0, 0.0, 1.0]))]) == 0
    captured = capsys.readouterr()
    assert "frames per model: aidn-da 6" in captured.out + captured.err


@pytest.mark.parametrize(
    "change, message",
    [
        ({"encoder": "aidn-rt"}, "aidn-rt has no degradation encoder to route by"),
        ({"files": {"aidn-rt": "/nowhere/x.onnx", "aidn-rt-real": "a", "aidn-da": "b"}}, "is missing"),
        ({"files": {"aidn-rt": "x.engine", "aidn-rt-real": "a", "aidn-da": "b"}}, "a router runs .onnx models"),
    ],
)
def test_a_broken_router_is_one_line(tmp_path, capsys, change, message):
    from edgesr.cli import main
    from tests.runtime.test_cli import one_error_line

    files = {e: _file(e) for e in EXPERTS}
    files.update(change.get("files", {}))
    path = _artifact(tmp_path, [0.0, 0.0, 0.0], encoder=change.get("encoder", "aidn-da"), files=files)
    video = make_video(tmp_path / "in.mp4", frames=2)
    assert main(["upscale", str(video), "-o", str(tmp_path / "o.mp4"), "--no-progress", "-m", str(path)]) == 1
    assert message in one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "o.mp4").exists()


def test_experts_that_make_other_images_are_refused(tmp_path):
    from tests.tiny_models import save, sr_model

    x2 = save(sr_model(scale=2), tmp_path / "x2.onnx")
    da = _file("aidn-da")
    path = _artifact(tmp_path, [0.0, 0.0], experts=("x2", "aidn-da"), files={"x2": str(x2), "aidn-da": da})
    with pytest.raises(ModelError, match="differ in scale"):
        open_runner(path).activate()


def test_an_encoder_option_is_refused(tmp_path):
    with pytest.raises(InputError, match="--encoder does not apply"):
        open_runner(_artifact(tmp_path, [0.0, 0.0, 0.0]), RunnerOptions(encoder="e.onnx")).activate()


def test_a_json_that_is_no_router_is_one_line(tmp_path, capsys):
    from edgesr.cli import main
    from tests.runtime.test_cli import one_error_line

    other = tmp_path / "notes.json"
    other.write_text('{"hello": 1}')
    video = make_video(tmp_path / "in.mp4", frames=2)
    assert main(["upscale", str(video), "-o", str(tmp_path / "o.mp4"), "--no-progress", "-m", str(other)]) == 1
    assert "no runner for '.json' files" in one_error_line(capsys.readouterr().err)
    fake = tmp_path / "notes.router.json"
    fake.write_text('{"hello": 1}')
    assert main(["upscale", str(video), "-o", str(tmp_path / "o.mp4"), "--no-progress", "-m", str(fake)]) == 1
    assert "not an edgesr router" in one_error_line(capsys.readouterr().err)


def test_the_shipped_router_picks_at_run_time_what_it_picked_when_measured(tmp_path):
    """Its INT8 models run, but the route comes from the FP32 encoder it was fitted with."""
    from edgesr.degrade import degrade
    from edgesr.degrade.spec import GRID, PRESETS
    from edgesr.quality.routing import Experts

    path = artifacts.resolve("auto").path
    router, _, record = routing.read_artifact(path)
    assert record["encoder_file"] == str(shipped.find("aidn-da").onnx.resolve())
    measured = Experts(router.experts, router.encoder)
    hr = images.fit(images.read_rgb(images.sample_images()[0]), 192, 256)
    with open_runner(path, RunnerOptions(reestimate=ReestimatePolicy(every=1))) as routed:  # each picture its own
        for i, name in enumerate(GRID):
            lr = degrade(hr, PRESETS[name], 4, seed=i)
            assert routed.estimate(lr).expert == router.pick(measured.vector(lr)), name


def test_the_blind_expert_gets_its_own_representation_not_the_routing_one(tmp_path):
    frame = _frame()
    with open_runner(_artifact(tmp_path, [0.0, 0.0, 1.0])) as routed:
        route = routed.estimate(frame)
        assert routed.scene is not routed.experts[2].scene and route.expert == 2
        got = routed.infer(to_model(frame[None], routed.spec), route)
        np.testing.assert_allclose(routed.infer(to_model(frame[None], routed.spec)), got, atol=1e-6)
    with OnnxRuntimeRunner(_file("aidn-da"), RunnerOptions(lookup_output=False)) as alone:
        want = alone.infer(to_model(frame[None], alone.spec), alone.estimate(frame))
    np.testing.assert_allclose(got, want, atol=1e-6)


@pytest.mark.parametrize(
    "encoder_file, message",
    [
        ("nope.onnx", "is missing"),
        (str(shipped.find("aidn-rt").onnx), "holds no degradation encoder"),
        ("", "names no encoder_file"),
    ],
)
def test_a_bad_routing_encoder_is_refused(tmp_path, encoder_file, message):
    given = (
        None if encoder_file == "" else str(tmp_path / encoder_file) if encoder_file == "nope.onnx" else encoder_file
    )
    with pytest.raises(ModelError, match=message):
        open_runner(_artifact(tmp_path, [0.0, 0.0, 0.0], encoder_file=given)).activate()


@pytest.mark.parametrize("chosen", [0, 2], ids=["aidn-rt", "aidn-da"])
def test_a_picture_gets_one_route_for_all_its_tiles_without_touching_the_scene(tmp_path, chosen):
    from edgesr.runtime.tiling import Tiler

    bias = [0.0, 0.0, 1.0] if chosen else [0.0, 0.0, 0.0]
    frame = images.fit(images.read_rgb(images.sample_images()[1]), 96, 128)
    with open_runner(_artifact(tmp_path, bias)) as routed:
        condition = routed.picture_condition(frame)
        assert condition.expert == chosen and routed.scene.estimates == 0
        tiler = Tiler(routed.spec, (48, 64))
        batch, plan = tiler.split(frame)
        tiled = tiler.stitch(
            np.concatenate([routed.infer(batch[i : i + 1], condition) for i in range(plan.count)]), plan
        )
        whole = Tiler(routed.spec)
        b, p = whole.split(frame)
        assert np.abs(tiled.astype(int) - whole.stitch(routed.infer(b, condition), p)).max() <= 1


def test_each_image_of_a_folder_gets_its_own_route_and_representation(tmp_path):
    from edgesr.io.sinks import NullSink
    from edgesr.io.sources import open_source
    from edgesr.runtime.streaming import Pipeline

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(3):  # alike enough to pass for one scene, yet separate pictures
        images.write_rgb(folder / f"{i}.png", _frame() // 2 + i)
    artifact = _artifact(tmp_path, [0.0, 0.0, 1.0])
    with open_runner(artifact) as routed:
        seen = []
        blind = routed.experts[2]
        original = blind.estimate
        blind.estimate = lambda image: seen.append(blind.scene.policy.every) or original(image)
        with open_source(str(folder)) as source, NullSink("null://") as sink:
            result = Pipeline(source, routed, sink)()
    assert result.stats["degradation"]["estimates"] == 3 and result.stats["degradation"]["routes"]["aidn-da"] == 3
    assert blind.scene.estimates == 3 and seen == [1, 1, 1]
