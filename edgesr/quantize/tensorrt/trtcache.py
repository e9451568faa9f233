"""TensorRT calibration caches: the text format, and export of a Q/DQ model's scales into it.

Format (what TensorRT's calibrators read and write): a header line
``TRT-<version int>-<algorithm>`` (e.g. ``TRT-8502-EntropyCalibration2``), then one line per
tensor, ``<tensor name>: <8 hex digits>``, the IEEE-754 float32 scale (``amax / 127``) written
as a big-endian hex number. TensorRT silently ignores a cache from another version, which is
why caches are named by model hash and TensorRT version (:func:`cache_path`).
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesr import fileio
from edgesr.errors import InputError
from edgesr.lazy import require

DEFAULT_ALGORITHM = "EntropyCalibration2"
ALGORITHMS = ("EntropyCalibration2", "EntropyCalibration", "MinMaxCalibration", "LegacyCalibration")
_HEADER = re.compile(r"^TRT-(\d+)-(\w+)$")
_LINE = re.compile(r"^(.+): ([0-9a-fA-F]{1,8})$")


@dataclass
class CalibrationCache:
    version: int  # TensorRT's version integer (8502 for 8.5.2, 100300 for 10.3.0)
    algorithm: str = DEFAULT_ALGORITHM
    scales: dict[str, float] = field(default_factory=dict)  # tensor -> scale (amax / 127)

    def to_text(self) -> str:
        lines = [f"TRT-{self.version}-{self.algorithm}"]
        for name, s in self.scales.items():
            if "\n" in name or ": " in name:
                raise InputError(f"tensor name {name!r} cannot be written to a TensorRT calibration cache")
            lines.append(f"{name}: {struct.pack('>f', float(s)).hex()}")
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str, source: str = "cache") -> CalibrationCache:
        rows = [r for r in text.splitlines() if r.strip()]
        if not rows or not (m := _HEADER.match(rows[0].strip())):
            raise InputError(
                f"{source} is not a TensorRT calibration cache (first line must be TRT-<version>-<algorithm>)"
            )
        cache = cls(version=int(m.group(1)), algorithm=m.group(2))
        for k, row in enumerate(rows[1:], start=2):
            lm = _LINE.match(row.rstrip())
            if not lm:
                raise InputError(f"{source} line {k} is not '<tensor>: <hex float>': {row[:60]!r}")
            cache.scales[lm.group(1)] = struct.unpack(">f", bytes.fromhex(lm.group(2).zfill(8)))[0]
        return cache


def trt_version_int(version: str) -> int:
    """TensorRT's version integer from a version string: '8.5.2.2' -> 8502, '10.3.0' -> 100300."""
    try:
        parts = [int(p) for p in version.split(".")[:3]]
    except ValueError:
        raise InputError(f"'{version}' is not a TensorRT version like 8.5.2 or 10.3.0") from None
    parts += [0] * (3 - len(parts))
    major, minor, patch = parts
    return major * 10000 + minor * 100 + patch if major >= 10 else major * 1000 + minor * 100 + patch


def write_trt_cache(
    path: str | os.PathLike, scales: dict[str, float], *, version: str | int, algorithm: str = DEFAULT_ALGORITHM
) -> Path:
    """Write ``scales`` (tensor -> scale) as a TensorRT calibration cache, atomically."""
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown calibration algorithm '{algorithm}'; use one of {', '.join(ALGORITHMS)}")
    v = version if isinstance(version, int) else trt_version_int(version)
    return fileio.write_text(path, CalibrationCache(v, algorithm, dict(scales)).to_text())


def read_trt_cache(path: str | os.PathLike) -> CalibrationCache:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"calibration cache {p} does not exist")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{p} is not a text TensorRT calibration cache") from None
    return CalibrationCache.from_text(text, str(p))


def scales_from_qdq(model) -> dict[str, float]:
    """Activation scales of a Q/DQ model, keyed by the float tensor each QuantizeLinear reads.

    Names are those of the original float model, so the cache applies to it (TensorRT's
    implicit INT8 path). The input keeps its name; each Q's input is a tensor of the float
    graph. A tensor quantized for several consumers has one scale (the pairs share it).
    """
    numpy_helper = require("onnx.numpy_helper")
    inits = {t.name: t for t in model.graph.initializer}
    scales: dict[str, float] = {}
    for n in model.graph.node:
        if n.op_type != "QuantizeLinear" or n.input[1] not in inits:
            continue
        s = numpy_helper.to_array(inits[n.input[1]])
        if s.size != 1:
            continue  # per-channel (weights are not in calibration caches)
        name = n.input[0][: -len("/float")] if n.input[0].endswith("/float") else n.input[0]
        scales[name] = float(np.float32(s.reshape(-1)[0]))
    return scales


def model_hash(model_or_path) -> str:
    if isinstance(model_or_path, (str, os.PathLike)):
        data = Path(model_or_path).read_bytes()
    else:
        data = model_or_path.SerializeToString()
    return hashlib.sha256(data).hexdigest()


def cache_path(
    model_or_path, trt_version: str | int, *, root: str | os.PathLike = "calibration", stem: str = "model"
) -> Path:
    """``<root>/<stem>-<sha256[:16]>-trt<version int>.cache``: reused only for the same model and TensorRT."""
    v = trt_version if isinstance(trt_version, int) else trt_version_int(trt_version)
    return Path(root) / f"{stem}-{model_hash(model_or_path)[:16]}-trt{v}.cache"
