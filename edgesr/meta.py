"""Model metadata that travels inside the ONNX file (``metadata_props``) and engine sidecars.

The runtime learns scale, value range and channel order from here, so it never needs the
code that produced the model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

PREFIX = "edgesr."


@dataclass
class ModelMeta:
    """What a consumer must know to feed a model and read its output.

    ``value_range`` is the peak of the input and output scale: 1.0 for [0, 1] models, 255.0
    for [0, 255] ones. ``size_multiple`` is the factor input H and W must be divisible by;
    ``min_size`` the smallest input side the graph accepts (strided attention branches need some).
    """

    arch: str = "unknown"
    scale: int = 0
    value_range: float = 1.0
    channel_order: str = "RGB"
    size_multiple: int = 1
    min_size: int = 1
    params: int = 0
    name: str = ""

    def to_props(self) -> dict[str, str]:
        return {PREFIX + k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_props(cls, props: dict[str, str]) -> ModelMeta:
        """Read the edgesr keys of ``props``; absent keys keep their defaults."""
        kwargs = {}
        for f in fields(cls):
            raw = props.get(PREFIX + f.name)
            if raw is not None:
                kwargs[f.name] = type(f.default)(float(raw)) if isinstance(f.default, int) else type(f.default)(raw)
        return cls(**kwargs)

    @property
    def known(self) -> bool:
        """True when the metadata came from an edgesr export (the scale is set)."""
        return self.scale > 0


def read(model) -> ModelMeta:
    """Metadata of an ``onnx.ModelProto``."""
    return ModelMeta.from_props(all_props(model))


def write(model, meta: ModelMeta) -> None:
    """Set the edgesr keys of ``model.metadata_props`` from ``meta``, keeping other keys."""
    props = all_props(model)
    props.update(meta.to_props())
    del model.metadata_props[:]
    for k, v in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v


def read_file(path) -> ModelMeta:
    """Metadata of the ONNX file at ``path`` (its weights are not loaded)."""
    from edgesr.lazy import require

    onnx = require("onnx")
    return read(onnx.load(str(path), load_external_data=False))


# A blind-SR model split at its degradation representation (edgesr.onnx.split_encoder): which part
# a graph is, and the id binding the two parts of one model; the representation tensor's name.
GRAPH_KEY = PREFIX + "graph"
PAIR_KEY = PREFIX + "pair"
REPRESENTATION = "degradation"


def all_props(model) -> dict[str, str]:
    """All ``metadata_props`` of an ``onnx.ModelProto`` as a dict."""
    return {p.key: p.value for p in model.metadata_props}
