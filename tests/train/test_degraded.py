"""Training on degraded LR: patches made on the fly, reproducible, resumable, and refused when misspelt."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest
import torch

from edgesr.errors import InputError
from edgesr.io.images import read_rgb, sample_images, write_rgb
from edgesr.train import resume, train
from edgesr.train.data import load_training_set
from edgesr.train.degraded import DegradedPatchSampler

SPEC = "noise=8,jpeg=60"  # no blur: a small margin, so the tiny crops hold a patch


@pytest.fixture(scope="module")
def big_dir(tmp_path_factory) -> Path:
    """Two 160x160 crops of real photographs: room for the real mix's margin at x2."""
    folder = tmp_path_factory.mktemp("big")
    for path in sample_images()[:2]:
        write_rgb(folder / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[40:200, 40:200]))
    return folder


def test_sampler_is_seeded_degrades_lr_and_keeps_hr_aligned(big_dir):
    data = load_training_set((str(big_dir),), 2, None)
    make = lambda: DegradedPatchSampler(data, [0, 1], 12, 4, seed=0, stage=0, degrade="real")  # noqa: E731
    lr, hr = make()(5)
    again, _ = make()(5)
    other, _ = make()(6)
    assert lr.shape == (4, 3, 12, 12) and hr.shape == (4, 3, 24, 24) and lr.dtype == hr.dtype == np.uint8
    assert np.array_equal(lr, again) and not np.array_equal(lr, other)
    # every HR patch is a crop of one of the training images
    full = [p.hr for p in data.pairs]
    for patch in hr.transpose(0, 2, 3, 1):
        assert any(_contains(img, patch) for img in full)


def _contains(img: np.ndarray, patch: np.ndarray) -> bool:
    for turn in range(8):
        p = np.rot90(patch[:, ::-1] if turn >= 4 else patch, -(turn % 4), axes=(0, 1))
        hits = np.argwhere((img[:, :, 0] == p[0, 0, 0]) & (img[:, :, 1] == p[0, 0, 1]))
        for y, x in hits:
            if img[y : y + p.shape[0], x : x + p.shape[1]].shape == p.shape and np.array_equal(
                img[y : y + p.shape[0], x : x + p.shape[1]], p
            ):
                return True
    return False


def test_a_fixed_degradation_is_what_the_lr_carries(big_dir):
    data = load_training_set((str(big_dir),), 2, None)
    lr, hr = DegradedPatchSampler(data, [0, 1], 12, 8, seed=0, stage=0, degrade="noise=20")(0)
    smooth = torch.nn.functional.avg_pool2d(torch.from_numpy(hr).float(), 2).numpy()
    assert 15 < (lr.astype(float) - smooth).std() < 25  # the noise, not the image, dominates the difference


def test_a_degraded_run_trains_resumes_exactly_and_records_its_lr(config, tmp_path):
    whole = train(config(out=str(tmp_path / "whole"), degrade=SPEC))
    assert whole.complete and whole.summary["data"]["lr_method"] == f"degraded: {SPEC}"
    assert len(whole.summary["val_history"]) >= 2

    def stop(state) -> None:
        if state.step == 4:
            signal.raise_signal(signal.SIGINT)

    part = train(config(out=str(tmp_path / "part"), degrade=SPEC), on_step=stop)
    assert not part.complete
    done = resume(part.checkpoint)
    a, b = (torch.load(r.weights, weights_only=True) for r in (whole, done))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_starts_from_given_weights(config, tmp_path):
    first = train(config(out=str(tmp_path / "a")))
    second = train(
        config(out=str(tmp_path / "b"), init=str(first.weights), iterations=(1,), lr=1e-9, min_lr=1e-9, ema=0.0)
    )
    a, b = (torch.load(r.weights, weights_only=True) for r in (first, second))
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)


@pytest.mark.parametrize("text, words", [("rael", "did you mean 'real'"), ("jpeg=0", "from 1 to 100")])
def test_a_bad_degradation_is_refused_before_training(config, text, words):
    with pytest.raises(InputError, match=words):
        train(config(degrade=text))
