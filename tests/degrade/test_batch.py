"""Batched degradation in torch agrees with the one-image path away from the borders, and is reproducible."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgesr.degrade import degrade, parse  # noqa: E402
from edgesr.degrade.batch import degrade_batch, margin  # noqa: E402
from edgesr.degrade.mix import MIXES, get_mix  # noqa: E402
from edgesr.errors import InputError  # noqa: E402
from edgesr.io.images import read_rgb, sample_images  # noqa: E402

SPECS = [
    "blur=iso:1.2",
    "blur=aniso:2:0.8:30",
    "blur=iso:3,down=bilinear",
    "down=area",
    "blur=gen:1.5:1",
    "blur=iso:2,down=decimate",
    "blur=iso:3.6",
]


@pytest.fixture(scope="module")
def hr() -> np.ndarray:
    return np.ascontiguousarray(read_rgb(sample_images()[1])[:160, :160])


@pytest.mark.parametrize("scale", [2, 4])
def test_batch_equals_one_image_path_inside_the_margin(hr, scale):
    specs = [parse(s) for s in SPECS]
    x = torch.from_numpy(np.stack([hr.transpose(2, 0, 1)] * len(specs))).float()
    lr = degrade_batch(x, specs, scale, torch.Generator().manual_seed(0))
    m = margin(specs, scale)
    for i, d in enumerate(specs):
        ref = degrade(hr, d, scale)[m:-m, m:-m].astype(int)
        got = lr[i].transpose(1, 2, 0)[m:-m, m:-m].astype(int)
        assert np.abs(got - ref).max() <= 1 and (got != ref).mean() < 1e-3, d.text()


def test_batch_noise_is_seeded_and_has_its_sigma():
    flat = torch.full((4, 3, 64, 64), 128.0)
    specs = [parse("noise=10")] * 2 + [parse("noise=grey:5"), parse("shot=8")]
    a = degrade_batch(flat, specs, 1, torch.Generator().manual_seed(1)).astype(float)
    b = degrade_batch(flat, specs, 1, torch.Generator().manual_seed(1)).astype(float)
    assert np.array_equal(a, b)
    assert 9.5 < a[0].std() < 10.5 and np.array_equal(a[2, 0], a[2, 1]) and 7.5 < a[3].std() < 8.5


def test_the_real_mix_draws_every_kind_of_degradation_and_some_clean():
    rng = np.random.default_rng(0)
    draws = [MIXES["real"].sample(rng) for _ in range(400)]
    assert 0.08 < sum(d.is_clean for d in draws) / 400 < 0.22
    assert {d.blur.kind for d in draws if d.blur} == {"iso", "aniso"}
    assert {d.down for d in draws} == {"bicubic", "bilinear", "area"}
    assert any(d.jpeg for d in draws) and any(d.shot for d in draws) and any(d.noise_kind == "grey" for d in draws)
    assert max(d.blur.widest for d in draws if d.blur) > 3.6 and max(d.noise for d in draws) > 10


def test_an_unknown_mix_is_refused_with_the_choices():
    with pytest.raises(
        InputError, match=r"unknown degradation mix 'rael' \(did you mean 'real'\?\); mixes: real, clean"
    ):
        get_mix("rael")
