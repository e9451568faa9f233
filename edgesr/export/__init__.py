"""The export stage: a PyTorch SR network -> one self-contained ONNX file with edgesr metadata.

``import edgesr.export`` is light; torch and onnx are imported when an export runs.
"""

from edgesr.export.to_onnx import ExportOnnx, export_onnx
from edgesr.export.torch_parity import ExportParityError, Parity, check_parity

__all__ = ["ExportOnnx", "ExportParityError", "Parity", "check_parity", "export_onnx"]
