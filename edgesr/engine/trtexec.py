"""The exact ``trtexec`` command that builds the same engine as :func:`edgesr.engine.engine_builder.build_engine`.

Used for bundles that finish on the device (``build.sh``). The precision flags come from the same
table as the Python build (:mod:`edgesr.engine.precision_flags`). Flags by TensorRT release, from
trtexec's own help (``samples/common/sampleOptions.cpp``, 8.5 branch) and NVIDIA's migration
guides ("Migrating trtexec Usage from TensorRT 8.x to 10.x" and "... 10.x to 11.x", TensorRT 11.4.1 docs):

- ``--memPoolSize=workspace:N`` with N in MiB (8.4 added it and deprecated ``--workspace=N``, which
  10.0 removed); 8.0/8.2 only have ``--workspace=N``.
- ``--builderOptimizationLevel`` from 8.6; ``--stronglyTyped`` in 10.x (11.x: always on, not needed).
- ``--fp16``, ``--int8``, ``--calib`` exist up to 10.x; 11.x removed them (precision comes from the ONNX).
- skipping the benchmark after the build: ``--buildOnly`` in 8.5, ``--skipInference`` from 8.6.

``target`` is a generation (``"trt8"``, ``"trt10"``, ``"trt11"``) or an exact TensorRT version
(``"8.6.2"``); flags that depend on the minor release need the exact version.
"""

from __future__ import annotations

from edgesr.engine import dla
from edgesr.engine.engine_builder import EngineSpec
from edgesr.engine.precision_flags import check_onnx_precision, recipe
from edgesr.engine.tensorrt_api import BuildError, Target
from edgesr.errors import InputError

_BUILDER_FLAGS = {"FP16": "--fp16", "INT8": "--int8"}
_CLEARED_FLAGS = {"TF32": "--noTF32"}
_NETWORK_FLAGS = {"STRONGLY_TYPED": "--stronglyTyped", "EXPLICIT_BATCH": None}  # ONNX is always explicit batch


def trtexec_command(
    spec: EngineSpec, generation: str, *, engine_path: str, calib_cache: str | None = None
) -> list[str]:
    """The argument list (``trtexec`` first) that builds ``spec`` on ``generation`` into ``engine_path``.

    ``calib_cache`` is the calibration cache an implicit-INT8 build reads (TensorRT <= 10). For a
    strongly typed precision (TensorRT 11) the ONNX's tensor types are checked when the file is here.
    """
    target = Target.parse(generation)
    dla.check_request(spec.precision, spec.shapes, spec.dla_core)
    rec = recipe(spec.precision, spec.int8_source, target, dla=spec.dla_core is not None)
    if rec.calibrator != (calib_cache is not None):
        raise InputError(
            "implicit INT8 through trtexec reads a calibration cache: pass calib_cache"
            if rec.calibrator
            else "calib_cache applies to int8_source='calibrator' builds only"
        )
    if rec.typed_by_onnx and spec.onnx_path.is_file():
        check_onnx_precision(spec.precision, spec.onnx_path, target)
    if "," in spec.input_name:
        raise InputError(
            f"trtexec cannot take shapes for input '{spec.input_name}' (a comma splits its shape list); "
            "rename the input"
        )

    args = ["trtexec", f"--onnx={spec.onnx_path}", f"--saveEngine={engine_path}"]
    args += [_CLEARED_FLAGS[f] for f in rec.cleared_flags]
    args += [flag for f in rec.network_flags if (flag := _NETWORK_FLAGS[f])]
    args += [_BUILDER_FLAGS[f] for f in rec.builder_flags]
    if rec.calibrator:
        args.append(f"--calib={calib_cache}")
    if spec.shapes is not None:
        mn, opt, mx = ("x".join(map(str, s)) for s in spec.shapes)
        name = spec.input_name
        args += [f"--minShapes={name}:{mn}", f"--optShapes={name}:{opt}", f"--maxShapes={name}:{mx}"]
        if rec.calibrator:
            args.append(f"--optShapesCalib={name}:{opt}")  # TensorRT calibrates at the opt shape
    if spec.workspace_mb is not None:
        old = target.at_least(8, 4) is False
        args.append(f"--workspace={spec.workspace_mb}" if old else f"--memPoolSize=workspace:{spec.workspace_mb}")
    if spec.opt_level is not None:
        args.append(_opt_level_flag(spec.opt_level, target))
    if spec.dla_core is not None:
        args.append(f"--useDLACore={spec.dla_core}")
        if spec.gpu_fallback:
            args.append("--allowGPUFallback")
    if spec.timing_cache is not None:
        args.append(f"--timingCacheFile={spec.timing_cache}")
    skip = _skip_benchmark_flag(target)
    if skip:
        args.append(skip)
    return args


def _opt_level_flag(level: int, target: Target) -> str:
    has = target.has_opt_level
    if has is None:
        raise BuildError(
            "the builder optimisation level needs TensorRT 8.6 or newer; give the exact TensorRT version "
            "(e.g. '8.6.2') instead of the generation"
        )
    if not has:
        raise BuildError(f"{target.label} has no builder optimisation level (added in TensorRT 8.6); drop opt_level")
    return f"--builderOptimizationLevel={level}"


def _skip_benchmark_flag(target: Target) -> str | None:
    if target.at_least(8, 6):
        return "--skipInference"
    if target.major == 8 and target.minor == 5:
        return "--buildOnly"
    return None  # 8.0 to 8.4, or 8.x of unknown minor: trtexec benchmarks the engine after building it
