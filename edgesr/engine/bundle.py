"""Device bundles: everything needed to finish an engine on the device, for hosts that cannot build it.

A bundle holds the ONNX the engine is built from, the other precisions' ONNX for reference, the
calibration cache where one applies, the accuracy report, ``bundle.json`` (the identity and
the engine spec), and ``build.sh`` with the exact ``trtexec`` command for each TensorRT release
the device's JetPacks ship: the script detects the installed release and runs the matching one,
then writes the engine's sidecar. ``edgesr build --bundle DIR`` does the same through the Python
API where edgesr is installed.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict
from pathlib import Path

from edgesr import fileio, meta
from edgesr.devices import Device
from edgesr.engine.engine_builder import EngineSpec
from edgesr.engine.identity import Identity
from edgesr.engine.trtexec import trtexec_command
from edgesr.errors import InputError
from edgesr.sidecar import SCHEMA as SIDECAR_SCHEMA

MANIFEST = "bundle.json"
SCRIPT = "build.sh"
VERSION_PLACEHOLDER = "@TENSORRT_VERSION@"


def engine_name(identity: Identity) -> str:
    return f"{identity.dirname}.engine"


def releases(device: Device) -> list[tuple[str, str]]:
    """(shell case pattern, exact version) per distinct TensorRT minor release the device ships."""
    seen: dict[str, str] = {}
    for version in device.tensorrt_versions:
        major, minor = version.split(".")[:2]
        seen.setdefault(f"{major}.{minor}.*|{major}.{minor}", version)
    return list(seen.items())


def write_script(
    directory: Path, spec: EngineSpec, device: Device, identity: Identity, calib_cache: str | None = None
) -> Path:
    """``build.sh``: detect the TensorRT release, run its trtexec command, write the sidecar."""
    engine = engine_name(identity)
    local = EngineSpec(
        **{**asdict(spec), "onnx_path": Path(spec.onnx_path.name), "timing_cache": Path(f"timing-{device.id}.cache")}
    )
    branches = []
    for pattern, version in releases(device):
        # trtexec writes to a .partial name, renamed only after it succeeds: never a complete-looking half engine
        cmd = trtexec_command(local, version, engine_path=f"{engine}.partial", calib_cache=calib_cache)
        cmd[0] = '"$TRTEXEC"'
        branches.append(f"  {pattern})\n    {' '.join(cmd[:1] + [shlex.quote(a) for a in cmd[1:]])} ;;")
    known = ", ".join(v for _, v in releases(device))
    text = f"""#!/usr/bin/env bash
# Builds {engine} for {device.name} ({device.id}) from this bundle with trtexec, then writes its
# sidecar. Run it on the device: bash build.sh   (or, with edgesr installed: edgesr build --bundle .)
set -euo pipefail
cd "$(dirname "$0")"
TRTEXEC="${{TRTEXEC:-$(command -v trtexec || echo /usr/src/tensorrt/bin/trtexec)}}"
if [ ! -x "$TRTEXEC" ]; then
  echo "build.sh: trtexec not found; install JetPack's TensorRT or set TRTEXEC=/path/to/trtexec" >&2
  exit 1
fi
version="$(python3 -c 'import tensorrt; print(tensorrt.__version__)' 2>/dev/null \\
  || dpkg-query -W -f='${{Version}}' libnvinfer-bin 2>/dev/null | cut -d- -f1 || true)"
case "$version" in
{chr(10).join(branches)}
  *)
    echo "build.sh: TensorRT '$version' is not a release this bundle was prepared for ({known}); " \\
         "re-run 'edgesr build --device {device.id}' on a matching host or on the device" >&2
    exit 1 ;;
esac
mv {engine}.partial {engine}
sed "s/{VERSION_PLACEHOLDER}/$version/" {engine}.json.in > {engine}.json.tmp
mv {engine}.json.tmp {engine}.json
echo "built $(pwd)/{engine} with TensorRT $version"
"""
    path = directory / SCRIPT
    fileio.write_text(path, text)
    path.chmod(0o755)
    return path


def write(
    directory: Path,
    *,
    spec: EngineSpec,
    device: Device,
    identity: Identity,
    files: dict[str, str],
    report: dict | None,
    calib_cache: str | None = None,
) -> Path:
    """Write the bundle's manifest, sidecar template and build script into ``directory``.

    ``files`` maps roles (``onnx``, ``fp32``, ``qdq``, ...) to file names already inside ``directory``.
    """
    for role, name in files.items():
        if not (directory / name).is_file():
            raise InputError(f"bundle file for {role} ({name}) is missing from {directory}")
    props = meta.read_file(directory / Path(spec.onnx_path).name).to_props()
    manifest = {
        "device": device.id,
        "identity": identity.to_dict(),
        "key": identity.key,
        "engine": engine_name(identity),
        "spec": {**asdict(spec), "onnx_path": Path(spec.onnx_path).name, "timing_cache": None},
        "files": files,
        "calib_cache": calib_cache,
        "accuracy": report,
        "meta": props,
        "tensorrt_releases": [v for _, v in releases(device)],
    }
    fileio.write_json(directory / MANIFEST, manifest)
    # The key hashes the TensorRT version, unknown until the device: the finished sidecar omits it.
    template = {
        "schema": SIDECAR_SCHEMA,
        "identity": {**identity.to_dict(), "tensorrt": VERSION_PLACEHOLDER},
        "kind": "engine",
        "built_by": "build.sh",
        "accuracy": report,
        "meta": props,
    }
    fileio.write_text(directory / f"{engine_name(identity)}.json.in", json.dumps(template, indent=2) + "\n")
    write_script(directory, spec, device, identity, calib_cache)
    return directory / MANIFEST


def read(directory: str | Path) -> dict:
    d = Path(directory)
    path = d / MANIFEST
    if not path.is_file():
        raise InputError(f"{d} is not an edgesr bundle (no {MANIFEST}); pass the directory 'edgesr build' wrote")
    return json.loads(path.read_text())


def finished_identity(manifest: dict, tensorrt_version: str) -> Identity:
    """The identity of the engine a bundle becomes on a device with ``tensorrt_version``."""
    return Identity.from_dict(manifest["identity"]).with_tensorrt(tensorrt_version)
