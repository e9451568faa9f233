"""AIDN-RT: the asymmetric triples fold exactly into plain convolutions, both weight forms load,
and export writes the folded network; with ``carry`` the image reaches the reconstruction
through the feature channels and the exported graph is still one chain of convolutions."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")

from edgesr import models  # noqa: E402
from edgesr.errors import InputError, ModelError  # noqa: E402
from edgesr.models import aidnrt  # noqa: E402


def trained_like(scale: int = 4, **overrides):
    """An AIDN-RT whose three branches all carry weights (a fresh net's 1xk/kx1 branches do too)."""
    torch.manual_seed(0)
    net = models.create("aidn-rt", scale=scale, **overrides).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    return net


@pytest.mark.parametrize("carry", [False, True])
@pytest.mark.parametrize("scale", [2, 4])
def test_fold_computes_the_same_function_borders_included(scale, carry):
    net = trained_like(scale, channels=8, convs=2, carry=carry)
    folded = net.fold()
    x = torch.rand(2, 3, 13, 19)
    with torch.no_grad():
        a, b = net(x), folded(x)
    assert a.shape == (2, 3, 13 * scale, 19 * scale)
    assert torch.allclose(a, b, atol=1e-5)
    assert folded.cfg.folded and not net.cfg.folded  # the original is left as it was
    assert all(type(m) is not aidnrt.AsymTriple for m in folded.modules())
    assert models.count_params(folded) < models.count_params(net)


@pytest.mark.parametrize("carry", [False, True])
def test_both_weight_forms_load_to_the_same_function(tmp_path, carry):
    net = trained_like(channels=8, convs=3, carry=carry)
    train_form, deploy_form = tmp_path / "train.pth", tmp_path / "deploy.pth"
    torch.save(net.state_dict(), train_form)
    torch.save(net.fold().state_dict(), deploy_form)
    a = models.load(None, train_form)  # detected from the shapes
    b = models.load("aidn-rt", deploy_form)
    assert (a.arch, a.cfg.convs, a.cfg.folded, a.cfg.carry) == ("aidn-rt", 3, False, carry)
    assert (b.cfg.channels, b.cfg.folded, b.cfg.carry) == (8, True, carry)
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(a(x), b(x), atol=1e-5)


def test_foreign_checkpoint_is_refused_with_the_key():
    sd = trained_like(channels=8, convs=2).state_dict()
    sd["head.square.weight"] = torch.zeros(8, 3, 3, 3)
    with pytest.raises(ModelError, match="head.square.weight"):
        aidnrt.config_from_state_dict(sd)


def test_bad_config_is_one_clear_error():
    with pytest.raises(InputError, match="kernel must be odd"):
        aidnrt.Config(kernel=2)
    with pytest.raises(InputError, match="carry needs more than 3 channels"):
        aidnrt.Config(channels=3, carry=True)


def test_carry_starts_as_nearest_neighbour_upscaling():
    net = models.create("aidn-rt", channels=8, convs=2, carry=True).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
    net.add_nearest()  # what a fresh network adds to its random reconstruction weights
    x = torch.rand(1, 3, 9, 11)
    with torch.no_grad():
        assert torch.allclose(net(x), torch.nn.functional.interpolate(x, scale_factor=4, mode="nearest"))
        assert torch.allclose(net.fold()(x), net(x))


def test_export_writes_the_folded_network(tmp_path):
    from edgesr import meta
    from edgesr.export import export_onnx

    net = trained_like(channels=8, convs=2)
    path = export_onnx(net, tmp_path / "rt.onnx")  # its parity check compares with the unfolded net
    model = onnx.load(str(path))
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert len(convs) == 1 + 1 + 2 + 1  # edge filter, head, body, reconstruction: one conv each
    assert meta.read(model).params == models.count_params(net.fold())


def test_carry_exports_a_plain_chain_without_bicubic_or_concatenated_features(tmp_path):
    from edgesr.export import export_onnx

    path = export_onnx(trained_like(channels=8, convs=2, carry=True), tmp_path / "rt.onnx")
    ops = [n.op_type for n in onnx.load(str(path)).graph.node if n.op_type != "Constant"]
    assert ops.count("Conv") == 1 + 1 + 2 + 1
    assert ops.count("Concat") == 1  # RGB and edge map into the head, nothing more
    assert "Resize" not in ops and ops[-2:] == ["Conv", "DepthToSpace"]


@pytest.mark.parametrize("carry", [False, True])
def test_the_training_form_starts_from_folded_weights_exactly(carry):
    folded = trained_like(channels=8, convs=2, carry=carry).fold()
    torch.manual_seed(1)
    fresh = models.create("aidn-rt", channels=8, convs=2, carry=carry).eval()
    fresh.load_folded(folded.state_dict())
    x = torch.rand(1, 3, 12, 15)
    with torch.no_grad():
        assert torch.allclose(fresh(x), folded(x), atol=1e-5)
    assert all(float(m.hor.weight.detach().abs().sum()) == 0 for m in fresh.modules() if type(m) is aidnrt.AsymTriple)
    with pytest.raises(ModelError, match="does not fit"):
        models.create("aidn-rt", channels=16, convs=2, carry=carry).load_folded(folded.state_dict())
