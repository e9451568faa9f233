"""AIDN-DA: AIDN-RT weights start it exactly, a representation is reusable, checkpoints are told apart."""

from __future__ import annotations

import pytest
import torch

from edgesr import models
from edgesr.errors import InputError, ModelError
from edgesr.models.checkpoint import detect

TINY = dict(channels=8, convs=3, rep=8, encoder_channels=4, modulated=2)


def _tiny_rt():
    torch.manual_seed(1)
    return models.create("aidn-rt", channels=8, convs=3).fold().eval()


def test_aidn_rt_weights_load_and_compute_the_same_function():
    rt = _tiny_rt()
    da = models.create("aidn-da", **TINY).eval()
    da.load_folded(rt.state_dict())
    x = torch.rand(2, 3, 17, 23)
    with torch.no_grad():
        assert torch.equal(da(x), rt(x))
        assert torch.allclose(da.fold()(x), rt(x), atol=1e-6)


def test_attention_changes_the_output_once_trained_and_a_representation_is_reusable():
    torch.manual_seed(0)
    da = models.create("aidn-da", **TINY).eval()
    for p in da.attention.parameters():
        torch.nn.init.normal_(p, std=0.5)
    x = torch.rand(3, 3, 16, 16)
    with torch.no_grad():
        rep = da.encoder(x)
        assert rep.shape == (3, 8)
        assert torch.allclose(da(x), da(x, rep))
        other = da(x, rep.flip(0))
        assert not torch.allclose(da(x), other)
        # one scene's representation serves a batch of frames
        one = da(x, rep[:1])
        assert torch.allclose(one[0], da(x[:1], rep[:1])[0], atol=1e-6)


def test_the_encoder_reads_any_size_and_positions_spread_over_the_body():
    assert models.create("aidn-da").cfg.positions() == [2]
    assert models.create("aidn-da", modulated=2).cfg.positions() == [1, 3]
    enc = models.create("aidn-da", **TINY).encoder
    assert enc(torch.rand(1, 3, 5, 7)).shape == enc(torch.rand(1, 3, 90, 160)).shape == (1, 8)


@pytest.mark.parametrize("form", [{}, {"spatial": False}, {"blocks": 0}, {"blocks": 0, "highpass": False}])
def test_checkpoints_are_detected_by_shape_both_ways(form):
    da = models.create("aidn-da", **TINY, **form)
    assert detect(da.state_dict())[0] == "aidn-da"
    assert detect(da.fold().state_dict())[0] == "aidn-da"
    models.create("aidn-da", **TINY, **form).load_folded(da.fold().state_dict())
    assert detect(_tiny_rt().state_dict())[0] == "aidn-rt"
    with pytest.raises(ModelError, match="does not fit"):
        models.create("aidn-rt", channels=8, convs=3).load_folded(da.fold().state_dict())


def test_bad_configs_are_refused():
    with pytest.raises(InputError, match="modulated"):
        models.create("aidn-da", convs=2, modulated=2)
    with pytest.raises(InputError, match="rep"):
        models.create("aidn-da", rep=0)
    with pytest.raises(InputError, match="blocks"):
        models.create("aidn-da", highpass=False)


def test_block_features_see_where_the_8x8_grid_lies():
    """An edge on the codec grid and the same edge one pixel off give the block branch different features."""
    torch.manual_seed(0)
    enc = models.create("aidn-da", **TINY).encoder.eval()
    on, off = torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 32, 32)
    on[..., :, 8:], off[..., :, 9:] = 1.0, 1.0  # one vertical edge, on and beside the grid

    def feature(x):
        return torch.relu(enc.blocks(x - torch.nn.functional.avg_pool2d(x, 3, 1, 1, count_include_pad=False)))

    assert not torch.allclose(feature(on).mean(dim=(2, 3)), feature(off).mean(dim=(2, 3)))
