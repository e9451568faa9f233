"""Tiny training data cut from the shipped photos, and a tiny run configuration."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from edgesr.io.images import read_rgb, sample_images, write_rgb
from edgesr.train import TrainConfig


def _crops(folder: Path, size: int, offsets: list[int]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for path in sample_images()[:3]:
        rgb = read_rgb(path)
        for k in offsets:
            write_rgb(folder / f"{path.stem}_{k}.png", np.ascontiguousarray(rgb[k : k + size, k : k + size]))
    return folder


@pytest.fixture(scope="session")
def train_dir(tmp_path_factory) -> Path:
    """Six 40x40 crops of real photographs."""
    return _crops(tmp_path_factory.mktemp("train") / "crops", 40, [60, 200])


@pytest.fixture(scope="session")
def val_dir(tmp_path_factory) -> Path:
    """Two 24x24 crops, held out (from elsewhere in the photos)."""
    return _crops(tmp_path_factory.mktemp("val") / "held_out", 24, [250])


@pytest.fixture
def config(train_dir, val_dir, tmp_path):
    """A two-stage x2 run of a very small ESPCN: twelve iterations, a second or two on a CPU."""

    def make(**changes) -> TrainConfig:
        base = TrainConfig(
            arch="espcn",
            data=(str(train_dir),),
            out=str(tmp_path / "run"),
            scale=2,
            stages=(8, 12),
            batch=4,
            iterations=(6,),
            lr=3e-3,
            val=str(val_dir),
            log_every=2,
            model={"channels": 8, "mid_channels": 4},
            cache_dir=str(tmp_path / "cache"),
        )
        return dataclasses.replace(base, **changes)

    return make
