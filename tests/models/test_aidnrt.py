"""AIDN-RT: the asymmetric triples fold exactly into plain convolutions, both weight forms load,
and export writes the folded network."""

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


@pytest.mark.parametrize("scale", [2, 4])
def test_fold_computes_the_same_function_borders_included(scale):
    net = trained_like(scale, channels=8, convs=2)
    folded = net.fold()
    x = torch.rand(2, 3, 13, 19)
    with torch.no_grad():
        a, b = net(x), folded(x)
    assert a.shape == (2, 3, 13 * scale, 19 * scale)
    assert torch.allclose(a, b, atol=1e-5)
    assert folded.cfg.folded and not net.cfg.folded  # the original is left as it was
    assert all(type(m) is not aidnrt.AsymTriple for m in folded.modules())
    assert models.count_params(folded) < models.count_params(net)


def test_both_weight_forms_load_to_the_same_function(tmp_path):
    net = trained_like(channels=8, convs=3)
    train_form, deploy_form = tmp_path / "train.pth", tmp_path / "deploy.pth"
    torch.save(net.state_dict(), train_form)
    torch.save(net.fold().state_dict(), deploy_form)
    a = models.load(None, train_form)  # detected from the shapes
    b = models.load("aidn-rt", deploy_form)
    assert (a.arch, a.cfg.convs, a.cfg.folded) == ("aidn-rt", 3, False)
    assert (b.cfg.channels, b.cfg.folded) == (8, True)
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


def test_export_writes_the_folded_network(tmp_path):
    from edgesr import meta
    from edgesr.export import export_onnx

    net = trained_like(channels=8, convs=2)
    path = export_onnx(net, tmp_path / "rt.onnx")  # its parity check compares with the unfolded net
    model = onnx.load(str(path))
    convs = [n for n in model.graph.node if n.op_type == "Conv"]
    assert len(convs) == 1 + 1 + 2 + 1  # edge filter, head, body, reconstruction: one conv each
    assert meta.read(model).params == models.count_params(net.fold())
