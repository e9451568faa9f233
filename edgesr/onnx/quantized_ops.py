"""The ONNX ops that only appear in a quantized graph."""

from __future__ import annotations

# Q/DQ (explicit, what TensorRT takes) and ONNX Runtime's QOperator format: an artifact with any
# of these computes in INT8.
INT8_OPS = frozenset(
    {
        "QuantizeLinear",
        "DequantizeLinear",
        "QLinearConv",
        "QLinearMatMul",
        "ConvInteger",
        "MatMulInteger",
        "DynamicQuantizeLinear",
    }
)
# With QOperator's element-wise ops too: a model with any of these was already quantized.
QUANTIZED_OPS = INT8_OPS | {"QLinearAdd", "QLinearMul"}
