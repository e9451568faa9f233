"""Quantization-aware fine-tuning: the ONNX graph run in PyTorch with fake quantization."""
