import pytest

from edgesr import devices
from edgesr.errors import InputError


def test_every_design_device_is_in_the_table():
    ids = devices.device_ids()
    for d in ("nano", "tx2", "xavier-nx", "xavier-agx", "orin-nano", "orin-nx", "orin-agx", "thor", "cpu"):
        assert d in ids


def test_precision_policy_follows_fast_int8():
    assert devices.get("nano").precisions == ("fp16", "fp32")
    assert devices.get("tx2").precisions == ("fp16", "fp32")
    assert "int8" in devices.get("orin-nano").precisions


def test_dla_and_compute_capability_facts():
    assert devices.get("orin-nano").dla_cores == 0 and not devices.get("orin-nano").has_dla
    assert devices.get("orin-agx").dla_cores == 2
    assert devices.get("xavier-nx").compute_capability == "7.2"
    assert devices.get("thor").compute_capability == "11.0"
    assert devices.get("nano").compute_capability == "5.3"


def test_tensorrt_versions_follow_jetpack():
    assert devices.get("nano").tensorrt_versions == ("8.0.1", "8.2.1")
    assert "11.4.1" in devices.get("orin-agx").tensorrt_versions
    assert "11.4.1" not in devices.get("orin-nano").tensorrt_versions
    assert devices.get("thor").tensorrt_versions[0] == "10.13"


def test_aliases_and_typos():
    assert devices.get("orin").id == "orin-agx"
    assert devices.get(" Orin-NX ").id == "orin-nx"
    with pytest.raises(InputError, match="did you mean 'orin-nx'"):
        devices.get("orin-mx")


def test_format_table_lists_every_device():
    text = devices.format_table()
    for d in devices.DEVICES:
        assert d.id in text
    assert "JetPack" in text and "10.3" in text
