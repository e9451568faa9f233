"""Shared fixtures: paths to ../shared data (skipping cleanly when absent), tiny ONNX models, photographs."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def pytest_collection_modifyitems(config, items):
    reasons = {
        "trt": None if _have("tensorrt") else "tensorrt is not installed on this machine",
        "gpu": None if _have("torch") and __import__("torch").cuda.is_available() else "no CUDA GPU here",
        "jetson": None if Path("/etc/nv_tegra_release").exists() else "not running on a Jetson",
    }
    for item in items:
        for mark, reason in reasons.items():
            # the marker itself, not any keyword: tests/jetson/ must not read as marked "jetson"
            if reason and item.get_closest_marker(mark) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory) -> Path:
    """The user cache (INT8 builds, resolved routers) of every test, and of the commands they start,
    lives in the session's temporary folder, never in the home folder."""
    folder = tmp_path_factory.mktemp("cache")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder {SHARED} is absent")
    return SHARED


@pytest.fixture(scope="session")
def set5(shared) -> Path:
    return shared / "datasets" / "Set5"


@pytest.fixture(scope="session")
def set14(shared) -> Path:
    return shared / "datasets" / "Set14"


@pytest.fixture(scope="session")
def weights(shared) -> Path:
    return shared / "weights"


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> Path:
    """Three real photographs cut to 64x48, 60x60 and 50x70, in a temporary folder."""
    import numpy as np

    from edgesr.io.images import read_rgb, sample_images, write_rgb

    folder = tmp_path_factory.mktemp("photos")
    for path, (h, w) in zip(sample_images(), [(64, 48), (60, 60), (50, 70)]):
        write_rgb(folder / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[100 : 100 + h, 100 : 100 + w]))
    return folder
