"""The build stage: ONNX (FP32, FP16 or Q/DQ INT8) -> TensorRT engine, or a bundle that finishes on the device.

TensorRT is imported lazily, only when an engine is built; importing this package needs none of it.
"""
