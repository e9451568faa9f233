"""What the machine has, probed for ``edgesr doctor``: the running interpreter's packages (TensorRT,
ONNX Runtime and its providers, OpenCV and its video back-ends), the CUDA toolkit, cuDNN and the
DLA device nodes. Each probe answers None (or empty) for what is absent, never raises for it.
"""

from __future__ import annotations

import importlib
import json
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from edgesr.jetson.system import System


@dataclass
class Python:
    """What the running interpreter can import, as :func:`probe_python` finds it."""

    version: str
    executable: str
    venv: bool
    system_site_packages: bool | None
    tensorrt: str | None
    tensorrt_error: str | None
    onnxruntime: str | None
    providers: tuple[str, ...]
    opencv: str | None
    video_io: dict[str, str] = field(default_factory=dict)  # back-end -> what OpenCV's build info says


def probe_python() -> Python:
    trt, trt_error = _import_version("tensorrt")
    ort, _ = _import_version("onnxruntime")
    providers = tuple(importlib.import_module("onnxruntime").get_available_providers()) if ort else ()
    cv, _ = _import_version("cv2")
    video = video_io(importlib.import_module("cv2").getBuildInformation()) if cv else {}
    in_venv = sys.prefix != sys.base_prefix
    return Python(
        platform.python_version(),
        sys.executable,
        in_venv,
        _system_site_packages() if in_venv else None,
        trt,
        trt_error,
        ort,
        providers,
        cv,
        video,
    )


def _import_version(name: str) -> tuple[str | None, str | None]:
    """(version, None) when ``name`` imports; (None, why) when it does not (missing or broken)."""
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        return None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return str(getattr(module, "__version__", "unknown")), None


def _system_site_packages() -> bool | None:
    cfg = Path(sys.prefix) / "pyvenv.cfg"
    try:
        text = cfg.read_text()
    except OSError:
        return None
    match = re.search(r"include-system-site-packages\s*=\s*(\w+)", text)
    return match is not None and match.group(1).lower() == "true"


def video_io(build_info: str) -> dict[str, str]:
    """The ``Video I/O:`` section of ``cv2.getBuildInformation()``: back-end -> YES/NO (+ detail)."""
    section = build_info.split("Video I/O:", 1)[1] if "Video I/O:" in build_info else ""
    found = {}
    for line in section.splitlines()[1:]:
        if line.strip() and not line.startswith("    "):
            break
        key, _, value = line.strip().partition(":")
        if key and value.strip():
            found[key.strip()] = value.strip()
    return found


def has_backend(video_io: dict[str, str], key: str) -> bool:
    return any(k.lower().startswith(key) and v.upper().startswith("YES") for k, v in video_io.items())


def cuda_version(system: System) -> tuple[str, str] | None:
    """(version, where it was read) for the CUDA toolkit, or None."""
    text = system.read("/usr/local/cuda/version.json")
    if text:
        try:
            return json.loads(text)["cuda"]["version"], "/usr/local/cuda/version.json"
        except (ValueError, KeyError, TypeError):
            pass
    text = system.read("/usr/local/cuda/version.txt")
    match = re.search(r"CUDA Version (\d+(?:\.\d+)+)", text or "")
    if match:
        return match.group(1), "/usr/local/cuda/version.txt"
    for nvcc in (system.which("nvcc"), str(system.path("/usr/local/cuda/bin/nvcc"))):
        if nvcc and Path(nvcc).exists():
            out = system.run([nvcc, "--version"])
            match = re.search(r"release [\d.]+, V(\d+(?:\.\d+)+)", out or "")
            if match:
                return match.group(1), "nvcc --version"
    return None


def cudnn_version(system: System) -> str | None:
    """From ``cudnn_version.h`` (JetPack 6 names it ``cudnn_version_v9.h``), else the library's file name."""
    headers = [
        h
        for pattern in (
            "/usr/include/cudnn_version*.h",
            "/usr/include/*-linux-gnu/cudnn_version*.h",
            "/usr/local/cuda/include/cudnn_version.h",
        )
        for h in system.glob(pattern)
    ]
    for header in headers:
        text = system.read(header) or ""
        parts = [re.search(rf"#define CUDNN_{k}\s+(\d+)", text) for k in ("MAJOR", "MINOR", "PATCHLEVEL")]
        if all(parts):
            return ".".join(p.group(1) for p in parts)
    libs = system.glob("/usr/lib/*-linux-gnu/libcudnn.so.*") + system.glob("/usr/local/cuda/lib64/libcudnn.so.*")
    versions = [p.rsplit(".so.", 1)[1] for p in libs]
    return max(versions, key=lambda v: (v.count("."), v)) if versions else None


def dla_cores(system: System) -> list[str]:
    """DLA device nodes (``15880000.nvdla0``...) under host1x in sysfs."""
    nodes = system.glob("/sys/devices/platform/*host1x/*.nvdla[0-9]") + system.glob("/sys/devices/*host1x/*.nvdla[0-9]")
    return sorted({n.rsplit("/", 1)[1] for n in nodes})
