"""The TensorRT engine runner against the TensorRT and CUDA doubles: every API generation, the
profile, buffers, dtypes, and the sidecar check that comes before deserialisation."""

from __future__ import annotations

import ctypes
import sys
import types

import numpy as np
import pytest

from edgesr import devices, host
from edgesr.cli import main
from edgesr.engine import sidecar_writer
from edgesr.engine.identity import Identity
from edgesr.errors import DependencyError, DeviceError, InputError, ModelError
from edgesr.io.images import read_rgb, write_rgb
from edgesr.runtime import cuda
from edgesr.runtime.runners import RunnerOptions, open_runner, runner_class
from edgesr.runtime.tensorrt_runner import TensorRTRunner
from tests.doubles import tensorrt_double
from tests.doubles.cuda_double import FakeCudart, install

V = tensorrt_double.VERSIONS
TRT8_BINDINGS, TRT86, TRT10, TRT11 = "8.2.1.8", V["8.6"], V["10.3"], V["11.4"]  # 8.2: before the tensor API


@pytest.fixture
def gpu(monkeypatch) -> FakeCudart:
    """An Orin Nano: compute capability 8.7 through the CUDA double, the module from the device tree."""
    fake = install(monkeypatch, FakeCudart(compute_capability=(8, 7)))
    monkeypatch.setattr(host, "jetson", lambda *a: devices.get("orin-nano"))
    return fake


@pytest.fixture
def engine(tmp_path, monkeypatch, gpu):
    """``engine(version, ...)`` installs a TensorRT double of ``version`` and writes an x2 engine for it
    with the sidecar ``edgesr build`` would write; returns the engine path."""

    def make(
        version: str = TRT10,
        *,
        name: str = "sr.engine",
        identity: dict | None = None,
        meta: dict | None = None,
        precision_used: str | None = None,
        payload: bytes | None = None,
        **plan,
    ):
        trt = tensorrt_double.make(version, cuda=gpu)
        monkeypatch.setitem(sys.modules, "tensorrt", trt)
        path = tmp_path / name
        path.write_bytes(payload if payload is not None else tensorrt_double.plan(version, **plan))
        fields = dict(
            model="tiny",
            scale=plan.get("scale", 2),
            onnx_sha256="ab" * 32,
            precision="fp16",
            kept_layers=(),
            input="1x3x8x8:1x3x32x32:4x3x64x64",
            device="orin-nano",
            compute_capability="8.7",
            tensorrt=version,
        )
        fields.update(identity or {})
        facts = {"kind": "engine", "precision_used": precision_used or fields["precision"]}
        if meta is not None:
            facts["meta"] = meta
        sidecar_writer.write(path, Identity(**fields), **facts)
        return path

    return make


def calls(name: str) -> list[tuple]:
    return [args for what, args in sys.modules["tensorrt"].double.calls if what == name]


def upscaled(x: np.ndarray, s: int = 2) -> np.ndarray:
    return x.repeat(s, axis=2).repeat(s, axis=3)


def frames(n: int, h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 3, h, w), dtype=np.float32)


@pytest.mark.parametrize(
    "version, execute",
    [
        (TRT8_BINDINGS, "execute_async_v2"),
        (TRT86, "execute_async_v3"),
        (TRT10, "execute_async_v3"),
        (TRT11, "execute_async_v3"),
    ],
)
def test_each_api_generation_runs_the_engine(engine, gpu, version, execute):
    """Bindings before 8.5, named tensors from 8.5 on (the only API 10.x and 11.x have)."""
    path = engine(version)
    x = frames(2, 12, 20)
    with open_runner(path) as runner:
        y = runner.infer(x)
    np.testing.assert_array_equal(y, upscaled(x))
    assert y.dtype == np.float32
    assert len(calls(f"IExecutionContext.{execute}")) == 1
    other = "execute_async_v3" if execute == "execute_async_v2" else "execute_async_v2"
    assert not calls(f"IExecutionContext.{other}")
    assert gpu.live == (0, 0, 0)  # buffers and stream released on exit


def test_the_double_has_each_generations_runtime_api():
    t82, t86, t10, t11 = (tensorrt_double.make(v) for v in (TRT8_BINDINGS, TRT86, TRT10, TRT11))
    tensor_api = ("num_io_tensors", "get_tensor_name", "get_tensor_mode", "get_tensor_profile_shape")
    binding_api = ("num_bindings", "get_binding_index", "binding_is_input", "get_profile_shape")
    assert not any(hasattr(t82.ICudaEngine, m) for m in tensor_api) and not hasattr(t82, "TensorIOMode")
    assert all(hasattr(t86.ICudaEngine, m) for m in tensor_api + binding_api)
    assert hasattr(t86.IExecutionContext, "execute_async_v3") and hasattr(t86.IExecutionContext, "execute_async_v2")
    for t in (t10, t11):
        assert all(hasattr(t.ICudaEngine, m) for m in tensor_api)
        assert not any(hasattr(t.ICudaEngine, m) for m in binding_api)
        assert not hasattr(t.IExecutionContext, "set_binding_shape")


def test_spec_comes_from_the_sidecar_and_the_engine(engine):
    path = engine(
        meta={"edgesr.value_range": "255.0", "edgesr.channel_order": "BGR", "edgesr.size_multiple": "4"},
        identity={"precision": "int8"},
        precision_used="int8",
    )
    with open_runner(path) as runner:
        spec = runner.spec
    assert (spec.scale, spec.value_range, spec.channel_order, spec.size_multiple) == (2, 255.0, "BGR", 4)
    assert (spec.input_name, spec.output_name, spec.dtype) == ("input", "output", "float32")
    assert spec.input_hw is None and spec.batch is None
    assert spec.precision == "int8" and spec.backend == f"tensorrt {TRT10} GPU"


def test_without_recorded_metadata_the_value_range_is_assumed_and_said(engine):
    with open_runner(engine()) as runner:
        assert runner.spec.value_range == 1.0
        assert any("value range assumed" in n for n in runner.spec.notes)
    with open_runner(engine(), RunnerOptions(value_range=255.0)) as runner:
        assert runner.spec.value_range == 255.0


def test_flags_contradicting_the_sidecar_are_refused(engine):
    with pytest.raises(InputError, match="x2 model but --scale 4"):
        open_runner(engine(), RunnerOptions(scale=4)).activate()


def test_engine_that_contradicts_its_sidecar_scale_is_refused(engine, gpu):
    path = engine(scale=2, identity={"scale": 4})
    with pytest.raises(ModelError, match="output 4x3x128x128 for input 4x3x64x64.*x4"):
        open_runner(path).activate()
    assert gpu.live == (0, 0, 0)


def test_static_engine_runs_any_batch_one_frame_at_a_time(engine):
    path = engine(shape=(1, 3, 16, 24), profile=None, identity={"input": "1x3x16x24"})
    x = frames(3, 16, 24)
    with open_runner(path) as runner:
        assert runner.spec.input_hw == (16, 24) and runner.spec.batch == 1
        y = runner.infer(x)
    np.testing.assert_array_equal(y, upscaled(x))
    assert len(calls("IExecutionContext.execute_async_v3")) == 3


def test_dynamic_shapes_follow_the_profile(engine):
    with open_runner(engine()) as runner:
        for shape in [(1, 3, 8, 8), (4, 3, 64, 64), (2, 3, 17, 33)]:
            x = frames(*shape[:1], *shape[2:])
            np.testing.assert_array_equal(runner.infer(x), upscaled(x))
        x = frames(9, 10, 10)  # more frames than the profile's batch: three runs of at most 4
        np.testing.assert_array_equal(runner.infer(x), upscaled(x))
        with pytest.raises(
            InputError,
            match=r"from 1x3x8x8 to 4x3x64x64 .*optimisation profile.*not 1x3x72x64.*"
            r"--tile",
        ):
            runner.infer(frames(1, 72, 64))
        with pytest.raises(InputError, match="not 1x3x4x8"):
            runner.infer(frames(1, 4, 8))
    shapes = [args[1] for args in calls("IExecutionContext.set_input_shape")]
    assert shapes[:4] == [(4, 3, 64, 64), (1, 3, 8, 8), (4, 3, 64, 64), (2, 3, 17, 33)]


def test_batch_below_the_profile_minimum_is_padded(engine):
    path = engine(profile=((2, 3, 8, 8), (2, 3, 32, 32), (2, 3, 64, 64)))
    x = frames(3, 10, 12)
    with open_runner(path) as runner:
        np.testing.assert_array_equal(runner.infer(x), upscaled(x))
    assert [args[1][0] for args in calls("IExecutionContext.set_input_shape")][1:] == [2]


def test_buffers_are_allocated_once_and_reused(engine, gpu):
    """Device and pinned buffers sized for the profile's largest input at activation; no allocation,
    and no new tensor address, per frame or per shape change."""
    with open_runner(engine()) as runner:
        assert (gpu.calls["cudaMalloc"], gpu.calls["cudaMallocHost"], gpu.calls["cudaStreamCreate"]) == (2, 2, 1)
        inp, out = runner._buffers
        assert inp.nbytes == 4 * 3 * 64 * 64 * 4 and out.nbytes == 4 * 3 * 128 * 128 * 4
        for shape in [(1, 3, 32, 32)] * 5 + [(2, 3, 16, 48), (4, 3, 64, 64)]:
            runner.infer(frames(shape[0], *shape[2:]))
        assert (gpu.calls["cudaMalloc"], gpu.calls["cudaMallocHost"]) == (2, 2)
        assert len(calls("IExecutionContext.set_tensor_address")) == 2
        assert [args[1] for args in calls("IExecutionContext.set_input_shape")].count((1, 3, 32, 32)) == 1
        assert gpu.calls["cudaStreamSynchronize"] == 7
    assert gpu.live == (0, 0, 0) and gpu.calls["cudaStreamDestroy"] == 1


def test_too_little_gpu_memory_fails_at_activation_and_leaks_nothing(engine, gpu, capsys):
    """Polygraphy's allocation fails; the error says what to do, and Polygraphy's own message is not printed."""
    path = engine()
    gpu.memory = 4 * 3 * 64 * 64 * 4 + 1000  # the input buffer fits, the 4x larger output does not
    with pytest.raises(DeviceError, match="cudaMalloc of 0.8 MB failed .out of memory.: out of GPU memory"):
        open_runner(path).activate()
    assert gpu.live == (0, 0, 0)
    assert "CUDA Error" not in "".join(capsys.readouterr())


def test_without_libcudart_the_error_says_where_it_comes_from(engine, monkeypatch, capsys):
    """Polygraphy searches, notes on stdout that it found nothing, and the loader fails: edgesr's one error only."""
    from polygraphy.cuda import cuda as polygraphy_cuda

    def no_library(name):
        raise OSError(f"{name}: cannot open shared object file: No such file or directory")

    path = engine()
    monkeypatch.setattr(polygraphy_cuda, "G_CUDA", None)
    monkeypatch.setattr(polygraphy_cuda, "_find_cuda_lib_dirs", lambda: [])
    monkeypatch.setattr(polygraphy_cuda, "ctypes", types.SimpleNamespace(**{**vars(ctypes), "CDLL": no_library}))
    with pytest.raises(DependencyError, match="libcudart.*JetPack .add /usr/local/cuda/lib64 to LD_LIBRARY_PATH"):
        open_runner(path).activate()
    assert capsys.readouterr().out == ""


def test_output_is_read_only_after_the_stream_synchronises(engine, gpu, monkeypatch):
    """The CUDA double runs queued work at synchronisation only: skipping it would return stale zeros."""
    path = engine()
    monkeypatch.setattr(cuda.Cuda, "synchronize", lambda self, stream: None)
    with open_runner(path) as runner:
        y = runner.infer(frames(1, 8, 8) + 1)
    assert not y.any()


@pytest.mark.parametrize(
    "io, out_io, spec_dtype", [("HALF", "HALF", "float16"), ("HALF", "FLOAT", "float16"), ("FLOAT", "HALF", "float32")]
)
def test_fp16_io_is_converted_on_the_host(engine, io, out_io, spec_dtype):
    path = engine(dtype=io, out_dtype=out_io, identity={"precision": "int8"})
    x = frames(2, 9, 11)
    with open_runner(path) as runner:
        assert runner.spec.dtype == spec_dtype
        y = runner.infer(x)  # float32 in, whatever the engine takes
        y16 = runner.infer(x.astype(np.float16))
    expected = upscaled(x.astype(np.float16)).astype(np.float32)  # every case passes through fp16 once
    assert y.dtype == np.float32 and y16.dtype == np.float32
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(y16, expected)


@pytest.mark.parametrize(
    "mismatch, host_change, message",
    [
        ({"tensorrt": "10.2.0.19"}, None, f"built with TensorRT 10.2.0.19, this machine has {TRT10}"),
        (
            {"compute_capability": "7.2", "device": "xavier-nx"},
            None,
            "compute capability 7.2 .xavier-nx., this GPU is 8.7",
        ),
        ({}, "orin-nx", "built for orin-nano, this machine is orin-nx"),
        ({"tensorrt": None}, None, "never built by TensorRT"),
    ],
)
def test_engine_for_another_host_is_refused_before_deserialisation(
    engine, gpu, monkeypatch, mismatch, host_change, message
):
    path = engine(identity=mismatch)
    if host_change:
        monkeypatch.setattr(host, "jetson", lambda *a: devices.get(host_change))
    with pytest.raises(DeviceError, match=message) as info:
        open_runner(path).activate()
    assert "edgesr build --device" in str(info.value) and "\n" not in str(info.value)
    assert not calls("Runtime.deserialize_cuda_engine") and not calls("Runtime")
    assert gpu.live == (0, 0, 0)


def test_off_a_jetson_the_gpu_is_still_checked(engine, monkeypatch):
    path = engine()
    monkeypatch.setattr(host, "jetson", lambda *a: None)
    install(monkeypatch, FakeCudart(compute_capability=(8, 9)))
    with pytest.raises(
        DeviceError, match="this GPU is 8.9; rebuild it on the orin-nano: edgesr build --device orin-nano"
    ):
        open_runner(path).activate()


def test_missing_sidecar_is_refused(engine):
    path = engine()
    sidecar_writer.path_for(path).unlink()
    with pytest.raises(InputError, match="has no sidecar sr.engine.json"):
        open_runner(path).activate()


@pytest.mark.parametrize(
    "payload, reason",
    [(b"not an engine", "Magic tag does not match"), (tensorrt_double.plan("10.3.0.29"), "not compatible")],
)
def test_engine_tensorrt_cannot_load_is_a_model_error(engine, gpu, payload, reason):
    path = engine(payload=payload)
    with pytest.raises(
        ModelError, match=f"could not deserialise sr.engine .*{reason}.*edgesr build --device orin-nano"
    ):
        open_runner(path).activate()
    assert gpu.live == (0, 0, 0)


@pytest.mark.parametrize(
    "plan, message",
    [
        ({"outputs": ("a", "b")}, "1 inputs and 2 outputs"),
        ({"dtype": "INT8"}, "int8 I/O tensor input"),
        ({"shape": (-1, 1, -1, -1), "profile": ((1, 1, 8, 8),) * 3}, "N x 3 x H x W"),
    ],
)
def test_engines_the_runtime_cannot_feed_are_refused(engine, plan, message):
    with pytest.raises(ModelError, match=message):
        open_runner(engine(**plan)).activate()


def test_dla_engine_runs_on_its_core(engine):
    path = engine(shape=(1, 3, 16, 16), profile=None, identity={"dla_core": 1, "input": "1x3x16x16"})
    with open_runner(path) as runner:
        assert runner.spec.backend == f"tensorrt {TRT10} DLA core 1"
    assert calls("Runtime.DLA_core=") == [(1,)]


def test_chosen_by_suffix(engine):
    for name in ("m.engine", "m.plan", "M.ENGINE"):
        assert runner_class(name) is TensorRTRunner
    assert isinstance(open_runner(engine(name="sr.plan")), TensorRTRunner)


def test_upscale_through_the_cli_and_pipeline(engine, tmp_path, capsys):
    path = engine(meta={"edgesr.value_range": "1.0"})
    image = (np.random.default_rng(3).random((20, 30, 3)) * 255).astype(np.uint8)
    write_rgb(tmp_path / "in.png", image)
    assert (
        main(
            [
                "-q",
                "upscale",
                str(tmp_path / "in.png"),
                "-o",
                str(tmp_path / "out.png"),
                "--artifact",
                str(path),
                "--no-progress",
            ]
        )
        == 0
    )
    np.testing.assert_array_equal(read_rgb(tmp_path / "out.png"), image.repeat(2, axis=0).repeat(2, axis=1))


def test_without_tensorrt_the_cli_names_the_extra(engine, tmp_path, monkeypatch, capsys):
    path = engine()
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # what an interpreter without TensorRT sees
    write_rgb(tmp_path / "in.png", np.zeros((8, 8, 3), np.uint8))
    code = main(
        ["upscale", str(tmp_path / "in.png"), "-o", str(tmp_path / "out.png"), "--artifact", str(path), "--no-progress"]
    )
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("edgesr: error:")]
    assert code != 0 and len(lines) == 1 and "Traceback" not in err, err
    assert "sr.engine is a TensorRT engine" in lines[0]
    assert "edgesr[tensorrt]" in lines[0] and "JetPack" in lines[0]
