"""The TensorRT double itself: each generation has what its documentation lists, and no more."""

from __future__ import annotations

import pytest

from tests.doubles.tensorrt_double import VERSIONS as V
from tests.doubles.tensorrt_double import make


def test_members_per_generation():
    t85, t86, t10, t11 = (make(V[k]) for k in ("8.5", "8.6", "10.3", "11.4"))
    assert {"EXPLICIT_BATCH", "EXPLICIT_PRECISION"} == {f.name for f in t85.NetworkDefinitionCreationFlag}
    assert {"EXPLICIT_BATCH", "STRONGLY_TYPED"} == {f.name for f in t10.NetworkDefinitionCreationFlag}
    assert not hasattr(t11.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH")
    for gone in ("FP16", "INT8", "FP8", "BF16", "OBEY_PRECISION_CONSTRAINTS", "PREFER_PRECISION_CONSTRAINTS"):
        assert hasattr(t10.BuilderFlag, gone) and not hasattr(t11.BuilderFlag, gone)
    assert hasattr(t11.BuilderFlag, "GPU_FALLBACK") and hasattr(t11.BuilderFlag, "DIRECT_IO")
    assert hasattr(t85.BuilderFlag, "STRICT_TYPES") and not hasattr(t10.BuilderFlag, "STRICT_TYPES")
    assert not hasattr(t11, "IInt8EntropyCalibrator2") and hasattr(t10, "IInt8EntropyCalibrator2")
    assert not hasattr(t11.Builder, "platform_has_fast_int8") and hasattr(t10.Builder, "platform_has_fast_int8")
    assert not hasattr(t85.IBuilderConfig, "builder_optimization_level")
    assert all(hasattr(t.IBuilderConfig, "builder_optimization_level") for t in (t86, t10, t11))
    assert hasattr(t85.IBuilderConfig, "max_workspace_size") and not hasattr(t10.IBuilderConfig, "max_workspace_size")
    assert not hasattr(t85.ParserError, "node_name") and hasattr(t10.ParserError, "node_name")
    assert not hasattr(t85.LayerType, "CAST") and hasattr(t86.LayerType, "CAST")


def test_objects_refuse_attributes_their_generation_lacks():
    t11 = make(V["11.4"])
    config = t11.Builder(t11.Logger()).create_builder_config()
    with pytest.raises(AttributeError, match="no attribute 'int8_calibrator'"):
        config.int8_calibrator = None
    t85 = make(V["8.5"])
    config = t85.Builder(t85.Logger()).create_builder_config()
    with pytest.raises(AttributeError, match="no attribute 'builder_optimization_level'"):
        config.builder_optimization_level = 3
    with pytest.raises(TypeError):
        config.set_flag(make(V["10.3"]).BuilderFlag.FP16)  # another module's enum, as pybind would refuse


class Recorder:
    def __init__(self, trt):
        self.messages = []
        outer = self

        class Log(trt.ILogger):
            def log(self, severity, msg):
                outer.messages.append((severity.name, msg))

        self.logger = Log()


def test_tensorrt_8_parser_needs_an_explicit_batch_network(tmp_path):
    from tests.engine.models import fp32

    trt = make(V["8.6"])
    rec = Recorder(trt)
    builder = trt.Builder(rec.logger)
    parser = trt.OnnxParser(builder.create_network(0), rec.logger)
    assert not parser.parse_from_file(str(fp32(tmp_path / "m.onnx")))
    assert "EXPLICIT_BATCH" in parser.get_error(0).desc()


def test_deprecated_flags_warn_and_strong_typing_refuses_precision_flags(tmp_path):
    from tests.engine.models import fp32

    trt = make(V["10.13"])
    rec = Recorder(trt)
    builder = trt.Builder(rec.logger)
    builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
    assert ("WARNING", "NetworkDefinitionCreationFlag::kEXPLICIT_BATCH is deprecated and has no effect") in rec.messages
    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
    parser = trt.OnnxParser(network, rec.logger)
    assert parser.parse_from_file(str(fp32(tmp_path / "m.onnx", static=True)))
    config = builder.create_builder_config()
    config.set_flag(trt.BuilderFlag.FP16)
    assert builder.build_serialized_network(network, config) is None
    assert any(sev == "ERROR" and "not allowed for a strongly typed network" in m for sev, m in rec.messages)
