"""A router scored as one upscaler, and the fit's training data: seeded and per expert."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr import routing
from edgesr.io import images
from edgesr.quality.routing import Experts, RoutedUpscaler, training_scores
from edgesr.quality.scoring import load_upscalers

EXPERTS = ("aidn-rt", "aidn-rt-real", "aidn-da")


@pytest.fixture(scope="module")
def experts() -> Experts:
    return Experts(EXPERTS, "aidn-da")


def test_a_shipped_router_is_an_upscaler_by_name():
    (up,) = load_upscalers(["auto"])
    assert isinstance(up, RoutedUpscaler) and up.name == "auto" and up.scale == 4
    assert up.router.experts == EXPERTS


@pytest.mark.parametrize("chosen", [0, 1, 2])
def test_each_image_goes_through_the_expert_it_picks(experts, chosen):
    weights = np.zeros((65, 3))
    weights[-1, chosen] = 1.0 if chosen else 0.0
    router = routing.Router(EXPERTS, "aidn-da", np.zeros(64), np.ones(64), weights)
    up = RoutedUpscaler("forced", router, experts)
    lr = images.fit(images.read_rgb(images.sample_images()[0]), 24, 32)
    assert np.array_equal(up(lr), experts.upscalers[chosen](lr))
    assert up.picks[EXPERTS[chosen]] == 1 and sum(up.picks.values()) == 1


def test_the_training_scores_are_seeded_and_per_expert(experts, tmp_path):
    for i, path in enumerate(images.sample_images()[:2]):
        images.write_rgb(tmp_path / f"{i}.png", images.read_rgb(path))
    first = training_scores(experts, [tmp_path], per_image=2, crop=64, seed=3)
    again = training_scores(experts, [tmp_path], per_image=2, crop=64, seed=3)
    vectors, scores = first
    assert vectors.shape == (4, 64) and scores.shape == (4, 3) and np.isfinite(scores).all()
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(training_scores(experts, [tmp_path], per_image=2, crop=64, seed=4)[1], scores)
