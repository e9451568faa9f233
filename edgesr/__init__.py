"""edgesr: take a super-resolution model to a device-ready engine, and stream video through it.

Importing this package loads no heavy dependency (torch, tensorrt, cv2, onnx): the public
API below is resolved on first use.
"""

from __future__ import annotations

from edgesr import lazy

__version__ = "0.1.0"

_API = {
    "convert": "edgesr.onnx.convert",
    "Convert": "edgesr.onnx.convert",
    "ConvertResult": "edgesr.onnx.convert",
}

__all__ = ["__version__", *_API]
__getattr__ = lazy.api(__name__, _API)
