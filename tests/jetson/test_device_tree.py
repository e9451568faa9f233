"""Device-tree model strings of every module family (fixtures/device-tree-model.tsv) -> the device table."""

import pytest

from edgesr import host
from tests.jetson.fakes import table


@pytest.mark.parametrize("device, model", table("device-tree-model.tsv"))
def test_model_strings(device, model):
    found = host.device_from_model_string(model + "\x00")
    assert (found.id if found else "none") == device


def test_read_from_the_device_tree(tmp_path):
    (tmp_path / "model").write_bytes(b"NVIDIA Jetson AGX Thor Developer Kit\x00")
    assert host.jetson(tmp_path / "model").id == "thor"
    assert host.jetson(tmp_path / "missing") is None
