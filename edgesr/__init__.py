"""edgesr: take a super-resolution model to a device-ready engine, and stream video through it.

Importing this package loads no heavy dependency (torch, tensorrt, cv2, onnx): the public
API below is resolved on first use.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = {
    "convert": "edgesr.onnx.convert",
    "Convert": "edgesr.onnx.convert",
    "ConvertResult": "edgesr.onnx.convert",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        import importlib

        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'edgesr' has no attribute {name!r}")
