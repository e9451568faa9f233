"""The timing cache: created, reused on the next build, replaced when foreign, written atomically."""

from __future__ import annotations

import os

import pytest

from edgesr.engine.engine_builder import EngineSpec, build_engine
from edgesr.engine.tensorrt_api import BuildError
from tests.doubles.tensorrt_double import TIMING_MAGIC
from tests.doubles.tensorrt_double import VERSIONS as V
from tests.engine.models import SHAPES


def spec(onnx_files, cache):
    return EngineSpec(onnx_files["fp32"], "fp32", None, "input", SHAPES, timing_cache=cache)


@pytest.mark.parametrize("version", list(V))
def test_cache_is_created_then_reused(install_trt, onnx_files, tmp_path, version):
    trt = install_trt(V[version])
    cache = tmp_path / "caches" / "timing.cache"
    build_engine(spec(onnx_files, cache))
    effects = trt.double.effects()
    i = effects.index(("IBuilderConfig.create_timing_cache", (b"",)))
    assert effects[i + 1] == ("IBuilderConfig.set_timing_cache", ("ITimingCache", False))
    assert effects[i + 2][0] == "Builder.build_serialized_network"
    assert effects[i + 3 :] == [("IBuilderConfig.get_timing_cache", ()), ("ITimingCache.serialize", ())]
    first = cache.read_bytes()
    assert first.startswith(TIMING_MAGIC + b" " + V[version].encode())
    layers = trt.double.last_build["cache_misses"]
    assert layers > 0 and trt.double.last_build["cache_hits"] == 0

    trt.double.calls.clear()
    build_engine(spec(onnx_files, cache))
    assert ("IBuilderConfig.create_timing_cache", (first,)) in trt.double.effects()
    assert (trt.double.last_build["cache_hits"], trt.double.last_build["cache_misses"]) == (layers, 0)
    assert sorted(os.listdir(cache.parent)) == ["timing.cache"]  # no temporary file left behind


def test_a_foreign_cache_is_replaced_and_said(install_trt, onnx_files, tmp_path):
    cache = tmp_path / "timing.cache"
    install_trt(V["10.3"])
    build_engine(spec(onnx_files, cache))
    trt = install_trt(V["10.13"])
    out = build_engine(spec(onnx_files, cache))
    assert any("made by another device or TensorRT version" in n for n in out.log["notes"])
    effects = trt.double.effects()
    i = effects.index(("IBuilderConfig.set_timing_cache", ("ITimingCache", False)))
    assert effects[i + 1 : i + 3] == [
        ("IBuilderConfig.create_timing_cache", (b"",)),
        ("IBuilderConfig.set_timing_cache", ("ITimingCache", False)),
    ]
    assert cache.read_bytes().startswith(TIMING_MAGIC + b" " + V["10.13"].encode())


def test_a_damaged_cache_is_replaced(install_trt, onnx_files, tmp_path):
    cache = tmp_path / "timing.cache"
    cache.write_bytes(b"\x00garbage")
    install_trt(V["8.6"])
    out = build_engine(spec(onnx_files, cache))
    assert any("is damaged" in n for n in out.log["notes"])
    assert cache.read_bytes().startswith(TIMING_MAGIC)


def test_failed_build_leaves_the_cache_alone(install_trt, onnx_files, tmp_path):
    cache = tmp_path / "timing.cache"
    install_trt(V["10.3"])
    build_engine(spec(onnx_files, cache))
    before = cache.read_bytes()
    install_trt(V["10.3"], build_errors=["out of memory"])
    with pytest.raises(BuildError):
        build_engine(spec(onnx_files, cache))
    assert cache.read_bytes() == before


def test_crash_while_writing_keeps_the_old_cache(install_trt, onnx_files, tmp_path, monkeypatch):
    cache = tmp_path / "timing.cache"
    install_trt(V["11.4"])
    cache.write_bytes(b"old")  # damaged: the build starts a fresh cache and then fails to store it
    import edgesr.fileio

    def no_rename(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(edgesr.fileio.os, "replace", no_rename)
    with pytest.raises(OSError, match="No space left"):
        build_engine(spec(onnx_files, cache))
    assert cache.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["timing.cache"]
