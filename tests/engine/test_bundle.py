import json
import os
import shutil
import subprocess

import pytest

from edgesr.devices import get
from edgesr.engine import bundle, sidecar_writer
from edgesr.engine.engine_builder import EngineSpec
from edgesr.engine.identity import Identity
from edgesr.errors import InputError
from tests.tiny_models import save, sr_model

FAKE_TRTEXEC = """#!/usr/bin/env bash
echo "$@" > trtexec.args
[ -n "${FAIL:-}" ] && exit 3
for a in "$@"; do case "$a" in --saveEngine=*) printf engine > "${a#--saveEngine=}";; esac; done
"""


def make_bundle(tmp_path, device="orin-agx", precision="int8", shapes=None):
    d = tmp_path / "bundle"
    d.mkdir()
    save(sr_model(dims=(1, 3, 32, 48)), d / "model.onnx")
    spec = EngineSpec(
        onnx_path=d / "model.onnx",
        precision=precision,
        int8_source="qdq" if precision == "int8" else None,
        input_name="input",
        shapes=shapes,
    )
    ident = Identity(
        model="tiny",
        scale=4,
        onnx_sha256="0" * 64,
        precision=precision,
        kept_layers=(),
        input="1x3x32x48",
        device=get(device).id,
        compute_capability=get(device).compute_capability,
        tensorrt=None,
    )
    bundle.write(
        d, spec=spec, device=get(device), identity=ident, files={"onnx": "model.onnx"}, report={"drop_db": 0.01}
    )
    return d, ident


def test_bundle_contents_and_script(tmp_path):
    d, ident = make_bundle(tmp_path)
    names = sorted(p.name for p in d.iterdir())
    assert names == sorted(["model.onnx", "bundle.json", "build.sh", f"{ident.dirname}.engine.json.in"])
    script = (d / "build.sh").read_text()
    assert os.access(d / "build.sh", os.X_OK)
    subprocess.run(["bash", "-n", str(d / "build.sh")], check=True)
    for release in ("8.5.*", "8.6.*", "10.3.*", "10.16.*", "11.4.*"):
        assert f"  {release}|" in script
    # 8.x and early 10.x use the INT8 flag with Q/DQ; 10.12+ is strongly typed; 11 needs neither
    branch = {
        line.split(")")[0].strip(): next_line
        for line, next_line in zip(script.splitlines(), script.splitlines()[1:])
        if line.strip().endswith(")")
    }
    assert "--int8" in branch["8.5.*|8.5"] and "--buildOnly" in branch["8.5.*|8.5"]
    assert "--int8" in branch["10.3.*|10.3"]
    assert "--stronglyTyped" in branch["10.16.*|10.16"] and "--int8" not in branch["10.16.*|10.16"]
    assert "--int8" not in branch["11.4.*|11.4"] and "--fp16" not in branch["11.4.*|11.4"]
    manifest = bundle.read(d)
    assert manifest["device"] == "orin-agx" and manifest["tensorrt_releases"][-1] == "11.4.1"
    template = json.loads((d / f"{ident.dirname}.engine.json.in").read_text())
    assert template["meta"] == manifest["meta"] and manifest["meta"]["edgesr.channel_order"] == "RGB"


def test_nano_bundle_targets_tensorrt_8_only(tmp_path):
    d, _ = make_bundle(tmp_path, device="nano", precision="fp16")
    script = (d / "build.sh").read_text()
    assert "8.0.*|8.0)" in script and "8.2.*|8.2)" in script and "10." not in script.split("case")[1]
    assert "--fp16" in script and "--workspace" not in script


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_build_sh_finishes_on_a_device(tmp_path):
    d, ident = make_bundle(tmp_path)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "trtexec").write_text(FAKE_TRTEXEC)
    (bindir / "trtexec").chmod(0o755)
    pkg = tmp_path / "py" / "tensorrt"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("__version__ = '10.3.0'\n")
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "PYTHONPATH": str(tmp_path / "py")}
    out = subprocess.run(["bash", "build.sh"], cwd=d, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    engine = d / bundle.engine_name(ident)
    assert engine.read_text() == "engine"
    args = (d / "trtexec.args").read_text()
    assert "--onnx=model.onnx" in args and "--int8" in args and ".partial" in args
    data = sidecar_writer.read(engine)
    assert data["identity"] == bundle.finished_identity(bundle.read(d), "10.3.0")
    assert json.loads(sidecar_writer.path_for(engine).read_text())["accuracy"] == {"drop_db": 0.01}

    for f in (engine, sidecar_writer.path_for(engine)):
        f.unlink()
    failed = subprocess.run(["bash", "build.sh"], cwd=d, env={**env, "FAIL": "1"}, capture_output=True, text=True)
    assert failed.returncode != 0 and not engine.exists()

    (pkg / "__init__.py").write_text("__version__ = '9.0.0'\n")
    unknown = subprocess.run(["bash", "build.sh"], cwd=d, env=env, capture_output=True, text=True)
    assert unknown.returncode == 1 and "not a release this bundle was prepared for" in unknown.stderr


def test_not_a_bundle(tmp_path):
    with pytest.raises(InputError, match="not an edgesr bundle"):
        bundle.read(tmp_path)


def test_missing_bundle_file_is_refused(tmp_path):
    d, ident = make_bundle(tmp_path)
    spec = EngineSpec(onnx_path=d / "model.onnx", precision="fp16", int8_source=None, input_name="input", shapes=None)
    with pytest.raises(InputError, match="missing"):
        bundle.write(d, spec=spec, device=get("orin-agx"), identity=ident, files={"qdq": "absent.onnx"}, report=None)
