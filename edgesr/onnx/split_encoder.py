"""Split a blind-SR graph at its degradation representation: an encoder graph and a conditional one.

A model with a degradation encoder (``aidn-da``) computes ``SR = g(LR, e(LR))``. Split, ``e`` is
the encoder graph (``input`` -> ``degradation``, N x D) and ``g`` the conditional graph (``input``
and ``degradation`` -> ``output``), so a stream can run ``e`` once per scene and ``g`` on every
frame. The cut works on the float graph and on its Q/DQ model alike (the tensor keeps its name
through convert and quantize), so both parts carry exactly the one graph's calibration and budget.

The cut is found by name: the one tensor that nodes of the exported encoder module (``/encoder/``)
produce and other nodes read. Both parts carry the one graph's metadata plus their role and a pair
id (a digest of the one graph), which the runtime checks before it feeds a representation to a
conditional graph.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from edgesr import fileio
from edgesr.errors import ModelError
from edgesr.lazy import require
from edgesr.meta import GRAPH_KEY, PAIR_KEY, REPRESENTATION

ENCODER_SCOPE = "/encoder/"  # node-name prefix torch.onnx gives the encoder module's nodes


@dataclass
class SplitResult:
    encoder: Path
    conditional: Path
    pair: str
    representation: int  # width D of the representation


# The encoder pools over the whole image it is given, and its activations grow with it: a 3000x3360
# picture took 3 GB more than the SR model tiled under its memory budget. A central window of this
# side, placed on the 8x8 codec grid, describes a frame's degradation as well (docs/decisions.md,
# The degradation encoder reads a central window of large frames).
ENCODER_WINDOW = 512
CODEC_BLOCK = 8


def encoder_view(batch):
    """The part of an N x C x H x W frame batch the encoder reads: all of it up to
    :data:`ENCODER_WINDOW` per side, else a central window whose offsets are multiples of
    :data:`CODEC_BLOCK`, so compression blocks stay where the encoder expects them. A view, no copy."""
    h, w = batch.shape[2:]
    top = (max(0, h - ENCODER_WINDOW) // 2) // CODEC_BLOCK * CODEC_BLOCK
    left = (max(0, w - ENCODER_WINDOW) // 2) // CODEC_BLOCK * CODEC_BLOCK
    return batch[:, :, top : top + ENCODER_WINDOW, left : left + ENCODER_WINDOW]


def representation_tensor(model) -> str:
    """The one tensor through which the encoder's result reaches the rest of the graph."""
    produced = {o: n for n in model.graph.node for o in n.output if n.name.startswith(ENCODER_SCOPE)}
    crossing = {i for n in model.graph.node if not n.name.startswith(ENCODER_SCOPE) for i in n.input if i in produced}
    if len(crossing) != 1:
        found = f"{len(crossing)} tensors ({', '.join(sorted(crossing)[:3])})" if crossing else "no encoder nodes"
        raise ModelError(
            f"this graph has no single degradation representation to split at ({found}); "
            "split the ONNX export of a model with a degradation encoder (e.g. aidn-da)"
        )
    return crossing.pop()


def pair_id(model) -> str:
    return hashlib.sha256(model.SerializeToString()).hexdigest()[:16]


def has_encoder(model) -> bool:
    """Whether ``model`` is the one graph of a blind-SR model (a degradation encoder to split at)."""
    if not any(n.name.startswith(ENCODER_SCOPE) for n in model.graph.node):
        return False
    try:
        representation_tensor(model)
    except ModelError:
        return False
    return True


def split_model(model) -> tuple[object, object, str]:
    """The encoder and conditional graphs of the one graph ``model`` (in memory) and their pair id."""
    cut = representation_tensor(model)
    pair = pair_id(model)
    image_in, image_out = model.graph.input[0].name, model.graph.output[0].name
    parts = []
    for role, inputs, outputs in (("encoder", [image_in], [cut]), ("conditional", [image_in, cut], [image_out])):
        part = _extract(model, inputs, outputs)
        _rename(part, cut, REPRESENTATION)
        _tag(part, model, role, pair)
        parts.append(part)
    return parts[0], parts[1], pair


def split(model_path: str | os.PathLike, out_dir: str | os.PathLike, stem: str | None = None) -> SplitResult:
    """Write ``<stem>.encoder.onnx`` and ``<stem>.conditional.onnx`` for the graph at ``model_path``."""
    onnx = require("onnx")
    encoder, conditional, pair = split_model(onnx.load(str(model_path)))
    stem = stem or Path(model_path).stem
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        role: fileio.write_bytes(out / f"{stem}.{role}.onnx", part.SerializeToString())
        for role, part in (("encoder", encoder), ("conditional", conditional))
    }
    return SplitResult(paths["encoder"], paths["conditional"], pair, _width(encoder))


def _extract(model, inputs: list[str], outputs: list[str]):
    onnx = require("onnx")
    inferred = onnx.shape_inference.infer_shapes(model)
    part = onnx.utils.Extractor(inferred).extract_model(inputs, outputs)
    del part.graph.value_info[:]
    del part.opset_import[:]
    part.opset_import.extend(model.opset_import)
    part.ir_version = model.ir_version
    return part


def _rename(model, old: str, new: str) -> None:
    g = model.graph
    for n in g.node:
        n.input[:] = [new if i == old else i for i in n.input]
        n.output[:] = [new if o == old else o for o in n.output]
    for v in list(g.input) + list(g.output):
        if v.name == old:
            v.name = new


def _tag(part, whole, role: str, pair: str) -> None:
    del part.metadata_props[:]
    for p in whole.metadata_props:
        part.metadata_props.add(key=p.key, value=p.value)
    part.metadata_props.add(key=GRAPH_KEY, value=role)
    part.metadata_props.add(key=PAIR_KEY, value=pair)


def _width(encoder) -> int:
    dims = encoder.graph.output[0].type.tensor_type.shape.dim
    return int(dims[-1].dim_value) if dims and dims[-1].dim_value else 0
