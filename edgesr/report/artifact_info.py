"""What a model artifact is (precision, edgesr metadata), and a runtime runner as an upscaler.

The precision shown in a report is read from the file's content, never from its name: a file
called ``int8.onnx`` without Q/DQ nodes is reported as FP32. Which artifacts can run at all is
the runtime's runner table (keyed by suffix), so a TensorRT engine runner registered there is
validated with no change here.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from edgesr.errors import InputError
from edgesr.lazy import require
from edgesr.meta import PREFIX
from edgesr.onnx.loading import load
from edgesr.onnx.quantized_ops import INT8_OPS
from edgesr.runtime.model_spec import ModelSpec
from edgesr.runtime.runners import Runner, runner_class
from edgesr.runtime.tensors import to_model, to_pixels

# Layers whose weights decide whether a graph is "fully" quantized.
_WEIGHT_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
_FLOAT16 = 10  # onnx.TensorProto.FLOAT16


@dataclass(frozen=True)
class ArtifactInfo:
    """What a report says about one artifact before running it."""

    path: Path
    kind: str  # the file suffix, which picks its runner
    precision: str  # "fp32", "fp16" or "int8", the lowest the file computes in; or what its runner reports
    detail: str  # how the precision was recognised, e.g. "64/64 weight layers quantized, symmetric"
    size_bytes: int
    metadata: dict[str, str] = field(default_factory=dict)  # the edgesr.* keys, as stored


def inspect_onnx(path: Path) -> ArtifactInfo:
    # Weights are not needed to recognise the precision; ONNX Runtime reads them itself.
    model = load(path, external_data=False)
    graph = model.graph
    ops = Counter(n.op_type for n in graph.node)
    metadata = {p.key: p.value for p in model.metadata_props if p.key.startswith(PREFIX)}
    half = _float16_detail(graph)
    if ops.keys() & INT8_OPS:
        precision, detail = "int8", _int8_detail(graph, ops)
    elif half:
        precision, detail = "fp16", half
    else:
        precision, detail = "fp32", "no Q/DQ nodes, no float16 tensors"
    return ArtifactInfo(path, ".onnx", precision, detail, path.stat().st_size, metadata)


def _float16_detail(graph) -> str:
    """Empty when the graph holds no float16 tensor."""
    inits = sum(t.data_type == _FLOAT16 for t in graph.initializer)
    inputs = sum(i.type.tensor_type.elem_type == _FLOAT16 for i in graph.input)
    parts = [f"{inits} float16 initializers"] if inits else []
    parts += ["float16 input"] if inputs else []
    return ", ".join(parts)


def _int8_detail(graph, ops: Counter) -> str:
    """How many weight layers are quantized, and whether every zero point is 0 (TensorRT needs that)."""
    dq_outputs = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    weighted = [n for n in graph.node if n.op_type in _WEIGHT_OPS and len(n.input) > 1]
    quantized = sum(n.input[1] in dq_outputs for n in weighted) + ops["QLinearConv"] + ops["QLinearMatMul"]
    total = len(weighted) + ops["QLinearConv"] + ops["QLinearMatMul"]
    numpy_helper = require("onnx.numpy_helper")
    inits = {t.name: t for t in graph.initializer}
    zero_points = [
        inits[n.input[2]]
        for n in graph.node
        if n.op_type in ("QuantizeLinear", "DequantizeLinear") and len(n.input) > 2 and n.input[2] in inits
    ]
    symmetric = all(not numpy_helper.to_array(z).any() for z in zero_points)
    counts = f"{ops['QuantizeLinear']} Q / {ops['DequantizeLinear']} DQ nodes"
    return f"{quantized}/{total} weight layers quantized, {counts}, " + (
        "symmetric" if symmetric else "asymmetric zero points (TensorRT needs symmetric)"
    )


# Suffix -> how to read an artifact's precision from its content. A kind without an entry (a
# future TensorRT engine) is described by its runner's spec once opened.
INSPECTORS: dict[str, Callable[[Path], ArtifactInfo]] = {".onnx": inspect_onnx}


def inspect(path: str | os.PathLike) -> ArtifactInfo | None:
    """Precision and metadata of ``path`` without running it; None when only its runner can tell.

    Fails for a missing file or one that no runner in :mod:`edgesr.runtime.runners` can run.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist; check the artifact path")
    if not p.is_file():
        raise InputError(f"{p} is not a file; pass model files")
    runner_class(p)  # the runtime's table decides what can run, and names the kinds it knows
    inspector = INSPECTORS.get(p.suffix.lower())
    return inspector(p) if inspector is not None else None


def from_spec(path: Path, spec: ModelSpec) -> ArtifactInfo:
    """What the report says about an artifact that only its runner can describe."""
    return ArtifactInfo(path, path.suffix.lower(), spec.precision, "as its runner reports", path.stat().st_size, {})


class RunnerUpscaler:
    """An activated runtime runner as a protocol upscaler: HxWx3 uint8 LR in, uint8 SR out."""

    def __init__(self, runner: Runner):
        self.runner = runner
        self.spec: ModelSpec = runner.spec

    @property
    def scale(self) -> int:
        return self.spec.scale

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        return to_pixels(self.runner.infer(to_model(lr[None], self.spec))[0], self.spec)
