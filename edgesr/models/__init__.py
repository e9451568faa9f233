"""The model zoo: build an architecture by name, or load a checkpoint with its shape inferred.

``import edgesr.models`` is light; torch is imported by the functions that need it. Every
architecture lives in its own module (``edgesr.models.<arch>``) exposing ``Config``,
``VARIANTS``, ``Net`` and ``config_from_state_dict``, and is listed in
:mod:`edgesr.models.registry`. Built modules carry ``arch``, ``scale``, ``value_range``,
``config`` and ``name`` attributes, which :func:`meta_for` turns into ONNX metadata.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from pathlib import Path

from edgesr.errors import InputError, ModelError
from edgesr.meta import ModelMeta
from edgesr.models import registry

__all__ = ["DEFAULT_SCALE", "count_macs", "count_params", "create", "deployed", "load", "meta_for"]

DEFAULT_SCALE = 4  # the factor an architecture is built at when none is given


def create(name: str, scale: int = DEFAULT_SCALE, **overrides):
    """A freshly initialised ``name`` network at ``scale``, with hyper-parameters overridden."""
    row = registry.get(name)
    mod = registry.module(row.name)
    base = mod.VARIANTS[row.name]
    known = [f.name for f in dataclasses.fields(base)]
    for key in overrides:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(f"{row.name} has no setting '{key}'; {hint}settings: {', '.join(known)}")
    if scale < 1:
        raise InputError(f"scale must be a positive integer, not {scale}")
    cfg = dataclasses.replace(base, scale=scale, **overrides)
    return _build(row.name, cfg, f"{row.name}-x{scale}")


def load(arch: str | None, path: str | os.PathLike, *, scale: int | None = None):
    """A network with the weights of checkpoint ``path``, loaded strictly, in eval mode.

    ``arch`` None detects the architecture from the tensor shapes. ``scale`` None takes the
    scale the weights record; a different ``scale`` than the weights' is refused.
    """
    from edgesr.models.checkpoint import describe, detect, read_state_dict

    sd = read_state_dict(path)
    p = Path(path)
    if arch is None:
        name, cfg = detect(sd)
    else:
        name = registry.get(arch).name
        try:
            cfg = registry.module(name).config_from_state_dict(sd)
        except (ModelError, InputError) as exc:
            hint = describe(sd)
            raise ModelError(f"{p.name}: {exc}" + (f"; {hint}" if hint else "")) from None
    if not getattr(registry.module(name), "SCALE_IN_WEIGHTS", True):
        if scale is None:
            raise ModelError(
                f"{p.name}: {name} weights do not record the upscale factor; "
                "pass the scale the checkpoint was trained for (--scale)"
            )
        cfg = dataclasses.replace(cfg, scale=scale)
    elif scale is not None and scale != cfg.scale:
        raise ModelError(
            f"{p.name} is a x{cfg.scale} {name} checkpoint (from its upsampler's channels) "
            f"but x{scale} was asked; pass --scale {cfg.scale} or use a x{scale} checkpoint"
        )
    net = _build(name, cfg, p.stem)
    _load_strict(net, sd, p.name, name)
    return net.eval()


def _build(name: str, cfg, label: str):
    net = registry.module(name).Net(cfg)
    net.arch = name
    net.scale = cfg.scale
    net.value_range = registry.get(name).value_range
    net.config = cfg
    net.name = label
    return net


def _load_strict(net, sd: dict, file: str, name: str) -> None:
    expected = net.state_dict()
    missing = [k for k in expected if k not in sd]
    unexpected = [k for k in sd if k not in expected]
    resized = [
        f"{k} {list(sd[k].shape)} vs {list(v.shape)}" for k, v in expected.items() if k in sd and sd[k].shape != v.shape
    ]
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape (file vs model)", resized)):
        if keys:
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            problems.append(f"{label}: {', '.join(keys[:3])}{more}")
    if problems:
        raise ModelError(f"{file} does not fit {name} {net.config}: " + "; ".join(problems))
    net.load_state_dict(sd, strict=True)


def deployed(module):
    """``module`` as it is deployed: architectures with training-only branches (``fold``) fold them.

    The result computes the same function; ``module`` itself is left as it is.
    """
    fold = getattr(module, "fold", None)
    return fold() if fold is not None else module


def count_params(module) -> int:
    """Number of trainable and frozen parameters (buffers excluded)."""
    from edgesr.models.complexity import count_params as count

    return count(module)


def count_macs(module, out_hw: tuple[int, int] = (720, 1280)) -> int:
    """Multiply-accumulates for one frame whose output is ``out_hw`` (H, W); see
    :mod:`edgesr.models.complexity` for what is counted."""
    from edgesr.models.complexity import count_macs as count

    return count(module, out_hw)


def meta_for(module) -> ModelMeta:
    """The metadata an exported ``module`` carries (see :mod:`edgesr.meta`)."""
    return ModelMeta(
        arch=module.arch,
        scale=int(module.scale),
        value_range=float(module.value_range),
        channel_order="RGB",
        size_multiple=int(getattr(module, "size_multiple", 1)),
        min_size=int(getattr(module, "min_size", 1)),
        params=count_params(module),
        name=module.name,
    )
