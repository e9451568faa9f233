"""edgesr build end to end on tiny models: ONNX Runtime artifacts, bundles, engines through the
TensorRT double, caching, and the device policy errors."""

import json
import subprocess

import onnx
import pytest

from edgesr import deploy, host, shipped
from edgesr.cli import main
from edgesr.engine import bundle, sidecar_writer
from edgesr.errors import DeviceError, InputError
from tests.doubles import tensorrt_double
from tests.tiny_models import save, sr_model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("pipeline")
    return save(sr_model(bicubic_skip=True, channels=8), d / "tiny.onnx")


def test_cpu_fp32_artifact_is_the_converted_model(tmp_path, tiny):
    result = deploy.build(device="cpu", onnx=tiny, precision="fp32", out=tmp_path)
    assert result.kind == "onnxruntime" and result.artifact.name == "tiny-x4-fp32-180x320.onnx"
    data = sidecar_writer.read(result.artifact)
    assert data["identity"].precision == "fp32" and data["identity"].tensorrt is None
    assert data["kind"] == "onnxruntime"


def test_fp16_bundle_for_nano_and_cache_hit(tmp_path, tiny, capsys):
    args = ["build", "--device", "nano", "--onnx", str(tiny), "--input-size", "48x64", "-o", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "bundle written" in out and "next: copy" in out and "bash build.sh" in out
    d = tmp_path / "nano" / "tiny-x4-fp16-48x64"
    assert (d / "build.sh").is_file() and (d / "model.fp16.onnx").is_file()
    subprocess.run(["bash", "-n", str(d / "build.sh")], check=True)
    man = bundle.read(d)
    assert man["identity"]["precision"] == "fp16" and man["tensorrt_releases"] == ["8.0.1", "8.2.1"]
    assert "accuracy-report.html" in man["files"].values()
    assert main(args) == 0
    assert "bundle reused" in capsys.readouterr().out


@pytest.mark.slow
def test_int8_bundle_for_orin(tmp_path, tiny):
    result = deploy.build(device="orin", onnx=tiny, input=(64, 48), out=tmp_path)
    assert result.kind == "bundle" and result.identity.precision == "int8"
    files = bundle.read(result.directory)["files"]
    assert {"onnx", "fp32", "qdq", "calib_trt8.5.2"} <= set(files)
    assert result.accuracy["passed"]


@pytest.mark.parametrize("machine, zero_point_type", [("x86_64", "uint8"), ("aarch64", "int8")])
def test_cpu_int8_artifact_uses_the_encoding_onnx_runtime_fuses_on_this_host(
    tmp_path, tiny, monkeypatch, machine, zero_point_type
):
    monkeypatch.setattr(deploy.platform, "machine", lambda: machine)
    result = deploy.build(device="cpu", onnx=tiny, precision="int8", input=(64, 48), out=tmp_path)
    model = onnx.load(str(result.artifact))
    act_zero_points = {
        i.name
        for n in model.graph.node
        if n.op_type == "QuantizeLinear"
        for i in model.graph.initializer
        if len(n.input) > 2 and i.name == n.input[2]
    }
    types = {
        onnx.helper.tensor_dtype_to_np_dtype(i.data_type).name
        for i in model.graph.initializer
        if i.name in act_zero_points
    }
    assert types == {zero_point_type}
    est = result.accuracy["estimate"]
    assert est["drop_db"] == pytest.approx(est["expected_db"] + est["margin_db"], abs=2e-4)
    assert "drawn screen content" in est["validation"]


def test_engine_is_built_on_the_device_with_tensorrt(tmp_path, tiny, monkeypatch):
    trt = tensorrt_double.make("10.3.0")
    monkeypatch.setitem(__import__("sys").modules, "tensorrt", trt)
    monkeypatch.setattr(host, "jetson", lambda *a: deploy.devices.get("orin-nano"))
    result = deploy.build(device="orin-nano", onnx=tiny, precision="fp16", input=(64, 48), out=tmp_path)
    assert result.kind == "engine" and result.artifact.suffix == ".engine"
    ident = sidecar_writer.check_host(result.artifact, tensorrt="10.3.0", device="orin-nano", compute_capability="8.7")
    assert ident.precision == "fp16"
    # the runtime reads scale and value range from here: it never opens the ONNX of an engine
    assert sidecar_writer.read(result.artifact)["meta"]["edgesr.scale"] == "4"
    again = deploy.build(device="orin-nano", onnx=tiny, precision="fp16", input=(64, 48), out=tmp_path)
    assert again.cached and again.artifact == result.artifact
    with pytest.raises(DeviceError, match="TensorRT 10.3.0, this machine has 10.4.0"):
        sidecar_writer.check_host(result.artifact, tensorrt="10.4.0", device="orin-nano", compute_capability="8.7")


def test_bundle_finishes_on_the_device(tmp_path, tiny, monkeypatch):
    result = deploy.build(device="orin-nano", onnx=tiny, precision="fp16", input=(64, 48), out=tmp_path)
    assert result.kind == "bundle"
    monkeypatch.setitem(__import__("sys").modules, "tensorrt", tensorrt_double.make("8.6.2"))
    monkeypatch.setattr(host, "jetson", lambda *a: deploy.devices.get("orin-nano"))
    done = deploy.finish_bundle(result.directory)
    assert done.kind == "engine" and done.artifact.is_file()
    assert sidecar_writer.read(done.artifact)["identity"].tensorrt == "8.6.2"
    assert sidecar_writer.read(done.artifact)["meta"]["edgesr.scale"] == "4"
    assert deploy.finish_bundle(result.directory).cached


def test_bundle_on_the_wrong_device(tmp_path, tiny, monkeypatch):
    result = deploy.build(device="orin-nano", onnx=tiny, precision="fp16", input=(64, 48), out=tmp_path)
    monkeypatch.setitem(__import__("sys").modules, "tensorrt", tensorrt_double.make("10.3.0"))
    monkeypatch.setattr(host, "jetson", lambda *a: deploy.devices.get("xavier-nx"))
    with pytest.raises(InputError, match="this bundle is for orin-nano, this machine is xavier-nx"):
        deploy.finish_bundle(result.directory)


def test_no_shipped_default_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(shipped, "FOLDER", tmp_path / "none")
    assert main(["build", "--device", "orin", "-o", str(tmp_path)]) != 0
    assert "ships no default model" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--device", "nano", "--precision", "int8"], "nano .* has no fast INT8"),
        (["--device", "orin-nano", "--dla", "0"], "orin-nano has no DLA cores"),
        (["--device", "orin-agx", "--dla", "0", "--input-size-range", "64x64:180x320"], "static input shape"),
        (["--device", "cpu", "--precision", "fp16"], "no fast FP16"),
        (["--device", "orin", "--model", "nope"], "no shipped model named 'nope'"),
        (["--device", "orin", "--onnx", "missing.onnx"], "does not exist"),
        (["--device", "orin", "--input-size", "180by320", "--onnx", "x.onnx"], "HEIGHTxWIDTH"),
        (["--device", "orim"], "did you mean 'orin'"),
        (["--device", "cpu", "--finetune", "-5"], "--finetune takes a number of steps >= 0"),
        ([], "pass --device"),
    ],
)
def test_bad_requests_are_one_line(tmp_path, capsys, args, message):
    assert main(["build", *args, "-o", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = [x for x in err.splitlines() if x.startswith("edgesr: error:")]
    assert len(line) == 1 and __import__("re").search(message, line[0]), err


def _with_arch(tmp_path, arch):
    from edgesr import meta

    model = sr_model(channels=8)
    meta.write(model, meta.ModelMeta(arch=arch, scale=4))
    return save(model, tmp_path / f"{arch}.onnx")


@pytest.mark.parametrize(
    "arch, given, steps",
    [
        ("aidn-rt", None, 200),
        ("aidn-da", None, 200),
        ("aidn-rt", 0, 0),
        ("rfdn", None, 0),
        ("unknown", None, 0),
        ("rfdn", 30, 30),
    ],
)
def test_int8_fine_tune_steps_come_from_the_models_table_unless_given(tmp_path, arch, given, steps):
    build = deploy.Build(deploy.BuildOptions(device="cpu", finetune=given))
    assert build._finetune_steps(_with_arch(tmp_path, arch)) == steps


def test_without_torch_the_fine_tune_is_skipped_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(deploy, "available", lambda name: name != "torch")
    build = deploy.Build(deploy.BuildOptions(device="cpu"))
    with caplog.at_level("WARNING", logger="edgesr"):
        assert build._finetune_steps(_with_arch(tmp_path, "aidn-rt")) == 0
    assert "without its 200-step quantization-aware fine-tune" in caplog.text


def test_interrupted_build_leaves_no_artifact(tmp_path, tiny, monkeypatch):
    import edgesr.report as report

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "validate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        deploy.build(device="nano", onnx=tiny, input=(64, 48), out=tmp_path)
    assert not (tmp_path / "nano" / "tiny-x4-fp16-48x64").exists()
    assert not list(tmp_path.rglob("*.engine")) and not list(tmp_path.rglob("bundle.json"))
    summary = json.dumps(sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")))
    assert "request.json" not in summary


@pytest.fixture(scope="module")
def tiny_blind(tmp_path_factory):
    import torch

    from edgesr import models
    from edgesr.export import export_onnx

    torch.manual_seed(0)
    net = models.create("aidn-da", channels=8, convs=3, rep=8, encoder_channels=4, modulated=2)
    for p in net.attention.parameters():
        torch.nn.init.normal_(p, std=0.3)
    path = tmp_path_factory.mktemp("blind") / "blind.onnx"
    export_onnx(models.deployed(net.eval()), path)
    return path


@pytest.mark.parametrize("device, precision", [("cpu", "fp32"), ("orin", "fp16")])
def test_a_blind_model_ships_its_encoder_and_conditional_graphs_bound_by_pair(tmp_path, tiny_blind, device, precision):
    import numpy as np

    from edgesr.meta import GRAPH_KEY, PAIR_KEY, all_props
    from edgesr.runtime.onnxruntime_runner import OnnxRuntimeRunner

    result = deploy.build(device=device, onnx=tiny_blind, precision=precision, input=(64, 48), out=tmp_path)
    if device == "cpu":
        graphs = sidecar_writer.read(result.artifact)["graphs"]
    else:
        files = bundle.read(result.directory)["files"]
        graphs = {"encoder": files["encoder_onnx"], "conditional": files["conditional_onnx"]}
    parts = {role: onnx.load(str(result.directory / graphs[role])) for role in ("encoder", "conditional")}
    props = {role: all_props(m) for role, m in parts.items()}
    assert [props[r][GRAPH_KEY] for r in ("encoder", "conditional")] == ["encoder", "conditional"]
    assert props["encoder"][PAIR_KEY] == props["conditional"][PAIR_KEY]
    if device == "cpu":
        assert graphs["pair"] == props["encoder"][PAIR_KEY] and set(graphs["sha256"]) == {
            graphs["encoder"],
            graphs["conditional"],
        }
        image = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
        with (
            OnnxRuntimeRunner(result.directory / graphs["conditional"]) as split,
            OnnxRuntimeRunner(result.artifact) as whole,
        ):
            x = image.transpose(2, 0, 1)[None].astype(np.float32) / 255
            assert np.abs(split.infer(x, split.estimate(image)) - whole.infer(x)).max() <= 1e-5
