import pytest

from edgesr import host


@pytest.mark.parametrize(
    "text, device",
    [
        ("NVIDIA Jetson AGX Orin Developer Kit\x00", "orin-agx"),
        ("NVIDIA Jetson Orin Nano Developer Kit", "orin-nano"),
        ("NVIDIA Jetson Orin NX Engineering Reference Developer Kit", "orin-nx"),
        ("NVIDIA Jetson Xavier NX Developer Kit", "xavier-nx"),
        ("Jetson-AGX", "xavier-agx"),
        ("NVIDIA Jetson AGX Xavier [16GB]", "xavier-agx"),
        ("NVIDIA Jetson Nano Developer Kit", "nano"),
        ("quill", "tx2"),
        ("NVIDIA Jetson AGX Thor Developer Kit", "thor"),
        ("Raspberry Pi 4 Model B Rev 1.4", None),
    ],
)
def test_device_tree_model_strings(text, device):
    found = host.device_from_model_string(text)
    assert (found.id if found else None) == device


def test_not_a_jetson(tmp_path):
    assert host.jetson(tmp_path / "missing") is None
    (tmp_path / "model").write_text("NVIDIA Jetson Orin Nano Developer Kit\x00")
    assert host.jetson(tmp_path / "model").id == "orin-nano"
