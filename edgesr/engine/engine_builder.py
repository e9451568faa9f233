"""Build a serialized TensorRT engine from an ONNX file with the TensorRT Python API.

One path for every supported TensorRT (8.5/8.6, 10.x, 11.x): the differences are data in
:mod:`edgesr.engine.precision_flags` and facts in :mod:`edgesr.engine.tensorrt_api`. Nothing is
degraded quietly: a precision the GPU has no fast kernels for, a DLA layer that would fall back
without permission, an "INT8" model without Q/DQ nodes, an "FP16" model TensorRT 11 would build
in FP32 -- each is an error naming the fix. The ONNX parser keeps the network's weights, so it
stays alive until the engine is serialized.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from edgesr.engine import dla, onnx_facts, timing_cache
from edgesr.engine.build_log import BuildLog, make_logger
from edgesr.engine.precision_flags import (
    INT8_SOURCES,
    PRECISIONS,
    Recipe,
    check_onnx_precision,
    recipe,
)
from edgesr.engine.tensorrt_api import BuildError, Target, load
from edgesr.errors import DeviceError, InputError, ModelError
from edgesr.log import stage

Shape = tuple[int, ...]
OPT_LEVELS = range(0, 6)  # IBuilderConfig.builder_optimization_level: 0..5, TensorRT's default is 3
MAX_PARSER_ERRORS = 5


@dataclass(frozen=True)
class EngineSpec:
    """Everything the builder is asked for. Validated on construction (:class:`InputError`)."""

    onnx_path: Path
    precision: str  # "fp32" | "fp16" | "int8"
    int8_source: str | None  # "qdq" (Q/DQ nodes in the ONNX) | "calibrator" (implicit, TensorRT <= 10) | None
    input_name: str
    shapes: tuple[Shape, Shape, Shape] | None  # (min, opt, max) NCHW for a dynamic input; None when static
    workspace_mb: int | None = None
    opt_level: int | None = None  # builder optimisation level (TensorRT >= 8.6)
    dla_core: int | None = None
    gpu_fallback: bool = True
    timing_cache: Path | None = None  # read if present, written back after the build (atomically)

    def __post_init__(self) -> None:
        object.__setattr__(self, "onnx_path", Path(self.onnx_path))
        if self.timing_cache is not None:
            object.__setattr__(self, "timing_cache", Path(self.timing_cache))
        if self.precision not in PRECISIONS:
            raise InputError(f"unknown precision '{self.precision}'; choose one of: {', '.join(PRECISIONS)}")
        if self.precision == "int8" and self.int8_source not in INT8_SOURCES:
            raise InputError(f"an int8 build needs int8_source 'qdq' or 'calibrator', not {self.int8_source!r}")
        if self.precision != "int8" and self.int8_source is not None:
            raise InputError(f"int8_source={self.int8_source!r} applies to int8 builds only, not {self.precision}")
        if not self.input_name:
            raise InputError("input_name is empty; give the model's image input name")
        if self.shapes is not None:
            object.__setattr__(self, "shapes", _checked_shapes(self.shapes))
        if self.workspace_mb is not None and self.workspace_mb < 1:
            raise InputError(f"workspace_mb must be at least 1, got {self.workspace_mb}")
        if self.opt_level is not None and self.opt_level not in OPT_LEVELS:
            raise InputError(f"opt_level must be 0..5 (TensorRT's builder optimisation level), got {self.opt_level}")
        if self.dla_core is not None and self.dla_core < 0:
            raise InputError(f"dla_core must be 0 or more, got {self.dla_core}")


def _checked_shapes(shapes) -> tuple[Shape, Shape, Shape]:
    if len(shapes) != 3:
        raise InputError(f"shapes must be (min, opt, max), got {len(shapes)} shapes")
    mn, opt, mx = (tuple(int(d) for d in s) for s in shapes)
    if not len(mn) == len(opt) == len(mx):
        raise InputError(f"shapes (min, opt, max) differ in rank: {mn}, {opt}, {mx}")
    if any(d < 1 for d in mn) or not all(a <= b <= c for a, b, c in zip(mn, opt, mx)):
        raise InputError(f"shapes must satisfy 1 <= min <= opt <= max in every dimension; got {mn}, {opt}, {mx}")
    return mn, opt, mx


@dataclass
class BuildOutcome:
    """A serialized engine and how it was made."""

    engine: bytes
    tensorrt_version: str
    generation: str
    precision: str  # the precision actually built (checked, never downgraded)
    dla_layers: list[str]  # with dla_core: layers the builder can run on DLA ...
    gpu_fallback_layers: list[str]  # ... and those that run on the GPU instead
    log: dict  # counts of builder messages by severity, warnings/errors text (bounded), edgesr notes
    seconds: float


def build_engine(spec: EngineSpec, *, calibrator=None) -> BuildOutcome:
    """Build ``spec`` with the installed TensorRT. ``calibrator``: a ``trt.IInt8Calibrator`` for implicit INT8."""
    start = time.perf_counter()
    if (spec.int8_source == "calibrator") != (calibrator is not None):
        raise InputError(
            "a calibrator goes with int8_source='calibrator' and only with it"
            if calibrator is not None
            else "implicit INT8 (int8_source='calibrator') needs a calibrator over real images, "
            "e.g. polygraphy.backend.trt.Calibrator with a calibration cache"
        )
    if not spec.onnx_path.is_file():
        raise InputError(f"{spec.onnx_path} does not exist or is not a file; check the ONNX path")
    dla.check_request(spec.precision, spec.shapes, spec.dla_core)
    trt = load()
    version = str(trt.__version__)
    target = Target.parse(version)
    rec = recipe(spec.precision, spec.int8_source, target, dla=spec.dla_core is not None)
    if spec.opt_level is not None and not target.has_opt_level:
        raise BuildError(
            f"{target.label} has no builder optimisation level (added in TensorRT 8.6); "
            "drop opt_level or build on TensorRT 8.6 or newer"
        )
    if rec.typed_by_onnx:
        check_onnx_precision(spec.precision, spec.onnx_path, target)
    log = BuildLog()
    with stage(f"building {spec.onnx_path.name} ({spec.precision}) with TensorRT {version}") as info:
        engine, placement = _build(trt, spec, target, rec, calibrator, log)
        info["outcome"] = f"{len(engine) / 1e6:.1f} MB engine" + (f"; {placement.summary()}" if placement else "")
    return BuildOutcome(
        engine=engine,
        tensorrt_version=version,
        generation=target.generation,
        precision=spec.precision,
        dla_layers=list(placement.dla_layers) if placement else [],
        gpu_fallback_layers=list(placement.gpu_layers) if placement else [],
        log=log.as_dict(),
        seconds=time.perf_counter() - start,
    )


class BuildEngine:
    """The build as a stage: settings now, work on call. ``spec`` and ``calibrator`` may be callables."""

    def __init__(self, spec: EngineSpec | Callable[[], EngineSpec], *, calibrator=None) -> None:
        self.spec = spec
        self.calibrator = calibrator

    def __call__(self) -> BuildOutcome:
        spec = self.spec() if callable(self.spec) else self.spec
        calibrator = self.calibrator() if callable(self.calibrator) else self.calibrator  # calibrators are not callable
        return build_engine(spec, calibrator=calibrator)


def _build(trt, spec: EngineSpec, target: Target, rec: Recipe, calibrator, log: BuildLog):
    logger = make_logger(trt, log)
    builder = trt.Builder(logger)
    _check_platform(builder, rec, target)
    network = builder.create_network(_network_flags(trt, rec))
    if network is None:
        reason = "; ".join(log.last_errors()) or "no reason given"
        raise BuildError(f"{target.label} could not create a network: {reason}")
    parser = _parse(trt, network, logger, spec.onnx_path, target)  # keeps the weights alive until serialized
    tensor = _find_input(network, spec)
    _check_int8_source(trt, network, spec)
    config = builder.create_builder_config()
    _set_flags(trt, config, rec, target, log)
    if spec.workspace_mb is not None:
        _api(config, "set_memory_pool_limit", target, "memory pool limits")(
            trt.MemoryPoolType.WORKSPACE, spec.workspace_mb << 20
        )
    if spec.opt_level is not None:
        config.builder_optimization_level = spec.opt_level
    profile = _add_profile(builder, config, tensor, spec)
    if calibrator is not None:
        config.int8_calibrator = calibrator
        if profile is not None:
            config.set_calibration_profile(profile)  # TensorRT calibrates at the profile's opt shape
    placement = None
    if spec.dla_core is not None:
        placement = dla.configure(
            trt, builder, network, config, core=spec.dla_core, gpu_fallback=spec.gpu_fallback, log=log
        )
    if spec.timing_cache is not None:
        timing_cache.attach(config, spec.timing_cache, log)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        errors = log.last_errors()
        detail = "; ".join(errors) if errors else "TensorRT gave no reason (run with -v to see its log)"
        raise BuildError(f"{target.label} could not build {spec.onnx_path.name} ({spec.precision}): {detail}")
    engine = bytes(memoryview(serialized))
    if spec.timing_cache is not None:
        timing_cache.save(config, spec.timing_cache)
    del parser
    return engine, placement


def _api(obj, name: str, target: Target, what: str):
    try:
        return getattr(obj, name)
    except AttributeError:
        raise BuildError(
            f"{target.label} has no {what}; build with TensorRT 8.5 or newer (JetPack 5.1+), "
            "or use the bundle's trtexec script"
        ) from None


def _check_platform(builder, rec: Recipe, target: Target) -> None:
    if rec.fast_check is None or not target.has_platform_queries:
        return
    if not getattr(builder, f"platform_has_fast_{rec.fast_check}"):
        other = "fp16 or fp32" if rec.fast_check == "int8" else "fp32"
        raise DeviceError(
            f"this GPU has no fast {rec.fast_check.upper()} ({target.label} reports "
            f"platform_has_fast_{rec.fast_check} = False); build {other} instead"
        )


def _network_flags(trt, rec: Recipe) -> int:
    flags = 0
    for name in rec.network_flags:
        flags |= 1 << int(getattr(trt.NetworkDefinitionCreationFlag, name))
    return flags


def _parse(trt, network, logger, path: Path, target: Target):
    parser = trt.OnnxParser(network, logger)
    ok = parser.parse_from_file(str(path))
    errors = [parser.get_error(i) for i in range(parser.num_errors)]
    if ok and not errors:
        return parser
    if not errors:
        raise ModelError(
            f"{target.label} could not parse {path.name} and gave no reason; check it with `edgesr convert`"
        )
    shown = "; ".join(_describe(e, path) for e in errors[:MAX_PARSER_ERRORS])
    more = f" (and {len(errors) - MAX_PARSER_ERRORS} more)" if len(errors) > MAX_PARSER_ERRORS else ""
    raise ModelError(
        f"{target.label} cannot parse {path.name}: {shown}{more}; replace or rewrite that node "
        "(`edgesr convert --target` checks every op against the target)"
    )


def _describe(error, path: Path) -> str:
    """One parser error as "node 3 'name' (Op): description"; TensorRT 8 reports only the node index."""
    index = int(error.node())
    name, op = _optional(error, "node_name"), _optional(error, "node_operator")
    if index >= 0 and not (name and op):
        ref = onnx_facts.node_at(path, index)
        if ref is not None:
            name, op = name or ref.name, op or ref.op_type
    where = f"node {index} '{name or '(unnamed)'}' ({op or '?'})" if index >= 0 else "the graph"
    return f"{where}: {str(error.desc()).strip()}"


def _optional(error, member: str) -> str | None:
    """A ParserError member some TensorRT versions lack (node names came with onnx-tensorrt 9.1)."""
    value = getattr(error, member, None)
    value = value() if callable(value) else value
    return str(value) if value else None


def _find_input(network, spec: EngineSpec):
    inputs = [network.get_input(i) for i in range(network.num_inputs)]
    for tensor in inputs:
        if tensor.name == spec.input_name:
            return tensor
    names = ", ".join(f"'{t.name}'" for t in inputs) or "none"
    raise ModelError(f"{spec.onnx_path.name} has no input '{spec.input_name}'; its inputs are {names}")


def _check_int8_source(trt, network, spec: EngineSpec) -> None:
    if spec.precision != "int8":
        return
    qdq = (trt.LayerType.QUANTIZE, trt.LayerType.DEQUANTIZE)
    has_qdq = any(network.get_layer(i).type in qdq for i in range(network.num_layers))
    name = spec.onnx_path.name
    if spec.int8_source == "qdq" and not has_qdq:
        raise ModelError(
            f"{name} has no QuantizeLinear/DequantizeLinear nodes, so an INT8 build would run in FP32; "
            "quantize it first (`edgesr quantize`), or calibrate "
            "(int8_source='calibrator', TensorRT <= 10)"
        )
    if spec.int8_source == "calibrator" and has_qdq:
        raise ModelError(
            f"{name} already holds Q/DQ nodes and TensorRT ignores a calibrator for it; build it with int8_source='qdq'"
        )


def _set_flags(trt, config, rec: Recipe, target: Target, log: BuildLog) -> None:
    for name in rec.cleared_flags:
        flag = getattr(trt.BuilderFlag, name, None)
        if flag is None:
            log.note(f"{target.label} has no BuilderFlag.{name}; FP32 layers may use {name} arithmetic")
        else:
            config.clear_flag(flag)
    for name in rec.builder_flags:
        config.set_flag(getattr(trt.BuilderFlag, name))


def _add_profile(builder, config, tensor, spec: EngineSpec):
    """An optimisation profile for a dynamic input; None for a static one (whose shapes must then agree)."""
    shape = tuple(int(d) for d in tensor.shape)
    dynamic = any(d < 0 for d in shape)
    text = "x".join(str(d) if d >= 0 else "?" for d in shape)
    if spec.shapes is None:
        if dynamic:
            raise ModelError(f"input '{spec.input_name}' is dynamic ({text}); give shapes=(min, opt, max) for it")
        return None
    mn, opt, mx = spec.shapes
    if len(mn) != len(shape):
        raise ModelError(f"input '{spec.input_name}' has rank {len(shape)} ({text}) but the shapes have rank {len(mn)}")
    for axis, d in enumerate(shape):
        if d >= 0 and not mn[axis] == opt[axis] == mx[axis] == d:
            raise ModelError(
                f"input '{spec.input_name}' is fixed at {d} in dimension {axis} ({text}); "
                f"the shapes ask for {mn[axis]}..{mx[axis]} there"
            )
    if not dynamic:
        return None
    profile = builder.create_optimization_profile()
    profile.set_shape(spec.input_name, mn, opt, mx)
    config.add_optimization_profile(profile)
    return profile
