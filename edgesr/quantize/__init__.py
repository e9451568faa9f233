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

from edgesr import lazy

_API = {
    "quantize": "edgesr.quantize.stage",
    "QuantizeOptions": "edgesr.quantize.options",
    "QuantizeResult": "edgesr.quantize.stage",
    "to_fp16": "edgesr.quantize.fp16",
    "emulate_fp16": "edgesr.quantize.fp16",
    "fp16_variant": "edgesr.quantize.variants",
    "for_tensorrt": "edgesr.quantize.qdq",
    "write_trt_cache": "edgesr.quantize.tensorrt.trtcache",
    "read_trt_cache": "edgesr.quantize.tensorrt.trtcache",
    "scales_from_qdq": "edgesr.quantize.tensorrt.trtcache",
    "CalibrationCache": "edgesr.quantize.tensorrt.trtcache",
    "make_calibrator": "edgesr.quantize.tensorrt.calibrator",
    "CalibrationSpec": "edgesr.quantize.calibration",
    "load_calibration": "edgesr.quantize.calibration",
    "load_validation": "edgesr.quantize.calibration",
    "default_manifest": "edgesr.quantize.calibration",
    "spec_from": "edgesr.quantize.calibration",
}

__all__ = list(_API)
__getattr__ = lazy.api(__name__, _API)
