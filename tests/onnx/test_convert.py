import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from edgesr.errors import InputError, ModelError, ParityError, UnsupportedOpError
from edgesr.onnx import convert as convert_mod
from edgesr.onnx.convert import convert
from tests.tiny_models import Builder, save, sr_model


def run(model, x):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(),
        dict(attention=True),
        dict(bicubic_skip=True),
        dict(bicubic_skip=True, attention=True, dims=(1, 3, 36, 52)),
        dict(scale=2, dims=("n", 3, "h", "w")),
    ],
)
def test_convert_tiny_models(tmp_path, kwargs):
    src = save(sr_model(**kwargs), tmp_path / "m.onnx")
    result = convert(src, tmp_path / "out")
    assert result.onnx_path.exists() and result.report_path.exists()
    report = json.loads(result.report_path.read_text())
    assert report["parity"]["passed"] and report["parity"]["images"] >= 5
    assert report["parity"]["max_abs_error"] < 1e-4
    assert set(report["support"]) == {"trt8", "trt10", "trt11", "dla", "ort-cpu"}
    assert "Resize" not in report["after"]["ops"]
    assert report["before"]["ops"].get("Resize", 0) == (1 if kwargs.get("bicubic_skip") else 0)
    assert len(report["rewrites"]) == report["before"]["ops"].get("Resize", 0)
    out = onnx.load(str(result.onnx_path))
    assert {p.key for p in out.metadata_props} >= {"edgesr.scale", "edgesr.value_range"}
    assert sorted(p.name for p in tmp_path.joinpath("out").iterdir()) == ["m.convert.json", "m.onnx"]


def test_dynamic_model_stays_dynamic(tmp_path):
    result = convert(save(sr_model(bicubic_skip=True), tmp_path / "m.onnx"), tmp_path / "out")
    x = np.random.default_rng(0).random((1, 3, 21, 33), dtype=np.float32)
    assert run(result.model, x).shape == (1, 3, 84, 132)
    assert result.report["parity"]["input_shapes"] == ["1x3x120x160", "1x3x99x131"]


def test_fixed_input_shape_option(tmp_path):
    result = convert(save(sr_model(), tmp_path / "m.onnx"), tmp_path / "out", input_shape=(1, 3, 45, 80))
    assert result.report["input"]["shape"] == "1x3x45x80"
    assert result.report["parity"]["input_shapes"] == ["1x3x45x80"]


def test_value_range_255_models_get_a_scaled_tolerance(tmp_path):
    result = convert(save(sr_model(value_range=255.0), tmp_path / "m.onnx"), tmp_path / "out")
    assert result.report["parity"]["atol"] == pytest.approx(255e-4)


def test_parity_failure_writes_nothing(tmp_path, monkeypatch):
    def broken_rewrite(model):
        for t in model.graph.initializer:
            if t.name.startswith("w_"):
                arr = onnx.numpy_helper.to_array(t) * 1.5
                t.CopyFrom(onnx.numpy_helper.from_array(arr.astype(np.float32), t.name))
        return [], []

    monkeypatch.setattr(convert_mod, "rewrite_bicubic_resizes", broken_rewrite)
    with pytest.raises(ParityError, match="differs from the original"):
        convert(save(sr_model(), tmp_path / "m.onnx"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_output_over_input_is_refused(tmp_path):
    src = save(sr_model(), tmp_path / "m.onnx")
    with pytest.raises(InputError, match="overwrite the input"):
        convert(src, tmp_path)


def test_unwritable_output_fails_before_work(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot write"):
        convert(save(sr_model(), tmp_path / "m.onnx"), tmp_path / "file" / "out")


def _model_with_op(op_type, opset=17, **attrs):
    b = Builder()
    f = b.conv("input", 3, 12)
    f = b.op(op_type, [f], **attrs)
    return b.model(
        b.op("DepthToSpace", [f], blocksize=2, mode="CRD"),
        opset=opset,
        metadata={"edgesr.scale": 2, "edgesr.value_range": 1.0},
    )


def test_unsupported_op_for_the_target_is_named(tmp_path):
    src = save(_model_with_op("Gelu", opset=20), tmp_path / "m.onnx")
    findings = convert_mod.support.check_graph(onnx.load(str(src)), "trt8")
    assert any(f.blocking for f in findings), "fixture op must be unsupported on TensorRT 8"
    with pytest.raises(UnsupportedOpError, match="op Gelu .* cannot run on nano .*no fallback"):
        convert(src, tmp_path / "out", target="nano")
    assert not (tmp_path / "out").exists()
    assert convert(src, tmp_path / "cpu", target="cpu").report["support_verdict"]["device"] == "cpu"


def test_dla_fallback_is_reported_not_fatal(tmp_path):
    src = save(sr_model(attention=True, bicubic_skip=True, dims=(1, 3, 32, 32)), tmp_path / "m.onnx")
    report = convert(src, tmp_path / "out", target="orin-agx").report
    assert "dla" in report["support_verdict"]["targets"]
    assert isinstance(report["support_verdict"]["dla_fallback"], list)


def test_unknown_target_suggests(tmp_path):
    with pytest.raises(InputError, match="did you mean"):
        convert(save(sr_model(), tmp_path / "m.onnx"), tmp_path / "out", target="orin-nanoo")


def test_bad_model_files(tmp_path):
    (tmp_path / "text.onnx").write_text("hello")
    with pytest.raises(ModelError):
        convert(tmp_path / "text.onnx", tmp_path / "out")
    assert not (tmp_path / "out").exists()
