"""Training pairs: aligned patches, a reproducible stream, the LR cache."""

from __future__ import annotations

import numpy as np
import pytest

from edgesr.errors import InputError
from edgesr.quality import prepare
from edgesr.train import data as train_data
from edgesr.train.data import LRCache, PatchSampler, load_training_set


def test_patches_are_aligned_protocol_pairs(train_dir, tmp_path):
    scale, patch = 2, 10
    ts = load_training_set((str(train_dir),), scale, LRCache(tmp_path))
    sampler = PatchSampler(ts, list(range(len(ts.pairs))), patch, batch=16, seed=3, stage=0)
    lr, hr = sampler(0)
    assert lr.shape == (16, 3, patch, patch) and hr.shape == (16, 3, scale * patch, scale * patch)
    assert lr.dtype == hr.dtype == np.uint8
    # Away from the patch border (the bicubic kernel's reach), the LR patch is the protocol's LR of the HR patch,
    # whatever flip or rotation the pair got.
    for a, b in zip(lr, hr):
        remade, _ = prepare(np.ascontiguousarray(b.transpose(1, 2, 0)), scale)
        inner = (slice(3, -3), slice(3, -3))
        assert np.abs(remade[inner].astype(int) - a.transpose(1, 2, 0)[inner].astype(int)).max() <= 1


def test_stream_depends_on_seed_stage_and_iteration_only(train_dir, tmp_path):
    ts = load_training_set((str(train_dir),), 2, None)
    a = PatchSampler(ts, [0, 1, 2, 3], 8, 4, seed=0, stage=1)
    b = PatchSampler(ts, [0, 1, 2, 3], 8, 4, seed=0, stage=1)
    b(0), b(1)  # drawing other batches first changes nothing
    assert all(np.array_equal(x, y) for x, y in zip(a(5), b(5)))
    assert not np.array_equal(a(5)[0], a(6)[0])
    assert not np.array_equal(a(5)[0], PatchSampler(ts, [0, 1, 2, 3], 8, 4, seed=1, stage=1)(5)[0])


def test_lr_cache_is_reused(train_dir, tmp_path, monkeypatch):
    first = load_training_set((str(train_dir),), 2, LRCache(tmp_path))
    assert len(list(tmp_path.glob("*_x2_matlab-bicubic.npy"))) == len(first.pairs)

    def fail(*_):
        raise AssertionError("LR made again instead of read from the cache")

    monkeypatch.setattr(train_data, "prepare", fail)
    again = load_training_set((str(train_dir),), 2, LRCache(tmp_path))
    assert again.fingerprint == first.fingerprint
    assert all(np.array_equal(p.lr, q.lr) and np.array_equal(p.hr, q.hr) for p, q in zip(first.pairs, again.pairs))


def test_sampler_needs_images(train_dir):
    ts = load_training_set((str(train_dir),), 2, None)
    assert ts.fitting(20) == list(range(6)) and ts.fitting(21) == []
    with pytest.raises(InputError, match="no training image"):
        PatchSampler(ts, [], 21, 4, 0, 0)
