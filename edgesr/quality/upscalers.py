"""Things that turn an LR uint8 RGB image into an SR one, for :func:`edgesr.quality.evaluate`.

Each is a callable object holding its settings (``name``, ``scale``) and doing the work in
``__call__(lr) -> sr``. Models are fed RGB in [0, value_range] and their output is divided by
the same value range, clipped and rounded to uint8, as the protocol requires.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgesr.errors import InputError, ModelError
from edgesr.lazy import require
from edgesr.log import logger
from edgesr.meta import PREFIX, ModelMeta
from edgesr.onnx import sessions
from edgesr.quality.imresize import imresize

_ORT_INPUT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


def to_model_input(lr: np.ndarray, value_range: float, dtype=np.float32) -> np.ndarray:
    """HxWx3 uint8 -> 1x3xHxW in [0, value_range].

    Dividing by ``255 / value_range`` keeps a [0, 255] model's input exact integers.
    """
    x = lr.astype(np.float32) / np.float32(255.0 / value_range)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]).astype(dtype, copy=False)


def to_uint8(sr: np.ndarray, value_range: float) -> np.ndarray:
    """HxWx3 model output in [0, value_range] -> uint8, clipped then rounded."""
    return np.round(np.clip(sr.astype(np.float64) * (255.0 / value_range), 0, 255)).astype(np.uint8)


@dataclass
class Bicubic:
    """The baseline: MATLAB-compatible bicubic upscaling of the LR image."""

    scale: int
    name: str = "bicubic"

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        return imresize(lr, self.scale)


class OnnxUpscaler:
    """An ONNX SR model run by ONNX Runtime on the CPU.

    Value range and channel order come from the edgesr metadata in the file; a model without
    it is assumed to take RGB in [0, 1], and a note says so.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_file():
            raise InputError(f"ONNX model {self.path} does not exist; check the path")
        self.session = sessions.session(self.path, name=str(self.path))
        props = self.session.get_modelmeta().custom_metadata_map
        self.meta = ModelMeta.from_props(props)
        if PREFIX + "value_range" not in props:
            logger.info("%s has no edgesr value_range metadata; assuming RGB in [0, 1]", self.name)
        if self.meta.channel_order not in ("RGB", "BGR"):
            raise ModelError(f"{self.name} declares channel order {self.meta.channel_order!r}; expected RGB or BGR")
        inputs = self.session.get_inputs()
        shape = inputs[0].shape if len(inputs) == 1 else []
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            shapes = ", ".join(f"{i.name}{list(i.shape)}" for i in inputs)
            raise ModelError(f"{self.name} must take one Nx3xHxW image input, it takes {shapes}")
        if inputs[0].type not in _ORT_INPUT_TYPES:
            raise ModelError(f"{self.name} takes {inputs[0].type}; expected a float or float16 image tensor")
        self.input_name = inputs[0].name
        self.input_dtype = _ORT_INPUT_TYPES[inputs[0].type]
        self.scale = self.meta.scale if self.meta.known else None

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        bgr = self.meta.channel_order == "BGR"
        x = to_model_input(lr[..., ::-1] if bgr else lr, self.meta.value_range, self.input_dtype)
        y = self.session.run(None, {self.input_name: x})[0]
        if y.ndim != 4 or y.shape[:2] != (1, 3):
            raise ModelError(f"{self.name} returned shape {list(y.shape)}; expected 1x3xHxW")
        sr = y[0].transpose(1, 2, 0)
        return to_uint8(sr[..., ::-1] if bgr else sr, self.meta.value_range)


class TorchUpscaler:
    """An ``edgesr.models`` network (a torch module with ``scale`` and ``value_range``) on the CPU."""

    def __init__(self, module, name: str | None = None):
        self.module = module.eval()
        self.scale = int(module.scale)
        self.value_range = float(module.value_range)
        self.name = name or type(module).__name__

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        torch = require("torch")
        x = torch.from_numpy(to_model_input(lr, self.value_range))
        with torch.inference_mode():
            y = self.module(x)
        return to_uint8(y[0].permute(1, 2, 0).float().numpy(), self.value_range)


Upscaler = Bicubic | OnnxUpscaler | TorchUpscaler


def _torch_upscaler(model: str, weights: str | None, scale: int | None) -> TorchUpscaler:
    from edgesr import models

    if Path(model).is_file():
        return TorchUpscaler(models.load(None, model, scale=scale), name=Path(model).name)
    models.registry.get(model)  # a misspelt name fails here, with a suggestion, before any loading
    if weights is None:
        raise InputError(f"architecture '{model}' needs its trained weights; pass --weights CHECKPOINT")
    return TorchUpscaler(models.load(model, weights, scale=scale), name=f"{model} ({Path(weights).name})")


def load_upscaler(model: str, scale: int | None = None, weights: str | None = None) -> Upscaler:
    """``bicubic``, an ``.onnx`` path, a checkpoint path, or an architecture name with ``weights``.

    ``scale`` may be omitted when the model knows its own; a model whose scale differs from
    the one asked for is refused rather than evaluated at the wrong size.
    """
    if model == "bicubic":
        if scale is None:
            raise InputError("bicubic needs a scale; pass --scale")
        return Bicubic(scale)
    if weights is not None and Path(model).suffix.lower() == ".onnx":
        raise InputError("--weights is for architecture names; an .onnx file carries its own weights")
    upscaler = OnnxUpscaler(model) if Path(model).suffix.lower() == ".onnx" else _torch_upscaler(model, weights, scale)
    if scale is None and upscaler.scale is None:
        raise InputError(f"{upscaler.name} does not record its scale; pass --scale")
    if scale is not None and upscaler.scale is not None and upscaler.scale != scale:
        raise InputError(
            f"{upscaler.name} is a x{upscaler.scale} model but x{scale} was asked; pass --scale {upscaler.scale}"
        )
    if upscaler.scale is None:
        upscaler.scale = scale
    return upscaler
