import json
import subprocess
import sys

import pytest

from edgesr.engine.tensorrt_api import BuildError, Target, generation, tensorrt_version


@pytest.mark.parametrize(
    "version, gen",
    [
        ("8.0.1.6", "trt8"),
        ("8.2.1", "trt8"),
        ("8.5.2.2", "trt8"),
        ("8.6.2.3", "trt8"),
        ("10.3.0.30", "trt10"),
        ("10.13.3.9", "trt10"),
        ("10.16", "trt10"),
        ("11.4.1", "trt11"),
        ("8.6.1.post1", "trt8"),
        ("10.0.0b6", "trt10"),
        ("trt10", "trt10"),
    ],
)
def test_generation(version, gen):
    assert generation(version) == gen


@pytest.mark.parametrize("version", ["7.2.3", "9.3.0", "12.0", "latest", ""])
def test_unsupported_versions_are_refused(version):
    with pytest.raises(BuildError):
        generation(version)


def test_target_knows_what_the_minor_release_decides():
    assert Target.parse("8.5.2").has_opt_level is False
    assert Target.parse("8.6.2").has_opt_level is True
    assert Target.parse("trt8").has_opt_level is None  # must ask for the exact version
    assert Target.parse("10.3.0").has_opt_level is True
    assert Target.parse("10.3.0").weak_typing_deprecated is False
    assert Target.parse("10.12.0").weak_typing_deprecated is True
    assert Target.parse("11.4.1").weak_typing_deprecated is True
    assert [Target.parse(v).has_calibrators for v in ("8.5.2", "10.3.0", "11.4.1")] == [True, True, False]
    assert [Target.parse(v).needs_explicit_batch_flag for v in ("8.5.2", "10.3.0", "11.4.1")] == [True, False, False]


def test_tensorrt_version_is_none_without_tensorrt(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorrt", None)  # import raises ImportError, as on a machine without it
    assert tensorrt_version() is None


def test_tensorrt_version_reads_the_module(install_trt):
    install_trt("10.3.0.30")
    assert tensorrt_version() == "10.3.0.30"


def test_build_modules_import_without_tensorrt_or_onnx():
    code = (
        "import json, sys\n"
        "import edgesr.engine.engine_builder, edgesr.engine.trtexec, edgesr.engine.dla, edgesr.engine.timing_cache\n"
        "from edgesr.engine.trtexec import trtexec_command\n"
        "from edgesr.engine.engine_builder import EngineSpec\n"
        "trtexec_command(EngineSpec('absent.onnx', 'fp16', None, 'input', None), '10.3.0', engine_path='e')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorrt', 'onnx', 'torch'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
