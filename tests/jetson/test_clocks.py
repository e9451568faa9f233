"""Clock locking read from cpufreq/devfreq nodes, as jetson_clocks leaves them."""

from edgesr.jetson import clocks
from tests.jetson.fakes import FakeRoot


def test_locked_by_jetson_clocks(tmp_path):
    root = FakeRoot(tmp_path).clocks(cpu=(1728000, 1728000), gpu=(1020000000, 1020000000))
    got = clocks.read(root.system)
    assert got.locked is True and got.gpu_max_mhz == 1020
    assert got.describe() == "CPU locked, GPU locked (1020-1020 MHz)"


def test_scaling_under_dvfs(tmp_path):
    root = FakeRoot(tmp_path).clocks(cpu=(729600, 1728000), gpu=(306000000, 1020000000), gpu_node="gpu-gpc-0")
    got = clocks.read(root.system)
    assert got.locked is False and got.cpu_locked is False and got.gpu_locked is False
    assert "CPU scaling" in got.describe()


def test_unreadable(tmp_path):
    got = clocks.read(FakeRoot(tmp_path).system)
    assert got.locked is None and got.describe().startswith("unknown")
