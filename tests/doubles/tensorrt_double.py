"""A faithful stand-in for the ``tensorrt`` Python module, one per API generation, for tests on
machines without TensorRT (every CI runner and dev box: TensorRT is not installable from PyPI here).

``make("8.5.2")``, ``make("10.3.0")``, ``make("11.4.1")`` return a module object to put in
``sys.modules["tensorrt"]``. It has exactly the members that generation has, for the parts of
the API edgesr calls; anything a generation lacks raises ``AttributeError`` as the real module
does (unknown attributes cannot be set either, as on pybind11 objects). ``module.double`` holds
the switches (platform speed, DLA cores, injected build errors, the CUDA double engines execute
on) and the record of every call.

Which documentation each generation follows:

- trt8 (8.5, 8.6): the TensorRT Python bindings of the 8.5 branch (NVIDIA/TensorRT
  ``python/src/infer/pyCore.cpp``, ``python/src/parsers/pyOnnx.cpp``): ``BuilderFlag`` with
  ``STRICT_TYPES``/``ENABLE_TACTIC_HEURISTIC``, ``NetworkDefinitionCreationFlag.EXPLICIT_BATCH`` and
  ``EXPLICIT_PRECISION``, ``MemoryPoolType`` WORKSPACE and three DLA pools, ``max_workspace_size``
  (deprecated), calibrators, ``ParserError`` with ``code/desc/file/line/func/node`` only (node names
  arrived in onnx-tensorrt 9.1, ``docs/Changelog.md``). 8.6 adds ``builder_optimization_level``
  (Polygraphy ``backend/trt/config.py`` sets it only where present), ``MemoryPoolType.TACTIC_DRAM``
  and ``LayerType.CAST`` (onnx-tensorrt 8.6 changelog: casts import as ``CastLayer``).
- trt10 (10.x): "TensorRT Python API" 10.x reference (Builder: ``EXPLICIT_BATCH`` "[DEPRECATED]
  Ignored", ``STRONGLY_TYPED``; ``IBuilderConfig.int8_calibrator`` "[DEPRECATED] Deprecated in
  TensorRT 10.1"); "Migrating from TensorRT 8.x to 10.x" (``max_workspace_size`` removed);
  C++ deprecated list (``platformHasFast*`` deprecated in 10.5); TensorRT 10.12.0 release notes
  (weak typing deprecated); ``IParserError`` members of the 10.x C++ reference (``nodeName``,
  ``nodeOperator``, ``localFunctionStack``), bound here in pybind11's snake_case.
- trt11 (11.4.1): "Removed Python APIs and Replacements" (TensorRT 11.4.1 migration guide):
  no ``BuilderFlag.FP16/INT8/FP8/BF16/INT4/FP4/OBEY_/PREFER_PRECISION_CONSTRAINTS``, no
  ``int8_calibrator``, calibration profile or quantization flags; ``DIRECT_IO`` deprecated, not
  removed; the 11.0.0 Python ``Builder`` page (``NetworkDefinitionCreationFlag``: ``STRONGLY_TYPED``
  "[DEPRECATED] ... ignored", ``PREFER_AOT/JIT_PYTHON_PLUGINS``, no ``EXPLICIT_BATCH``; ``Builder``
  without ``platform_has_*``); the 11.4.1 ``IBuilderConfig`` member list (DLA core, device types,
  ``canRunOnDLA``, builder optimisation level, timing cache all remain); 11.4.1 release notes
  (DLA on AGX Orin with JetPack 7.2.2, GPU fallback as in 10.x).

The runtime half (``Runtime``, ``ICudaEngine``, ``IExecutionContext``, ``nptype``, ``TensorIOMode``)
follows the bindings of the 8.6 branch (``pyCore.cpp``: the name-based tensor API added in 8.5 --
``num_io_tensors``, ``get_tensor_name/mode/shape/dtype``, ``get_tensor_profile_shape(name,
profile_index)``, ``set_input_shape``, ``set_tensor_address``, ``execute_async_v3(stream_handle)`` --
beside the binding API it deprecates: ``get_binding_index``, ``binding_is_input``,
``get_profile_shape(profile_index, binding)``, ``set_binding_shape``, ``execute_async_v2(bindings,
stream_handle)``) and the "Migrating from TensorRT 8.x to 10.x" guide (the binding API removed in
10.0). So 8.0-8.4 speak bindings only, 8.5/8.6 both, 10.x/11.x tensors only. It deserialises the
engines :func:`plan` writes, refusing another version's plan as TensorRT does, and executes them on
a ``tests.doubles.cuda_double.FakeCudart`` (``make(version, cuda=...)``): their "network" upscales
the input by nearest neighbour, so outputs are checkable.

Enum values follow the sources where they give them (8.5 bindings; 10.x ``NvInfer.h`` order) and
are otherwise ordinal; edgesr uses them only as ``1 << int(flag)`` for network flags.
"""

from __future__ import annotations

import ctypes
import enum
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import numpy as np
import onnx

# --- what each generation has -------------------------------------------------------------------

_BUILDER_FLAGS_8 = [
    "FP16",
    "INT8",
    "DEBUG",
    "GPU_FALLBACK",
    "STRICT_TYPES",
    "REFIT",
    "DISABLE_TIMING_CACHE",
    "TF32",
    "SPARSE_WEIGHTS",
    "SAFETY_SCOPE",
    "OBEY_PRECISION_CONSTRAINTS",
    "PREFER_PRECISION_CONSTRAINTS",
    "DIRECT_IO",
    "REJECT_EMPTY_ALGORITHMS",
    "ENABLE_TACTIC_HEURISTIC",
]
_BUILDER_FLAGS_86_EXTRA = ["VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME", "FP8"]
_BUILDER_FLAGS_10 = [
    "FP16",
    "INT8",
    "DEBUG",
    "GPU_FALLBACK",
    "REFIT",
    "DISABLE_TIMING_CACHE",
    "TF32",
    "SPARSE_WEIGHTS",
    "SAFETY_SCOPE",
    "OBEY_PRECISION_CONSTRAINTS",
    "PREFER_PRECISION_CONSTRAINTS",
    "DIRECT_IO",
    "REJECT_EMPTY_ALGORITHMS",
    "VERSION_COMPATIBLE",
    "EXCLUDE_LEAN_RUNTIME",
    "FP8",
    "ERROR_ON_TIMING_CACHE_MISS",
    "BF16",
    "DISABLE_COMPILATION_CACHE",
    "STRIP_PLAN",
    "REFIT_IDENTICAL",
    "WEIGHT_STREAMING",
    "INT4",
    "REFIT_INDIVIDUAL",
    "STRICT_NANS",
    "MONITOR_MEMORY",
    "FP4",
    "EDITABLE_TIMING_CACHE",
    "DISTRIBUTIVE_INDEPENDENCE",
]
_REMOVED_IN_11 = {
    "FP16",
    "INT8",
    "FP8",
    "BF16",
    "INT4",
    "FP4",
    "OBEY_PRECISION_CONSTRAINTS",
    "PREFER_PRECISION_CONSTRAINTS",
    "REJECT_EMPTY_ALGORITHMS",
}  # the last went with IAlgorithmSelector
PRECISION_FLAGS = {"FP16", "INT8", "FP8", "BF16", "INT4", "FP4"}

_LAYER_TYPES = [
    "CONVOLUTION",
    "FULLY_CONNECTED",
    "ACTIVATION",
    "POOLING",
    "LRN",
    "SCALE",
    "SOFTMAX",
    "DECONVOLUTION",
    "CONCATENATION",
    "ELEMENTWISE",
    "PLUGIN",
    "UNARY",
    "PADDING",
    "SHUFFLE",
    "REDUCE",
    "TOPK",
    "GATHER",
    "MATRIX_MULTIPLY",
    "RAGGED_SOFTMAX",
    "CONSTANT",
    "RNN_V2",
    "IDENTITY",
    "PLUGIN_V2",
    "SLICE",
    "SHAPE",
    "PARAMETRIC_RELU",
    "RESIZE",
    "TRIP_LIMIT",
    "RECURRENCE",
    "ITERATOR",
    "LOOP_OUTPUT",
    "SELECT",
    "FILL",
    "QUANTIZE",
    "DEQUANTIZE",
    "CONDITION",
    "CONDITIONAL_INPUT",
    "CONDITIONAL_OUTPUT",
    "SCATTER",
    "EINSUM",
    "ASSERTION",
    "ONE_HOT",
    "NON_ZERO",
    "GRID_SAMPLE",
    "NMS",
    "REVERSE_SEQUENCE",
    "NORMALIZATION",
    "CAST",
]

# ONNX op -> the TensorRT layer the parser makes for it (enough for SR graphs).
_IMPORTERS = {
    "Conv": "CONVOLUTION",
    "ConvTranspose": "DECONVOLUTION",
    "Relu": "ACTIVATION",
    "LeakyRelu": "ACTIVATION",
    "Sigmoid": "ACTIVATION",
    "Clip": "ACTIVATION",
    "Tanh": "ACTIVATION",
    "PRelu": "PARAMETRIC_RELU",
    "Add": "ELEMENTWISE",
    "Sub": "ELEMENTWISE",
    "Mul": "ELEMENTWISE",
    "Div": "ELEMENTWISE",
    "DepthToSpace": "SHUFFLE",
    "SpaceToDepth": "SHUFFLE",
    "Reshape": "SHUFFLE",
    "Transpose": "SHUFFLE",
    "Resize": "RESIZE",
    "Concat": "CONCATENATION",
    "Slice": "SLICE",
    "Identity": "IDENTITY",
    "Cast": "CAST",
    "QuantizeLinear": "QUANTIZE",
    "DequantizeLinear": "DEQUANTIZE",
    "Constant": "CONSTANT",
    "GlobalAveragePool": "REDUCE",
    "ReduceMean": "REDUCE",
    "AveragePool": "POOLING",
    "MaxPool": "POOLING",
    "Mish": "ACTIVATION",
    "Gelu": "ACTIVATION",
    "LayerNormalization": "NORMALIZATION",
    "Pad": "PADDING",
}
_NOT_IMPORTED = {"trt8": {"Mish", "Gelu"}, "trt10": set(), "trt11": set()}  # onnx-tensorrt operators.md per release

# What the double's DLA accepts (the rest needs GPU fallback).
DLA_LAYERS = {
    "CONVOLUTION",
    "DECONVOLUTION",
    "ACTIVATION",
    "POOLING",
    "SCALE",
    "ELEMENTWISE",
    "QUANTIZE",
    "DEQUANTIZE",
    "CONCATENATION",
}

_ONNX_DTYPES = {1: "FLOAT", 10: "HALF", 3: "INT8", 6: "INT32", 7: "INT64", 9: "BOOL", 2: "UINT8", 16: "BF16"}

# One version per API generation, plus the minor releases where behaviour changes.
VERSIONS = {"8.5": "8.5.2.2", "8.6": "8.6.2.3", "10.3": "10.3.0.30", "10.13": "10.13.3.9", "11.4": "11.4.1"}

TIMING_MAGIC = b"EDGESR-DOUBLE-TIMING-CACHE"
ENGINE_MAGIC = b"EDGESR-DOUBLE-ENGINE\n"


@dataclass
class DoubleState:
    """The switches a test turns and everything the code under test asked for."""

    version: str
    generation: str
    fast_fp16: bool = True
    fast_int8: bool = True
    tf32: bool = True
    dla_cores: int = 0
    build_errors: list[str] = field(default_factory=list)  # logged as builder errors, then the build returns None
    calls: list[tuple[str, tuple]] = field(default_factory=list)
    last_build: dict | None = None
    logger: object = None  # the ILogger the last Builder or Runtime was given: the double logs through it
    cuda: object = None  # the tests.doubles.cuda_double.FakeCudart that engines execute on
    severity: object = None

    QUERIES = (
        "INetworkDefinition.",
        "ITensor.",
        "ILayer.",
        "OnnxParser.num_errors",
        "OnnxParser.get_error",
        "IBuilderConfig.can_run_on_DLA",
        "ParserError.",
        "IOptimizationProfile.get_shape",
    )

    def effects(self) -> list[tuple[str, tuple]]:
        """The calls that configure TensorRT or ask the platform; inspection of the parsed network left out."""
        return [c for c in self.calls if not c[0].startswith(self.QUERIES)]

    def names(self) -> list[str]:
        return [c[0] for c in self.effects()]

    def rec(self, what: str, *args) -> None:
        self.calls.append((what, tuple(_show(a) for a in args)))

    def log(self, severity: str, message: str) -> None:
        if self.logger is not None:
            self.logger.log(getattr(self.severity, severity), message)


def _show(value):
    if hasattr(value, "log") and hasattr(value, "Severity"):
        return "ILogger"
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, _Obj):
        return value._label()
    if isinstance(value, (list, tuple)):
        return tuple(_show(v) for v in value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value


class _Obj:
    """pybind11-like strictness: no new attributes; only properties the class declares can be set."""

    def __setattr__(self, name, value):
        if not name.startswith("_") and not isinstance(getattr(type(self), name, None), property):
            raise AttributeError(f"'tensorrt.tensorrt.{type(self).__name__}' object has no attribute '{name}'")
        object.__setattr__(self, name, value)

    def _label(self) -> str:
        return type(self).__name__


def _version_tuple(version: str) -> tuple[int, int]:
    m = re.match(r"(\d+)\.(\d+)", version)
    return int(m.group(1)), int(m.group(2))


def _version_int(version: str) -> int:
    nums = [int(x) for x in re.findall(r"\d+", version)[:3]] + [0, 0]
    major, minor, patch = nums[:3]
    return major * 1000 + minor * 100 + patch if major < 10 else major * 10000 + minor * 100 + patch


def make(version: str = "10.3.0", **switches) -> ModuleType:
    """A ``tensorrt`` module of ``version`` (8.5/8.6, 10.x or 11.x)."""
    major, minor = _version_tuple(version)
    gen = {8: "trt8", 10: "trt10", 11: "trt11"}[major]
    state = DoubleState(version=version, generation=gen, **switches)
    trt8, trt10, trt11 = gen == "trt8", gen == "trt10", gen == "trt11"
    at86 = (major, minor) >= (8, 6)
    weak_deprecated = (major, minor) >= (10, 12)

    def members(names):
        return {n: i for i, n in enumerate(names)}

    if trt8:
        flags = _BUILDER_FLAGS_8 + (_BUILDER_FLAGS_86_EXTRA if at86 else [])
        BuilderFlag = enum.IntEnum("BuilderFlag", members(flags))
        NetworkDefinitionCreationFlag = enum.IntEnum(
            "NetworkDefinitionCreationFlag", {"EXPLICIT_BATCH": 0, "EXPLICIT_PRECISION": 1}
        )
    elif trt10:
        BuilderFlag = enum.IntEnum("BuilderFlag", members(_BUILDER_FLAGS_10))
        NetworkDefinitionCreationFlag = enum.IntEnum(
            "NetworkDefinitionCreationFlag", {"EXPLICIT_BATCH": 0, "STRONGLY_TYPED": 1}
        )
    else:
        BuilderFlag = enum.IntEnum(
            "BuilderFlag", {n: i for i, n in enumerate(_BUILDER_FLAGS_10) if n not in _REMOVED_IN_11}
        )
        NetworkDefinitionCreationFlag = enum.IntEnum(
            "NetworkDefinitionCreationFlag",
            {"STRONGLY_TYPED": 1, "PREFER_AOT_PYTHON_PLUGINS": 2, "PREFER_JIT_PYTHON_PLUGINS": 3},
        )
    pools = ["WORKSPACE", "DLA_MANAGED_SRAM", "DLA_LOCAL_DRAM", "DLA_GLOBAL_DRAM"]
    pools += ["TACTIC_DRAM"] if at86 else []
    pools += ["TACTIC_SHARED_MEMORY"] if major >= 10 else []
    MemoryPoolType = enum.IntEnum("MemoryPoolType", members(pools))
    DeviceType = enum.IntEnum("DeviceType", {"GPU": 0, "DLA": 1})
    layer_types = [
        t
        for t in _LAYER_TYPES
        if (t not in ("CAST", "NORMALIZATION") or at86) and (t not in ("FULLY_CONNECTED", "RNN_V2") or trt8)
    ]
    LayerType = enum.IntEnum("LayerType", members(layer_types))
    dtypes = (
        ["FLOAT", "HALF", "INT8", "INT32", "BOOL", "UINT8"]
        + (["FP8"] if at86 else [])
        + (["BF16", "INT64", "INT4"] if major >= 10 else [])
    )
    DataType = enum.IntEnum("DataType", members(dtypes))
    ErrorCode = enum.IntEnum(
        "ErrorCode",
        members(
            [
                "SUCCESS",
                "INTERNAL_ERROR",
                "MEM_ALLOC_FAILED",
                "MODEL_DESERIALIZE_FAILED",
                "INVALID_VALUE",
                "INVALID_GRAPH",
                "INVALID_NODE",
                "UNSUPPORTED_GRAPH",
                "UNSUPPORTED_NODE",
            ]
        ),
    )

    # --- logging ---

    class ILogger:
        Severity = enum.IntEnum("Severity", {"INTERNAL_ERROR": 0, "ERROR": 1, "WARNING": 2, "INFO": 3, "VERBOSE": 4})

        def __init__(self):
            pass

        def log(self, severity, msg):
            raise RuntimeError('Tried to call pure virtual function "ILogger::log"')

    for sev in ILogger.Severity:
        setattr(ILogger, sev.name, sev)
    state.severity = ILogger.Severity

    class Logger(ILogger):
        def __init__(self, min_severity=ILogger.Severity.WARNING):
            super().__init__()
            self.min_severity = min_severity

        def log(self, severity, msg):
            pass

    # --- network and parser ---

    class ITensor(_Obj):
        def __init__(self, name, shape, dtype):
            self._name, self._shape, self._dtype = name, tuple(shape), dtype

        name = property(lambda self: self._name)
        shape = property(lambda self: self._shape)
        dtype = property(lambda self: self._dtype)

        def _label(self):
            return f"ITensor:{self._name}"

    class ILayer(_Obj):
        def __init__(self, name, type_):
            self._name, self._type = name, type_

        name = property(lambda self: self._name)
        type = property(lambda self: self._type)

        def _label(self):
            return f"ILayer:{self._name}"

    class INetworkDefinition(_Obj):
        def __init__(self, flags: int):
            self._flags = flags
            self._inputs: list = []
            self._outputs: list = []
            self._layers: list = []
            bit = lambda name: (
                hasattr(NetworkDefinitionCreationFlag, name)
                and bool(  # noqa: E731
                    flags & (1 << int(getattr(NetworkDefinitionCreationFlag, name)))
                )
            )
            self._explicit_batch = not trt8 or bit("EXPLICIT_BATCH")
            self._strongly_typed = trt11 or bit("STRONGLY_TYPED")

        num_inputs = property(lambda self: len(self._inputs))
        num_outputs = property(lambda self: len(self._outputs))
        num_layers = property(lambda self: len(self._layers))
        has_implicit_batch_dimension = property(lambda self: not self._explicit_batch)

        def get_input(self, index):
            state.rec("INetworkDefinition.get_input", index)
            return self._inputs[index]

        def get_output(self, index):
            return self._outputs[index]

        def get_layer(self, index):
            state.rec("INetworkDefinition.get_layer", index)
            return self._layers[index]

        def __len__(self):
            return len(self._layers)

        def __getitem__(self, index):
            return self._layers[index]

    class ParserError(_Obj):
        def __init__(self, code, desc, node, func, node_name="", node_operator=""):
            self._code, self._desc, self._node, self._func = code, desc, node, func
            self._node_name, self._node_operator = node_name, node_operator

        def code(self):
            return self._code

        def desc(self):
            return self._desc

        def file(self):
            return "ModelImporter.cpp"

        def line(self):
            return 0

        def func(self):
            return self._func

        def node(self):
            return self._node

        if not trt8:

            def node_name(self):
                return self._node_name

            def node_operator(self):
                return self._node_operator

            def local_function_stack(self):
                return []

            def local_function_stack_size(self):
                return 0

        def __str__(self):
            return f"In node {self._node} ({self._func}): {self._code.name}: {self._desc}"

    class OnnxParser(_Obj):
        def __init__(self, network, logger):
            state.rec("OnnxParser", network, logger)
            self._network, self._logger, self._errors = network, logger, []

        def parse(self, model, path=None):
            state.rec("OnnxParser.parse", len(bytes(model)), path)
            return self._import(onnx.load_from_string(bytes(model)))

        def parse_from_file(self, model):
            state.rec("OnnxParser.parse_from_file", model)
            if not Path(model).is_file():
                self._error("INVALID_VALUE", f"Failed to open file: {model}", -1, "parseFromFile")
                return False
            return self._import(onnx.load(model))

        num_errors = property(lambda self: len(self._errors))

        def get_error(self, index):
            return self._errors[index]

        def clear_errors(self):
            self._errors.clear()

        def supports_operator(self, op_name):
            return op_name in _IMPORTERS and op_name not in _NOT_IMPORTED[gen]

        def _error(self, code, desc, node, func, name="", op=""):
            self._errors.append(ParserError(getattr(ErrorCode, code), desc, node, func, name, op))
            state.log("ERROR", f"ModelImporter.cpp: {desc}")

        def _import(self, model) -> bool:
            net = self._network
            if not net._explicit_batch:
                self._error(
                    "INVALID_GRAPH",
                    "Assertion failed: !mImporterCtx.network()->hasImplicitBatchDimension() "
                    '&& "This version of the ONNX parser only supports TensorRT INetworkDefinitions with an '
                    "explicit batch dimension. Please ensure the network was initialized with the "
                    'EXPLICIT_BATCH flag."',
                    -1,
                    "parseGraph",
                )
                return False
            g = model.graph
            weights = {t.name for t in g.initializer}
            for v in g.input:
                if v.name in weights:
                    continue
                tt = v.type.tensor_type
                dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim]
                net._inputs.append(ITensor(v.name, dims, getattr(DataType, _ONNX_DTYPES.get(tt.elem_type, "FLOAT"))))
            for index, node in enumerate(g.node):
                op = node.op_type
                layer = _IMPORTERS.get(op)
                if op == "Cast" and not at86:
                    layer = "IDENTITY"
                if layer is None or op in _NOT_IMPORTED[gen] or node.domain not in ("", "ai.onnx"):
                    desc = (
                        'Assertion failed: creator && "Plugin not found, are the plugin name, version, and '
                        'namespace correct?"'
                        if trt8
                        else f"Plugin not found, are the plugin name, version, and namespace correct? ({op})"
                    )
                    self._error("UNSUPPORTED_NODE", desc, index, "importFallbackPluginImporter", node.name, op)
                    return False
                net._layers.append(ILayer(node.name or f"node_of_{node.output[0]}", getattr(LayerType, layer)))
            for v in g.output:
                net._outputs.append(ITensor(v.name, (), DataType.FLOAT))
            return True

    # --- builder configuration ---

    class IOptimizationProfile(_Obj):
        def __init__(self):
            self._shapes: dict[str, tuple] = {}

        def set_shape(self, input, min, opt, max):  # noqa: A002 - the binding's argument names
            state.rec("IOptimizationProfile.set_shape", input, tuple(min), tuple(opt), tuple(max))
            mn, op, mx = tuple(min), tuple(opt), tuple(max)
            if not (len(mn) == len(op) == len(mx)) or not all(a <= b <= c for a, b, c in zip(mn, op, mx)):
                raise RuntimeError("Shape provided for min is inconsistent with other shapes.")
            self._shapes[input] = (mn, op, mx)

        def get_shape(self, input):  # noqa: A002
            state.rec("IOptimizationProfile.get_shape", input)
            return list(self._shapes.get(input, ()))

        def __bool__(self):
            return True

    class ITimingCache(_Obj):
        def __init__(self, version, entries):
            self._version, self._entries = version, set(entries)

        def serialize(self):
            state.rec("ITimingCache.serialize")
            body = "\n".join(sorted(self._entries)).encode()
            return memoryview(TIMING_MAGIC + b" " + self._version.encode() + b"\n" + body)

        def combine(self, input_cache, ignore_mismatch):
            self._entries |= input_cache._entries
            return True

        def reset(self):
            self._entries.clear()
            return True

    calibrator_bases = ()
    if not trt11:

        class IInt8Calibrator:
            def __init__(self):
                pass

        class IInt8EntropyCalibrator2(IInt8Calibrator):
            pass

        class IInt8EntropyCalibrator(IInt8Calibrator):
            pass

        class IInt8MinMaxCalibrator(IInt8Calibrator):
            pass

        class IInt8LegacyCalibrator(IInt8Calibrator):
            pass

        calibrator_bases = (
            IInt8Calibrator,
            IInt8EntropyCalibrator2,
            IInt8EntropyCalibrator,
            IInt8MinMaxCalibrator,
            IInt8LegacyCalibrator,
        )

    def _flag(value):
        if not isinstance(value, BuilderFlag):
            raise TypeError(f"incompatible function arguments: expected tensorrt.BuilderFlag, got {value!r}")
        return value

    class IBuilderConfig(_Obj):
        def __init__(self):
            self._flags = {BuilderFlag.TF32} if state.tf32 else set()
            self._pools: dict = {}
            self._device = DeviceType.GPU
            self._dla_core = -1
            self._profiles: list = []
            self._calibrator = None
            self._calibration_profile = None
            self._timing_cache = None
            self._opt_level = 3

        def set_flag(self, flag):
            state.rec("IBuilderConfig.set_flag", flag)
            self._flags.add(_flag(flag))
            if weak_deprecated and flag.name in PRECISION_FLAGS:
                state.log("WARNING", f"BuilderFlag::k{flag.name} is deprecated; use strongly typed networks")

        def clear_flag(self, flag):
            state.rec("IBuilderConfig.clear_flag", flag)
            self._flags.discard(_flag(flag))

        def get_flag(self, flag):
            state.rec("IBuilderConfig.get_flag", flag)
            return _flag(flag) in self._flags

        def _get_flags(self):
            return sum(1 << int(f) for f in self._flags)

        def _set_flags(self, value):
            state.rec("IBuilderConfig.flags=", value)
            self._flags = {f for f in BuilderFlag if value & (1 << int(f))}

        flags = property(_get_flags, _set_flags)

        def set_memory_pool_limit(self, pool, pool_size):
            state.rec("IBuilderConfig.set_memory_pool_limit", pool, pool_size)
            self._pools[pool] = pool_size

        def get_memory_pool_limit(self, pool):
            return self._pools.get(pool, 0)

        if trt8:

            def _set_workspace(self, value):
                state.rec("IBuilderConfig.max_workspace_size=", value)
                self._pools[MemoryPoolType.WORKSPACE] = value

            max_workspace_size = property(lambda self: self._pools.get(MemoryPoolType.WORKSPACE, 0), _set_workspace)

        def _set_device(self, value):
            state.rec("IBuilderConfig.default_device_type=", value)
            self._device = value

        default_device_type = property(lambda self: self._device, _set_device)

        def _set_dla_core(self, value):
            state.rec("IBuilderConfig.DLA_core=", value)
            self._dla_core = value

        DLA_core = property(lambda self: self._dla_core, _set_dla_core)

        def can_run_on_DLA(self, layer):
            state.rec("IBuilderConfig.can_run_on_DLA", layer)
            return layer.type.name in DLA_LAYERS

        def add_optimization_profile(self, profile):
            state.rec("IBuilderConfig.add_optimization_profile", profile)
            self._profiles.append(profile)
            return len(self._profiles) - 1

        num_optimization_profiles = property(lambda self: len(self._profiles))

        if not trt11:

            def _set_calibrator(self, value):
                state.rec("IBuilderConfig.int8_calibrator=", type(value).__name__ if value is not None else None)
                if value is not None and not isinstance(value, calibrator_bases):
                    raise TypeError("int8_calibrator: incompatible type, expected tensorrt.IInt8Calibrator")
                self._calibrator = value

            int8_calibrator = property(lambda self: self._calibrator, _set_calibrator)

            def set_calibration_profile(self, profile):
                state.rec("IBuilderConfig.set_calibration_profile", profile)
                self._calibration_profile = profile
                return True

            def get_calibration_profile(self):
                return self._calibration_profile

        if at86:

            def _set_opt_level(self, value):
                state.rec("IBuilderConfig.builder_optimization_level=", value)
                self._opt_level = value

            builder_optimization_level = property(lambda self: self._opt_level, _set_opt_level)

        def create_timing_cache(self, serialized_timing_cache):
            data = bytes(serialized_timing_cache)
            state.rec("IBuilderConfig.create_timing_cache", data)
            if not data:
                return ITimingCache(version, ())
            head, _, body = data.partition(b"\n")
            if not head.startswith(TIMING_MAGIC):
                state.log("ERROR", "Failed to deserialize the timing cache: invalid magic tag")
                return None
            return ITimingCache(head[len(TIMING_MAGIC) + 1 :].decode(), [e for e in body.decode().split("\n") if e])

        def set_timing_cache(self, cache, ignore_mismatch):
            state.rec("IBuilderConfig.set_timing_cache", cache, ignore_mismatch)
            if cache._version != version and not ignore_mismatch:
                state.log("ERROR", "Timing cache was created by a different TensorRT version or device")
                return False
            self._timing_cache = cache
            return True

        def get_timing_cache(self):
            state.rec("IBuilderConfig.get_timing_cache")
            return self._timing_cache

    # --- builder ---

    class Builder(_Obj):
        def __init__(self, logger):
            state.rec("Builder", logger)
            self._logger = logger
            state.logger = logger

        logger = property(lambda self: self._logger)

        if not trt11:

            def _fast(name, attr):
                def get(self):
                    state.rec(f"Builder.{name}")
                    return getattr(state, attr)

                return property(get)

            platform_has_fast_fp16 = _fast("platform_has_fast_fp16", "fast_fp16")
            platform_has_fast_int8 = _fast("platform_has_fast_int8", "fast_int8")
            platform_has_tf32 = _fast("platform_has_tf32", "tf32")
            del _fast

        def _num_dla(self):
            state.rec("Builder.num_DLA_cores")
            return state.dla_cores

        num_DLA_cores = property(_num_dla)
        max_DLA_batch_size = property(lambda self: 32 if state.dla_cores else 1)

        def create_network(self, flags=0):
            state.rec("Builder.create_network", flags)
            known = sum(1 << int(f) for f in NetworkDefinitionCreationFlag)
            if flags & ~known:
                state.log("ERROR", f"createNetworkV2: invalid network creation flags {flags}")
                return None
            for f in NetworkDefinitionCreationFlag:
                if flags & (1 << int(f)) and (
                    (trt10 and f.name == "EXPLICIT_BATCH") or (trt11 and f.name == "STRONGLY_TYPED")
                ):
                    state.log("WARNING", f"NetworkDefinitionCreationFlag::k{f.name} is deprecated and has no effect")
            return INetworkDefinition(flags)

        def create_builder_config(self):
            state.rec("Builder.create_builder_config")
            return IBuilderConfig()

        def create_optimization_profile(self):
            state.rec("Builder.create_optimization_profile")
            return IOptimizationProfile()

        def build_serialized_network(self, network, config):
            state.rec("Builder.build_serialized_network", network, config)
            return _build(network, config)

    def _place_on_dla(network, config, errors: list[str]) -> list[str]:
        """The layers that fall back to the GPU; a missing core or a layer without fallback is an error."""
        fallback_layers = []
        if not 0 <= config._dla_core < state.dla_cores:
            errors.append(f"Cannot create DLA engine, {config._dla_core} not available")
        for layer in network._layers:
            if layer.type.name in DLA_LAYERS:
                continue
            if BuilderFlag.GPU_FALLBACK in config._flags:
                fallback_layers.append(layer.name)
                state.log(
                    "WARNING",
                    f"Layer '{layer.name}' ({layer.type.name}): Unsupported on DLA. "
                    "Switching this layer's device type to GPU.",
                )
            else:
                errors.append(
                    f"Layer '{layer.name}' ({layer.type.name}) cannot run on DLA and GPU fallback is not enabled"
                )
        return fallback_layers

    def _use_timing_cache(network, config) -> tuple[int, int]:
        hits = misses = 0
        if config._timing_cache is not None:
            for layer in network._layers:
                key = f"{layer.type.name}:{layer.name}"
                if key in config._timing_cache._entries:
                    hits += 1
                else:
                    misses += 1
                    config._timing_cache._entries.add(key)
            state.log("INFO", f"Timing cache: {hits} hits, {misses} misses")
        return hits, misses

    def _build(network, config):
        errors: list[str] = []
        profile = config._profiles[0] if config._profiles else None
        for t in network._inputs:
            if any(d < 0 for d in t.shape) and profile is None:
                errors.append("Network has dynamic or shape inputs, but no optimization profile has been defined.")
            elif profile is not None and t.name in profile._shapes:
                mn, _, mx = profile._shapes[t.name]
                bad = len(mn) != len(t.shape) or any(d >= 0 and not (a == b == d) for d, a, b in zip(t.shape, mn, mx))
                if bad:
                    errors.append(f"IOptimizationProfile: shapes for input {t.name} do not match its dimensions")
        precision = {f.name for f in config._flags} & PRECISION_FLAGS
        if network._strongly_typed and precision and not trt11:
            errors.append(f"Builder precision flags {sorted(precision)} are not allowed for a strongly typed network")
        if network._strongly_typed and config._calibrator is not None:
            errors.append("An INT8 calibrator cannot be used with a strongly typed network")
        has_qdq = any(layer.type.name in ("QUANTIZE", "DEQUANTIZE") for layer in network._layers)
        on_dla = config._device == DeviceType.DLA
        fallback_layers = _place_on_dla(network, config, errors) if on_dla else []
        errors += state.build_errors
        if errors:
            for e in errors:
                state.log("ERROR", e)
            state.last_build = {"errors": errors}
            return None
        calibrated = False
        if not trt11 and BuilderFlag.INT8 in config._flags and not has_qdq:
            if config._calibrator is None:
                state.log(
                    "WARNING",
                    "Missing scale and zero-point for tensors; expect fall back to non-int8 "
                    "implementation for any layer consuming or producing them",
                )
            else:
                calibrated = _calibrate(config._calibrator, [t.name for t in network._inputs])
                if not calibrated:
                    state.log("ERROR", "Calibration failure occurred with no scaling factors detected.")
                    return None
        hits, misses = _use_timing_cache(network, config)
        summary = {
            "tensorrt": version,
            "network_flags": sorted(f.name for f in NetworkDefinitionCreationFlag if network._flags & (1 << int(f))),
            "strongly_typed": network._strongly_typed,
            "flags": sorted(f.name for f in config._flags),
            "profiles": [{k: [list(s) for s in v] for k, v in p._shapes.items()} for p in config._profiles],
            "device": config._device.name,
            "dla_core": config._dla_core if on_dla else None,
            "gpu_fallback_layers": fallback_layers,
            "workspace": config._pools.get(MemoryPoolType.WORKSPACE),
            "opt_level": config._opt_level if at86 else None,
            "calibrated": calibrated,
            "qdq": has_qdq,
            "input_dtypes": [t.dtype.name for t in network._inputs],
            "layers": [layer.name for layer in network._layers],
        }
        state.last_build = {**summary, "cache_hits": hits, "cache_misses": misses}
        state.log("INFO", f"Engine built: {len(network._layers)} layers")
        return memoryview(ENGINE_MAGIC + json.dumps(summary, sort_keys=True).encode())

    def _calibrate(calibrator, names) -> bool:
        cache = calibrator.read_calibration_cache()
        if cache:
            return True
        batches = 0
        while batches < 1000 and calibrator.get_batch(names):
            batches += 1
        if batches == 0:
            return False
        calibrator.write_calibration_cache(f"TRT-{_version_int(version)}-EntropyCalibration2\n".encode())
        return True

    # --- runtime: deserialise and execute engines made by plan() ---

    tensor_api = (major, minor) >= (8, 5)  # named I/O tensors and execute_async_v3 arrived in 8.5
    binding_api = trt8  # binding indices and execute_async_v2: deprecated in 8.5, removed in 10.0
    TensorIOMode = enum.IntEnum("TensorIOMode", {"NONE": 0, "INPUT": 1, "OUTPUT": 2})
    numpy_types = {
        "FLOAT": np.float32,
        "HALF": np.float16,
        "INT8": np.int8,
        "INT32": np.int32,
        "BOOL": np.bool_,
        "UINT8": np.uint8,
        "INT64": np.int64,
    }

    def nptype(trt_type):
        if not isinstance(trt_type, DataType) or trt_type.name not in numpy_types:
            raise TypeError("Could not resolve TensorRT datatype to an equivalent numpy datatype.")
        return numpy_types[trt_type.name]

    class ICudaEngine(_Obj):
        def __init__(self, desc):
            self._desc = desc
            self._io = [(t, True) for t in desc["inputs"]] + [(t, False) for t in desc["outputs"]]

        num_optimization_profiles = property(lambda self: 1)

        def _find(self, name):
            for t, is_input in self._io:
                if t["name"] == name:
                    return t, is_input
            state.log("ERROR", f"3: Cannot find binding of given name: {name}")
            raise RuntimeError(f"no I/O tensor named {name}")

        def _static_shape(self, name):
            t, is_input = self._find(name)
            return tuple(t["shape"]) if is_input else _scaled(tuple(self._desc["inputs"][0]["shape"]), self._desc)

        def _profile(self, name):
            t, is_input = self._find(name)
            if not is_input:
                state.log("ERROR", f"3: {name} is not an input tensor")
                return []
            return [tuple(s) for s in (t["profile"] or [t["shape"]] * 3)]

        def create_execution_context(self):
            state.rec("ICudaEngine.create_execution_context")
            return IExecutionContext(self)

        if tensor_api:
            num_io_tensors = property(lambda self: len(self._io))

            def get_tensor_name(self, index):
                return self._io[index][0]["name"]

            def get_tensor_mode(self, name):
                return TensorIOMode.INPUT if self._find(name)[1] else TensorIOMode.OUTPUT

            def get_tensor_shape(self, name):
                return self._static_shape(name)

            def get_tensor_dtype(self, name):
                return getattr(DataType, self._find(name)[0]["dtype"])

            def get_tensor_profile_shape(self, name, profile_index):
                state.rec("ICudaEngine.get_tensor_profile_shape", name, profile_index)
                return self._profile(name)

        if binding_api:
            num_bindings = property(lambda self: len(self._io))

            def get_binding_name(self, index):
                return self._io[index][0]["name"]

            def get_binding_index(self, name):
                return next((i for i, (t, _) in enumerate(self._io) if t["name"] == name), -1)

            def binding_is_input(self, index):
                return self._io[index][1]

            def get_binding_shape(self, index):
                return self._static_shape(self._io[index][0]["name"])

            def get_binding_dtype(self, index):
                return getattr(DataType, self._io[index][0]["dtype"])

            def get_profile_shape(self, profile_index, binding):
                state.rec("ICudaEngine.get_profile_shape", profile_index, binding)
                name = binding if isinstance(binding, str) else self._io[binding][0]["name"]
                return self._profile(name)

    def _scaled(shape, desc):
        n, c, h, w = shape
        s = desc["scale"]
        return (n, 3, h * s if h >= 0 else -1, w * s if w >= 0 else -1)

    class IExecutionContext(_Obj):
        def __init__(self, engine):
            self._engine = engine
            self._shapes = {
                t["name"]: tuple(t["shape"]) if -1 not in t["shape"] else None for t in engine._desc["inputs"]
            }
            self._addresses: dict[str, int] = {}

        engine = property(lambda self: self._engine)

        def _set_shape(self, name, shape, call):
            dims = tuple(int(d) for d in shape)
            low, _, high = self._engine._profile(name)
            if len(dims) != len(low) or not all(a <= d <= b for d, a, b in zip(dims, low, high)):
                state.log(
                    "ERROR",
                    f"3: [executionContext.cpp::{call}] Error Code 3: API Usage Error (Parameter "
                    f"check failed, condition: profileMinDims.d[i] <= dimensions.d[i] && "
                    f"dimensions.d[i] <= profileMaxDims.d[i]. Supplied dimensions {list(dims)} "
                    f"are outside the optimization profile {list(low)} to {list(high)}.)",
                )
                return False
            self._shapes[name] = dims
            return True

        def _shape(self, name):
            t, is_input = self._engine._find(name)
            if is_input:
                return self._shapes[name] or tuple(t["shape"])
            first = self._shapes[self._engine._desc["inputs"][0]["name"]]
            return _scaled(first, self._engine._desc) if first else self._engine._static_shape(name)

        def _execute(self, stream, addresses):
            cuda = state.cuda
            if cuda is None:
                raise RuntimeError(
                    "give the double a tests.doubles.cuda_double.FakeCudart (make(..., cuda=...)) to execute engines"
                )
            if any(v is None for v in self._shapes.values()):
                state.log(
                    "ERROR",
                    "3: [executionContext.cpp::enqueueInternal] Error Code 3: API Usage Error "
                    "(Parameter check failed, condition: allInputDimensionsSpecified(routine).)",
                )
                return False
            tensors = []
            for t, _ in self._engine._io:
                shape = self._shape(t["name"])
                dtype = np.dtype(numpy_types[t["dtype"]])
                address = addresses.get(t["name"], 0)
                nbytes = int(np.prod(shape)) * dtype.itemsize
                if cuda.find(address, nbytes) != "device":
                    state.log(
                        "ERROR",
                        f"1: [runner.cpp::execute] Error Code 1: Cuda Runtime (an illegal memory "
                        f"access was encountered: {t['name']})",
                    )
                    return False
                tensors.append((address, shape, dtype, nbytes))
            (src, shape, dtype, nbytes), outputs = tensors[0], tensors[len(self._engine._desc["inputs"]) :]
            scale = self._engine._desc["scale"]

            def work():  # the engine's "network": nearest-neighbour upscaling of the first input
                x = np.frombuffer((ctypes.c_uint8 * nbytes).from_address(src), dtype).reshape(shape)
                y = x.repeat(scale, axis=2).repeat(scale, axis=3)
                for address, _, out_dtype, _ in outputs:
                    out = np.ascontiguousarray(y, out_dtype)
                    ctypes.memmove(address, out.ctypes.data, out.nbytes)

            if not cuda.enqueue(stream, work):
                state.log("ERROR", "1: [runner.cpp::execute] Error Code 1: Cuda Runtime (invalid resource handle)")
                return False
            return True

        if tensor_api:

            def set_input_shape(self, name, shape):
                state.rec("IExecutionContext.set_input_shape", name, tuple(shape))
                return self._set_shape(name, shape, "setInputShape")

            def get_tensor_shape(self, name):
                return self._shape(name)

            def set_tensor_address(self, name, memory):
                state.rec("IExecutionContext.set_tensor_address", name)
                self._engine._find(name)
                self._addresses[name] = int(memory)
                return True

            def get_tensor_address(self, name):
                return self._addresses.get(name, 0)

            def execute_async_v3(self, stream_handle):
                state.rec("IExecutionContext.execute_async_v3")
                return self._execute(stream_handle, self._addresses)

        if binding_api:

            def set_binding_shape(self, binding, shape):
                state.rec("IExecutionContext.set_binding_shape", binding, tuple(shape))
                return self._set_shape(self._engine.get_binding_name(binding), shape, "setBindingDimensions")

            def get_binding_shape(self, binding):
                return self._shape(self._engine.get_binding_name(binding))

            all_binding_shapes_specified = property(lambda self: all(v is not None for v in self._shapes.values()))

            def execute_async_v2(self, bindings, stream_handle, input_consumed=None):
                state.rec("IExecutionContext.execute_async_v2", len(bindings))
                if len(bindings) != self._engine.num_bindings:
                    state.log(
                        "ERROR",
                        "3: [executionContext.cpp::enqueueV2] Error Code 3: API Usage Error "
                        "(bindings: one device pointer per binding)",
                    )
                    return False
                names = [t["name"] for t, _ in self._engine._io]
                return self._execute(stream_handle, dict(zip(names, map(int, bindings))))

    class Runtime(_Obj):
        def __init__(self, logger):
            state.rec("Runtime", logger)
            self._dla_core = -1
            state.logger = logger

        def _set_dla_core(self, value):
            state.rec("Runtime.DLA_core=", value)
            self._dla_core = value

        DLA_core = property(lambda self: self._dla_core, _set_dla_core)

        def deserialize_cuda_engine(self, serialized_engine):
            data = bytes(serialized_engine)
            state.rec("Runtime.deserialize_cuda_engine", len(data))
            if not data.startswith(ENGINE_MAGIC):
                state.log(
                    "ERROR",
                    "1: [stdArchiveReader.cpp::StdArchiveReader::32] Error Code 1: Serialization "
                    "(Serialization assertion magicTagRead == kMAGIC_TAG failed.Magic tag does not "
                    "match)",
                )
                return None
            desc = json.loads(data[len(ENGINE_MAGIC) :])
            if desc["tensorrt"] != version:
                state.log(
                    "ERROR",
                    f"6: The engine plan file is not compatible with this version of TensorRT, "
                    f"expecting library version {version} got {desc['tensorrt']}, please rebuild.",
                )
                return None
            if "runtime" not in desc:
                raise RuntimeError("the double executes engines made by tensorrt_double.plan() only")
            return ICudaEngine(desc["runtime"])

    # --- the module ---

    mod = ModuleType("tensorrt", f"edgesr test double of TensorRT {version} ({gen})")
    exported = dict(
        __version__=version,
        ILogger=ILogger,
        Logger=Logger,
        Builder=Builder,
        IBuilderConfig=IBuilderConfig,
        INetworkDefinition=INetworkDefinition,
        ITensor=ITensor,
        ILayer=ILayer,
        OnnxParser=OnnxParser,
        ParserError=ParserError,
        ErrorCode=ErrorCode,
        IOptimizationProfile=IOptimizationProfile,
        ITimingCache=ITimingCache,
        BuilderFlag=BuilderFlag,
        NetworkDefinitionCreationFlag=NetworkDefinitionCreationFlag,
        MemoryPoolType=MemoryPoolType,
        DeviceType=DeviceType,
        LayerType=LayerType,
        DataType=DataType,
        Runtime=Runtime,
        ICudaEngine=ICudaEngine,
        IExecutionContext=IExecutionContext,
        nptype=nptype,
    )
    if tensor_api:
        exported["TensorIOMode"] = TensorIOMode
    if not trt11:
        for cls in calibrator_bases:
            exported[cls.__name__] = cls
        exported["CalibrationAlgoType"] = enum.IntEnum(
            "CalibrationAlgoType",
            members(["LEGACY_CALIBRATION", "ENTROPY_CALIBRATION", "ENTROPY_CALIBRATION_2", "MINMAX_CALIBRATION"]),
        )
    for k, v in exported.items():
        setattr(mod, k, v)
    mod.double = state
    return mod


def engine_summary(engine: bytes) -> dict:
    """What the double put into an engine it built."""
    assert engine.startswith(ENGINE_MAGIC), engine[:40]
    return json.loads(engine[len(ENGINE_MAGIC) :])


def plan(
    version: str,
    *,
    scale: int = 2,
    shape=(-1, 3, -1, -1),
    profile=((1, 3, 8, 8), (1, 3, 32, 32), (4, 3, 64, 64)),
    dtype: str = "FLOAT",
    out_dtype: str | None = None,
    input_name: str = "input",
    outputs: tuple[str, ...] = ("output",),
) -> bytes:
    """A serialised engine the double of TensorRT ``version`` deserialises and runs: one image input
    (``shape`` with -1 where dynamic, ``profile`` its (min, opt, max); None for a static input) whose
    every output is the input upscaled ``scale`` times by nearest neighbour."""
    inputs = [
        {
            "name": input_name,
            "dtype": dtype,
            "shape": list(shape),
            "profile": [list(s) for s in profile] if profile is not None else None,
        }
    ]
    outs = [{"name": name, "dtype": out_dtype or dtype} for name in outputs]
    desc = {"tensorrt": version, "runtime": {"inputs": inputs, "outputs": outs, "scale": scale}}
    return ENGINE_MAGIC + json.dumps(desc).encode()
