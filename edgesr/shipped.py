"""The models shipped inside the package: an ONNX file, its weights and a model card each.

``edgesr/data/models/<name>.onnx`` with ``<name>.json`` (the card: architecture, training recipe,
measured quality) and ``<name>.pth`` (the weights, for fine-tuning); a model may also ship its
INT8 ONNX Runtime files ``<name>.int8.onnx`` and ``<name>.int8.x86.onnx``, which its card's
``int8`` entry ties to the FP32 file they were made from (see :mod:`edgesr.artifacts`). The card marked
``"default": true`` is the model ``edgesr build`` uses when given none, and ``edgesr upscale`` and
``stream`` where no default router ships (:mod:`edgesr.routing`).
Reading cards needs no torch, so a fresh install without it can run the shipped models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from edgesr.errors import InputError

FOLDER = Path(__file__).parent / "data" / "models"


@dataclass(frozen=True)
class ShippedModel:
    name: str
    onnx: Path
    card: dict

    @property
    def weights(self) -> Path:
        return self.onnx.with_suffix(".pth")

    def int8(self, encoding: str) -> Path:
        """Where its INT8 file of ``encoding`` ships: ``int8`` (symmetric) or ``x86`` (UINT8)."""
        return self.onnx.with_name(int8_name(self.name, encoding))


def int8_name(name: str, encoding: str) -> str:
    return f"{name}.int8.x86.onnx" if encoding == "x86" else f"{name}.int8.onnx"


def shipped(folder: Path | None = None) -> list[ShippedModel]:
    """Every shipped model whose card and ONNX file are both present, by name."""
    folder = FOLDER if folder is None else folder
    out = []
    for card in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        onnx = card.with_suffix(".onnx")
        if onnx.is_file():
            out.append(ShippedModel(card.stem, onnx, json.loads(card.read_text())))
    return out


def find(name: str | None, folder: Path | None = None) -> ShippedModel:
    """The shipped model ``name``, or the default one when ``name`` is None."""
    models = shipped(folder)
    if name is None:
        defaults = [m for m in models if m.card.get("default")]
        if not defaults:
            raise InputError(
                "this edgesr ships no default model; pass --onnx MODEL.onnx or --weights CKPT [--arch NAME]"
            )
        return defaults[0]
    for m in models:
        if m.name == name:
            return m
    names = ", ".join(m.name for m in models) or "none"
    raise InputError(
        f"no shipped model named '{name}' (shipped: {names}); for a checkpoint pass --weights CKPT --arch {name}"
    )
