"""One ONNX Runtime session factory: the options each caller asks for, one-line load errors, CPU rewrites."""

import numpy as np
import onnxruntime as ort
import pytest

from edgesr.errors import ModelError
from edgesr.onnx import sessions
from tests.tiny_models import save, sr_model


@pytest.fixture
def captured(monkeypatch):
    """The options and providers of every session made, the sessions themselves still real."""
    made = []
    real = ort.InferenceSession

    def recording(source, options, providers):
        made.append((options, providers))
        return real(source, options, providers=providers)

    monkeypatch.setattr(ort, "InferenceSession", recording)
    return made


def test_defaults_are_onnxruntimes_own(captured, tmp_path):
    sessions.session(save(sr_model(), tmp_path / "m.onnx"))
    options, providers = captured[0]
    default = ort.SessionOptions()
    assert providers == ["CPUExecutionProvider"]
    assert options.log_severity_level == default.log_severity_level
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (0, 0)
    with pytest.raises(RuntimeError, match="does not have configuration"):
        options.get_session_config_entry("session.intra_op.allow_spinning")


def test_the_options_a_caller_asks_for(captured):
    s = sessions.session(sr_model(), threads=2, inter_op_threads=1, spinning=False, quiet=True)
    options, _ = captured[0]
    assert (options.intra_op_num_threads, options.inter_op_num_threads, options.log_severity_level) == (2, 1, 3)
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    x = np.zeros((1, 3, 8, 8), np.float32)
    assert s.run(None, {"input": x})[0].shape == (1, 3, 32, 32)  # a ModelProto is serialised for the session


def test_a_named_model_that_does_not_load_is_a_one_line_error(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match=r"^ONNX Runtime cannot load broken.onnx \(.*\); convert it$"):
        sessions.session(broken, name="broken.onnx", fix="convert it")
    with pytest.raises(sessions.errors(ort, sessions.LOAD_ERRORS)):
        sessions.session(broken)


def test_providers_aliases_and_cpu_rewrites_follow_the_first_provider(monkeypatch):
    assert sessions.choose_providers(("cpu",)) == ["CPUExecutionProvider"]
    assert sessions.first([("TensorrtExecutionProvider", {}), "CPUExecutionProvider"]) == "TensorrtExecutionProvider"
    applied = []
    monkeypatch.setattr(sessions, "for_onnxruntime_cpu", lambda model: applied.append(model) or ["note"])
    assert sessions.prepare("m", ["CUDAExecutionProvider", "CPUExecutionProvider"]) == [] and applied == []
    assert sessions.prepare("m", ["CPUExecutionProvider"]) == ["note"] and applied == ["m"]
