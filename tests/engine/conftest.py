"""Fixtures for the TensorRT build tests: a per-generation ``tensorrt`` double installed in
``sys.modules``, and the tiny ONNX files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.doubles import tensorrt_double
from tests.engine import models


@pytest.fixture
def install_trt(monkeypatch):
    """``install_trt("10.3.0", dla_cores=2)`` puts a double of that TensorRT in ``sys.modules``."""

    def install(version: str, **switches):
        module = tensorrt_double.make(version, **switches)
        monkeypatch.setitem(sys.modules, "tensorrt", module)
        return module

    return install


@pytest.fixture(scope="session")
def onnx_files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("build_models")
    return {
        "fp32": models.fp32(d / "sr.onnx"),
        "static": models.fp32(d / "sr_static.onnx", static=True),
        "fp16": models.fp16(d / "sr_fp16.onnx"),
        "qdq": models.qdq(d / "sr_qdq.onnx"),
        "bad": models.with_unimportable_node(d / "sr_bad.onnx"),
    }
