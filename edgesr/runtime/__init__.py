"""The real-time runtime: runners (one small interface over ONNX Runtime and TensorRT engines), a
threaded read -> pre-process -> infer -> post-process -> write pipeline with bounded queues,
seam-free tiling, and live statistics.

It learns everything about a model (scale, I/O names, value range, precision) from the
artifact's own metadata or its sidecar, and never imports torch or the export/build stages, so
a device that only runs models needs neither. ``import edgesr.runtime`` is light: the public API
below is resolved on first use.
"""

from __future__ import annotations

_API = {
    "ModelSpec": "edgesr.runtime.spec",
    "Runner": "edgesr.runtime.runners",
    "RunnerOptions": "edgesr.runtime.runners",
    "open_runner": "edgesr.runtime.runners",
    "register_runner": "edgesr.runtime.runners",
    "Pipeline": "edgesr.runtime.pipeline",
    "PipelineOptions": "edgesr.runtime.pipeline",
    "PipelineResult": "edgesr.runtime.pipeline",
    "Upscale": "edgesr.runtime.jobs",
    "UpscaleOptions": "edgesr.runtime.jobs",
    "upscale": "edgesr.runtime.jobs",
    "Stream": "edgesr.runtime.jobs",
    "StreamOptions": "edgesr.runtime.jobs",
    "stream": "edgesr.runtime.jobs",
}

__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'edgesr.runtime' has no attribute {name!r}")
