"""L4T and JetPack from /etc/nv_tegra_release and the dpkg package versions (fixtures/)."""

import pytest

from edgesr.jetson import release
from tests.jetson.fakes import FakeRoot, fixture, table

# fixture -> L4T, board, exact JetPack (None: not in the table), device-table JetPack line, JetPack major
EXPECTED = {
    "r32.7.1-nano": ((32, 7, 1), "t210ref", "4.6.1", "4.6.x", 4),
    "r35.4.1-xavier-nx": ((35, 4, 1), "t186ref", "5.1.2", "5.1.x", 5),
    "r36.4.3-orin-nano": ((36, 4, 3), "generic", "6.2", "6.1/6.2", 6),
    "r36.4.4-orin-nx": ((36, 4, 4), "generic", "6.2.1", "6.1/6.2", 6),
    "r38.2.0-thor": ((38, 2, 0), "generic", "7.0", "7.0/7.1", 7),
    "r38.4.0-thor": ((38, 4, 0), "generic", None, "7.0/7.1", 7),
    "r39.2.0-orin-agx": ((39, 2, 0), "generic", None, "7.2", 7),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_release_files(name):
    l4t, board, jetpack, line, major = EXPECTED[name]
    rel = release.parse_release_file(fixture(f"nv_tegra_release/{name}.txt"))
    assert (rel.l4t, rel.board, rel.jetpack, rel.jetpack_major) == (l4t, board, jetpack, major)
    assert rel.jetpack_line.version == line
    assert rel.l4t_text == "R{}.{}.{}".format(*l4t)
    assert rel.describe().startswith(f"L4T {rel.l4t_text} (JetPack ")


def test_jetpack_lines_carry_the_stack():
    rel = release.parse_release_file(fixture("nv_tegra_release/r36.4.3-orin-nano.txt"))
    assert rel.jetpack_line.tensorrt == ("10.3",) and rel.jetpack_line.python == "3.10"
    assert release.parse_release_file(fixture("nv_tegra_release/r38.2.0-thor.txt")).jetpack_line.python == "3.12"


@pytest.mark.parametrize("package, version, expected", table("dpkg-query.tsv"))
def test_package_versions(package, version, expected):
    assert release.parse_package_version(version) == tuple(int(p) for p in expected.split("."))


@pytest.mark.parametrize("text", ["", "not a release line", "# R (release), REVISION: x"])
def test_not_a_release(text):
    assert release.parse_release_file(text) is None


def test_detect_reads_the_file_and_the_exact_jetpack_package(tmp_path):
    root = (
        FakeRoot(tmp_path)
        .jetson("NVIDIA Jetson Orin NX Engineering Reference Developer Kit", "r36.4.4-orin-nx")
        .dpkg({"nvidia-jetpack": "6.2.1+b38"})
    )
    rel = release.detect(root.system)
    assert rel.l4t == (36, 4, 4) and rel.jetpack == "6.2.1" and rel.source == "/etc/nv_tegra_release"


def test_detect_falls_back_to_nvidia_l4t_core(tmp_path):
    # An image without /etc/nv_tegra_release still has the package.
    root = FakeRoot(tmp_path).dpkg({"nvidia-l4t-core": "36.4.4-20250616085344"})
    rel = release.detect(root.system)
    assert rel.l4t == (36, 4, 4) and rel.source == "dpkg nvidia-l4t-core" and rel.jetpack == "6.2.1"


def test_not_a_jetson(tmp_path):
    assert release.detect(FakeRoot(tmp_path).dpkg({}).system) is None
    assert release.detect(FakeRoot(tmp_path / "bare").system) is None
