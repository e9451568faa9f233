"""The representation of a stream's degradation: once per scene, again every N frames, never another model's."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr.errors import InputError, ModelError
from edgesr.runtime.scene import ReestimatePolicy, Representation, SceneRepresentation, check_pair, thumbnail


def _frames(value: float, n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.clip(value + 0.02 * rng.standard_normal((1, 3, 36, 64)), 0, 1).astype(np.float32) for _ in range(n)]


def _counting():
    calls = []

    def encode(frame):
        calls.append(frame)
        return np.full((1, 4), len(calls), np.float32)

    return calls, encode


def test_estimated_on_the_first_frame_then_every_n_frames():
    calls, encode = _counting()
    scene = SceneRepresentation(encode, "p", policy=ReestimatePolicy(every=4))
    reps = [scene(f).vector[0, 0] for f in _frames(0.5, 10)]
    assert reps == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3]  # noise alone is no scene change
    assert scene.estimates == len(calls) == 3 and scene.scene_changes == 0


def test_a_scene_change_estimates_at_once():
    calls, encode = _counting()
    scene = SceneRepresentation(encode, "p", policy=ReestimatePolicy(every=30, scene_threshold=0.1))
    reps = [scene(f).vector[0, 0] for f in _frames(0.2, 5) + _frames(0.8, 5, seed=1)]
    assert reps == [1] * 5 + [2] * 5
    assert scene.scene_changes == 1 and scene.estimates == 2


def test_a_representation_of_another_model_is_refused():
    rep = Representation(np.zeros((1, 4), np.float32), "aaaa")
    assert check_pair(rep, "aaaa") is rep.vector
    with pytest.raises(ModelError, match="another model's encoder"):
        check_pair(rep, "bbbb")


@pytest.mark.parametrize("every", [0, -3, 2.5, True])
def test_reestimate_every_must_be_a_positive_whole_number(every):
    with pytest.raises(InputError, match="--reestimate-every"):
        ReestimatePolicy(every=every)


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5, float("nan")])
def test_scene_threshold_must_lie_in_its_range(threshold):
    with pytest.raises(InputError, match="--scene-threshold"):
        ReestimatePolicy(scene_threshold=threshold)


def test_thumbnail_of_small_and_large_frames():
    assert thumbnail(np.ones((1, 3, 5, 7), np.float32)).shape == (5, 7)
    assert thumbnail(np.ones((1, 3, 180, 320), np.float32)).shape == (18, 32)


def test_a_pan_is_one_scene_and_a_cut_is_another():
    """Against the previous frame: a pan over a detailed photograph never adds up to a scene change."""
    from edgesr.io.images import fit, read_rgb, sample_images

    photos = [read_rgb(p) for p in sample_images()[:2]]
    pan = fit(photos[0], 180, 320 + 4 * 30)
    frames = [pan[:, 4 * i : 4 * i + 320] for i in range(30)] + [fit(photos[1], 180, 320)]
    calls, encode = _counting()
    scene = SceneRepresentation(encode, "p", value_range=255.0, policy=ReestimatePolicy(every=100))
    for f in frames:
        scene(f[None].transpose(0, 3, 1, 2))
    assert scene.estimates == 2 and scene.scene_changes == 1
