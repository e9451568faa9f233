"""The real-time runtime: runners (one small interface over ONNX Runtime and TensorRT engines), a
threaded read -> pre-process -> infer -> post-process -> write pipeline with bounded queues,
seam-free tiling, and live statistics.

It learns everything about a model (scale, I/O names, value range, precision) from the
artifact's own metadata or its sidecar, and never imports torch or the export/build stages, so
a device that only runs models needs neither. ``import edgesr.runtime`` is light: the public API
below is resolved on first use.
"""

from __future__ import annotations

from edgesr import lazy

_API = {
    "ModelSpec": "edgesr.runtime.model_spec",
    "Runner": "edgesr.runtime.runners",
    "RunnerOptions": "edgesr.runtime.runners",
    "open_runner": "edgesr.runtime.runners",
    "register_runner": "edgesr.runtime.runners",
    "Pipeline": "edgesr.runtime.streaming",
    "PipelineOptions": "edgesr.runtime.streaming",
    "PipelineResult": "edgesr.runtime.streaming",
    "Upscale": "edgesr.runtime.jobs",
    "UpscaleOptions": "edgesr.runtime.jobs",
    "upscale": "edgesr.runtime.jobs",
    "Stream": "edgesr.runtime.jobs",
    "StreamOptions": "edgesr.runtime.jobs",
    "stream": "edgesr.runtime.jobs",
}

__all__ = list(_API)
__getattr__ = lazy.api(__name__, _API)
