"""Validation reports: a reference model against its FP16/INT8 candidates on benchmark images.

Per-image and mean Y-PSNR/SSIM under the standard protocol, the drop against the reference,
latency measured in the same run, crops where the candidates differ most, and a verdict
against a drop budget; written as a self-contained HTML page, JSON and Markdown.
"""

from edgesr.report.artifact_info import ArtifactInfo, inspect
from edgesr.report.files import write_report
from edgesr.report.results import ValidationReport
from edgesr.report.validate import Validate, ValidateOptions, validate

__all__ = ["ArtifactInfo", "Validate", "ValidateOptions", "ValidationReport", "inspect", "validate", "write_report"]
