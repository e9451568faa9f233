"""A small folder of real photographs for the quality tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgesr.io.images import read_rgb, sample_images, write_rgb


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> Path:
    """Three real photographs cut to 64x48, 60x60 and 50x70, in a temporary folder."""
    folder = tmp_path_factory.mktemp("photos")
    for path, (h, w) in zip(sample_images(), [(64, 48), (60, 60), (50, 70)]):
        write_rgb(folder / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[100:100 + h, 100:100 + w]))
    return folder
