"""EPFDN (edgesr seed): shapes, size budgets, activation choice and recovery, pixel attention, ONNX parity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from edgesr.errors import InputError, ModelError  # noqa: E402
from edgesr.io.images import fit, read_rgb, sample_images, to_nchw  # noqa: E402
from edgesr.models import aidn, epfdn  # noqa: E402

NAMES = list(epfdn.VARIANTS)
ACTS = list(epfdn.ACTIVATIONS)
BUDGETS = {"epfdn": (200_000, 300_000), "epfdn-tiny": (1, 60_000)}  # parameters at x4 (docs/background.md)


def build(name: str, scale: int = 4, **overrides) -> epfdn.Net:
    torch.manual_seed(0)
    return epfdn.Net(dataclasses.replace(epfdn.VARIANTS[name], scale=scale, **overrides)).eval()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_forward_shape_at_odd_size(name, scale):
    with torch.no_grad():
        y = build(name, scale)(torch.rand(2, 3, 17, 23))
    assert y.shape == (2, 3, 17 * scale, 23 * scale)


@pytest.mark.parametrize("act", ACTS)
def test_every_activation_builds_and_runs(act):
    net = build("epfdn-tiny", act=act)
    with torch.no_grad():
        y = net(torch.rand(1, 3, 9, 11))
    assert y.shape == (1, 3, 36, 44) and torch.isfinite(y).all()
    assert sum(isinstance(m, type(epfdn.ACTIVATIONS[act]())) for m in net.modules()) == 2 * net.cfg.blocks


def test_unknown_activation_is_refused():
    with pytest.raises(InputError, match="act 'mish' is not one of relu, lrelu, silu, gelu"):
        epfdn.Config(act="mish")


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
    cfg = epfdn.config_from_state_dict(net.state_dict())
    assert cfg == net.cfg
    twin = epfdn.Net(cfg).eval()
    twin.load_state_dict(net.state_dict(), strict=True)
    x = torch.rand(1, 3, 12, 15)
    with torch.no_grad():
        assert torch.equal(twin(x), net(x))


@pytest.mark.parametrize("act", ACTS)
def test_activation_is_recovered_from_the_state_dict(act):
    net = build("epfdn-tiny", act=act)
    assert epfdn.config_from_state_dict(net.state_dict()).act == act


def test_loading_weights_of_another_activation_is_refused():
    sd = build("epfdn-tiny", act="gelu").state_dict()
    with pytest.raises(ModelError, match="trained with act 'gelu' but the network was built with 'relu'"):
        build("epfdn-tiny").load_state_dict(sd)


def test_state_dict_without_activation_is_refused():
    sd = build("epfdn-tiny").state_dict()
    del sd["act_id"]
    with pytest.raises(ModelError, match="no 'act_id'"):
        epfdn.config_from_state_dict(sd)


def test_unknown_activation_id_is_refused():
    sd = build("epfdn-tiny").state_dict()
    sd["act_id"] = torch.tensor(len(ACTS))
    with pytest.raises(ModelError, match="act_id 4"):
        epfdn.config_from_state_dict(sd)


def test_other_architecture_is_refused_by_name():
    sd = aidn.Net(aidn.VARIANTS["aidn-tiny"]).state_dict()
    with pytest.raises(ModelError, match="not a checkpoint of EPFDN: it has no 'upsample.0.weight'"):
        epfdn.config_from_state_dict(sd)


def test_mismatched_tensor_is_named():
    sd = build("epfdn-tiny").state_dict()
    sd["blocks.2.attn.expand.weight"] = torch.zeros(24, 4, 1, 1)
    want = r"'blocks.2.attn.expand.weight' has shape \[24, 4, 1, 1\], expected \[24, 6, 1, 1\]"
    with pytest.raises(ModelError, match=want):
        epfdn.config_from_state_dict(sd)


def test_pixel_attention_weights_each_pixel_and_channel_on_its_own():
    torch.manual_seed(0)
    attn = epfdn.PixelAttention(8, 2, "relu")
    x = torch.rand(1, 8, 5, 6) + 0.5
    y = attn(x)
    weights = y / x
    assert ((weights > 0) & (weights < 1)).all()
    assert weights.std(dim=(2, 3)).min() > 0  # not one weight per channel, as channel attention would give
    x2 = x.clone()
    x2[0, :, 2, 3] += 1.0
    changed = (attn(x2) != y).any(dim=1)[0]
    assert changed.nonzero().tolist() == [[2, 3]]  # only the pixel that changed


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
@pytest.mark.parametrize(
    ("name", "act"), [("epfdn", None), ("epfdn-tiny", None), ("epfdn-tiny", "gelu"), ("epfdn-tiny", "silu")]
)
def test_onnx_export_matches_torch_on_real_images(name, act, tmp_path):
    net = build(name, **({"act": act} if act else {}))
    path = tmp_path / f"{name}.onnx"
    export(net, path)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # weights embedded, no .onnx.data
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert {o.domain: o.version for o in model.opset_import}[""] == 17
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[2].dim_param and dims[3].dim_param
    assert not any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    assert not any(t.name.endswith("act_id") for t in model.graph.initializer)

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for image, (h, w) in zip(sample_images()[1:], [(45, 61), (72, 96)]):
        x = to_nchw(fit(read_rgb(image), h, w))
        got = session.run(None, {"input": x})[0]
        with torch.no_grad():
            want = net(torch.from_numpy(x)).numpy()
        assert got.shape == (1, 3, 4 * h, 4 * w)
        assert float(np.abs(got - want).max()) <= 1e-4
