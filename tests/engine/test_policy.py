import pytest

from edgesr.devices import get
from edgesr.engine.policy import plan
from edgesr.errors import DeviceError, InputError


def test_nano_is_fp16_only():
    with pytest.raises(DeviceError, match="nano .*Maxwell.* no fast INT8; use --precision fp16 or fp32"):
        plan(get("nano"), "int8")
    assert plan(get("nano"), "best").candidates == ("fp16", "fp32")


def test_best_prefers_int8_where_fast():
    assert plan(get("orin-agx"), "best").candidates == ("int8", "fp16", "fp32")
    assert plan(get("cpu"), "best").candidates == ("int8", "fp32")


def test_cpu_has_no_fp16():
    with pytest.raises(DeviceError, match="CPU"):
        plan(get("cpu"), "fp16")


def test_dla_rules():
    with pytest.raises(DeviceError, match="orin-nano has no DLA cores"):
        plan(get("orin-nano"), "int8", dla_core=0)
    with pytest.raises(DeviceError, match="DLA cores 0..1"):
        plan(get("orin-agx"), "int8", dla_core=2)
    with pytest.raises(DeviceError, match="static input shape"):
        plan(get("orin-agx"), "fp16", dla_core=0, dynamic=True)
    with pytest.raises(DeviceError, match="FP16 and INT8 only"):
        plan(get("orin-agx"), "fp32", dla_core=0)
    assert plan(get("xavier-nx"), "best", dla_core=1).candidates == ("int8", "fp16")


def test_unknown_precision():
    with pytest.raises(InputError, match="unknown precision"):
        plan(get("orin-agx"), "int4")
