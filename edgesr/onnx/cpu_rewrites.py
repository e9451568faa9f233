"""The rewrites that make a Q/DQ model run faster on ONNX Runtime's CPU provider, in one list:
the quantize stage writes them into the x86 file, and the runtime applies them at load to Q/DQ
models edgesr did not write (each is a no-op on a model that already has it)."""

from __future__ import annotations

from edgesr.onnx.fuse_gelu import fuse_gelu
from edgesr.onnx.pad_channels import pad_channels
from edgesr.onnx.split_shuffle import split_depth_to_space

REWRITES = (
    (split_depth_to_space, "pixel shuffle of INT8 data run as two single-axis transposes (faster on CPU, identical)"),
    (
        pad_channels,
        "convolution channels padded to multiples of four for the INT8 kernels (faster on CPU, same function)",
    ),
    (fuse_gelu, "GELUs of dequantized data fused as ONNX Runtime fuses them in float models"),
)


def for_onnxruntime_cpu(model) -> list[str]:
    """Apply every rewrite to ``model`` in place; returns a note for each that changed something."""
    return [note for rewrite, note in REWRITES if rewrite(model)]
