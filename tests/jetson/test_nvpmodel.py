"""``nvpmodel -q`` answers (fixtures/nvpmodel/), and the query itself through a stand-in command."""

import pytest

from edgesr.jetson import nvpmodel
from tests.jetson.fakes import FakeRoot, fixture

EXPECTED = {
    "nano-maxn": ("MAXN", 0),
    "xavier-nx-15w-6core": ("MODE_15W_6CORE", 2),
    "xavier-nx-verbose": ("MODE_15W_6CORE", 2),
    "xavier-agx-fan-mode": ("MODE_30W_4CORE", 5),
    "orin-nano-maxn-super": ("MAXN_SUPER", 2),
    "orin-nx-maxn-super": ("MAXN_SUPER", 2),
    "orin-agx-40w": ("MODE_40W", 3),
    "thor-maxn": ("MAXN", 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_answers(name):
    mode = nvpmodel.parse(fixture(f"nvpmodel/{name}.txt"))
    assert (mode.name, mode.id) == EXPECTED[name]
    assert str(mode) == f"{mode.name} (mode {mode.id})"


@pytest.mark.parametrize("text", ["", "NVPM ERROR: failed to read PARAM", "NV Power Mode: MAXN\n"])
def test_not_an_answer(text):
    assert nvpmodel.parse(text) is None


def test_query(tmp_path):
    root = FakeRoot(tmp_path).command("nvpmodel", fixture("nvpmodel/orin-nano-maxn-super.txt"))
    assert nvpmodel.query(root.system) == nvpmodel.PowerMode("MAXN_SUPER", 2)


def test_query_without_nvpmodel_or_when_it_fails(tmp_path):
    assert nvpmodel.query(FakeRoot(tmp_path).system) is None
    assert nvpmodel.query(FakeRoot(tmp_path / "f").command("nvpmodel", "Please run as root\n", status=1).system) is None
