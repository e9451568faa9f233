"""A models folder of tiny x2 models (FP32, its INT8 copy, a corrupt file), HR photographs, and the
app's settings pointing at them."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit", reason="the app extra is not installed: pip install -e '.[app]'")

from edgesr.app import config as config_mod  # noqa: E402
from edgesr.io.images import read_rgb, sample_images, write_rgb  # noqa: E402
from edgesr.onnx.rewrite_bicubic import rewrite_bicubic_resizes  # noqa: E402
from edgesr.quality import prepare  # noqa: E402
from tests.report.candidates import to_int8  # noqa: E402
from tests.tiny_models import save, sr_model  # noqa: E402

SCALE = 2
RUN_TIMEOUT = 60


@pytest.fixture(scope="session")
def hr_folder(tmp_path_factory) -> Path:
    """Three real photographs cut to 64x48, 60x60 and 50x70."""
    folder = tmp_path_factory.mktemp("hr")
    for path, (h, w) in zip(sample_images(), [(64, 48), (60, 60), (50, 70)]):
        write_rgb(folder / f"{path.stem}.png", np.ascontiguousarray(read_rgb(path)[100 : 100 + h, 100 : 100 + w]))
    return folder


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory, hr_folder) -> Path:
    """tiny/tiny.onnx (FP32, a bicubic skip), tiny/tiny_int8.onnx, and broken.onnx (not ONNX)."""
    root = tmp_path_factory.mktemp("models")
    (root / "tiny").mkdir()
    reference = sr_model(scale=SCALE, bicubic_skip=True)
    rewrite_bicubic_resizes(reference)
    fp32 = save(reference, root / "tiny" / "tiny.onnx")
    calibration = [
        np.ascontiguousarray(prepare(read_rgb(p), SCALE)[0].transpose(2, 0, 1)[None] / np.float32(255))
        for p in sorted(hr_folder.iterdir())
    ]
    to_int8(fp32, root / "tiny" / "tiny_int8.onnx", calibration)
    (root / "broken.onnx").write_bytes(b"this is not a model")
    return root


@pytest.fixture
def app_config(monkeypatch, models_dir, hr_folder) -> config_mod.AppConfig:
    cfg = config_mod.AppConfig(models_dir=models_dir, data_dirs=(hr_folder.parent,), max_upload_mb=1)
    monkeypatch.setenv(config_mod.ENV, cfg.to_json())
    return cfg


def run_until(at, done, timeout: float = RUN_TIMEOUT):
    """Rerun the page until ``done(at)`` holds (a worker finishes between reruns)."""
    end = time.monotonic() + timeout
    while True:
        at.run(timeout=RUN_TIMEOUT)
        assert not at.exception, at.exception
        if done(at):
            return at
        assert time.monotonic() < end, "the page did not reach the expected state in time"
        time.sleep(0.2)


def png_bytes(rgb: np.ndarray) -> bytes:
    from edgesr.app.views import png

    return png(rgb)
