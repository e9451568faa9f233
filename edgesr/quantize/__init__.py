"""The quantize stage: float ONNX -> symmetric INT8 Q/DQ ONNX within an accuracy budget.

``import edgesr.quantize`` is light; onnx, onnxruntime (and torch for the optional fine-tune,
tensorrt for the legacy calibrator) are imported when the work runs. Public API::

    quantize(model, out, **options) -> QuantizeResult     # options: the fields of QuantizeOptions
    to_fp16(model) / emulate_fp16(model)                  # FP16 variant / its accuracy proxy
    for_tensorrt(qdq_model)                               # INT32 biases folded for TensorRT's parser
    write_trt_cache(path, scales, version=...) / read_trt_cache(path) / scales_from_qdq(model)
    make_calibrator(model_path, data, input_name)         # Polygraphy Calibrator (TensorRT <= 10)
    load_calibration(spec, ...) / default_manifest()      # calibration data
"""

from __future__ import annotations

import importlib

_API = {
    "quantize": "edgesr.quantize.pipeline",
    "QuantizeOptions": "edgesr.quantize.options",
    "QuantizeResult": "edgesr.quantize.pipeline",
    "to_fp16": "edgesr.quantize.fp16",
    "emulate_fp16": "edgesr.quantize.fp16",
    "fp16_variant": "edgesr.quantize.variants",
    "for_tensorrt": "edgesr.quantize.qdq",
    "write_trt_cache": "edgesr.quantize.trtcache",
    "read_trt_cache": "edgesr.quantize.trtcache",
    "scales_from_qdq": "edgesr.quantize.trtcache",
    "CalibrationCache": "edgesr.quantize.trtcache",
    "make_calibrator": "edgesr.quantize.calibrator",
    "CalibrationSpec": "edgesr.quantize.calibration",
    "load_calibration": "edgesr.quantize.calibration",
    "load_validation": "edgesr.quantize.calibration",
    "default_manifest": "edgesr.quantize.calibration",
    "spec_from": "edgesr.quantize.calibration",
}

__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'edgesr.quantize' has no attribute {name!r}")
