"""AIDN (edgesr seed): shapes, size budgets, weights round trip, the fixed edge filter, ONNX parity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import torch.nn.functional as F  # noqa: E402

from edgesr.errors import InputError, ModelError  # noqa: E402
from edgesr.io.images import fit, read_rgb, sample_images, to_nchw  # noqa: E402
from edgesr.models import aidn, epfdn  # noqa: E402

NAMES = list(aidn.VARIANTS)
BUDGETS = {"aidn": (200_000, 300_000), "aidn-tiny": (1, 60_000)}  # parameters at x4 (docs/background.md)


def build(name: str, scale: int = 4, **overrides) -> aidn.Net:
    torch.manual_seed(0)
    return aidn.Net(dataclasses.replace(aidn.VARIANTS[name], scale=scale, **overrides)).eval()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_forward_shape_at_odd_size(name, scale):
    with torch.no_grad():
        y = build(name, scale)(torch.rand(2, 3, 17, 23))
    assert y.shape == (2, 3, 17 * scale, 23 * scale)


@pytest.mark.parametrize("name", NAMES)
def test_parameters_within_budget(name):
    n = sum(p.numel() for p in build(name).parameters())
    print(f"{name} x4: {n:,} parameters")
    low, high = BUDGETS[name]
    assert low <= n <= high


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [2, 4])
def test_config_round_trips_through_state_dict(name, scale):
    net = build(name, scale)
    cfg = aidn.config_from_state_dict(net.state_dict())
    assert cfg == net.cfg
    twin = aidn.Net(cfg).eval()
    twin.load_state_dict(net.state_dict(), strict=True)
    x = torch.rand(1, 3, 12, 15)
    with torch.no_grad():
        assert torch.equal(twin(x), net(x))


def test_config_round_trips_for_non_default_settings():
    net = build("aidn-tiny", 3, kernel=5, blocks=3, taps=3, steps=1, attention=True)
    assert aidn.config_from_state_dict(net.state_dict()) == net.cfg


def test_inconsistent_settings_are_refused():
    with pytest.raises(InputError, match=r"blocks \(5\) must be a positive multiple of taps \(2\)"):
        aidn.Config(blocks=5, taps=2)
    with pytest.raises(InputError, match="kernel must be odd"):
        aidn.Config(kernel=4)


def test_other_architecture_is_refused_by_name():
    sd = epfdn.Net(epfdn.VARIANTS["epfdn-tiny"]).state_dict()
    with pytest.raises(ModelError, match="not a checkpoint of AIDN: it has no 'recon.0.weight'"):
        aidn.config_from_state_dict(sd)


def test_mismatched_tensor_is_named():
    sd = build("aidn-tiny").state_dict()
    sd["blocks.1.fuse.weight"] = torch.zeros(24, 12, 1, 1)
    want = r"'blocks.1.fuse.weight' has shape \[24, 12, 1, 1\], expected \[24, 18, 1, 1\]"
    with pytest.raises(ModelError, match=want):
        aidn.config_from_state_dict(sd)


def test_extra_and_missing_tensors_are_named():
    sd = build("aidn-tiny").state_dict()
    sd["extra.weight"] = torch.zeros(3)
    del sd["fusion.gates.0.bias"]
    with pytest.raises(ModelError, match="missing 'fusion.gates.0.bias'; unexpected 'extra.weight'"):
        aidn.config_from_state_dict(sd)


def test_invalid_upsampler_width_is_refused():
    sd = build("aidn-tiny").state_dict()
    sd["recon.0.weight"] = torch.zeros(40, 24, 3, 3)
    with pytest.raises(ModelError, match="not 3 x s"):
        aidn.config_from_state_dict(sd)


def test_edge_filter_is_fixed():
    net = build("aidn-tiny").train()
    weight = net.edge.weight
    assert not weight.requires_grad
    assert all(p is not weight for p in net.parameters())
    assert not any(k.startswith("edge.") for k in net.state_dict())
    before = weight.clone()
    opt = torch.optim.SGD(net.parameters(), lr=1.0)
    net(torch.rand(1, 3, 16, 16)).square().mean().backward()
    opt.step()
    assert weight.grad is None
    assert torch.equal(weight, before)


@pytest.mark.parametrize("vertical", [False, True])
def test_edge_map_of_a_step(vertical):
    # A grey step of height 0.6 between columns 5 and 6 (rows when vertical): luma steps by
    # 0.6, so the normalised Sobel magnitude is 0.6 on the two pixels beside it and 0 elsewhere.
    x = torch.zeros(1, 3, 10, 12)
    x[..., 6:] = 0.6
    want = torch.zeros(10, 12)
    want[:, 5:7] = 0.6
    if vertical:
        x, want = x.transpose(2, 3), want.t()
    edge = build("aidn-tiny").edge(x)
    assert edge.shape == (1, 1, *want.shape)
    # The outermost ring sees the zero padding; the interior is the image's own gradient.
    torch.testing.assert_close(edge[0, 0, 1:-1, 1:-1], want[1:-1, 1:-1], atol=1e-6, rtol=0)


def test_edge_map_weighs_colours_as_luma():
    x = torch.zeros(1, 3, 8, 8)
    x[:, 0, :, 4:] = 1.0  # a pure red step
    edge = build("aidn-tiny").edge(x)
    torch.testing.assert_close(edge[0, 0, 3, 3:5], torch.full((2,), 0.299), atol=1e-6, rtol=0)


def test_fusion_is_a_per_pixel_weighted_average_of_the_residuals():
    torch.manual_seed(0)
    fusion = aidn.ResidualFusion(12, 3)
    residuals = [torch.randn(2, 12, 5, 6) for _ in range(3)]
    with torch.no_grad():
        fused = fusion(residuals)
        same = fusion([residuals[0]] * 3)
    stack = torch.stack(residuals)
    # Positive weights summing to one: inside the residuals' range, and identity when they agree.
    assert (fused >= stack.amin(0) - 1e-6).all() and (fused <= stack.amax(0) + 1e-6).all()
    torch.testing.assert_close(same, residuals[0])
    assert len(aidn.ResidualFusion(12, 1).gates) == 0


def export(net: torch.nn.Module, path) -> None:
    with torch.no_grad():
        torch.onnx.export(
            net,
            torch.rand(1, 3, 24, 32),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={
                "input": {0: "batch", 2: "height", 3: "width"},
                "output": {0: "batch", 2: "out_height", 3: "out_width"},
            },
        )


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the TorchScript exporter is the one edgesr uses
@pytest.mark.parametrize("name", NAMES)
def test_onnx_export_matches_torch_on_real_images(name, tmp_path):
    net = build(name)
    path = tmp_path / f"{name}.onnx"
    export(net, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # weights embedded, no .onnx.data
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[2].dim_param and dims[3].dim_param
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for image, (h, w) in zip(sample_images(), [(45, 61), (72, 96)]):
        x = to_nchw(fit(read_rgb(image), h, w))
        got = session.run(None, {"input": x})[0]
        with torch.no_grad():
            t = torch.from_numpy(x)
            want = net(t)
            bicubic = F.interpolate(t, scale_factor=4, mode="bicubic", align_corners=False)
        assert got.shape == (1, 3, 4 * h, 4 * w)
        assert float(np.abs(got - want.numpy()).max()) <= 1e-4
        assert float((want - bicubic).abs().max()) > 0.05  # the learned residual is part of what is compared
