import pytest

from edgesr.errors import ModelError
from edgesr.onnx import simplify as simplify_mod
from tests.tiny_models import sr_model


def test_onnxsim_is_used_first():
    model, tool, notes = simplify_mod.simplify(sr_model())
    assert tool.startswith("onnxsim ") and notes == []
    assert all(n.op_type != "Identity" for n in model.graph.node)


def test_onnxslim_takes_over_when_onnxsim_fails(monkeypatch):
    import onnxsim

    def broken(*args, **kwargs):
        raise RuntimeError("simplifier crashed")

    monkeypatch.setattr(onnxsim, "simplify", broken)
    model, tool, notes = simplify_mod.simplify(sr_model())
    assert tool.startswith("onnxslim") and "onnxsim failed (simplifier crashed)" in notes[0]
    assert len(model.graph.node) > 0


def test_onnxslim_when_onnxsim_is_missing(monkeypatch):
    monkeypatch.setattr(simplify_mod, "available", lambda name: name != "onnxsim")
    _, tool, notes = simplify_mod.simplify(sr_model())
    assert tool.startswith("onnxslim") and "not installed" in notes[0]


def test_neither_simplifier(monkeypatch):
    monkeypatch.setattr(simplify_mod, "available", lambda name: False)
    with pytest.raises(ModelError, match="pip install onnxslim"):
        simplify_mod.simplify(sr_model())
