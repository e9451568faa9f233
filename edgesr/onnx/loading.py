"""Load an ONNX file and sanitise it into the shape edgesr deploys: one 4-D image input,
opset >= 13, weights inline, optional fixed input shape.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edgesr.errors import InputError, ModelError
from edgesr.lazy import require
from edgesr.log import logger
from edgesr.meta import GRAPH_KEY, REPRESENTATION, all_props

MIN_OPSET = 13
# Upgrade target for old models: the newest opset every supported TensorRT (8.5+) parses.
UPGRADE_OPSET = 17
# Element types an image input may have (onnx.TensorProto.FLOAT, FLOAT16).
_IMAGE_ELEM_TYPES = {1: "float32", 10: "float16"}


@dataclass(frozen=True)
class ImageInput:
    """The model's single image input. Dims are ints when fixed, strings (symbols) or None when not."""

    name: str
    dtype: str
    dims: tuple[int | str | None, ...]

    @property
    def channels(self) -> int:
        return int(self.dims[1])  # validated to be fixed

    @property
    def dynamic_hw(self) -> bool:
        return not all(isinstance(d, int) for d in self.dims[2:])

    @property
    def shape_text(self) -> str:
        return "x".join(str(d) if isinstance(d, int) else "?" for d in self.dims)


def load(path: str | os.PathLike, *, external_data: bool = True):
    """Read ``path`` and run the basic checker; weights in external files are pulled inline
    unless ``external_data`` is False (enough to inspect the graph)."""
    onnx = require("onnx")
    from google.protobuf.message import DecodeError

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist; check the model path")
    if not p.is_file():
        raise InputError(f"{p} is not a file; pass the .onnx model file")
    if p.stat().st_size == 0:
        raise ModelError(f"{p} is empty; re-export the model")
    try:
        model = onnx.load(str(p), load_external_data=external_data)
    except DecodeError:
        raise ModelError(f"{p} is not an ONNX model or is truncated (protobuf decode failed); re-export it") from None
    except (OSError, ValueError) as exc:  # missing or short external-data file
        raise ModelError(f"cannot read {p} or its external weights ({exc}); keep the .data file beside it") from None
    except onnx.checker.ValidationError as exc:  # external data missing, absolute or outside the model's folder
        first = str(exc).strip().splitlines()[0]
        raise ModelError(
            f"{p} names external weights it may not read ({first}); keep its .data files in the "
            "model's folder and re-save it"
        ) from None
    if model.ir_version == 0 or not model.graph.node:
        raise ModelError(f"{p} is not an ONNX model (no IR version or no graph nodes); re-export it")
    try:
        onnx.checker.check_model(model)
    except (onnx.checker.ValidationError, UnicodeDecodeError) as exc:  # a mangled name fails to decode
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{p} is not a valid ONNX model ({first}); re-export it") from None
    return model


def opset_of(model) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    raise ModelError("the model imports no default-domain opset; re-export it with opset >= 13")


def image_input(model, conditioned: bool = False) -> ImageInput:
    """The single image input, validated: one input, 4-D, float, 1 or 3 fixed channels. ``conditioned``:
    ``model`` is the conditional graph of a blind-SR model, whose representation input the caller feeds."""
    if not conditioned:
        _refuse_split_part(model)
    skip = {t.name for t in model.graph.initializer} | ({REPRESENTATION} if conditioned else set())
    inputs = [i for i in model.graph.input if i.name not in skip]
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise ModelError(
            f"the model has {len(inputs)} inputs ({names}); edgesr needs exactly one image input "
            "N x C x H x W: fold the others into the graph or re-export with one input"
        )
    inp = inputs[0]
    tensor = inp.type.tensor_type
    if not inp.type.HasField("tensor_type") or tensor.elem_type not in _IMAGE_ELEM_TYPES:
        raise ModelError(f"input '{inp.name}' is not a float32/float16 tensor; SR models take float images")
    if not tensor.HasField("shape") or len(tensor.shape.dim) != 4:
        rank = len(tensor.shape.dim) if tensor.HasField("shape") else "unknown"
        raise ModelError(f"input '{inp.name}' has rank {rank}; edgesr needs a 4-D N x C x H x W image input")
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in tensor.shape.dim)
    if dims[1] not in (1, 3):
        raise ModelError(
            f"input '{inp.name}' has {dims[1]} channels; edgesr needs a fixed 1 (Y) or 3 (RGB) "
            "channel dimension (export with a static channel axis)"
        )
    return ImageInput(inp.name, _IMAGE_ELEM_TYPES[tensor.elem_type], dims)


def _refuse_split_part(model) -> None:
    """A part of a split blind-SR model is not a model of its own: say which part it is and what to run."""
    role = all_props(model).get(GRAPH_KEY)
    if role == "conditional":
        raise ModelError(
            "this is the conditional graph of a blind-SR model: it needs the degradation representation its "
            "encoder graph computes; run it together with that encoder graph, or run the model's one graph"
        )
    if role == "encoder":
        raise ModelError(
            "this is the encoder graph of a blind-SR model: it estimates a degradation, it does not upscale; "
            "run the model's conditional graph with it, or the model's one graph"
        )


def check_image_output(model) -> None:
    """Refuse a graph whose output is declared but is not one 4-D image (a classifier, a feature head)."""
    outputs = list(model.graph.output)
    if len(outputs) != 1:
        raise ModelError(
            f"the model has {len(outputs)} outputs; edgesr needs exactly one image output "
            "N x C x H x W (a super-resolution model)"
        )
    tensor = outputs[0].type.tensor_type
    if tensor.HasField("shape") and len(tensor.shape.dim) != 4:
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in tensor.shape.dim]
        raise ModelError(
            f"output '{outputs[0].name}' has rank {len(dims)} {dims}; edgesr needs a 4-D "
            "N x C x H x W image output: pass a super-resolution model"
        )


def parse_shape(text: str) -> tuple[int, int, int, int]:
    """``NxCxHxW`` (or comma-separated) -> ints, with a clear error for anything else."""
    from edgesr.sizes import parse_nchw

    return parse_nchw(text.replace(",", "x"), "input shape")


def sanitise(model, shape: tuple[int, int, int, int] | None = None) -> tuple[object, ImageInput, list[str]]:
    """Upgrade an old opset and fix the input shape if asked. Returns the model, its input and notes."""
    onnx = require("onnx")
    notes: list[str] = []
    opset = opset_of(model)
    if opset < MIN_OPSET:
        try:
            from onnx import version_converter

            model = version_converter.convert_version(model, UPGRADE_OPSET)
            onnx.checker.check_model(model)
        except Exception as exc:  # the converter raises bare RuntimeError/ValidationError from C++
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"opset {opset} is older than {MIN_OPSET} and the ONNX version converter cannot upgrade it "
                f"({detail}); re-export the model with opset >= {MIN_OPSET}"
            ) from None
        notes.append(f"upgraded opset {opset} -> {UPGRADE_OPSET}")
        logger.info("upgraded opset %d -> %d", opset, UPGRADE_OPSET)
    inp = image_input(model)
    check_image_output(model)
    if shape is not None:
        fix_input_shape(model, inp, shape)
        inp = image_input(model)
        notes.append(f"fixed input shape to {inp.shape_text}")
    return model, inp, notes


def fix_input_shape(model, inp: ImageInput, shape: tuple[int, int, int, int]) -> None:
    """Give the image input the fixed ``shape`` (checked against its fixed dims)."""
    for axis, (have, want) in enumerate(zip(inp.dims, shape)):
        if isinstance(have, int) and have != want:
            raise InputError(
                f"--input-shape {'x'.join(map(str, shape))} conflicts with the model's fixed input "
                f"{inp.shape_text} (axis {axis}); match the fixed dimensions"
            )
    graph_input = next(i for i in model.graph.input if i.name == inp.name)
    for d, value in zip(graph_input.type.tensor_type.shape.dim, shape):
        d.ClearField("dim_param")
        d.dim_value = value
    # Intermediate shapes recorded for the symbolic input are stale now; inference redoes them.
    del model.graph.value_info[:]
