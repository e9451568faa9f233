"""``edgesr doctor``: what this machine is and what edgesr can do on it.

Each :class:`Check` has a verdict (``ok``, ``warn``, ``fail``, ``info``, ``n/a``), what was found
and, when something is missing or off, the fix. On a Jetson the expectations come from the
device table for the module found in the device tree and the JetPack found in the L4T release
(its TensorRT, CUDA and Python); elsewhere the Jetson-only checks say they do not apply and the
rest report what the host offers. ``fail`` is kept for what blocks edgesr's main job here; the
command exits 1 when any check fails.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from edgesr import host
from edgesr.devices import Device
from edgesr.jetson import clocks as clocks_mod
from edgesr.jetson import nvpmodel
from edgesr.jetson import release as release_mod
from edgesr.jetson.facts import DEVICE_TREE_MODEL
from edgesr.jetson.probes import (
    Python,
    cuda_version,
    cudnn_version,
    dla_cores,
    has_backend,
    probe_python,
)
from edgesr.jetson.release import Release
from edgesr.jetson.system import LOCAL, System

LOW_DISK = 2 << 30  # an engine build's timing cache, tactics and bundles need a few hundred MB to GBs
NO_DISK = 256 << 20
SETUP = "jetson/setup.sh"
_NOT_JETSON = "not a Jetson"


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str
    detail: str
    fix: str = ""


@dataclass
class Doctor:
    checks: list[Check]
    capabilities: list[str]
    jetson: Device | None

    @property
    def failed(self) -> bool:
        return any(c.verdict == "fail" for c in self.checks)

    def to_dict(self) -> dict:
        return {
            "jetson": self.jetson.id if self.jetson else None,
            "checks": [asdict(c) for c in self.checks],
            "capabilities": self.capabilities,
            "failed": self.failed,
        }

    def render(self) -> str:
        what = f"a {self.jetson.name} ({self.jetson.id})" if self.jetson else "not a Jetson"
        width = max(len(c.name) for c in self.checks)
        lines = [f"edgesr doctor: {platform.system()} {platform.machine()}, {what}", ""]
        for c in self.checks:
            lines.append(f"  {c.verdict:<4}  {c.name:<{width}}  {c.detail}")
            if c.fix:
                lines.append(f"  {'':<4}  {'':<{width}}  fix: {c.fix}")
        lines += ["", "What edgesr can do here:", *[f"  - {line}" for line in self.capabilities]]
        return "\n".join(lines)

    def json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


@dataclass
class _Context:
    system: System
    engines: Path
    py: Python
    model_text: str | None
    module: Device | None
    release: Release | None

    @property
    def jetson(self) -> bool:
        return self.module is not None


def run(system: System = LOCAL, engines: Path = Path("engines"), python: Callable[[], Python] = probe_python) -> Doctor:
    """Probe the machine and return every check."""
    model_text = system.read(DEVICE_TREE_MODEL)
    module = host.device_from_model_string(model_text) if model_text else None
    ctx = _Context(
        system,
        engines,
        python(),
        model_text.strip() if model_text else None,
        module,
        release_mod.detect(system) if module or model_text else None,
    )
    checks = [check(ctx) for check in CHECKS]
    return Doctor(checks, capabilities(ctx, checks), module)


def _machine(ctx: _Context) -> Check:
    os_release = ctx.system.read("/etc/os-release") or ""
    name = re.search(r'^PRETTY_NAME="?([^"\n]+)', os_release, re.M)
    return Check(
        "machine",
        "info",
        f"{platform.system()} {platform.machine()}"
        + (f", {name.group(1)}" if name else "")
        + f", kernel {platform.release()}",
    )


def _module(ctx: _Context) -> Check:
    if ctx.module is not None:
        return Check("Jetson module", "ok", f"{ctx.module.name} ({ctx.module.id}); device tree: '{ctx.model_text}'")
    if ctx.model_text and "jetson" in ctx.model_text.lower():
        return Check(
            "Jetson module",
            "warn",
            f"'{ctx.model_text}' is not in edgesr's device table",
            "build with an explicit --device from 'edgesr devices', or --device cpu",
        )
    return Check(
        "Jetson module",
        "info",
        "not a Jetson (none named in /proc/device-tree/model): builds here give "
        "the ONNX Runtime artifact (--device cpu) or bundles that finish on the Jetson",
    )


def _release(ctx: _Context) -> Check:
    if not ctx.jetson:
        return Check("L4T / JetPack", "n/a", _NOT_JETSON)
    rel = ctx.release
    if rel is None:
        return Check(
            "L4T / JetPack",
            "warn",
            "neither /etc/nv_tegra_release nor the nvidia-l4t-core package found",
            "reflash with JetPack 6 or 7 (SDK Manager), or restore the nvidia-l4t-core package",
        )
    text = f"{rel.describe()}, from {rel.source}" + (f", board {rel.board}" if rel.board else "")
    if rel.jetpack_major in (6, 7):
        return Check("L4T / JetPack", "ok", text)
    return Check(
        "L4T / JetPack",
        "warn",
        text + ": below edgesr's on-device floor (JetPack 6, Python 3.10)",
        f"on a host run 'edgesr build --device {ctx.module.id} ...', copy the bundle here and run its "
        "build.sh (trtexec from this JetPack); or reflash with JetPack 6 where the module supports it",
    )


def _python(ctx: _Context) -> Check:
    py = ctx.py
    if py.venv:
        where = "venv, " + ("with system site-packages" if py.system_site_packages else "isolated")
    else:
        where = "no venv"
    text = f"{py.version} ({py.executable}; {where})"
    if not ctx.jetson or ctx.release is None or ctx.release.jetpack_line is None:
        return Check("Python", "ok", text)
    wanted = ctx.release.jetpack_line.python
    if not py.version.startswith(wanted + "."):
        return Check(
            "Python",
            "warn",
            text + f"; JetPack's TensorRT bindings are built for Python {wanted}",
            f"create the venv from the system python{wanted} ({SETUP})",
        )
    if py.venv and not py.system_site_packages:
        return Check(
            "Python",
            "warn",
            text + "; JetPack's TensorRT and OpenCV are invisible from it",
            f"recreate the venv with --system-site-packages ({SETUP})",
        )
    return Check("Python", "ok", text)


def _tensorrt(ctx: _Context) -> Check:
    py = ctx.py
    if py.tensorrt is None:
        broken = py.tensorrt_error and "No module named 'tensorrt'" not in py.tensorrt_error
        found = f"installed but does not import ({py.tensorrt_error})" if broken else "not importable"
        if ctx.jetson:
            return Check(
                "TensorRT",
                "fail",
                found,
                "sudo apt install python3-libnvinfer (JetPack's TensorRT Python "
                f"bindings) and use a venv made with --system-site-packages ({SETUP})",
            )
        return Check("TensorRT", "info", found + ": not needed here, engines are built on the Jetson from bundles")
    line = ctx.release.jetpack_line if ctx.jetson and ctx.release else None
    if line is not None and not any(py.tensorrt.startswith(v) for v in line.tensorrt):
        return Check(
            "TensorRT",
            "warn",
            f"{py.tensorrt}; JetPack {line.version} ships {' / '.join(line.tensorrt)}",
            "use JetPack's python3-libnvinfer: engines load only on the TensorRT that built them",
        )
    return Check(
        "TensorRT",
        "ok",
        py.tensorrt if ctx.jetson else f"{py.tensorrt}; engines for a Jetson are still built on the Jetson",
    )


def _cuda(ctx: _Context) -> Check:
    found = cuda_version(ctx.system)
    if found is None:
        if ctx.jetson:
            return Check(
                "CUDA",
                "warn",
                "no CUDA toolkit found (/usr/local/cuda)",
                "sudo apt install nvidia-jetpack (or this JetPack's cuda-toolkit package)",
            )
        return Check("CUDA", "info", "no CUDA toolkit: not needed for ONNX Runtime on the CPU")
    version, source = found
    line = ctx.release.jetpack_line if ctx.jetson and ctx.release else None
    text = f"{version} ({source})"
    if line is not None and not version.startswith(line.cuda.rstrip(".x")):
        return Check(
            "CUDA",
            "warn",
            text + f"; JetPack {line.version} ships CUDA {line.cuda}",
            "use the CUDA that came with JetPack: TensorRT and ONNX Runtime wheels are built against it",
        )
    return Check("CUDA", "ok" if ctx.jetson else "info", text + ("" if ctx.jetson else "; used only with a GPU"))


def _cudnn(ctx: _Context) -> Check:
    version = cudnn_version(ctx.system)
    if version:
        return Check("cuDNN", "ok" if ctx.jetson else "info", version)
    if ctx.jetson:
        return Check(
            "cuDNN",
            "info",
            "not found: TensorRT engines do not need it; ONNX Runtime's CUDA provider does",
            "sudo apt install nvidia-cudnn",
        )
    return Check("cuDNN", "info", "not found: not needed for ONNX Runtime on the CPU")


def _gpu(ctx: _Context) -> Check:
    if ctx.module is not None:
        m = ctx.module
        return Check(
            "GPU",
            "ok",
            f"{m.gpu} integrated GPU, compute capability {m.compute_capability}"
            + (f" ({m.note})" if m.note and "compute capability" in m.note else ""),
        )
    out = ctx.system.run(["nvidia-smi", "--query-gpu=name,compute_cap", "--format=csv,noheader"])
    if out and out.strip():
        gpus = [line.split(",") for line in out.strip().splitlines()]
        return Check(
            "GPU",
            "ok",
            "; ".join(
                f"{g[0].strip()}, compute capability {g[1].strip()}" if len(g) > 1 else g[0].strip() for g in gpus
            ),
        )
    return Check("GPU", "info", "no NVIDIA GPU (nvidia-smi absent or silent): models run on the CPU here")


def _dla(ctx: _Context) -> Check:
    if not ctx.jetson:
        return Check("DLA", "n/a", _NOT_JETSON)
    expected = ctx.module.dla_cores
    nodes = dla_cores(ctx.system)
    if expected == 0:
        return Check("DLA", "info", f"the {ctx.module.name} has no DLA: engines run on the GPU")
    text = f"{len(nodes)} core(s)" + (f" ({', '.join(nodes)})" if nodes else "")
    if len(nodes) >= expected:
        return Check("DLA", "ok", text + "; build for one with --dla N")
    if nodes:
        return Check("DLA", "ok", text + f" (the table lists up to {expected}: {ctx.module.note or 'module variant'})")
    return Check(
        "DLA",
        "warn",
        f"no DLA device nodes found (the {ctx.module.name} has up to {expected})",
        "check that the nvdla driver is loaded (lsmod | grep nvdla); until then build without --dla",
    )


def _onnxruntime(ctx: _Context) -> Check:
    py = ctx.py
    if py.onnxruntime is None:
        return Check(
            "ONNX Runtime",
            "fail",
            "not importable: convert, quantize, validate and .onnx runs need it",
            "pip install onnxruntime (or onnxruntime-gpu on a Jetson: " + SETUP + ")",
        )
    text = f"{py.onnxruntime}, providers: {', '.join(p.removesuffix('ExecutionProvider') for p in py.providers)}"
    gpu = [p for p in py.providers if p in ("CUDAExecutionProvider", "TensorrtExecutionProvider")]
    if ctx.jetson and not gpu:
        return Check(
            "ONNX Runtime",
            "warn",
            text + " (CPU only)",
            f"for .onnx on the GPU install onnxruntime-gpu from the Jetson AI Lab index ({SETUP} --ort gpu); "
            "TensorRT engines do not need it",
        )
    return Check("ONNX Runtime", "ok", text)


def _opencv(ctx: _Context) -> Check:
    py = ctx.py
    if py.opencv is None:
        fix = (
            (f"use JetPack's OpenCV (sudo apt install python3-opencv) in a venv with --system-site-packages ({SETUP})")
            if ctx.jetson
            else "pip install 'edgesr[video]'"
        )
        return Check("OpenCV video", "warn", "OpenCV not importable: upscale and stream need it", fix)
    ffmpeg, gst, v4l = (has_backend(py.video_io, name) for name in ("ffmpeg", "gstreamer", "v4l"))
    text = f"{py.opencv}: FFmpeg {_yes(ffmpeg)}, GStreamer {_yes(gst)}, V4L2 {_yes(v4l)}"
    if not ffmpeg:
        return Check(
            "OpenCV video",
            "warn",
            text + ": video files and rtsp:// need FFmpeg",
            "use an OpenCV built with FFmpeg (the PyPI wheel or JetPack's)",
        )
    if ctx.jetson and not gst:
        return Check(
            "OpenCV video",
            "warn",
            text + ": csi:// (nvarguscamerasrc) needs GStreamer",
            "pip uninstall opencv-python-headless, then use JetPack's OpenCV (sudo apt install "
            f"python3-opencv) through a venv with --system-site-packages ({SETUP})",
        )
    note = "" if gst else "; csi:// needs GStreamer (a Jetson's own OpenCV)"
    return Check("OpenCV video", "ok", text + note)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _power(ctx: _Context) -> Check:
    if not ctx.jetson:
        return Check("power mode", "n/a", _NOT_JETSON)
    mode = nvpmodel.query(ctx.system)
    if mode is None:
        return Check(
            "power mode", "warn", "nvpmodel is missing or did not answer", "sudo apt install nvidia-l4t-nvpmodel"
        )
    return Check("power mode", "ok", str(mode) + "; modes: grep POWER_MODEL /etc/nvpmodel.conf")


def _clocks(ctx: _Context) -> Check:
    if not ctx.jetson:
        return Check("clocks", "n/a", _NOT_JETSON)
    clocks = clocks_mod.read(ctx.system)
    if clocks.locked:
        return Check("clocks", "ok", clocks.describe())
    return Check(
        "clocks",
        "info",
        clocks.describe(),
        "sudo jetson_clocks pins CPU, GPU and memory clocks at the power mode's maximum, for repeatable timings",
    )


def _telemetry(ctx: _Context) -> Check:
    if not ctx.jetson:
        return Check("telemetry", "n/a", _NOT_JETSON + "; stream and bench say tegrastats is absent")
    exe = ctx.system.which("tegrastats")
    if exe is None:
        return Check(
            "telemetry",
            "warn",
            "tegrastats not found: no GPU load, power or temperatures in reports",
            "sudo apt install nvidia-l4t-tools",
        )
    return Check("telemetry", "ok", f"{exe} (GPU load, power rails, temperatures in stream and bench)")


def _disk(ctx: _Context) -> Check:
    folder = ctx.engines if ctx.engines.is_absolute() else Path.cwd() / ctx.engines
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    text = f"{free / (1 << 30):.1f} GiB free at {folder}" + ("" if folder.exists() else f" (not created yet; {probe})")
    if free < NO_DISK:
        return Check("engines folder", "fail", text, "free space, or build with -o DIR on another disk")
    if free < LOW_DISK:
        return Check(
            "engines folder",
            "warn",
            text + ": engine builds and bundles may not fit",
            "free space, or build with -o DIR on another disk",
        )
    return Check("engines folder", "ok", text)


CHECKS: tuple[Callable[[_Context], Check], ...] = (
    _machine,
    _module,
    _release,
    _python,
    _tensorrt,
    _cuda,
    _cudnn,
    _gpu,
    _dla,
    _onnxruntime,
    _opencv,
    _power,
    _clocks,
    _telemetry,
    _disk,
)


def capabilities(ctx: _Context, checks: list[Check]) -> list[str]:
    """What the checks add up to, in terms of edgesr's commands."""
    verdict = {c.name: c.verdict for c in checks}
    py = ctx.py
    out = []
    if py.onnxruntime:
        out.append(
            "convert, quantize, validate: yes, on ONNX Runtime ("
            + ", ".join(p.removesuffix("ExecutionProvider") for p in py.providers)
            + ")"
        )
    else:
        out.append("convert, quantize, validate: no (ONNX Runtime missing)")
    if ctx.jetson and py.tensorrt:
        out.append(
            f"build: TensorRT {py.tensorrt} engines for this {ctx.module.name} (edgesr build --device auto); "
            "bundles for other devices"
        )
    else:
        out.append(
            "build: bundles for every Jetson (they finish on the device with bash build.sh); --device cpu "
            "for the ONNX Runtime artifact"
        )
    if py.opencv:
        sources = ["files", "test://"]
        if has_backend(py.video_io, "ffmpeg"):
            sources.append("rtsp://")
        if has_backend(py.video_io, "v4l"):
            sources.append("v4l2://")
        if ctx.jetson and has_backend(py.video_io, "gstreamer"):
            sources.append("csi://")
        out.append(f"upscale, stream: yes; sources {', '.join(sources)}")
    else:
        out.append("upscale, stream: no (OpenCV missing)")
    out.append("bench: yes; telemetry " + ("from tegrastats" if verdict.get("telemetry") == "ok" else "not available"))
    return out
