"""Precision is recognised from a file's content; artifacts that cannot be run fail with one clear error."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from edgesr.errors import InputError, ModelError
from edgesr.report import inspect
from tests.report.candidates import to_int8


@pytest.mark.parametrize("name, precision", [("fp32", "fp32"), ("fp16", "fp16"), ("int8", "int8")])
def test_precision_from_content(models, name, precision):
    assert inspect(models[name]).precision == precision


def test_precision_ignores_the_file_name(models, tmp_path):
    misleading = shutil.copy(models["fp32"], tmp_path / "model_int8.onnx")
    assert inspect(misleading).precision == "fp32"


def test_int8_detail_counts_quantized_layers_and_symmetry(models, tmp_path):
    info = inspect(models["int8"])
    assert "4/4 weight layers quantized" in info.detail and info.detail.endswith(", symmetric")
    lr = np.random.default_rng(0).random((1, 3, 16, 16), dtype=np.float32)
    asymmetric = to_int8(models["fp32"], tmp_path / "asym.onnx", [lr], symmetric=False)
    assert "asymmetric zero points" in inspect(asymmetric).detail


def test_metadata_keeps_every_edgesr_key_only(models):
    meta = inspect(models["int8"]).metadata
    assert meta["edgesr.quant.calibration"] == "3 photos" and meta["edgesr.scale"] == "2"
    assert "other.key" not in meta and all(k.startswith("edgesr.") for k in meta)


@pytest.mark.parametrize(
    "filename, content, error, message",
    [
        ("missing.onnx", None, InputError, "does not exist"),
        ("empty.onnx", b"", ModelError, "is empty"),
        ("garbage.onnx", b"definitely not protobuf \xff\xfe", ModelError, "not an ONNX model"),
        (
            "notes.txt",
            b"hello",
            InputError,
            "no runner for '.txt' files; edgesr runs .engine, .onnx, .plan, .router.json",
        ),
    ],
)
def test_unusable_artifacts(tmp_path, filename, content, error, message):
    path = tmp_path / filename
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message):
        inspect(path)


def test_a_folder_is_not_an_artifact(tmp_path):
    with pytest.raises(InputError, match="is not a file"):
        inspect(tmp_path)
