"""The exception hierarchy.

Every problem the user can fix derives from :class:`EdgeSRError`; the CLI prints it as one
line and exits non-zero. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class EdgeSRError(Exception):
    """A problem with the user's input or environment, with the fix in the message."""

    exit_code = 1


class InputError(EdgeSRError):
    """A file, path or argument the user gave is missing, unreadable or malformed."""


class ModelError(EdgeSRError):
    """A model file is not usable: not ONNX, truncated, wrong inputs, opset too old."""


class UnsupportedOpError(EdgeSRError):
    """The graph uses an op the requested target cannot run."""


class ParityError(EdgeSRError):
    """A transformed model no longer computes what the original computed."""


class DependencyError(EdgeSRError):
    """An optional dependency is missing; the message names the extra to install."""


class DeviceError(EdgeSRError):
    """The device cannot do what was asked (precision, DLA, shapes)."""
