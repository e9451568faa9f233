"""The model zoo as data: one entry per registry row with its size, cost and available weights.

This is what ``edgesr models`` prints. Counting parameters and MACs needs torch; without it
the entries carry only what the registry knows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from edgesr.errors import EdgeSRError
from edgesr.lazy import available
from edgesr.log import logger
from edgesr.models import registry

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".ckpt")
DEFAULT_SCALE = 4


@dataclass
class ModelInfo:
    name: str
    title: str
    value_range: float
    seed: bool
    scale: int = DEFAULT_SCALE
    params: int | None = None  # of the default configuration; None without torch
    macs_720p: int | None = None  # per 1280x720 output frame
    weights: list[Path] = field(default_factory=list)


def find_weights(folder: str | os.PathLike) -> dict[str, list[Path]]:
    """Checkpoints in ``folder`` by detected architecture (shapes decide, not file names)."""
    from edgesr.models.checkpoint import detect, read_state_dict

    found: dict[str, list[Path]] = {}
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in CHECKPOINT_SUFFIXES:
            continue
        try:
            name, _ = detect(read_state_dict(path))
        except EdgeSRError as exc:
            logger.info("skipping %s: %s", path.name, exc)
            continue
        found.setdefault(name, []).append(path)
    return found


def catalog(weights_dir: str | os.PathLike | None = None) -> list[ModelInfo]:
    """Every registered architecture; sizes need torch, ``weights_dir`` is searched when given."""
    have_torch = available("torch")
    weights = find_weights(weights_dir) if weights_dir is not None and have_torch else {}
    infos = []
    for row in registry.ARCHS:
        info = ModelInfo(row.name, row.title, row.value_range, row.seed, weights=weights.get(row.name, []))
        if have_torch:
            _measure(info)
        infos.append(info)
    return infos


def _measure(info: ModelInfo) -> None:
    from edgesr.models import count_macs, count_params, create

    try:
        net = create(info.name, scale=info.scale)
    except ModuleNotFoundError as exc:
        if exc.name != f"edgesr.models.{registry.get(info.name).module}":
            raise
        logger.info("%s: its architecture module is not installed", info.name)
        return
    info.params = count_params(net)
    info.macs_720p = count_macs(net)
