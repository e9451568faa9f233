"""What the pipeline must know about a loaded model, whatever runs it.

Every runner fills a :class:`ModelSpec` from its artifact (ONNX ``metadata_props``, an engine's
JSON sidecar) plus the user's declarations, so the pipeline never looks inside a model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from edgesr.errors import InputError, ModelError
from edgesr.log import logger
from edgesr.meta import PREFIX, ModelMeta

VALUE_RANGES = (1.0, 255.0)


@dataclass(frozen=True)
class ModelSpec:
    """A loaded model's contract.

    ``input_hw`` is the fixed input height and width, None when the model takes any size
    (then ``size_multiple`` still constrains it); ``batch`` the fixed batch size, None when
    dynamic. ``notes`` say what was assumed or changed at load time, for logs and reports.
    ``output_table``, when set, says the model returns the uint8 codes of its output grid and
    gives the pixel of each code (see :func:`edgesr.runtime.tensors.code_pixels`).
    """

    scale: int
    value_range: float
    channel_order: str
    input_name: str
    output_name: str
    dtype: str
    input_hw: tuple[int, int] | None
    batch: int | None
    size_multiple: int
    precision: str
    backend: str
    notes: tuple[str, ...] = ()
    output_table: np.ndarray | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict:
        """The fields for reports (the table is not one: ``notes`` say when it is used)."""
        d = asdict(replace(self, output_table=None))
        del d["output_table"]
        return d


@dataclass(frozen=True)
class Declared:
    """Scale, value range and channel order after reconciling metadata with the user's flags.

    ``scale`` None means neither said it: the runner infers it from a probe run.
    """

    scale: int | None
    value_range: float
    channel_order: str
    size_multiple: int
    notes: tuple[str, ...]


def declare(props: dict[str, str], name: str, scale: int | None, value_range: float | None) -> Declared:
    """Reconcile ``props`` (edgesr metadata, maybe absent) with ``scale``/``value_range`` given by the user.

    A flag that contradicts the metadata is refused: running a model at the wrong scale or
    range gives garbage that looks like a model problem.
    """
    try:
        meta = ModelMeta.from_props(props)
    except ValueError as exc:
        raise ModelError(
            f"{name} records edgesr metadata that does not parse ({exc}); re-export or rebuild it with edgesr"
        ) from None
    notes: list[str] = []
    if value_range is not None and value_range not in VALUE_RANGES:
        raise InputError(f"value range {value_range:g} is not supported; use 1 (RGB in [0, 1]) or 255")
    if PREFIX + "scale" in props and meta.scale > 0:
        if scale is not None and scale != meta.scale:
            raise InputError(f"{name} is a x{meta.scale} model but --scale {scale} was given; drop --scale")
        resolved_scale: int | None = meta.scale
    else:
        resolved_scale = scale
        if scale is not None:
            notes.append(f"scale x{scale} taken from --scale (the model does not record it)")
    if PREFIX + "value_range" in props:
        if value_range is not None and value_range != meta.value_range:
            raise InputError(
                f"{name} takes values in [0, {meta.value_range:g}] but --value-range "
                f"{value_range:g} was given; drop --value-range"
            )
        resolved_range = meta.value_range
    elif value_range is not None:
        resolved_range = value_range
        notes.append(f"value range [0, {value_range:g}] taken from --value-range")
    else:
        resolved_range = 1.0
        notes.append(
            "value range assumed [0, 1] (the model does not record it; pass --value-range 255 "
            "for a model trained on [0, 255])"
        )
    if meta.channel_order not in ("RGB", "BGR"):
        raise InputError(f"{name} declares channel order {meta.channel_order!r}; edgesr runs RGB or BGR models")
    if PREFIX + "channel_order" not in props:
        notes.append("channel order RGB, the default (the model does not record it)")
    for note in notes:
        if "assumed" in note:
            logger.warning("%s: %s", name, note)
        else:
            logger.info("%s: %s", name, note)
    return Declared(resolved_scale, resolved_range, meta.channel_order, max(1, meta.size_multiple), tuple(notes))
