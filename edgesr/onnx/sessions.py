"""ONNX Runtime sessions, made in one place: the providers (preference, aliases, TensorRT's engine
cache), the rewrites a model gets before it runs on the CPU provider, and the session options
(threads, spinning, log level). Each caller states what it needs and gets ONNX Runtime's
defaults for the rest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from edgesr.errors import DependencyError, ModelError
from edgesr.lazy import require
from edgesr.onnx.cpu_rewrites import for_onnxruntime_cpu

CPU = "CPUExecutionProvider"
# Best first; the first available one that starts is used unless the user names providers.
PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", CPU)
ALIASES = {
    "cpu": CPU,
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "trt": "TensorrtExecutionProvider",
}
# TensorRT EP builds an engine at session start (minutes on a Jetson); its cache makes that once.
TRT_CACHE = Path.home() / ".cache" / "edgesr" / "ort-tensorrt"
LOAD_ERRORS = (
    "Fail",
    "InvalidArgument",
    "InvalidGraph",
    "InvalidProtobuf",
    "NoSuchFile",
    "NotImplemented",
    "RuntimeException",
    "EPFail",
)


def session(
    model,
    *,
    providers: Sequence = (CPU,),
    threads: int | None = None,
    inter_op_threads: int | None = None,
    spinning: bool = True,
    quiet: bool = False,
    name: str | None = None,
    fix: str = "re-export the model",
):
    """An ``onnxruntime.InferenceSession`` for ``model`` (a path, serialized bytes or an ``onnx.ModelProto``).

    ``threads`` sets the intra-op threads (ONNX Runtime's default when None or 0). Without
    ``spinning``, idle intra-op threads sleep instead of spinning between operators: they would
    otherwise take cores that other work in the process (pre/post-processing, another session
    being timed) needs. ``quiet`` hides ONNX Runtime's warnings (unused initializers: noise to a
    user). With ``name``, a model ONNX Runtime cannot load is a :class:`ModelError` saying so and
    ``fix``.
    """
    ort = require("onnxruntime")
    options = ort.SessionOptions()
    if quiet:
        options.log_severity_level = 3
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    if inter_op_threads:
        options.inter_op_num_threads = inter_op_threads
    if any(isinstance(p, tuple) and p[0] == "TensorrtExecutionProvider" for p in providers):
        TRT_CACHE.mkdir(parents=True, exist_ok=True)
    try:
        return ort.InferenceSession(_source(model), options, providers=list(providers))
    except errors(ort, LOAD_ERRORS) as exc:
        if name is None:
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"ONNX Runtime cannot load {name} ({reason}); {fix}") from None


def _source(model) -> str | bytes:
    if isinstance(model, bytes):
        return model
    if isinstance(model, (str, os.PathLike)):
        return str(model)
    return model.SerializeToString()


def errors(ort, names: Sequence[str]) -> tuple[type[Exception], ...]:
    """ONNX Runtime's exception classes of these names (those this version has)."""
    state = ort.capi.onnxruntime_pybind11_state
    return tuple(getattr(state, n) for n in names if hasattr(state, n))


def choose_providers(requested: Sequence[str] | None) -> list:
    """The execution providers to ask for: ``requested`` (names or aliases such as ``cuda``), or
    every available one in order of :data:`PREFERENCE`; TensorRT with its engine cache."""
    ort = require("onnxruntime")
    available = ort.get_available_providers()
    if not requested:
        names = [p for p in PREFERENCE if p in available]
    else:
        names = [ALIASES.get(p.lower(), p) for p in requested]
        missing = [p for p in names if p not in available]
        if missing:
            raise DependencyError(
                f"this onnxruntime has no {', '.join(missing)} (it has {', '.join(available)}); "
                "install onnxruntime-gpu (or JetPack's onnxruntime on a Jetson) or choose another"
            )
    return [
        (p, {"trt_engine_cache_enable": True, "trt_engine_cache_path": str(TRT_CACHE)})
        if p == "TensorrtExecutionProvider"
        else p
        for p in names
    ]


def first(providers: Sequence) -> str:
    """The name of the provider ONNX Runtime tries first."""
    return providers[0][0] if isinstance(providers[0], tuple) else providers[0]


def prepare(model, providers: Sequence) -> list[str]:
    """Apply, in place, the rewrites that make ``model`` faster on the provider tried first (the
    CPU rewrites of :mod:`edgesr.onnx.cpu_rewrites` on CPU); returns a note for each that changed it."""
    return for_onnxruntime_cpu(model) if first(providers) == CPU else []
