"""DLA builds: the builder calls, the per-layer placement report, and the refusals."""

from __future__ import annotations

import onnx
import pytest

from edgesr.engine.dla import Placement
from edgesr.engine.engine_builder import EngineSpec, build_engine
from edgesr.errors import DeviceError
from tests.doubles.tensorrt_double import VERSIONS as V
from tests.doubles.tensorrt_double import engine_summary

STATIC = ((1, 3, 32, 32),) * 3
ON_DLA = {"Conv", "Relu", "QuantizeLinear", "DequantizeLinear"}  # shuffles and identities fall back


def split(path):
    nodes = onnx.load(str(path)).graph.node
    return ([n.name for n in nodes if n.op_type in ON_DLA], [n.name for n in nodes if n.op_type not in ON_DLA])


@pytest.mark.parametrize(
    "version, precision, source, model",
    [
        ("8.5", "fp16", None, "static"),
        ("8.6", "int8", "qdq", "qdq"),
        ("10.3", "fp16", None, "static"),
        ("10.13", "int8", "qdq", "qdq"),
        ("11.4", "fp16", None, "fp16"),
    ],
)
def test_dla_with_gpu_fallback_reports_where_layers_run(install_trt, onnx_files, version, precision, source, model):
    trt = install_trt(V[version], dla_cores=2)
    path = onnx_files[model]
    out = build_engine(EngineSpec(path, precision, source, "input", None if model == "static" else STATIC, dla_core=1))
    effects = trt.double.effects()
    dla_calls = [
        ("Builder.num_DLA_cores", ()),
        ("IBuilderConfig.default_device_type=", ("DeviceType.DLA",)),
        ("IBuilderConfig.DLA_core=", (1,)),
        ("IBuilderConfig.set_flag", ("BuilderFlag.GPU_FALLBACK",)),
    ]
    start = effects.index(dla_calls[0])
    assert effects[start : start + 4] == dla_calls
    assert effects[-1][0] == "Builder.build_serialized_network"
    on_dla, on_gpu = split(path)
    assert (out.dla_layers, out.gpu_fallback_layers) == (on_dla, on_gpu)
    assert on_gpu and on_dla
    built = engine_summary(out.engine)
    assert built["device"] == "DLA" and built["dla_core"] == 1 and built["gpu_fallback_layers"] == on_gpu
    assert any(f"{len(on_gpu)} of {len(on_dla) + len(on_gpu)} layers run on the GPU" in n for n in out.log["notes"])
    if precision == "int8" and version != "11.4":
        # DLA on 10.x keeps the weakly typed INT8 flag even where Q/DQ builds are otherwise strongly typed
        assert built["flags"] == ["GPU_FALLBACK", "INT8"] and not built["strongly_typed"]


def test_dla_without_fallback_names_the_layers_that_cannot_run(install_trt, onnx_files):
    trt = install_trt(V["8.6"], dla_cores=2)
    path = onnx_files["static"]
    with pytest.raises(DeviceError, match=r"2 layers cannot run on DLA \(.*output_identity\) and GPU fallback is off"):
        build_engine(EngineSpec(path, "fp16", None, "input", None, dla_core=0, gpu_fallback=False))
    assert "Builder.build_serialized_network" not in trt.double.names()
    assert ("IBuilderConfig.set_flag", ("BuilderFlag.GPU_FALLBACK",)) not in trt.double.effects()


@pytest.mark.parametrize(
    "version, cores, core, message",
    [
        ("8.6", 2, 2, r"sees cores 0..1 on this device; DLA core 2 does not exist"),
        ("10.3", 0, 0, r"sees no DLA core on this device"),
        ("11.4", 0, 0, r"TensorRT 11 runs DLA only from 11.4.1 on AGX Orin"),
    ],
)
def test_missing_dla_core(install_trt, onnx_files, version, cores, core, message):
    install_trt(V[version], dla_cores=cores)
    model = "fp16" if version == "11.4" else "static"
    with pytest.raises(DeviceError, match=message):
        build_engine(
            EngineSpec(onnx_files[model], "fp16", None, "input", STATIC if version == "11.4" else None, dla_core=core)
        )


def test_dla_refuses_fp32_and_dynamic_shapes(install_trt, onnx_files):
    trt = install_trt(V["10.3"], dla_cores=2)
    with pytest.raises(DeviceError, match="DLA runs FP16 and INT8 only"):
        build_engine(EngineSpec(onnx_files["static"], "fp32", None, "input", None, dla_core=0))
    with pytest.raises(DeviceError, match="DLA needs a static input shape"):
        build_engine(
            EngineSpec(
                onnx_files["fp32"], "fp16", None, "input", ((1, 3, 16, 16), (1, 3, 32, 32), (1, 3, 64, 64)), dla_core=0
            )
        )
    assert trt.double.calls == []


def test_placement_summary():
    assert Placement(("a", "b"), ()).summary() == "all 2 layers can run on DLA"
    many = Placement(("a",), tuple(f"l{i}" for i in range(15)))
    assert many.summary().startswith("15 of 16 layers run on the GPU instead of DLA: l0, l1")
    assert many.summary().endswith("l11 and 3 more")
