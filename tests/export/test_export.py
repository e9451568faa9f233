"""Export to ONNX: one self-contained file, dynamic H/W, metadata, parity with PyTorch on photos."""

from __future__ import annotations

import onnx
import pytest
import torch
import torch.nn.functional as F

from edgesr import meta, models
from edgesr.errors import InputError, ModelError, ParityError
from edgesr.export import ExportOnnx, check_parity, export_onnx
from edgesr.models import safmn
from tests.models.tiny import PUBLISHED, tiny


def dims(model: onnx.ModelProto) -> list:
    return [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]


@pytest.mark.parametrize("name", PUBLISHED)
def test_export_is_dynamic_self_contained_and_matches_torch(name, tmp_path):
    net = tiny(name, 2)
    path = export_onnx(net, tmp_path / f"{name}.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.onnx"]  # no .onnx.data, no temp file
    model = onnx.load(str(path))
    assert dims(model) == ["batch", 3, "height", "width"]
    m = meta.read(model)
    assert (m.arch, m.scale, m.value_range, m.channel_order, m.params) == (
        name,
        2,
        net.value_range,
        "RGB",
        models.count_params(net),
    )
    for result in check_parity(net, path, [(21, 34), (40, 17)]):
        assert result.max_abs_err <= 1e-4 * net.value_range


def test_static_export_fixes_the_shape(tmp_path):
    net = tiny("rlfn", 3)
    model = onnx.load(str(export_onnx(net, tmp_path / "s.onnx", dynamic=False, sample_hw=(20, 24))))
    assert dims(model) == [1, 3, 20, 24]


def test_parity_failure_leaves_no_file(tmp_path):
    net = tiny("espcn", 2)
    forward = net.forward
    net.forward = lambda x: forward(x) + (0.01 if torch.onnx.is_in_onnx_export() else 0.0)
    with pytest.raises(ModelError, match="differs from PyTorch") as err:
        export_onnx(net, tmp_path / "bad.onnx")
    assert isinstance(err.value, ParityError)
    assert list(tmp_path.iterdir()) == []


def test_naive_adaptive_pooling_cannot_export_dynamic(tmp_path, monkeypatch):
    monkeypatch.setattr(
        safmn, "adaptive_max_pool", lambda x, f: F.adaptive_max_pool2d(x, (x.shape[2] // f, x.shape[3] // f))
    )
    with pytest.raises(ModelError, match="cannot export safmn .* adaptive pooling"):
        export_onnx(tiny("safmn", 2), tmp_path / "naive.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(opset=11), "opset 11 is not supported"),
        (dict(sample_hw=(12, 64)), "at least 16x16"),
    ],
)
def test_bad_settings(tmp_path, settings, message):
    with pytest.raises(InputError, match=message):
        ExportOnnx(**settings)(tiny("safmn", 2), tmp_path / "x.onnx")


def test_missing_output_folder_is_created(tmp_path):
    assert export_onnx(tiny("espcn", 2), tmp_path / "no" / "x.onnx").is_file()


def test_unwritable_output_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        export_onnx(tiny("espcn", 2), tmp_path / "file" / "x.onnx")


SHARED = [("rfdn_aim2020_x4.pth", "rfdn"), ("rlfn_ntire2024_x4.pth", "rlfn"), ("safmn_ntire2023_x4.pth", "safmn")]


@pytest.mark.parametrize(("file", "arch"), SHARED, ids=[a for _, a in SHARED])
def test_shared_checkpoints_export_within_tolerance(weights, tmp_path, file, arch):
    net = models.load(arch, weights / file)
    path = export_onnx(net, tmp_path / f"{arch}.onnx", sample_hw=(48, 64))
    assert meta.read(onnx.load(str(path))).name == file.removesuffix(".pth")
