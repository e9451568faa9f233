"""Every published architecture: shapes, config inference from its own weights, detection, sizes."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
import torch

from edgesr import models
from edgesr.errors import InputError
from edgesr.models import registry
from tests.models.tiny import PUBLISHED, TINY, tiny


@pytest.mark.parametrize("name", PUBLISHED)
@pytest.mark.parametrize("scale", [2, 3])
def test_forward_shape_and_attributes(name, scale):
    net = tiny(name, scale)
    with torch.no_grad():
        y = net(torch.rand(2, 3, 17, 19) * net.value_range)
    assert y.shape == (2, 3, 17 * scale, 19 * scale)
    assert (net.arch, net.scale, net.value_range) == (name, scale, registry.get(name).value_range)
    assert net.config.scale == scale and all(getattr(net.config, k) == v for k, v in TINY[name].items())


@pytest.mark.parametrize("name", PUBLISHED)
def test_config_is_inferred_from_own_weights(name):
    net = tiny(name, 3)
    mod = registry.module(name)
    inferred = mod.config_from_state_dict(net.state_dict())
    if getattr(mod, "SCALE_IN_WEIGHTS", True):
        assert inferred == net.config
    else:
        assert dataclasses.replace(inferred, scale=3) == net.config


@pytest.mark.parametrize("name", PUBLISHED)
def test_load_detects_architecture(name, tmp_path):
    net = tiny(name, 3)
    path = tmp_path / f"{name}.pth"
    torch.save(net.state_dict(), path)
    loaded = models.load(None, path, scale=3)
    assert loaded.arch == name and loaded.config == net.config and not loaded.training
    x = torch.rand(1, 3, 16, 16) * net.value_range
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))


def test_default_configs_match_published_sizes():
    sizes = {name: models.count_params(models.create(name)) for name in PUBLISHED}
    assert sizes == {
        "rfdn": 433_448,
        "rlfn": 317_218,
        "safmn": 237_000,
        "imdn": 715_176,
        "fsrcnn": 24_683,
        "espcn": 37_200,
    }


def test_macs_espcn_by_hand():
    # 180x320 input, x4: 5x5 3->64, 3x3 64->32, 3x3 32->48, each output pixel x in-ch x kernel area.
    px = 180 * 320
    assert models.count_macs(models.create("espcn")) == px * (64 * 3 * 25 + 32 * 64 * 9 + 48 * 32 * 9)


def test_macs_count_transposed_conv_by_input():
    net = models.create("fsrcnn", scale=4, d=8, s=4, m=1)
    px = 180 * 320
    convs = px * (8 * 3 * 25 + 4 * 8 + 4 * 4 * 9 + 8 * 4)
    deconv = px * 8 * 3 * 81  # every input element meets 3 output channels x 9x9 taps
    assert models.count_macs(net) == convs + deconv


def test_macs_need_an_output_size_divisible_by_scale():
    with pytest.raises(InputError, match="multiple of the x3"):
        models.count_macs(models.create("espcn", scale=3), (721, 1280))


def test_create_rejects_unknown_setting_with_suggestion():
    with pytest.raises(InputError, match="did you mean 'channels'"):
        models.create("rfdn", chanels=8)


def test_create_rejects_unknown_architecture():
    with pytest.raises(InputError, match="did you mean 'rfdn'"):
        models.create("rfdm")


def test_meta_for_describes_the_module():
    meta = models.meta_for(models.create("rlfn", scale=2))
    assert (meta.arch, meta.scale, meta.value_range, meta.channel_order, meta.params, meta.name) == (
        "rlfn",
        2,
        255.0,
        "RGB",
        models.count_params(models.create("rlfn", scale=2)),
        "rlfn-x2",
    )


def test_importing_the_zoo_and_its_commands_loads_no_torch():
    code = (
        "import sys, edgesr.models, edgesr.models.catalog, edgesr.export, edgesr.cli.export, edgesr.cli.models; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_imdn_keys_match_the_authors_checkpoints():
    # Shapes of the official IMDN_x4.pth (64 channels, 6 blocks, 16 kept per split, CCA 64->4->64).
    block = {
        "c1": (64, 64, 3, 3),
        "c2": (64, 48, 3, 3),
        "c3": (64, 48, 3, 3),
        "c4": (16, 48, 3, 3),
        "c5": (64, 64, 1, 1),
        "cca.conv_du.0": (4, 64, 1, 1),
        "cca.conv_du.2": (64, 4, 1, 1),
    }
    layers = {
        "fea_conv": (64, 3, 3, 3),
        "c.0": (64, 384, 1, 1),
        "LR_conv": (64, 64, 3, 3),
        "upsampler.0": (48, 64, 3, 3),
    }
    layers.update({f"IMDB{i}.{k}": v for i in range(1, 7) for k, v in block.items()})
    want = {f"{k}.weight": v for k, v in layers.items()} | {f"{k}.bias": (v[0],) for k, v in layers.items()}
    got = {k: tuple(v.shape) for k, v in models.create("imdn").state_dict().items()}
    assert got == want
