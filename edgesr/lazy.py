"""Lazy imports of heavy or optional modules, in one place.

``import edgesr`` must not load torch, tensorrt or cv2. Modules that need them call
:func:`require` at the point of use; a missing package becomes one readable error that
names the pip extra providing it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

from edgesr.errors import DependencyError

# import name -> (pip requirement, edgesr extra that provides it, or None for core)
_PROVIDERS: dict[str, tuple[str, str | None]] = {
    "numpy": ("numpy", None),
    "onnx": ("onnx", None),
    "onnxruntime": ("onnxruntime", None),
    "onnxsim": ("onnxsim", None),
    "onnxslim": ("onnxslim", None),
    "polygraphy": ("polygraphy", None),
    "PIL": ("pillow", None),
    "tqdm": ("tqdm", None),
    "torch": ("torch==2.13.0", "torch"),
    "tensorrt": ("tensorrt (from JetPack on Jetson, or NVIDIA's index on x86)", "tensorrt"),
    "cv2": ("opencv-python-headless", "video"),
    "av": ("av", "video"),
    "streamlit": ("streamlit", "app"),
}


def require(name: str) -> ModuleType:
    """Import ``name`` (a dotted module path) or raise :class:`DependencyError` saying how to get it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        root = name.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != root:
            raise  # the package is there but broken inside: a bug, keep the traceback
        requirement, extra = _PROVIDERS.get(root, (root, None))
        if extra is None:
            fix = f"pip install {requirement}"
        else:
            fix = f"pip install 'edgesr[{extra}]' (provides {requirement})"
        raise DependencyError(f"{name} is not installed; {fix}") from exc


def available(name: str) -> bool:
    """True when ``name`` can be imported (imports it; use only where the import is wanted)."""
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def api(package: str, names: dict[str, str]) -> Callable[[str], object]:
    """A package's ``__getattr__`` (PEP 562) that imports each public name from its module on first use,
    so importing the package stays light."""

    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(names[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
