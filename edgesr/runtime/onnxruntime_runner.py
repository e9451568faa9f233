"""Run an ONNX model with ONNX Runtime: CPU everywhere, CUDA and TensorRT execution providers
where the installed onnxruntime has them.

An unconverted model that still holds a bicubic ``Resize`` (the image skip of AIDN-style nets)
is rewritten in memory, exactly, into a convolution + depth-to-space: ONNX Runtime's CPU cubic
Resize would otherwise take most of the frame time (docs/background.md, Deployment rewrites). The rewrite comes from
the conversion stage; the runtime applies it rather than refuse the model, and says so, because
``edgesr convert`` stores it once, with a parity proof, and skips this work at every start.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from edgesr.errors import DeviceError, InputError, ModelError
from edgesr.lazy import available, require
from edgesr.log import logger
from edgesr.meta import REPRESENTATION, all_props
from edgesr.onnx import loading, sessions
from edgesr.onnx.graph_index import GraphIndex
from edgesr.onnx.split_encoder import encoder_view
from edgesr.runtime.blind_parts import BlindParts, blind_parts
from edgesr.runtime.model_spec import ModelSpec, declare
from edgesr.runtime.runners import Runner
from edgesr.runtime.scene import ReestimatePolicy, Representation, SceneRepresentation, check_pair
from edgesr.runtime.tensors import code_pixels, to_model

_DTYPES = {"tensor(float)": "float32", "tensor(float16)": "float16"}


class OnnxRuntimeRunner(Runner):
    """An ``.onnx`` artifact on ONNX Runtime."""

    def activate(self) -> None:
        ort = require("onnxruntime")
        name = self.path.name
        model = loading.load(self.path)
        parts = blind_parts(model, self.path, self.options.encoder)
        if parts is not None:
            model = parts.conditional
        elif self.options.reestimate is not None:
            raise InputError(
                f"{name} has no degradation encoder, so there is nothing to re-estimate; drop --reestimate-every "
                "and --scene-threshold (they serve blind-SR models such as aidn-da)"
            )
        image = loading.image_input(model, conditioned=parts is not None)
        loading.check_image_output(model)
        if image.channels != 3:
            raise ModelError(f"{name} takes {image.channels}-channel input; the runtime runs RGB (3-channel) models")
        props = all_props(model)
        declared = declare(props, name, self.options.scale, self.options.value_range)
        notes = list(declared.notes) + _rewrite_cubic_resizes(model, name)
        providers = sessions.choose_providers(self.options.providers)
        wanted = sessions.first(providers)
        notes += sessions.prepare(model, providers)
        table = _uint8_output(model, declared.value_range) if self.options.lookup_output else None
        if table is not None:
            notes.append("the output's final DequantizeLinear runs as a lookup table on its uint8 codes (same pixels)")
        # Idle intra-op threads would otherwise spin between operators on the cores that decoding,
        # pre/post-processing and encoding need.
        self.session = sessions.session(
            model,
            providers=providers,
            threads=self.options.threads,
            spinning=False,
            quiet=True,
            name=name,
            fix="re-export or convert the model",
        )
        used = self.session.get_providers()
        if used[0] != wanted:
            message = (
                f"ONNX Runtime could not start {wanted} for {name} (missing CUDA/cuDNN/TensorRT "
                f"libraries?) and fell back to {used[0]}"
            )
            if self.options.providers:
                raise DeviceError(message + "; fix the GPU libraries or ask for --providers cpu")
            logger.warning("%s", message)
            notes.append(message)
        inputs = [i for i in self.session.get_inputs() if i.name != REPRESENTATION]
        outputs = self.session.get_outputs()
        dtype = _DTYPES.get(inputs[0].type)
        if dtype is None:
            raise ModelError(f"{name} takes {inputs[0].type}; the runtime feeds float32 or float16 images")
        dims = image.dims
        input_hw = (dims[2], dims[3]) if not image.dynamic_hw else None
        batch = dims[0] if isinstance(dims[0], int) else None
        scale = declared.scale
        if scale is None:
            scale = self._probe_scale(inputs[0].name, outputs[0].name, dtype, input_hw, batch, declared.size_multiple)
            notes.append(f"scale x{scale} inferred from the output/input size ratio of a probe run")
            logger.warning("%s records no scale; x%d inferred from a probe run (pass --scale to state it)", name, scale)
        self.spec = ModelSpec(
            scale=scale,
            value_range=declared.value_range,
            channel_order=declared.channel_order,
            input_name=inputs[0].name,
            output_name=outputs[0].name,
            dtype=dtype,
            input_hw=input_hw,
            batch=batch,
            size_multiple=declared.size_multiple,
            precision=_precision(model, dtype),
            backend=f"onnxruntime {ort.__version__} {used[0]}",
            notes=tuple(notes),
            output_table=table,
        )
        if parts is not None:
            self._start_encoder(parts, providers)
        logger.info("%s: x%d, %s, %s, input %s", name, scale, self.spec.precision, used[0], image.shape_text)

    def _start_encoder(self, parts: BlindParts, providers) -> None:
        """The encoder graph's session and the scene state that decides when it runs."""
        self._encoder = encoder_session(
            parts.encoder, providers, self.options.threads, f"{self.path.name} ({parts.origin})"
        )
        self._pair = parts.pair
        self._encoder_input = self._encoder.get_inputs()[0].name
        policy = self.options.reestimate or ReestimatePolicy()
        self.scene = SceneRepresentation(self._encode_pixels, parts.pair, 255.0, policy)
        self.spec = replace(self.spec, notes=(*self.spec.notes, f"blind SR: {parts.origin}"))
        logger.info(
            "%s: degradation estimated every %d frames and on a scene change (%s)",
            self.path.name,
            policy.every,
            parts.origin,
        )

    def _encode_pixels(self, frame: np.ndarray) -> np.ndarray:
        """1 x 3 x H x W uint8 RGB (a view of the frame) -> the representation, 1 x D."""
        return self._encode(to_model(encoder_view(frame).transpose(0, 2, 3, 1), self.spec))

    def _encode(self, batch: np.ndarray) -> np.ndarray:
        return self._encoder.run(None, {self._encoder_input: np.ascontiguousarray(encoder_view(batch))})[0]

    def picture_condition(self, image: np.ndarray) -> Representation | None:
        if self.scene is None:
            return None
        return Representation(np.asarray(self._encode_pixels(image[None].transpose(0, 3, 1, 2))), self._pair)

    def encode(self, batch: np.ndarray) -> Representation:
        """The degradation representation of the first image of ``batch`` (model range and dtype),
        for a caller without the pipeline's per-frame estimate."""
        return Representation(np.asarray(self._encode(batch[:1])), self._pair)

    def infer(self, batch: np.ndarray, condition: Representation | None = None) -> np.ndarray:
        """``condition``: a blind-SR model's representation for this batch's frame (see
        :meth:`Runner.estimate`); without it the encoder estimates one from the batch itself."""
        spec = self.spec
        fixed = spec.batch
        vector = check_pair(condition, self._pair) if self.scene is not None and condition is not None else None
        if fixed is None or batch.shape[0] == fixed:
            out = self._run(batch, vector)
        else:
            out = np.concatenate(
                [self._run_padded(batch[i : i + fixed], fixed, vector) for i in range(0, batch.shape[0], fixed)]
            )
        n, _, h, w = batch.shape
        if out.shape != (n, 3, h * spec.scale, w * spec.scale):
            raise ModelError(
                f"{self.path.name} returned {list(out.shape)} for input {list(batch.shape)}, not "
                f"{[n, 3, h * spec.scale, w * spec.scale]}; check --scale or the model's outputs"
            )
        return out

    def deactivate(self) -> None:
        self.session = self._encoder = None

    def _run(self, batch: np.ndarray, vector: np.ndarray | None = None) -> np.ndarray:
        feeds = {self.spec.input_name: batch}
        if self.scene is not None:  # the frame's representation, or each image's own
            rep = vector if vector is not None else self._encode(batch)
            feeds[REPRESENTATION] = np.ascontiguousarray(np.broadcast_to(rep, (batch.shape[0], rep.shape[1])))
        return self.session.run([self.spec.output_name], feeds)[0]

    def _run_padded(self, chunk: np.ndarray, fixed: int, vector: np.ndarray | None) -> np.ndarray:
        if chunk.shape[0] == fixed:
            return self._run(chunk, vector)
        pad = np.zeros((fixed - chunk.shape[0], *chunk.shape[1:]), chunk.dtype)
        return self._run(np.concatenate([chunk, pad]), vector)[: chunk.shape[0]]

    def _probe_scale(self, input_name: str, output_name: str, dtype: str, input_hw, batch, multiple: int) -> int:
        h, w = input_hw if input_hw is not None else (_round_up(24, multiple), _round_up(32, multiple))
        x = np.zeros((batch or 1, 3, h, w), dtype)
        y = self.session.run([output_name], {input_name: x})[0]
        if y.ndim != 4:
            raise ModelError(
                f"{self.path.name} is not an image-to-image model: a {h}x{w} input gave output "
                f"{list(y.shape)}; pass a super-resolution model"
            )
        ratio = (y.shape[2] / h, y.shape[3] / w)
        if ratio[0] != ratio[1] or ratio[0] < 1 or ratio[0] != int(ratio[0]):
            raise ModelError(
                f"cannot tell the scale of {self.path.name}: a {h}x{w} input gave output {list(y.shape)}; pass --scale"
            )
        return int(ratio[0])


def encoder_session(encoder, providers, threads: int | None, name: str):
    """A session for a degradation encoder graph on the providers its model runs on, with the same
    CPU rewrites and threads, not spinning (it runs once per scene beside the model's session)."""
    sessions.prepare(encoder, providers)
    return sessions.session(
        encoder,
        providers=providers,
        threads=threads,
        spinning=False,
        quiet=True,
        name=name,
        fix="re-export or convert the model",
    )


def _round_up(value: int, multiple: int) -> int:
    return math.ceil(value / multiple) * multiple


def _rewrite_cubic_resizes(model, name: str) -> list[str]:
    """Rewrite bicubic Resize nodes in place; return notes saying what was done or left."""
    cubic = [
        n
        for n in model.graph.node
        if n.op_type == "Resize" and any(a.name == "mode" and a.s == b"cubic" for a in n.attribute)
    ]
    if not cubic:
        return []
    from edgesr.onnx.rewrite_bicubic import rewrite_bicubic_resizes

    done, skipped = rewrite_bicubic_resizes(model)
    notes = []
    if done:
        notes.append(f"{len(done)} bicubic Resize rewritten in memory to conv + depth-to-space")
        logger.warning(
            "%s was not converted: %d bicubic Resize rewritten in memory (exact; ONNX Runtime's CPU "
            "cubic Resize is far slower). Run 'edgesr convert %s -o DIR' once to store the rewrite "
            "with a parity proof.",
            name,
            len(done),
            name,
        )
    for why in skipped:
        notes.append(f"bicubic Resize kept: {why}")
        logger.warning("%s: bicubic Resize %s; it will dominate the frame time on CPU", name, why)
    return notes


def _uint8_output(model, value_range: float) -> np.ndarray | None:
    """Cut a per-tensor DequantizeLinear that computes the only output off the graph, in place,
    and return the pixel of each of its 256 codes; None (graph unchanged) when there is none.

    The model then hands over a quarter of the bytes, and post-processing is one table lookup
    instead of a float scale, round and clip; OpenCV does the lookup, so without it the float
    path stays."""
    graph = model.graph
    if len(graph.output) != 1 or not available("cv2"):
        return None
    out = graph.output[0]
    idx = GraphIndex.links(graph)
    dq = idx.producer.get(out.name)
    if dq is None or dq.op_type != "DequantizeLinear" or len(dq.input) < 3 or dq.domain not in ("", "ai.onnx"):
        return None
    readers = [n for n in idx.consumers.get(dq.input[0], []) if n is not dq]
    params = idx.inits
    if readers or dq.input[0] in idx.graph_outputs or not all(i in params for i in dq.input[1:3]):
        return None
    numpy_helper = require("onnx.numpy_helper")
    scale, zero = (numpy_helper.to_array(params[i]) for i in dq.input[1:3])
    if scale.size != 1 or zero.size != 1 or zero.dtype not in (np.uint8, np.int8):
        return None
    codes = np.arange(256, dtype=np.uint8).view(zero.dtype)
    # DequantizeLinear's own arithmetic: (code - zero point) in integers, then x scale in float32
    values = (codes.astype(np.int32) - int(zero.reshape(()))).astype(np.float32) * scale.astype(np.float32).reshape(())
    graph.node.remove(dq)
    out.name = dq.input[0]
    out.type.tensor_type.elem_type = params[dq.input[2]].data_type
    return code_pixels(values, value_range)


def _precision(model, dtype: str) -> str:
    if any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node):
        return "int8 (Q/DQ)"
    return "fp16" if dtype == "float16" else "fp32"
