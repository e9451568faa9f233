"""What the quantize stage gives TensorRT beyond Q/DQ ONNX: the implicit-INT8 calibrator and calibration caches."""
