"""The export stage: a PyTorch SR network -> one self-contained ONNX file with edgesr metadata.

``import edgesr.export`` is light; torch and onnx are imported when an export runs.
"""

from edgesr.export.parity import ExportParityError, Parity, check_parity
from edgesr.export.to_onnx import ExportOnnx, export_onnx

__all__ = ["ExportOnnx", "ExportParityError", "Parity", "check_parity", "export_onnx"]
