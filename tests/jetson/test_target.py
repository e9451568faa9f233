"""``--device auto`` and the check of a named device against the Jetson module this runs on."""

import logging

import pytest

from edgesr import devices, host
from edgesr.cli import main
from edgesr.errors import DeviceError
from edgesr.jetson import target
from tests.tiny_models import save, sr_model


@pytest.fixture
def on(tmp_path, monkeypatch):
    """Pretend to run on the module named by a device-tree model string."""

    def pretend(model: str):
        path = tmp_path / "model"
        path.write_text(model + "\x00")
        monkeypatch.setattr(host, "DEVICE_TREE_MODEL", path)
        return path

    pretend("Raspberry Pi 4 Model B Rev 1.4")
    return pretend


def test_auto_on_a_jetson_is_its_module(on):
    on("NVIDIA Jetson AGX Orin Developer Kit")
    assert target.resolve("auto").id == "orin-agx"
    assert target.resolve("AUTO").id == "orin-agx"


def test_auto_elsewhere_is_the_onnx_runtime_artifact(on, caplog):
    with caplog.at_level(logging.INFO, logger="edgesr"):
        assert target.resolve("auto").id == "cpu"
    assert "not a Jetson" in caplog.text


@pytest.mark.parametrize("requested", ["orin-agx", "orin", "cpu", "thor", "nano"])
def test_a_host_may_name_any_device(on, requested):
    assert target.resolve(requested) == devices.get(requested)


def test_the_same_module_or_cpu_says_nothing(on, caplog):
    on("NVIDIA Jetson Orin NX Engineering Reference Developer Kit")
    with caplog.at_level(logging.WARNING, logger="edgesr"):
        assert target.resolve("orin-nx").id == "orin-nx"
        assert target.resolve("cpu").id == "cpu"
    assert caplog.text == ""


def test_another_module_of_the_same_gpu_generation_warns(on, caplog):
    on("NVIDIA Jetson AGX Orin Developer Kit")
    with caplog.at_level(logging.WARNING, logger="edgesr"):
        assert target.resolve("orin-nano").id == "orin-nano"
    assert "not a Jetson Orin Nano" in caplog.text and "a bundle is written" in caplog.text
    assert "--device orin-agx (or auto)" in caplog.text


@pytest.mark.parametrize(
    "model, requested",
    [
        ("NVIDIA Jetson Xavier NX Developer Kit", "orin-agx"),
        ("NVIDIA Jetson AGX Orin Developer Kit", "thor"),
        ("NVIDIA Jetson Nano Developer Kit", "xavier-nx"),
    ],
)
def test_another_gpu_generation_is_refused(on, model, requested):
    on(model)
    with pytest.raises(DeviceError, match="can neither build nor test") as err:
        target.resolve(requested)
    assert "--device auto" in str(err.value)


def test_build_refuses_before_any_work(on, tmp_path, capsys):
    on("NVIDIA Jetson Xavier NX Developer Kit")
    onnx = save(sr_model(), tmp_path / "m.onnx")
    out = tmp_path / "engines"
    assert main(["build", "--device", "orin-agx", "--onnx", str(onnx), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("edgesr: error:")]
    assert len(lines) == 1 and "Jetson Xavier NX" in lines[0] and "Traceback" not in err
    assert not out.exists()


def test_build_help_names_auto(capsys):
    with pytest.raises(SystemExit):
        main(["build", "--help"])
    assert "auto" in capsys.readouterr().out


def test_the_library_build_resolves_auto_too(on, tmp_path):
    from edgesr import deploy

    onnx = save(sr_model(), tmp_path / "m.onnx")
    result = deploy.build(device="auto", onnx=onnx, precision="fp32", out=tmp_path / "engines")
    assert result.kind == "onnxruntime" and result.identity.device == "cpu"
