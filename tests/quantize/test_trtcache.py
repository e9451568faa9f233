"""TensorRT calibration caches: format, round trip, export from Q/DQ, naming by hash and version."""

import struct

import numpy as np
import pytest

from edgesr.errors import DependencyError, InputError
from edgesr.quantize import quantize, read_trt_cache, scales_from_qdq, write_trt_cache
from edgesr.quantize.calibration import CalibrationData
from edgesr.quantize.tensorrt.calibrator import CalibrationLoader, make_calibrator
from edgesr.quantize.tensorrt.trtcache import (
    CalibrationCache,
    cache_path,
    trt_version_int,
)
from tests.quantize.conftest import FAST


def test_version_integers():
    assert trt_version_int("8.5.2.2") == 8502
    assert trt_version_int("8.6.2") == 8602
    assert trt_version_int("10.3.0") == 100300
    with pytest.raises(InputError):
        trt_version_int("ten")


def test_format_and_round_trip(tmp_path):
    scales = {"input": 1 / 127, "/conv/Conv_output_0": 0.0123, "weird name:x": 3.5e-5}
    p = write_trt_cache(tmp_path / "c.cache", scales, version="8.5.2")
    lines = p.read_text().splitlines()
    assert lines[0] == "TRT-8502-EntropyCalibration2"
    assert lines[1] == f"input: {struct.pack('>f', 1 / 127).hex()}" and len(lines[1].split(": ")[1]) == 8
    back = read_trt_cache(p)
    assert back.version == 8502 and back.algorithm == "EntropyCalibration2"
    assert back.scales == {k: float(np.float32(v)) for k, v in scales.items()}
    # a cache TensorRT wrote (hex digits, leading zeros dropped by some writers) parses too
    text = "TRT-100300-EntropyCalibration2\ninput: 3c010204\nx: 1\n"
    c = CalibrationCache.from_text(text)
    assert c.version == 100300 and c.scales["x"] == struct.unpack(">f", bytes.fromhex("00000001"))[0]


def test_bad_caches_are_refused(tmp_path):
    bad = tmp_path / "bad.cache"
    bad.write_text("hello\n")
    with pytest.raises(InputError, match="not a TensorRT calibration cache"):
        read_trt_cache(bad)
    bad.write_text("TRT-8502-EntropyCalibration2\nx: zz\n")
    with pytest.raises(InputError, match="line 2"):
        read_trt_cache(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_trt_cache(tmp_path / "none.cache")
    with pytest.raises(InputError, match="algorithm"):
        write_trt_cache(tmp_path / "a.cache", {"x": 1.0}, version=8502, algorithm="Magic")


def test_qdq_scales_export_round_trip(tmp_path, chain_path):
    result = quantize(chain_path, None, max_drop=None, **FAST)
    scales = scales_from_qdq(result.model)
    assert "input" in scales and all(v > 0 for v in scales.values())
    path = cache_path(chain_path, "10.3.0", root=tmp_path / "calibration", stem="chain")
    assert path.name.startswith("chain-") and path.name.endswith("-trt100300.cache")
    path.parent.mkdir()
    write_trt_cache(path, scales, version="10.3.0")
    assert read_trt_cache(path).scales == scales  # float32 values survive exactly
    other = cache_path(chain_path, "8.6.2", root=tmp_path / "calibration", stem="chain")
    assert other != path  # named by TensorRT version


def test_calibrator_data_loader_and_factory_without_tensorrt(chain_path):
    data = CalibrationData([np.zeros((1, 3, 8, 8), np.float32), np.ones((1, 3, 8, 8), np.float32)])
    loader = CalibrationLoader(data, "input")
    batches = list(loader)
    assert len(loader) == 2 and list(batches[1]) == ["input"] and batches[1]["input"].shape == (1, 3, 8, 8)
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        with pytest.raises(DependencyError, match="tensorrt"):
            make_calibrator(chain_path, data, "input")


@pytest.mark.trt
def test_polygraphy_calibrator_with_tensorrt(tmp_path, chain_path):
    data = CalibrationData([np.random.default_rng(0).random((1, 3, 16, 16), dtype=np.float32)])
    calib = make_calibrator(chain_path, data, "input", cache_root=tmp_path)
    assert calib is not None
