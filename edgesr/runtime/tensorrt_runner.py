"""Run a serialised TensorRT engine (``.engine`` / ``.plan``) built by ``edgesr build``.

Order of work at activation: read the sidecar, import TensorRT and the CUDA runtime, check it against
this machine (TensorRT version, GPU compute capability, Jetson module) *before* the engine is
deserialised, since an engine from another version or GPU fails to load or misbehaves; then
deserialise, create one execution context and one CUDA stream, and allocate the device and
pinned host buffers once, for the largest input the engine's optimisation profile accepts.

Scale, value range and channel order come from the sidecar (its identity, and the model
metadata when the build recorded it); I/O names, dtypes and shapes from the engine itself.
FP16/INT8 engines may take FP32 or FP16 I/O: the runner converts on the host while staging
into the pinned buffer, and always returns float32.

Two generations of the TensorRT Python API are spoken, chosen as Polygraphy's ``TrtRunner``
chooses (``polygraphy/backend/trt/util.py``, ``_should_use_v3_api``): tensors by name with
``execute_async_v3`` from 8.5 on (the only API in 10.x and 11.x), binding indices with
``execute_async_v2`` before that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from edgesr import host, sidecar
from edgesr.errors import DependencyError, DeviceError, InputError, ModelError
from edgesr.lazy import require
from edgesr.log import logger
from edgesr.meta import PREFIX
from edgesr.runtime.cuda import Cuda, StagedBuffer
from edgesr.runtime.model_spec import ModelSpec, declare
from edgesr.runtime.runners import Runner

_IO_DTYPES = (np.dtype(np.float32), np.dtype(np.float16))
_PROFILE = 0  # edgesr builds one optimisation profile


@dataclass(frozen=True)
class Tensor:
    """One engine I/O tensor. ``shape`` has -1 for dynamic dimensions; ``profile`` is the
    (min, opt, max) shape an input accepts (all three equal for a static input)."""

    name: str
    dtype: np.dtype
    shape: tuple[int, ...]
    profile: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None


def _shape_text(shape) -> str:
    return "x".join(str(d) for d in shape)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:4])


class TensorApi:
    """TensorRT 8.5 and newer: I/O tensors by name, shapes and addresses set on the context."""

    def __init__(self, trt, engine, context):
        self.trt, self.engine, self.context = trt, engine, context

    def tensors(self) -> tuple[list[Tensor], list[Tensor]]:
        e = self.engine
        inputs, outputs = [], []
        for i in range(e.num_io_tensors):
            name = e.get_tensor_name(i)
            shape = tuple(e.get_tensor_shape(name))
            dtype = np.dtype(self.trt.nptype(e.get_tensor_dtype(name)))
            if e.get_tensor_mode(name) == self.trt.TensorIOMode.INPUT:
                profile = e.get_tensor_profile_shape(name, _PROFILE) if -1 in shape else (shape, shape, shape)
                inputs.append(Tensor(name, dtype, shape, tuple(tuple(s) for s in profile)))
            else:
                outputs.append(Tensor(name, dtype, shape))
        return inputs, outputs

    def set_input_shape(self, name: str, shape: tuple[int, ...]) -> bool:
        return self.context.set_input_shape(name, shape)

    def output_shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.context.get_tensor_shape(name))

    def bind(self, name: str, address: int) -> None:
        if not self.context.set_tensor_address(name, address):
            raise RuntimeError(f"TensorRT refused the device address of tensor {name}")

    def execute(self, stream: int) -> bool:
        return self.context.execute_async_v3(stream)


class BindingApi:
    """TensorRT before 8.5: I/O by binding index, every device pointer passed at each execution."""

    def __init__(self, trt, engine, context):
        self.trt, self.engine, self.context = trt, engine, context
        self.pointers = [0] * engine.num_bindings

    def tensors(self) -> tuple[list[Tensor], list[Tensor]]:
        e = self.engine
        inputs, outputs = [], []
        # Bindings repeat once per optimisation profile; the first set belongs to profile 0.
        for index in range(e.num_bindings // e.num_optimization_profiles):
            name = e.get_binding_name(index)
            shape = tuple(e.get_binding_shape(index))
            dtype = np.dtype(self.trt.nptype(e.get_binding_dtype(index)))
            if e.binding_is_input(index):
                profile = e.get_profile_shape(_PROFILE, index) if -1 in shape else (shape, shape, shape)
                inputs.append(Tensor(name, dtype, shape, tuple(tuple(s) for s in profile)))
            else:
                outputs.append(Tensor(name, dtype, shape))
        return inputs, outputs

    def set_input_shape(self, name: str, shape: tuple[int, ...]) -> bool:
        return self.context.set_binding_shape(self.engine.get_binding_index(name), shape)

    def output_shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.context.get_binding_shape(self.engine.get_binding_index(name)))

    def bind(self, name: str, address: int) -> None:
        self.pointers[self.engine.get_binding_index(name)] = address

    def execute(self, stream: int) -> bool:
        return self.context.execute_async_v2(bindings=self.pointers, stream_handle=stream)


def api_for(trt, engine, context) -> TensorApi | BindingApi:
    """The API generation this TensorRT speaks (Polygraphy's rule: the tensor API after 8.5.0.9)."""
    if _version(str(trt.__version__)) > (8, 5, 0, 9):
        return TensorApi(trt, engine, context)
    return BindingApi(trt, engine, context)


def _make_logger(trt, errors: list[str]):
    """An ``ILogger`` that keeps TensorRT's errors for the exception message and routes the rest
    to edgesr's log. Defined here so this module imports without TensorRT."""

    class Logger(trt.ILogger):
        def __init__(self):
            trt.ILogger.__init__(self)

        def log(self, severity, msg):
            if severity in (trt.ILogger.INTERNAL_ERROR, trt.ILogger.ERROR):
                errors.append(str(msg))
                logger.debug("TensorRT error: %s", msg)
            elif severity == trt.ILogger.WARNING:
                logger.warning("TensorRT: %s", msg)
            else:
                logger.debug("TensorRT: %s", msg)

    return Logger()


class TensorRTRunner(Runner):
    """A TensorRT engine with its edgesr sidecar, on the GPU (or the DLA it was built for)."""

    _cuda: Cuda | None = None
    _stream = None  # a polygraphy.cuda.Stream
    _buffers: tuple[StagedBuffer, ...] = ()

    def activate(self) -> None:
        if self.options.encoder is not None or self.options.reestimate is not None:
            raise InputError(
                f"{self.path.name}: a blind-SR model's per-scene degradation runs on ONNX Runtime; pass its "
                ".onnx graph (or the conditional graph with --encoder) instead of an engine"
            )
        try:
            self._activate()
        except BaseException:
            self.deactivate()
            raise

    def _activate(self) -> None:
        name = self.path.name
        sidecar.read(self.path)  # a missing or broken sidecar is said first: installing TensorRT would not fix it
        try:
            trt = require("tensorrt")
        except DependencyError as exc:
            raise DependencyError(f"{name} is a TensorRT engine and needs TensorRT: {exc}") from None
        version = str(trt.__version__)
        self._cuda = Cuda()
        here = host.jetson()
        data = sidecar.check_host(
            self.path,
            tensorrt=version,
            device=here.id if here is not None else None,
            compute_capability=self._cuda.compute_capability(),
        )
        ident = data["identity"]
        rebuild = f"rebuild it on this machine with 'edgesr build --device {here.id if here else ident['device']}'"

        self._errors: list[str] = []
        self._runtime = trt.Runtime(_make_logger(trt, self._errors))
        if ident.get("dla_core") is not None:
            self._runtime.DLA_core = ident["dla_core"]  # the core a DLA engine runs on is chosen at load time
        self._engine = self._runtime.deserialize_cuda_engine(self.path.read_bytes())
        if self._engine is None:
            raise ModelError(f"TensorRT {version} could not deserialise {name}{self._reason()}; {rebuild}")
        self._context = self._engine.create_execution_context()
        if self._context is None:
            raise DeviceError(
                f"TensorRT could not create an execution context for {name}{self._reason()} "
                "(out of GPU memory?); close other GPU programs"
            )
        self._api = api_for(trt, self._engine, self._context)
        inp, out = self._io(name)
        self._input, self._output = inp, out
        self._stream = self._cuda.create_stream()

        props = dict(data.get("meta") or {})
        props[PREFIX + "scale"] = str(ident["scale"])
        declared = declare(props, name, self.options.scale, self.options.value_range)
        self._scale = declared.scale
        # Size the buffers for the largest input the profile takes, so steady-state inference
        # never allocates, and an engine too big for this GPU fails here rather than mid-stream.
        max_shape = inp.profile[2]
        out_shape = self._apply_shape(max_shape)
        self._buffers = (StagedBuffer(self._cuda, inp.dtype), StagedBuffer(self._cuda, out.dtype))
        self._buffers[0].resize(max_shape)
        self._buffers[1].resize(out_shape)
        self._api.bind(inp.name, self._buffers[0].device.ptr)
        self._api.bind(out.name, self._buffers[1].device.ptr)

        static_hw = -1 not in inp.shape[2:]
        precision = data.get("precision_used") or ident["precision"]
        where = f"DLA core {ident['dla_core']}" if ident.get("dla_core") is not None else "GPU"
        self.spec = ModelSpec(
            scale=self._scale,
            value_range=declared.value_range,
            channel_order=declared.channel_order,
            input_name=inp.name,
            output_name=out.name,
            dtype=inp.dtype.name,
            input_hw=(inp.shape[2], inp.shape[3]) if static_hw else None,
            batch=inp.shape[0] if inp.shape[0] != -1 else None,
            size_multiple=declared.size_multiple,
            precision=precision,
            backend=f"tensorrt {version} {where}",
            notes=declared.notes,
        )
        logger.info(
            "%s: x%d, %s, TensorRT %s on %s, input %s",
            name,
            self._scale,
            precision,
            version,
            where,
            ":".join(_shape_text(s) for s in inp.profile) if not static_hw else _shape_text(inp.shape),
        )

    def _io(self, name: str) -> tuple[Tensor, Tensor]:
        inputs, outputs = self._api.tensors()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(
                f"{name} has {len(inputs)} inputs and {len(outputs)} outputs; the runtime runs "
                "engines with one image input and one image output"
            )
        inp, out = inputs[0], outputs[0]
        if len(inp.shape) != 4 or inp.shape[1] != 3:
            raise ModelError(f"{name} takes input {_shape_text(inp.shape)}; the runtime runs N x 3 x H x W RGB models")
        for t in (inp, out):
            if t.dtype not in _IO_DTYPES:
                raise ModelError(
                    f"{name} has {t.dtype} I/O tensor {t.name}; the runtime feeds and reads float32 "
                    "or float16 (build without DIRECT_IO int8 I/O)"
                )
        return inp, out

    def _apply_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Set the input shape on the context; return the output shape, checked against the scale."""
        if not self._api.set_input_shape(self._input.name, shape):
            raise ModelError(f"TensorRT refused input shape {_shape_text(shape)} for {self.path.name}{self._reason()}")
        out = self._api.output_shape(self._output.name)
        n, _, h, w = shape
        s = self._scale
        if out != (n, 3, h * s, w * s):
            raise ModelError(
                f"{self.path.name} gives output {_shape_text(out)} for input {_shape_text(shape)}, not "
                f"{_shape_text((n, 3, h * s, w * s))} (x{s}); check --scale or rebuild the engine"
            )
        self._shape, self._out_shape = shape, out
        return out

    def _reason(self) -> str:
        return f" ({self._errors[-1]})" if self._errors else ""

    def infer(self, batch: np.ndarray) -> np.ndarray:
        lo, hi = self._input.profile[0][0], self._input.profile[2][0]
        n = batch.shape[0]
        if lo <= n <= hi:
            return self._run(batch)
        outs = []
        for i in range(0, n, hi):
            chunk = batch[i : i + hi]
            if chunk.shape[0] < lo:  # a batch the profile cannot take: pad it and drop the padding's output
                pad = np.zeros((lo - chunk.shape[0], *chunk.shape[1:]), chunk.dtype)
                outs.append(self._run(np.concatenate([chunk, pad]))[: chunk.shape[0]])
            else:
                outs.append(self._run(chunk))
        return np.concatenate(outs)

    def _run(self, batch: np.ndarray) -> np.ndarray:
        shape = tuple(batch.shape)
        if shape != self._shape:
            self._check_profile(shape)
            out_shape = self._apply_shape(shape)
            inp_buf, out_buf = self._buffers
            if inp_buf.resize(shape):
                self._api.bind(self._input.name, inp_buf.device.ptr)
            if out_buf.resize(out_shape):
                self._api.bind(self._output.name, out_buf.device.ptr)
        inp_buf, out_buf = self._buffers
        inp_buf.upload(batch, self._stream)  # converts to the engine's I/O dtype while staging
        if not self._api.execute(self._stream.ptr):
            raise RuntimeError(f"TensorRT failed to run {self.path.name} on input {_shape_text(shape)}{self._reason()}")
        result = out_buf.download(self._stream)
        self._cuda.synchronize(self._stream)
        return result.astype(np.float32)  # a copy: the pinned buffer is reused by the next call

    def _check_profile(self, shape: tuple[int, ...]) -> None:
        low, _, high = self._input.profile
        if len(shape) != 4 or not all(a <= d <= b for d, a, b in zip(shape, low, high)):
            raise InputError(
                f"{self.path.name} takes inputs from {_shape_text(low)} to {_shape_text(high)} (N x C x H x W, "
                f"its optimisation profile), not {_shape_text(shape)}; pass --tile HxW within that range, "
                "or rebuild with a wider --input-range"
            )

    def deactivate(self) -> None:
        for buffer in self._buffers:
            buffer.free()
        self._buffers = ()
        if self._stream is not None:
            self._cuda.destroy_stream(self._stream)
            self._stream = None
        # The context goes before its engine, the engine before the runtime that made it.
        self._api = self._context = self._engine = self._runtime = None
