"""The drop estimate the budget fits: measured, expected from the output noise, and on clean content."""

import math

import numpy as np
import pytest

from edgesr.quality.metrics import psnr_y
from edgesr.quality.upscalers import to_uint8
from edgesr.quantize.budget.evaluate import Outputs, compare


def test_the_same_noise_costs_more_on_the_cleaner_images():
    rng = np.random.default_rng(0)
    reference = [rng.random((40, 40, 3), dtype=np.float32) for _ in range(4)]
    candidate = [np.clip(r + rng.normal(0, 0.01, r.shape).astype(np.float32), 0, 1) for r in reference]
    ref_psnr = [26.0, 38.0, 27.0, 36.0]  # two textured images, two clean ones
    d = compare(Outputs(reference, ref_psnr), Outputs(candidate, [p - 0.01 for p in ref_psnr]), 1.0, scale=4)

    per_image = [
        10 * math.log10(1 + 10 ** ((p - psnr_y(to_uint8(c, 1.0), to_uint8(r, 1.0), 4)) / 10))
        for r, c, p in zip(reference, candidate, ref_psnr)
    ]
    assert d.expected == pytest.approx(np.mean(per_image))
    assert d.clean == pytest.approx((per_image[1] + per_image[3]) / 2)
    assert d.clean > d.expected > d.measured == pytest.approx(0.01)
    assert d.hard == pytest.approx(max(per_image)) and d.drop == d.hard  # a third of four images: the worst one
    assert d.as_dict()["clean_half_drop_db"] == round(d.clean, 4)


def test_without_a_scale_only_the_measured_drop_counts():
    a = [np.zeros((8, 8, 3), np.float32)]
    d = compare(Outputs(a, [30.0]), Outputs(a, [29.9]), 1.0)
    assert d.expected == d.clean == 0.0 and d.drop == pytest.approx(0.1)


def test_latency_rotates_the_order_so_no_model_runs_twice_in_a_row(monkeypatch):
    from edgesr.quantize.budget import evaluate

    calls = []

    class Fake:
        def __init__(self, model, **kw):
            self.name = model
            assert kw["spinning"] is False  # no idle spin onto the next model

        def raw(self, x):
            calls.append(self.name)

    monkeypatch.setattr(evaluate, "Runner", Fake)
    lat = evaluate.latency({"a": "a", "b": "b", "c": "c"}, shape=(4, 4), rounds=6, warmup=0)
    assert set(lat.median_ms) == {"a", "b", "c"}
    assert all(x != y for x, y in zip(calls, calls[1:]))
    rounds = [calls[i : i + 3] for i in range(0, len(calls), 3)]
    for pos in range(3):  # every model in every position equally often
        assert sorted(r[pos] for r in rounds) == ["a", "a", "b", "b", "c", "c"]


def test_an_image_int8_hurts_most_raises_the_estimate_through_the_harder_half():
    rng = np.random.default_rng(1)
    reference = [rng.random((40, 40, 3), dtype=np.float32) for _ in range(6)]
    noise = [0.004, 0.004, 0.004, 0.004, 0.004, 0.03]  # the last is screen content: several times the noise
    candidate = [np.clip(r + rng.normal(0, s, r.shape).astype(np.float32), 0, 1) for r, s in zip(reference, noise)]
    ref_psnr = [30.0, 31.0, 32.0, 33.0, 34.0, 28.0]
    d = compare(Outputs(reference, ref_psnr), Outputs(candidate, ref_psnr), 1.0, scale=4)
    per_image = sorted(
        10 * math.log10(1 + 10 ** ((p - psnr_y(to_uint8(c, 1.0), to_uint8(r, 1.0), 4)) / 10))
        for r, c, p in zip(reference, candidate, ref_psnr)
    )
    assert d.hard == pytest.approx(np.mean(per_image[-2:]))
    assert d.hard > d.clean and d.hard > d.expected and d.drop == d.hard
    record = d.as_dict()
    assert record["hard_third_drop_db"] == round(d.hard, 4) and record["margin_db"] == round(d.drop - d.expected, 4)
