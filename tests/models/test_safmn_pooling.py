"""SAFMN's size-dependent pooling: the exportable form equals PyTorch's adaptive ops bit for bit,
in eager mode and, exported to ONNX with dynamic H/W, on ONNX Runtime."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F

from edgesr.models import pooling, safmn
from tests.models.tiny import tiny

FACTORS = (4, 8, 16)
ODD_SIZES = [(16, 16), (17, 23), (31, 45), (47, 16), (33, 65), (63, 97)]


def native_pool(x, factor):
    return F.adaptive_max_pool2d(x, (x.shape[2] // factor, x.shape[3] // factor))


def native_upsample(x, h, w):
    return F.interpolate(x, size=(h, w), mode="nearest")


@pytest.mark.parametrize("factor", FACTORS)
def test_adaptive_max_pool_is_exact_for_every_size(factor):
    torch.manual_seed(factor)
    for n in range(factor, 12 * factor + 40):
        x = torch.randn(1, 2, n, 2 * n + 1)
        assert torch.equal(pooling.adaptive_max_pool(x, factor), native_pool(x, factor)), n


@pytest.mark.parametrize("factor", FACTORS)
def test_upsample_nearest_is_exact_for_every_size(factor):
    for n in range(16, 1100):
        x = torch.randn(1, 1, n // factor, 1)
        assert torch.equal(pooling.upsample_nearest(x, n, 1), native_upsample(x, n, 1)), n


@pytest.mark.parametrize(("h", "w"), ODD_SIZES)
def test_safmn_equals_the_native_adaptive_form(monkeypatch, h, w):
    net = tiny("safmn", 4)
    x = torch.rand(1, 3, h, w)
    with torch.no_grad():
        ours = net(x)
        monkeypatch.setattr(safmn, "adaptive_max_pool", native_pool)
        monkeypatch.setattr(safmn, "upsample_nearest", native_upsample)
        native = net(x)
    assert torch.equal(ours, native)


class PoolAndBack(torch.nn.Module):
    def forward(self, x):
        h, w = x.shape[-2:]
        return torch.cat([pooling.upsample_nearest(pooling.adaptive_max_pool(x, f), h, w) for f in FACTORS], 1)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_exported_pooling_is_bit_exact_at_odd_sizes(tmp_path):
    path = tmp_path / "pool.onnx"
    torch.onnx.export(
        PoolAndBack(),
        (torch.rand(1, 2, 64, 64),),
        str(path),
        dynamo=False,
        opset_version=17,
        input_names=["x"],
        dynamic_axes={"x": {2: "h", 3: "w"}},
    )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for h, w in ODD_SIZES:
        x = torch.randn(1, 2, h, w)
        want = torch.cat([native_upsample(native_pool(x, f), h, w) for f in FACTORS], 1).numpy()
        assert np.array_equal(session.run(None, {"x": x.numpy()})[0], want), (h, w)


def test_exported_safmn_matches_eager_at_odd_sizes(tmp_path):
    from edgesr.export import check_parity, export_onnx

    net = tiny("safmn", 4)
    path = export_onnx(net, tmp_path / "safmn.onnx")
    results = check_parity(net, path, ODD_SIZES)
    assert max(r.max_abs_err for r in results) < 1e-5
