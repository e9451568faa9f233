"""How each TensorRT generation is asked for a precision: the one table the Python build and the
``trtexec`` command line are both derived from.

=========  ==========================  =================================  ============================
precision  TensorRT 8.5/8.6            TensorRT 10.x                      TensorRT 11.x
=========  ==========================  =================================  ============================
fp32       (no flag)                   (no flag)                          FP32 tensors in the ONNX
fp16       ``BuilderFlag.FP16``        ``BuilderFlag.FP16``               FP16 tensors in the ONNX
int8 qdq   ``BuilderFlag.INT8``        ``STRONGLY_TYPED`` network from    Q/DQ nodes in the ONNX
                                       10.12 (DLA builds and older 10.x:
                                       ``BuilderFlag.INT8``)
int8 cal.  ``INT8`` + calibrator       ``INT8`` + calibrator (deprecated)  removed: quantize to Q/DQ
=========  ==========================  =================================  ============================

Why strong typing for Q/DQ on TensorRT 10.12+: the 10.12 release notes deprecate the weak-typing
API (the FP16/INT8 builder flags) and TensorRT 11 removes it; a strongly typed Q/DQ network gives
the same numbers as the weakly typed one with only ``INT8`` set (INT8 exactly where the Q/DQ nodes
say, the ONNX's FP32 everywhere else -- what the Q/DQ model measured on ONNX Runtime). DLA builds
on 10.x keep the flag: TensorRT documents strongly typed DLA networks only from 11.4.1 on ("Strongly
Typed Networks for DLA"), and its 10.x DLA examples use ``--int8``. Older 10.x releases keep the
flag so one command line works on every 10.x.

``TF32`` is cleared in every build (Polygraphy's default too): TF32 is on by default on Ampere
and would quietly round FP32 layers to a 10-bit mantissa.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgesr.engine import onnx_facts
from edgesr.engine.tensorrt_api import BuildError, Target
from edgesr.errors import ModelError

PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "int8")
INT8_SOURCES: tuple[str, ...] = ("qdq", "calibrator")


@dataclass(frozen=True)
class Recipe:
    """The TensorRT settings that make one precision on one TensorRT version."""

    precision: str
    network_flags: tuple[str, ...]  # NetworkDefinitionCreationFlag member names
    builder_flags: tuple[str, ...]  # BuilderFlag member names to set
    cleared_flags: tuple[str, ...]  # BuilderFlag member names to clear
    calibrator: bool  # config.int8_calibrator is set (implicit INT8)
    fast_check: str | None  # "fp16" | "int8": builder.platform_has_fast_<x> must hold (where it exists)
    typed_by_onnx: bool  # strongly typed: the ONNX's tensor types decide the precision

    @property
    def strongly_typed(self) -> bool:
        return "STRONGLY_TYPED" in self.network_flags


def recipe(precision: str, int8_source: str | None, target: Target, *, dla: bool = False) -> Recipe:
    """The settings for ``precision`` on ``target``; :class:`BuildError` when that TensorRT cannot make it."""
    if target.generation == "trt11":
        return _trt11(precision, int8_source, target)
    network = ("EXPLICIT_BATCH",) if target.needs_explicit_batch_flag else ()
    if precision == "fp32":
        return Recipe(precision, network, (), ("TF32",), False, None, False)
    if precision == "fp16":
        return Recipe(precision, network, ("FP16",), ("TF32",), False, "fp16", False)
    if int8_source == "calibrator":
        return Recipe(precision, network, ("INT8",), ("TF32",), True, "int8", False)
    if target.generation == "trt10" and target.weak_typing_deprecated and not dla:
        return Recipe(precision, ("STRONGLY_TYPED",), (), ("TF32",), False, "int8", True)
    return Recipe(precision, network, ("INT8",), ("TF32",), False, "int8", False)


def _trt11(precision: str, int8_source: str | None, target: Target) -> Recipe:
    if precision == "int8" and int8_source == "calibrator":
        raise BuildError(
            f"{target.label} removed implicit INT8 calibration (IInt8Calibrator, BuilderFlag.INT8); "
            "quantize the model to Q/DQ INT8 with `edgesr quantize` and build it with int8_source='qdq'"
        )
    # Strong typing is the only mode: STRONGLY_TYPED is deprecated and ignored, no precision flag exists.
    return Recipe(precision, (), (), ("TF32",), False, None, True)


def check_onnx_precision(precision: str, path: Path, target: Target) -> None:
    """A strongly typed build takes its precision from the ONNX: make sure the file holds what was asked."""
    types = onnx_facts.float_types(path)
    if precision == "fp16" and "FLOAT16" not in types:
        raise ModelError(
            f"{target.label} takes precision from the ONNX tensor types and {path.name} has no FP16 "
            "tensors, so the engine would be FP32; convert it to FP16 (python -m modelopt.onnx.autocast "
            "--low_precision_type fp16) or build fp32"
        )
    if precision == "fp32" and "FLOAT16" in types:
        raise ModelError(
            f"{path.name} holds FP16 tensors and {target.label} keeps them FP16; build it as fp16, "
            "or pass the FP32 ONNX for an fp32 engine"
        )
