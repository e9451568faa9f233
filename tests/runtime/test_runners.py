"""Runners: chosen by suffix, configured from metadata, honest about what they assumed."""

from __future__ import annotations

import logging

import numpy as np
import onnxruntime as ort
import pytest

from edgesr.errors import DependencyError, InputError, ModelError
from edgesr.runtime import runners
from edgesr.runtime.runners import Runner, RunnerOptions, open_runner, register_runner
from tests.tiny_models import Builder, save, sr_model


def test_spec_comes_from_metadata(models):
    with open_runner(models["dynamic"]) as runner:
        spec = runner.spec
    assert (spec.scale, spec.value_range, spec.channel_order) == (4, 1.0, "RGB")
    assert spec.input_hw is None and spec.batch is None and spec.precision == "fp32"
    assert spec.backend.endswith("CPUExecutionProvider")


def test_infer_on_a_batch(models):
    x = np.random.default_rng(0).random((3, 3, 20, 30), dtype=np.float32)
    with open_runner(models["dynamic"]) as runner:
        y = runner.infer(x)
        one = runner.infer(x[1:2])
    assert y.shape == (3, 3, 80, 120)
    np.testing.assert_allclose(y[1:2], one, atol=1e-5)


def test_fixed_batch_model_takes_any_batch(models):
    x = np.random.default_rng(0).random((3, 3, 64, 64), dtype=np.float32)
    with open_runner(models["static"]) as runner:
        assert runner.infer(x).shape == (3, 3, 256, 256)


def test_missing_metadata_is_inferred_and_said(models, caplog):
    with caplog.at_level(logging.INFO, logger="edgesr"), open_runner(models["bare"]) as runner:
        spec = runner.spec
    assert spec.scale == 4 and spec.value_range == 1.0
    assert any("probe run" in n for n in spec.notes) and any("value range assumed" in n for n in spec.notes)
    assert "x4 inferred from a probe run" in caplog.text and "--value-range 255" in caplog.text


def test_declared_scale_and_range_for_a_bare_model(models):
    with open_runner(models["bare"], RunnerOptions(scale=4, value_range=255.0)) as runner:
        assert runner.spec.value_range == 255.0
        assert not any("probe" in n for n in runner.spec.notes)


def test_flags_contradicting_metadata_are_refused(models):
    with pytest.raises(InputError, match="x4 model but --scale 2"):
        open_runner(models["dynamic"], RunnerOptions(scale=2)).activate()
    with pytest.raises(InputError, match="drop --value-range"):
        open_runner(models["dynamic"], RunnerOptions(value_range=255.0)).activate()


def test_wrong_declared_scale_is_caught_at_inference(models):
    with open_runner(models["bare"], RunnerOptions(scale=2)) as runner, pytest.raises(ModelError, match="--scale"):
        runner.infer(np.zeros((1, 3, 8, 8), np.float32))


def test_bicubic_resize_is_rewritten_exactly_and_said(models, caplog, monkeypatch):
    """An unconverted model's cubic Resize never reaches ONNX Runtime's slow CPU kernel."""
    import onnx

    x = np.random.default_rng(1).random((1, 3, 45, 61), dtype=np.float32)
    reference = ort.InferenceSession(str(models["bicubic"]), providers=["CPUExecutionProvider"])
    expected = reference.run(None, {"input": x})[0]
    handed = []
    real_session = ort.InferenceSession

    def recording_session(model, *args, **kwargs):
        handed.append(model)
        return real_session(model, *args, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", recording_session)
    with caplog.at_level(logging.WARNING, logger="edgesr"), open_runner(models["bicubic"]) as runner:
        got = runner.infer(x)
    assert "edgesr convert" in caplog.text
    assert any("rewritten in memory" in n for n in runner.spec.notes)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert "Resize" not in {n.op_type for n in onnx.load_from_string(handed[0]).graph.node}


def test_unknown_suffix_and_missing_file(tmp_path):
    (tmp_path / "m.pt").write_bytes(b"x")
    with pytest.raises(InputError, match="no runner for '.pt'.*onnx"):
        open_runner(tmp_path / "m.pt")
    with pytest.raises(InputError, match="does not exist"):
        open_runner(tmp_path / "nope.onnx")


@pytest.mark.parametrize("content, message", [(b"", "is empty"), (b"garbage bytes", "not an ONNX model")])
def test_broken_model_is_a_model_error(tmp_path, content, message):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message):
        open_runner(path).activate()


def test_grayscale_model_is_refused(tmp_path):
    path = save(_one_channel(), tmp_path / "y.onnx")
    with pytest.raises(ModelError, match="RGB"):
        open_runner(path).activate()


def _one_channel():
    model = sr_model()
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 1
    return model


def test_unavailable_provider_is_a_dependency_error(models):
    with pytest.raises(DependencyError, match="CUDAExecutionProvider"):
        open_runner(models["dynamic"], RunnerOptions(providers=("cuda",))).activate()


def test_a_new_backend_slots_in_by_suffix(tmp_path, monkeypatch):
    """A backend plugs in with one registry row for its suffix, as the TensorRT runner does."""
    monkeypatch.setattr(runners, "RUNNERS", dict(runners.RUNNERS))

    class BlobRunner(Runner):
        def activate(self):
            self.activated = True

    register_runner(".blob", BlobRunner)
    path = tmp_path / "m.blob"
    path.write_bytes(b"model")
    with open_runner(path) as runner:
        assert isinstance(runner, BlobRunner) and runner.activated


def _cpu_runner_and_plain_ort(path, x):
    """``(runner notes, runner output, plain ONNX Runtime output)`` for one input on CPU."""
    expected = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    with open_runner(path, RunnerOptions(providers=("cpu",))) as runner:
        got = runner.infer(x)
    return runner.spec.notes, got, expected


def test_pixel_shuffle_of_int8_data_is_split_on_cpu_and_said(tmp_path):
    """A Q/DQ model's DepthToSpace runs as single-axis transposes on CPU, with identical output."""
    from onnx import helper, numpy_helper

    model = sr_model(scale=4, dims=("n", 3, "h", "w"))
    d2s = next(n for n in model.graph.node if n.op_type == "DepthToSpace")
    f = d2s.input[0]
    model.graph.initializer.extend(
        [numpy_helper.from_array(np.array(0.05, np.float32), "s"), numpy_helper.from_array(np.array(0, np.int8), "zp")]
    )
    at = list(model.graph.node).index(d2s)
    model.graph.node.insert(at, helper.make_node("DequantizeLinear", ["fq", "s", "zp"], ["fdq"]))
    model.graph.node.insert(at, helper.make_node("QuantizeLinear", [f, "s", "zp"], ["fq"]))
    d2s.input[0] = "fdq"
    path = save(model, tmp_path / "qdq.onnx")
    x = np.random.default_rng(2).random((1, 3, 19, 23), dtype=np.float32)
    notes, got, expected = _cpu_runner_and_plain_ort(path, x)
    assert any("pixel shuffle" in n for n in notes)
    np.testing.assert_array_equal(got, expected)


def test_int8_convolutions_on_odd_channel_counts_are_padded_on_cpu_and_said(tmp_path):
    """A Q/DQ model whose INT8 convolutions have 6 channels runs padded to 8, the same function."""
    b = Builder(seed=4)
    f = b.op("Relu", [b.qconv(b.qconv(b.qdq("input"), 3, 8), 8, 6)])
    y = b.op("DepthToSpace", [b.qconv(b.qdq(f, zero=0), 6, 12)], blocksize=2, mode="CRD")
    path = save(
        b.model(y, dims=("n", 3, "h", "w"), metadata={"edgesr.scale": 2, "edgesr.value_range": 1.0}),
        tmp_path / "odd.onnx",
    )
    x = np.random.default_rng(3).random((1, 3, 17, 21), dtype=np.float32)
    notes, got, expected = _cpu_runner_and_plain_ort(path, x)
    assert any("padded to multiples of four" in n for n in notes)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_gelu_of_dequantized_data_is_fused_on_cpu_and_said(tmp_path):
    from tests.tiny_models import gelu_model

    model = gelu_model()
    for k, v in {"edgesr.scale": 1, "edgesr.value_range": 1.0}.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, str(v)
    path = save(model, tmp_path / "gelu.onnx")
    x = np.random.default_rng(5).random((1, 3, 16, 16), dtype=np.float32)
    notes, got, expected = _cpu_runner_and_plain_ort(path, x)
    assert any("GELUs of dequantized data fused" in n for n in notes)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
