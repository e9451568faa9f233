"""trtexec command lines, golden per TensorRT release."""

from __future__ import annotations

import pytest

from edgesr.engine.engine_builder import EngineSpec
from edgesr.engine.tensorrt_api import BuildError
from edgesr.engine.trtexec import trtexec_command
from edgesr.errors import DeviceError, InputError, ModelError
from tests.engine.models import SHAPES

HEAD = ["trtexec", "--onnx=model.onnx", "--saveEngine=model.engine"]
DYNAMIC = ["--minShapes=input:1x3x16x16", "--optShapes=input:1x3x32x32", "--maxShapes=input:1x3x64x64"]


def spec(precision="fp16", source=None, **kw):
    return EngineSpec("model.onnx", precision, source, "input", kw.pop("shapes", SHAPES), **kw)


def cmd(s, target, **kw):
    return trtexec_command(s, target, engine_path="model.engine", **kw)


def test_tensorrt_8_5():
    s = spec(workspace_mb=512, timing_cache="cache/timing.cache")
    assert cmd(s, "8.5.2.2") == HEAD + [
        "--noTF32",
        "--fp16",
        *DYNAMIC,
        "--memPoolSize=workspace:512",
        "--timingCacheFile=cache/timing.cache",
        "--buildOnly",
    ]


def test_tensorrt_8_6_adds_the_optimisation_level_and_skip_inference():
    s = spec("int8", "qdq", workspace_mb=512, opt_level=4)
    assert cmd(s, "8.6.2") == HEAD + [
        "--noTF32",
        "--int8",
        *DYNAMIC,
        "--memPoolSize=workspace:512",
        "--builderOptimizationLevel=4",
        "--skipInference",
    ]


def test_tensorrt_8_0_and_8_2_know_only_workspace():
    assert cmd(spec(workspace_mb=1024), "8.2.1") == HEAD + ["--noTF32", "--fp16", *DYNAMIC, "--workspace=1024"]


def test_generation_only_leaves_out_what_the_minor_release_decides():
    assert cmd(spec(), "trt8") == HEAD + ["--noTF32", "--fp16", *DYNAMIC]
    with pytest.raises(BuildError, match="give the exact TensorRT version"):
        cmd(spec(opt_level=3), "trt8")
    with pytest.raises(BuildError, match="8.5.2 has no builder optimisation level"):
        cmd(spec(opt_level=3), "8.5.2")


def test_implicit_int8_reads_the_calibration_cache():
    s = spec("int8", "calibrator")
    assert cmd(s, "8.5.2", calib_cache="calib.cache") == HEAD + [
        "--noTF32",
        "--int8",
        "--calib=calib.cache",
        *DYNAMIC,
        "--optShapesCalib=input:1x3x32x32",
        "--buildOnly",
    ]
    assert cmd(s, "10.13.0", calib_cache="calib.cache") == HEAD + [
        "--noTF32",
        "--int8",
        "--calib=calib.cache",
        *DYNAMIC,
        "--optShapesCalib=input:1x3x32x32",
        "--skipInference",
    ]
    with pytest.raises(InputError, match="pass calib_cache"):
        cmd(s, "10.3.0")
    with pytest.raises(InputError, match="calib_cache applies to int8_source='calibrator'"):
        cmd(spec(), "10.3.0", calib_cache="calib.cache")
    with pytest.raises(BuildError, match="removed implicit INT8 calibration"):
        cmd(s, "11.4.1", calib_cache="calib.cache")


@pytest.mark.parametrize(
    "target, precision_flags",
    [("10.3.0", ["--int8"]), ("trt10", ["--int8"]), ("10.13.3", ["--stronglyTyped"]), ("11.4.1", [])],
)
def test_qdq_int8_per_release(target, precision_flags):
    s = spec("int8", "qdq", workspace_mb=256, opt_level=3, timing_cache="t.cache")
    assert cmd(s, target) == HEAD + [
        "--noTF32",
        *precision_flags,
        *DYNAMIC,
        "--memPoolSize=workspace:256",
        "--builderOptimizationLevel=3",
        "--timingCacheFile=t.cache",
        "--skipInference",
    ]


def test_dla_flags():
    s = spec("int8", "qdq", shapes=None, dla_core=1)
    # DLA keeps the weakly typed --int8 on 10.x (strongly typed DLA networks start with TensorRT 11)
    assert cmd(s, "10.13.0") == HEAD + ["--noTF32", "--int8", "--useDLACore=1", "--allowGPUFallback", "--skipInference"]
    no_fallback = spec("fp16", shapes=None, dla_core=0, gpu_fallback=False)
    assert cmd(no_fallback, "8.5.2") == HEAD + ["--noTF32", "--fp16", "--useDLACore=0", "--buildOnly"]
    with pytest.raises(DeviceError, match="DLA needs a static input shape"):
        cmd(spec(dla_core=0), "10.3.0")
    with pytest.raises(DeviceError, match="FP16 and INT8 only"):
        cmd(spec("fp32", shapes=None, dla_core=0), "10.3.0")


def test_tensorrt_11_takes_precision_from_the_onnx(onnx_files):
    fp16 = EngineSpec(onnx_files["fp16"], "fp16", None, "input", SHAPES)
    assert trtexec_command(fp16, "11.4.1", engine_path="e.engine") == [
        "trtexec",
        f"--onnx={onnx_files['fp16']}",
        "--saveEngine=e.engine",
        "--noTF32",
        *DYNAMIC,
        "--skipInference",
    ]
    with pytest.raises(ModelError, match="has no FP16 tensors"):
        trtexec_command(EngineSpec(onnx_files["fp32"], "fp16", None, "input", SHAPES), "11.4.1", engine_path="e")


def test_input_names_with_commas_are_refused():
    with pytest.raises(InputError, match="rename the input"):
        cmd(EngineSpec("model.onnx", "fp16", None, "in,put", SHAPES), "10.3.0")
