"""The two graphs a blind-SR model runs as in a stream: its encoder and its conditional graph.

They come from the model's one graph, split in memory at the degradation representation
(:func:`edgesr.onnx.split_encoder.split_model`, the same cut ``split`` writes to files), or from
the two files a split or ``edgesr build`` wrote: the conditional graph as the model and the
encoder graph given with ``--encoder`` or found beside it (``NAME.encoder.onnx`` next to
``NAME.conditional.onnx``). The two must carry the same pair id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgesr.errors import InputError, ModelError
from edgesr.meta import GRAPH_KEY, all_props
from edgesr.onnx import loading
from edgesr.onnx.split_encoder import has_encoder, split_model
from edgesr.runtime.scene import check_parts

CONDITIONAL_SUFFIX, ENCODER_SUFFIX = ".conditional.onnx", ".encoder.onnx"


@dataclass
class BlindParts:
    encoder: object  # onnx.ModelProto: image -> representation
    conditional: object  # onnx.ModelProto: image, representation -> image
    pair: str
    origin: str  # where the encoder graph came from, for the run's notes


def blind_parts(model, path: Path, encoder: str | None) -> BlindParts | None:
    """The parts of ``model`` (loaded from ``path``) when it is a blind-SR model, None when it is not."""
    role = all_props(model).get(GRAPH_KEY)
    if role == "encoder":
        raise ModelError(
            f"{path.name} is the encoder graph of a blind-SR model: it estimates a degradation, it does not "
            f"upscale; pass the conditional graph as the model and this file with --encoder"
        )
    if role == "conditional":
        found = Path(encoder) if encoder is not None else sibling_encoder(path)
        if found is None or not found.is_file():
            looked = f" ({found} does not exist)" if found is not None else ""
            raise ModelError(
                f"{path.name} is the conditional graph of a blind-SR model and needs the degradation its encoder "
                f"graph estimates{looked}; pass the encoder graph with --encoder ENCODER.onnx, or run the one graph"
            )
        encoder_model = loading.load(found)
        pair = check_parts(encoder_model, model, found.name, path.name)
        return BlindParts(encoder_model, model, pair, f"encoder graph {found.name}")
    if encoder is not None:
        raise InputError(
            f"--encoder {encoder}: {path.name} is not the conditional graph of a split blind-SR model; drop --encoder"
        )
    if not has_encoder(model):
        return None
    encoder_model, conditional, pair = split_model(model)
    return BlindParts(encoder_model, conditional, pair, "encoder split in memory from the one graph")


def sibling_encoder(path: Path) -> Path | None:
    """``NAME.encoder.onnx`` for ``NAME.conditional.onnx`` (None for any other name)."""
    if not path.name.endswith(CONDITIONAL_SUFFIX):
        return None
    return path.with_name(path.name[: -len(CONDITIONAL_SUFFIX)] + ENCODER_SUFFIX)
