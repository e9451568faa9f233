"""build_engine against the TensorRT double of each API generation: the exact calls, and every refusal."""

from __future__ import annotations

import pytest

from edgesr.engine.engine_builder import BuildEngine, EngineSpec, build_engine
from edgesr.engine.tensorrt_api import BuildError
from edgesr.errors import DeviceError, InputError, ModelError
from tests.doubles.tensorrt_double import VERSIONS as V
from tests.doubles.tensorrt_double import engine_summary
from tests.engine.models import BAD_NODE, SHAPES, node_index

MIN, OPT, MAX = SHAPES
BUILD = ("Builder.build_serialized_network", ("INetworkDefinition", "IBuilderConfig"))
CLEAR_TF32 = ("IBuilderConfig.clear_flag", ("BuilderFlag.TF32",))
PROFILE = [
    ("Builder.create_optimization_profile", ()),
    ("IOptimizationProfile.set_shape", ("input", MIN, OPT, MAX)),
    ("IBuilderConfig.add_optimization_profile", ("IOptimizationProfile",)),
]


def opening(path, create_flags: int, platform: str | None = None) -> list:
    """Builder, platform question, network, parse, config: how every build starts."""
    calls = [("Builder", ("ILogger",))]
    if platform:
        calls.append((f"Builder.platform_has_fast_{platform}", ()))
    return calls + [
        ("Builder.create_network", (create_flags,)),
        ("OnnxParser", ("INetworkDefinition", "ILogger")),
        ("OnnxParser.parse_from_file", (str(path),)),
        ("Builder.create_builder_config", ()),
    ]


def set_flag(name):
    return ("IBuilderConfig.set_flag", (f"BuilderFlag.{name}",))


# version, precision, int8_source, model, network-creation flags, platform check, config calls
CASES = [
    # TensorRT 8: the ONNX parser needs an explicit-batch network, 1 << EXPLICIT_BATCH (= 0)
    ("8.5", "fp32", None, "fp32", 1, None, [CLEAR_TF32]),
    ("8.5", "fp16", None, "fp32", 1, "fp16", [CLEAR_TF32, set_flag("FP16")]),
    ("8.5", "int8", "qdq", "qdq", 1, "int8", [CLEAR_TF32, set_flag("INT8")]),
    ("8.6", "fp32", None, "fp32", 1, None, [CLEAR_TF32]),
    ("8.6", "fp16", None, "fp32", 1, "fp16", [CLEAR_TF32, set_flag("FP16")]),
    ("8.6", "int8", "qdq", "qdq", 1, "int8", [CLEAR_TF32, set_flag("INT8")]),
    # TensorRT 10: explicit batch is the only mode, the deprecated flag is not passed
    ("10.3", "fp32", None, "fp32", 0, None, [CLEAR_TF32]),
    ("10.3", "fp16", None, "fp32", 0, "fp16", [CLEAR_TF32, set_flag("FP16")]),
    ("10.3", "int8", "qdq", "qdq", 0, "int8", [CLEAR_TF32, set_flag("INT8")]),
    # 10.12+: Q/DQ builds strongly typed, 1 << STRONGLY_TYPED (= 1), no deprecated precision flag
    ("10.13", "int8", "qdq", "qdq", 2, "int8", [CLEAR_TF32]),
    ("10.13", "fp16", None, "fp32", 0, "fp16", [CLEAR_TF32, set_flag("FP16")]),
    # TensorRT 11: strongly typed only; no precision flag, no platform question (both removed)
    ("11.4", "fp32", None, "fp32", 0, None, [CLEAR_TF32]),
    ("11.4", "fp16", None, "fp16", 0, None, [CLEAR_TF32]),
    ("11.4", "int8", "qdq", "qdq", 0, None, [CLEAR_TF32]),
]


@pytest.mark.parametrize(
    "version, precision, source, model, create_flags, platform, config", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES]
)
def test_exact_calls_per_generation(
    install_trt, onnx_files, version, precision, source, model, create_flags, platform, config
):
    trt = install_trt(V[version])
    path = onnx_files[model]
    out = build_engine(EngineSpec(path, precision, source, "input", SHAPES))
    assert trt.double.effects() == opening(path, create_flags, platform) + config + PROFILE + [BUILD]
    built = engine_summary(out.engine)
    assert (out.tensorrt_version, out.precision) == (V[version], precision)
    assert out.generation == {"8": "trt8", "10": "trt10", "11": "trt11"}[version.split(".")[0]]
    assert built["profiles"] == [{"input": [list(MIN), list(OPT), list(MAX)]}]
    assert "TF32" not in built["flags"]
    assert built["strongly_typed"] == (version == "11.4" or create_flags == 2)
    assert out.dla_layers == [] and out.gpu_fallback_layers == []
    assert out.log["counts"]["error"] == 0 and out.seconds > 0


def test_strongly_typed_fp16_keeps_the_onnx_types(install_trt, onnx_files):
    install_trt(V["11.4"])
    out = build_engine(EngineSpec(onnx_files["fp16"], "fp16", None, "input", SHAPES))
    assert engine_summary(out.engine)["input_dtypes"] == ["HALF"]


@pytest.mark.parametrize("version", ["8.5", "8.6", "10.3", "10.13"])
def test_implicit_int8_sets_the_calibrator_and_its_profile(install_trt, onnx_files, version):
    trt = install_trt(V[version])
    calibrator = make_calibrator(trt)
    path = onnx_files["fp32"]
    out = build_engine(EngineSpec(path, "int8", "calibrator", "input", SHAPES), calibrator=calibrator)
    flags = 1 if version.startswith("8") else 0  # weakly typed even on 10.12+: calibrators need the INT8 flag
    assert trt.double.effects() == opening(path, flags, "int8") + [CLEAR_TF32, set_flag("INT8")] + PROFILE + [
        ("IBuilderConfig.int8_calibrator=", ("Calibrator",)),
        ("IBuilderConfig.set_calibration_profile", ("IOptimizationProfile",)),
        BUILD,
    ]
    assert engine_summary(out.engine)["calibrated"]
    version_int = {"8.5": 8502, "8.6": 8602, "10.3": 100300, "10.13": 101303}[version]
    assert calibrator.written == f"TRT-{version_int}-EntropyCalibration2\n".encode()
    assert calibrator.batches_served == 3


def test_implicit_int8_is_refused_on_tensorrt_11_before_any_call(install_trt, onnx_files):
    trt = install_trt(V["11.4"])
    assert not hasattr(trt, "IInt8EntropyCalibrator2") and not hasattr(trt.BuilderFlag, "INT8")
    with pytest.raises(BuildError, match=r"11\.4\.1 removed implicit INT8 calibration.*int8_source='qdq'"):
        build_engine(EngineSpec(onnx_files["fp32"], "int8", "calibrator", "input", SHAPES), calibrator=object())
    assert trt.double.calls == []


@pytest.mark.parametrize("version", list(V))
def test_parse_error_names_the_node(install_trt, onnx_files, version):
    trt = install_trt(V[version])
    has_names = not version.startswith("8")  # IParserError::nodeName arrived with onnx-tensorrt 9.1
    assert hasattr(trt.ParserError, "node_name") == has_names
    path = onnx_files["bad"]
    index = node_index(path, BAD_NODE)
    with pytest.raises(ModelError, match=rf"cannot parse sr_bad\.onnx: node {index} '{BAD_NODE}' \(MysteryUpsample\)"):
        build_engine(EngineSpec(path, "fp32", None, "input", SHAPES))
    assert "Builder.create_builder_config" not in trt.double.names()


@pytest.mark.parametrize("version", list(V))
def test_build_failure_surfaces_the_builder_errors(install_trt, onnx_files, version):
    install_trt(V[version], build_errors=["Internal Error (Could not find any implementation for node conv_3)"])
    with pytest.raises(BuildError, match=r"could not build sr\.onnx \(fp32\): .*Could not find any implementation"):
        build_engine(EngineSpec(onnx_files["fp32"], "fp32", None, "input", SHAPES))


@pytest.mark.parametrize("version", ["8.5", "8.6", "10.3", "10.13"])
@pytest.mark.parametrize(
    "precision, source, model, switch", [("int8", "qdq", "qdq", "fast_int8"), ("fp16", None, "fp32", "fast_fp16")]
)
def test_no_fast_precision_is_an_error_not_a_slower_engine(
    install_trt, onnx_files, version, precision, source, model, switch
):
    trt = install_trt(V[version], **{switch: False})
    with pytest.raises(DeviceError, match=rf"no fast {precision.upper()} .*platform_has_{switch} = False"):
        build_engine(EngineSpec(onnx_files[model], precision, source, "input", SHAPES))
    assert trt.double.names() == ["Builder", f"Builder.platform_has_{switch}"]


def test_tensorrt_11_has_no_platform_question_to_ask(install_trt, onnx_files):
    trt = install_trt(V["11.4"], fast_int8=False)
    assert not hasattr(trt.Builder, "platform_has_fast_int8")
    build_engine(EngineSpec(onnx_files["qdq"], "int8", "qdq", "input", SHAPES))


def test_int8_needs_qdq_nodes_and_a_calibrator_needs_none(install_trt, onnx_files):
    trt = install_trt(V["10.3"])
    with pytest.raises(ModelError, match="no QuantizeLinear/DequantizeLinear nodes.*would run in FP32"):
        build_engine(EngineSpec(onnx_files["fp32"], "int8", "qdq", "input", SHAPES))
    with pytest.raises(ModelError, match="already holds Q/DQ nodes"):
        build_engine(
            EngineSpec(onnx_files["qdq"], "int8", "calibrator", "input", SHAPES), calibrator=make_calibrator(trt)
        )


def test_tensorrt_11_precision_must_match_the_onnx_types(install_trt, onnx_files):
    trt = install_trt(V["11.4"])
    with pytest.raises(ModelError, match="has no FP16 tensors, so the engine would be FP32"):
        build_engine(EngineSpec(onnx_files["fp32"], "fp16", None, "input", SHAPES))
    with pytest.raises(ModelError, match="holds FP16 tensors and TensorRT 11.4.1 keeps them FP16"):
        build_engine(EngineSpec(onnx_files["fp16"], "fp32", None, "input", SHAPES))
    assert trt.double.calls == []


def test_static_input_needs_no_profile(install_trt, onnx_files):
    trt = install_trt(V["10.3"])
    path = onnx_files["static"]
    build_engine(EngineSpec(path, "fp32", None, "input", None))
    assert trt.double.effects() == opening(path, 0) + [CLEAR_TF32, BUILD]
    same = ((1, 3, 32, 32),) * 3
    build_engine(EngineSpec(path, "fp32", None, "input", same))  # shapes that restate the static shape are fine
    with pytest.raises(ModelError, match=r"fixed at 32 in dimension 2 \(1x3x32x32\); the shapes ask for 16..64"):
        build_engine(EngineSpec(path, "fp32", None, "input", SHAPES))


def test_dynamic_input_needs_shapes_and_the_right_name(install_trt, onnx_files):
    install_trt(V["8.6"])
    with pytest.raises(ModelError, match=r"input 'input' is dynamic \(1x3x\?x\?\); give shapes"):
        build_engine(EngineSpec(onnx_files["fp32"], "fp32", None, "input", None))
    with pytest.raises(ModelError, match="has no input 'image'; its inputs are 'input'"):
        build_engine(EngineSpec(onnx_files["fp32"], "fp32", None, "image", SHAPES))


@pytest.mark.parametrize("version, supported", [("8.5", False), ("8.6", True), ("10.3", True), ("11.4", True)])
def test_optimisation_level_and_workspace(install_trt, onnx_files, version, supported):
    trt = install_trt(V[version])
    spec = EngineSpec(onnx_files["fp32"], "fp32", None, "input", SHAPES, workspace_mb=256, opt_level=5)
    if not supported:
        assert not hasattr(trt.IBuilderConfig, "builder_optimization_level")
        with pytest.raises(BuildError, match="no builder optimisation level .*added in TensorRT 8.6"):
            build_engine(spec)
        assert trt.double.calls == []
        return
    out = build_engine(spec)
    effects = trt.double.effects()
    assert effects[effects.index(CLEAR_TF32) + 1 : effects.index(PROFILE[0])] == [
        ("IBuilderConfig.set_memory_pool_limit", ("MemoryPoolType.WORKSPACE", 256 << 20)),
        ("IBuilderConfig.builder_optimization_level=", (5,)),
    ]
    assert engine_summary(out.engine)["workspace"] == 256 << 20


def test_calibrator_argument_must_match_the_source(install_trt, onnx_files):
    trt = install_trt(V["10.3"])
    with pytest.raises(InputError, match="needs a calibrator over real images"):
        build_engine(EngineSpec(onnx_files["fp32"], "int8", "calibrator", "input", SHAPES))
    with pytest.raises(InputError, match="goes with int8_source='calibrator' and only with it"):
        build_engine(EngineSpec(onnx_files["qdq"], "int8", "qdq", "input", SHAPES), calibrator=make_calibrator(trt))


def test_missing_onnx_file(install_trt, tmp_path):
    install_trt(V["10.3"])
    with pytest.raises(InputError, match="does not exist"):
        build_engine(EngineSpec(tmp_path / "none.onnx", "fp32", None, "input", SHAPES))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(precision="int4"), "unknown precision 'int4'"),
        (dict(precision="int8"), "needs int8_source 'qdq' or 'calibrator'"),
        (dict(int8_source="qdq"), "applies to int8 builds only"),
        (dict(shapes=((1, 3, 64, 64), (1, 3, 32, 32), (1, 3, 16, 16))), "1 <= min <= opt <= max"),
        (dict(shapes=((1, 3, 16, 16), (1, 3, 32, 32))), "must be \\(min, opt, max\\)"),
        (dict(shapes=((1, 3, 16), (1, 3, 32, 32), (1, 3, 64, 64))), "differ in rank"),
        (dict(opt_level=7), "opt_level must be 0..5"),
        (dict(workspace_mb=0), "workspace_mb must be at least 1"),
        (dict(dla_core=-1), "dla_core must be 0 or more"),
        (dict(input_name=""), "input_name is empty"),
    ],
)
def test_spec_validation(kwargs, message):
    base = dict(onnx_path="m.onnx", precision="fp32", int8_source=None, input_name="input", shapes=SHAPES)
    with pytest.raises(InputError, match=message):
        EngineSpec(**{**base, **kwargs})


def test_spec_normalises_paths_and_shapes():
    spec = EngineSpec(
        "m.onnx", "fp32", None, "input", ([1, 3, 16, 16], [1, 3, 32, 32], [1, 3, 64, 64]), timing_cache="t.cache"
    )
    assert spec.shapes == SHAPES and spec.onnx_path.name == "m.onnx" and spec.timing_cache.name == "t.cache"


def test_stage_twin(install_trt, onnx_files):
    install_trt(V["10.3"])
    stage = BuildEngine(lambda: EngineSpec(onnx_files["fp32"], "fp32", None, "input", SHAPES))
    assert engine_summary(stage().engine)["tensorrt"] == V["10.3"]


def make_calibrator(trt, batches: int = 3):
    """A calibrator as TensorRT sees it: a subclass of the generation's IInt8EntropyCalibrator2."""

    class Calibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            super().__init__()
            self.left, self.batches_served, self.written = batches, 0, None

        def get_batch_size(self):
            return 1

        def get_batch(self, names):
            if self.left == 0:
                return None
            self.left -= 1
            self.batches_served += 1
            return [12345]  # device pointers, one per input

        def read_calibration_cache(self):
            return self.written

        def write_calibration_cache(self, cache):
            self.written = bytes(cache)

    return Calibrator()
