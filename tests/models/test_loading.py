"""Loading checkpoints: the shared third-party weights, wrappers, and everything that must be refused."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from edgesr import models
from edgesr.errors import InputError, ModelError
from edgesr.models.rfdn import Config as RFDNConfig
from edgesr.models.rlfn import Config as RLFNConfig
from edgesr.models.safmn import Config as SAFMNConfig
from tests.models.tiny import tiny

SHARED = [
    ("rfdn_aim2020_x4.pth", "rfdn", 433_448, RFDNConfig(scale=4, channels=50, blocks=4, esa_channels=12)),
    (
        "rlfn_ntire2024_x4.pth",
        "rlfn",
        317_218,
        RLFNConfig(scale=4, channels=46, mid_channels=48, blocks=4, esa_channels=16),
    ),
    ("safmn_ntire2023_x4.pth", "safmn", 237_000, SAFMNConfig(scale=4, dim=36, blocks=8, hidden=72, levels=4)),
]


@pytest.mark.parametrize(("file", "arch", "params", "config"), SHARED, ids=[s[1] for s in SHARED])
def test_shared_checkpoint_loads_strictly_with_inferred_config(weights, file, arch, params, config):
    net = models.load(arch, weights / file)
    assert net.config == config
    assert models.count_params(net) == params
    assert (net.arch, net.scale, net.name) == (arch, 4, Path(file).stem)


@pytest.mark.parametrize(("file", "arch"), [(s[0], s[1]) for s in SHARED], ids=[s[1] for s in SHARED])
def test_shared_checkpoint_architecture_is_detected(weights, file, arch):
    assert models.load(None, weights / file, scale=4).arch == arch


def test_checkpoint_of_another_architecture_names_both(weights):
    with pytest.raises(ModelError) as err:
        models.load("rfdn", weights / "rlfn_ntire2024_x4.pth")
    msg = str(err.value)
    assert "not a checkpoint of RFDN" in msg and "fea_conv.weight" in msg and "looks like a rlfn x4" in msg


def test_wrong_scale_is_refused(weights):
    with pytest.raises(ModelError, match=r"x4 safmn checkpoint .* but x2 was asked; pass --scale 4"):
        models.load("safmn", weights / "safmn_ntire2023_x4.pth", scale=2)


def _saved(tmp_path, obj, name="ckpt.pth") -> Path:
    path = tmp_path / name
    torch.save(obj, path)
    return path


def test_truncated_file_is_one_line_model_error(tmp_path):
    path = _saved(tmp_path, tiny("rfdn").state_dict())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelError, match="truncated or not a PyTorch file") as err:
        models.load("rfdn", path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"hello world\n", bytes(range(256)) * 8], ids=["text", "binary"])
def test_files_that_are_not_checkpoints_are_refused(tmp_path, content):
    path = tmp_path / "x.pth"
    path.write_bytes(content)
    with pytest.raises(ModelError, match="cannot be read .* not a PyTorch file") as err:
        models.load(None, path)
    assert "\n" not in str(err.value)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.pth"
    path.touch()
    with pytest.raises(ModelError, match="empty"):
        models.load(None, path)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        models.load("rfdn", tmp_path / "nope.pth")


def test_a_list_is_not_a_state_dict(tmp_path):
    with pytest.raises(ModelError, match="holds a list, not a state dict"):
        models.load(None, _saved(tmp_path, [torch.zeros(2)]))


class Payload:
    """Unpickling this would create a file: the loader must never get that far."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_pickled_objects_are_refused_without_running_them(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"params": Payload(marker)}, f, protocol=2)
    with pytest.raises(ModelError, match="holds Python objects, not just tensors"):
        models.load("rfdn", path)
    assert not marker.exists()
    with pytest.raises(ModelError, match="Python objects"):
        models.load(None, _saved(tmp_path, {"net": Payload(marker)}, "evil2.pth"))
    assert not marker.exists()


def test_non_tensor_entries_are_refused(tmp_path):
    with pytest.raises(ModelError, match="entry 'epoch' is not a named tensor"):
        models.load(None, _saved(tmp_path, {"epoch": 3, "w": torch.zeros(1)}))


def test_wrappers_prefer_params_ema_and_strip_module_prefix(tmp_path):
    ema, raw = tiny("espcn").state_dict(), tiny("espcn").state_dict()
    for v in raw.values():
        v.zero_()
    ema = {f"module.{k}": v for k, v in ema.items()}
    net = models.load("espcn", _saved(tmp_path, {"params": raw, "params_ema": ema}))
    assert all(torch.equal(net.state_dict()[k.removeprefix("module.")], v) for k, v in ema.items())


@pytest.mark.parametrize("wrapper", ["params", "state_dict", "model"])
def test_other_wrappers(tmp_path, wrapper):
    sd = tiny("espcn").state_dict()
    assert models.load(None, _saved(tmp_path, {wrapper: sd, "epoch": 7}), scale=2).arch == "espcn"


def test_missing_and_unexpected_keys_are_named(tmp_path):
    sd = tiny("rfdn").state_dict()
    del sd["B2.esa.conv4.bias"]
    sd["B2.extra.weight"] = torch.zeros(1)
    with pytest.raises(ModelError, match=r"missing: B2\.esa\.conv4\.bias; unexpected: B2\.extra\.weight"):
        models.load("rfdn", _saved(tmp_path, sd))


def test_wrong_shapes_are_named(tmp_path):
    sd = tiny("rlfn").state_dict()
    sd["block_2.c2_r.weight"] = torch.zeros(6, 6, 1, 1)
    with pytest.raises(ModelError, match=r"wrong shape \(file vs model\): block_2\.c2_r\.weight \[6, 6, 1, 1\]"):
        models.load("rlfn", _saved(tmp_path, sd))


def test_unknown_architecture_is_not_guessed(tmp_path):
    with pytest.raises(ModelError, match="no known architecture matches"):
        models.load(None, _saved(tmp_path, {"encoder.weight": torch.zeros(3, 3)}))


def test_scale_free_weights_need_a_scale(tmp_path):
    path = _saved(tmp_path, tiny("fsrcnn", 3).state_dict())
    with pytest.raises(ModelError, match="do not record the upscale factor"):
        models.load("fsrcnn", path)
    assert models.load("fsrcnn", path, scale=3).scale == 3
